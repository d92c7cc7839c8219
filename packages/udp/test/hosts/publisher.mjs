// Two-hosts test, publisher side (run in its own network namespace):
//   node publisher.mjs HOST PORT STREAM_ID CONFIG_JSON
// Offers every message of the plan, chunk by chunk: after each chunk it flushes, reports
// { type: 'chunk', sent } and waits for { type: 'go' } (the test sends it once the
// subscriber has received the chunk). Ends with { type: 'done', sent, counters, backend }.
import { Publication } from '../../dist/index.js';
import { connectToTest, fill, lengthOf, totalOf } from './plan.mjs';

const [host, portText, streamIdText, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const total = totalOf(config);
const test = connectToTest(config.deadlineMs);

const publication = await Publication.open({
  host,
  port: Number(portText),
  streamId: Number(streamIdText),
  maxMessageBytes: config.largeBytes,
  ringCapacity: 1024,
});
const buffers = new Map([config.smallBytes, config.largeBytes].map((n) => [n, new Uint8Array(n)]));
for (let index = 0; index < total; index++) {
  const message = buffers.get(lengthOf(config, index));
  fill(message, index, message.length);
  for (;;) {
    const result = publication.offer(message);
    if (result >= 0) break;
    if (result !== -1) throw new Error(`offer of message ${index} returned ${result}`);
    if (Date.now() > config.deadlineMs) throw new Error(`back-pressured at message ${index} until the deadline`);
    await new Promise((resolve) => setImmediate(resolve)); // BACK_PRESSURED: let the sender run
  }
  if ((index + 1) % config.chunk === 0 || index + 1 === total) {
    if (!(await publication.flush(Math.max(1, config.deadlineMs - Date.now())))) throw new Error(`flush after message ${index} timed out`);
    test.send({ type: 'chunk', sent: index + 1 });
    await test.next('go');
  }
}
const counters = publication.counters.snapshot();
await publication.close();
test.send({ type: 'done', sent: total, counters, backend: publication.backend });
test.leave();
