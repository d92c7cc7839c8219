// Kernel-loss test, publisher side (its own network namespace):
//   node publisher.mjs HOST PORT STREAM_ID CONFIG_JSON
// Publishes config.count messages of config.messageBytes, waiting (bounded) whenever the ring
// pushes back, flushes, closes (end of stream), and reports { type: 'done', state, flushed, counters }.
import { BACK_PRESSURED } from '@flux/ring';
import { ReliablePublication } from '../../dist/index.js';
import { connectToTest, fill } from './ipc.mjs';

const [host, portText, streamIdText, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const test = connectToTest(config.deadlineMs);
const publication = await ReliablePublication.open({
  host,
  port: Number(portText),
  streamId: Number(streamIdText),
  ringCapacity: 1 << 14,
  backend: config.backend ?? 'auto',
});
const connected = await publication.connected(Math.max(1, config.deadlineMs - Date.now()));
const message = new Uint8Array(config.messageBytes);
for (let index = 0; connected && index < config.count; ) {
  fill(message, index);
  if (publication.offer(message) === BACK_PRESSURED) {
    if (Date.now() > config.deadlineMs) break;
    await new Promise((resolve) => setImmediate(resolve));
    continue;
  }
  index++;
}
const flushed = await publication.flush(Math.max(1, config.deadlineMs - Date.now()));
await publication.close(Math.max(1, Math.min(5000, config.deadlineMs - Date.now())));
test.send({ type: 'done', connected, flushed, state: publication.state, backend: publication.backend, counters: publication.counters.snapshot() });
test.leave();
