// Test worker: attaches a ring, optionally waits (bounded) until someone sleeps on it, then
// offers one message. Uses the built package, as a user's worker would.
import { workerData } from 'node:worker_threads';
import { Ring } from '../../dist/index.js';

const SLEEPERS_INDEX = 96; // SIGNAL region: (128 * 3) / 4
const ring = Ring.attach(workerData.handle);
const producer = ring.createProducer();
if (workerData.awaitSleeper) {
  const deadline = Date.now() + 10_000;
  while (Atomics.load(ring.int32, SLEEPERS_INDEX) === 0 && Date.now() < deadline) {
    Atomics.wait(ring.int32, SLEEPERS_INDEX, 0, 5);
  }
}
producer.offer(Uint8Array.of(42));
