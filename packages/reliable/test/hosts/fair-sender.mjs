// Fairness test, sender side (namespace B): one ReliablePublication and one TCP connection to
// the receiver, both writing 64-byte messages at full speed (64 per claim or write) until
// { type: 'stop' }, on one event loop that gives each a turn in alternation.
//   node fair-sender.mjs HOST RELIABLE_PORT TCP_PORT STREAM_ID CONFIG_JSON
// Reports { type: 'started' } once both are connected, { type: 'stopped', counters } at the end.
import { connect } from 'node:net';
import { ReliablePublication } from '../../dist/index.js';
import { connectToTest } from './ipc.mjs';

const BATCH = 64;
const [host, reliablePortText, tcpPortText, streamIdText, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const test = connectToTest(config.deadlineMs);
const { messageBytes } = config;
const publication = await ReliablePublication.open({
  host,
  port: Number(reliablePortText),
  streamId: Number(streamIdText),
  ringCapacity: 1 << 14,
  backend: config.backend,
  congestionControl: config.congestionControl,
});
const socket = connect({ host, port: Number(tcpPortText), noDelay: true });
await new Promise((resolve, reject) => {
  socket.once('connect', resolve);
  socket.once('error', reject);
});
if (!(await publication.connected(Math.max(1, config.deadlineMs - Date.now())))) throw new Error('the subscription never answered');
let stopping = false;
test.next('stop').then(() => {
  stopping = true;
});
test.send({ type: 'started' });

// TCP: a batch per write while the socket takes it, then 'drain'.
const chunk = Buffer.alloc(BATCH * messageBytes, 7);
const tcpDone = (async () => {
  while (!stopping) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    else await new Promise((resolve) => setImmediate(resolve));
  }
})();
// Reliable: claim a batch in place while the ring has room, else a turn of the event loop.
const ring = publication.ring;
const producer = ring.createProducer();
const reliableDone = (async () => {
  while (!stopping) {
    for (let k = 0; k < 16; k++) {
      const first = producer.tryClaim(BATCH, messageBytes);
      if (first < 0) break;
      for (let i = 0; i < BATCH; i++) ring.bytes[ring.offsetOf(first + i)] = 7;
      producer.publish(first, BATCH);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
})();
await Promise.all([tcpDone, reliableDone]);
const counters = publication.counters.snapshot();
socket.destroy();
await publication.close(1000);
test.send({ type: 'stopped', counters });
test.leave();
