// Fairness test, receiver side (namespace A): one ReliableSubscription and one TCP server on
// ADDRESS, counting the 64-byte messages of each stream.
//   node fair-receiver.mjs ADDRESS STREAM_ID CONFIG_JSON
// Reports { type: 'ready', reliablePort, tcpPort, backend }; on each { type: 'mark' } reports
// { type: 'counts', reliable, tcp } (messages so far); after { type: 'mark', last: true } closes and leaves.
import { createServer } from 'node:net';
import { ReliableSubscription } from '../../dist/index.js';
import { connectToTest } from './ipc.mjs';

const [address, streamIdText, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const test = connectToTest(config.deadlineMs);
const subscription = await ReliableSubscription.open({ port: 0, address, backend: config.backend, receiveBufferBytes: 4 << 20 });
const counts = { reliable: 0, tcp: 0 };
subscription.onMessage(Number(streamIdText), () => {
  counts.reliable++;
});
let tcpBytes = 0;
const server = createServer((socket) => {
  socket.on('data', (chunk) => {
    tcpBytes += chunk.length;
  });
  socket.on('error', () => {});
});
await new Promise((resolve) => server.listen(0, address, resolve));
test.send({ type: 'ready', reliablePort: subscription.port, tcpPort: server.address().port, backend: subscription.backend });
for (let last = false; !last; ) {
  last = (await test.next('mark')).last === true;
  counts.tcp = Math.floor(tcpBytes / config.messageBytes);
  test.send({ type: 'counts', ...counts });
}
server.close();
await subscription.close();
test.leave();
