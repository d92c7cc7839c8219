// A worker thread with an io_uring FutexWaiter (it waited asynchronously on a ring file),
// terminated by the test while it waits: asynchronously on the file (`mode` 'async'), or
// blocked in Atomics.wait on a thread ring (`mode` 'blocked').
import { parentPort, workerData } from 'node:worker_threads';
import '../../dist/index.js'; // @flux/uring: the shared-memory provider
import { AsyncWaitStrategy, BlockingWaitStrategy, Ring } from '../../../ring/dist/index.js';

const ring = Ring.open({ path: workerData.path });
const consumer = ring.openConsumer(workerData.id);
const strategy = new AsyncWaitStrategy();
await consumer.waitForAsync(strategy, 10); // times out: the waiter exists now
parentPort.postMessage('waiting');
if (workerData.mode === 'async') await consumer.waitForAsync(strategy, 30_000);
else {
  const threadRing = Ring.create({ capacity: 8, maxMessageBytes: 8 });
  threadRing.openConsumer(threadRing.addConsumer()).waitFor(new BlockingWaitStrategy(), 30_000);
}
