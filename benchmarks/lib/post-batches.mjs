// The posting baselines of the ring throughput benches (1P1C and message sizes), as worker
// roles: a producer posts `batch` messages of `messageBytes` per post through a MessagePort
// or a BroadcastChannel, at most `postsInFlight` posts ahead of the consumer's credits (so
// memory stays bounded); the consumer checks every message (lib/batch-stamps.mjs).
//
//   one post = one Uint8Array of batch x messageBytes, message i's first int32 = its index
//   clone      postMessage(buffer): structured clone, one copy per post
//   transfer   postMessage(fresh copy, [its buffer]): no clone copy, one allocation and one
//              copy into it per post (transfer moves the buffer away, so it cannot be reused)
//   credits    Int32Array on a SharedArrayBuffer: credits[0] = posts the consumer has checked
import { BroadcastChannel } from 'node:worker_threads';
import { arriveAndWait } from './barrier.mjs';
import { BatchStampChecker } from './batch-stamps.mjs';
import { batchTemplate } from './pairs.mjs';

const POSTS_IN_FLIGHT = 256;

/** Posts `count` messages through `endpoint` (anything with postMessage). */
export function postBatches(endpoint, { credits, count, batch, messageBytes, barrier, deadlineMs, transfer = false, postsInFlight = POSTS_IN_FLIGHT }) {
  const source = batchTemplate(batch, messageBytes);
  const stamps = new Int32Array(source.buffer);
  const messageInt32s = messageBytes >> 2;
  const deadline = Date.now() + deadlineMs;
  arriveAndWait(barrier, 2);
  for (let sent = 0; sent < count; sent += batch) {
    while (sent / batch - Atomics.load(credits, 0) >= postsInFlight) {
      if (Date.now() > deadline) throw new Error('posting producer: deadline');
      Atomics.wait(credits, 0, Atomics.load(credits, 0), 1);
    }
    for (let i = 0; i < batch; i++) stamps[i * messageInt32s] = sent + i;
    if (transfer) {
      const moved = source.slice(); // the buffer a transferring sender fills for each post
      endpoint.postMessage(moved, [moved.buffer]);
    } else endpoint.postMessage(source);
  }
  return {};
}

/** Checks every message of each post; `listen(onBatch)` subscribes, `close()` ends. */
export function checkBatches(listen, close, { credits, count, batch, messageBytes, barrier }) {
  return new Promise((resolve) => {
    const checker = new BatchStampChecker(batch, messageBytes);
    let start = 0;
    listen((buffer) => {
      checker.check(buffer);
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
      if (checker.expected >= count) {
        close();
        resolve({ elapsedMs: performance.now() - start, received: checker.expected, bad: checker.bad });
      }
    });
    arriveAndWait(barrier, 2);
    start = performance.now();
  });
}

/** Worker roles over a MessagePort (`data.port`) and a BroadcastChannel (`data.channelName`). */
export const postingRoles = {
  portProducer: (data) => postBatches(data.port, data),
  portConsumer: (data) =>
    checkBatches(
      (onBatch) => data.port.on('message', onBatch),
      () => data.port.close(),
      data,
    ),
  channelProducer(data) {
    const channel = new BroadcastChannel(data.channelName);
    postBatches(channel, data);
    channel.close(); // what it posted is still delivered
    return {};
  },
  channelConsumer(data) {
    const channel = new BroadcastChannel(data.channelName);
    return checkBatches(
      (onBatch) => (channel.onmessage = (event) => onBatch(event.data)),
      () => channel.close(),
      data,
    );
  },
};
