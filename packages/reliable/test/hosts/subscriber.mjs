// Kernel-loss test, subscriber side (its own network namespace):
//   node subscriber.mjs ADDRESS STREAM_ID CONFIG_JSON
// Reports { type: 'ready', port }; checks every message (index in order, length, bytes);
// on { type: 'finish' } (sent once the publisher is done: the subscription stays open to answer
// its end of stream) reports { type: 'report', received, wrong, events, counters }.
import { ReliableSubscription } from '../../dist/index.js';
import { connectToTest, matches } from './ipc.mjs';

const [address, streamIdText, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const test = connectToTest(config.deadlineMs);
const subscription = await ReliableSubscription.open({ port: 0, address, backend: config.backend ?? 'auto' });
let received = 0;
let wrong = 0;
let firstProblem = null;
subscription.onMessage(Number(streamIdText), (bytes, offset, length) => {
  if (!matches(bytes, offset, length, received, config.messageBytes)) {
    wrong++;
    firstProblem ??= `message ${received}: wrong index, length or bytes`;
  }
  received++;
});
const events = [];
subscription.onEvent((event) => events.push(event.type));
test.send({ type: 'ready', port: subscription.port, backend: subscription.backend });
await test.next('finish');
const report = {
  type: 'report',
  received,
  wrong,
  firstProblem,
  events,
  counters: subscription.counters.snapshot(),
  messageCounters: subscription.messageCounters.snapshot(),
};
await subscription.close();
test.send(report);
test.leave();
