// Two-hosts test, subscriber side (run in its own network namespace):
//   node subscriber.mjs ADDRESS STREAM_ID CONFIG_JSON
// Binds ADDRESS:0, reports { type: 'ready', port, backend }, checks every message (index in order,
// length, every byte), reports { type: 'progress', received, lost } at every chunk boundary
// (lost: frames lost, messages lost in reassembly and datagrams dropped so far), and on
// { type: 'finish' } reports { type: 'report', received, wrong, firstProblem, counters }.
import { Subscription } from '../../dist/index.js';
import { connectToTest, firstWrongByte, lengthOf, totalOf } from './plan.mjs';

const [address, streamIdText, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const streamId = Number(streamIdText);
const total = totalOf(config);
const test = connectToTest(config.deadlineMs);

const subscription = await Subscription.open({
  port: 0,
  address,
  receiveBufferBytes: 4 << 20,
  maxMessageBytes: config.largeBytes,
});
const lostSoFar = () => {
  const counters = subscription.counters;
  return counters.framesLost + counters.messagesLostInReassembly + counters.dropped;
};
let received = 0;
let wrong = 0;
let firstProblem = null;
subscription.onMessage(streamId, (bytes, offset, lengthBytes) => {
  const index = received++;
  const expectedBytes = lengthOf(config, index);
  const position = lengthBytes === expectedBytes ? firstWrongByte(bytes, offset, index, lengthBytes) : -2;
  if (position !== -1) {
    wrong++;
    firstProblem ??= `message ${index}: ${position === -2 ? `length ${lengthBytes}, expected ${expectedBytes}` : `byte ${position} wrong`}`;
  }
  if (received % config.chunk === 0 || received === total) test.send({ type: 'progress', received, lost: lostSoFar() });
});
test.send({ type: 'ready', port: subscription.port, backend: subscription.backend });

await test.next('finish');
const counters = subscription.counters.snapshot();
await subscription.close();
test.send({ type: 'report', received, wrong, firstProblem, counters });
test.leave();
