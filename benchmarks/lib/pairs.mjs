// Pieces shared by the one-producer / one-consumer throughput benches: the verifying ring
// consumer, and running a producer worker and a consumer worker to completion.
import { BusySpinWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait, createBarrier } from './barrier.mjs';
import { runWorker, verify } from './harness.mjs';

/**
 * Worker role: reads `count` messages of `messageBytes` in place with a busy-spin wait and
 * checks each one's stamp (its first int32 = its index) and length.
 */
export function stampCheckingRingConsumer({ handle, consumerId, count, barrier, messageBytes, deadlineMs }) {
  const ring = Ring.attach(handle);
  const consumer = ring.openConsumer(consumerId);
  const int32 = ring.int32;
  const lengths = ring.lengths;
  const mask = ring.indexMask;
  const spin = new BusySpinWaitStrategy();
  const deadline = Date.now() + deadlineMs;
  let expected = 0;
  let bad = 0;
  arriveAndWait(barrier, 2);
  const start = performance.now();
  while (expected < count) {
    const n = consumer.waitFor(spin, deadline - Date.now());
    if (n === 0) throw new Error('flux consumer: deadline');
    let sequence = consumer.nextSequence;
    for (let i = 0; i < n; i++) {
      if (int32[ring.offsetOf(sequence) >> 2] !== expected || lengths[sequence & mask] !== messageBytes) bad++;
      expected++;
      sequence = (sequence + 1) & 0x7fffffff;
    }
    consumer.release(n);
  }
  return { elapsedMs: performance.now() - start, received: expected, bad };
}

/**
 * Runs `producerRole` and `consumerRole` of the bench at `url` in two workers (with a
 * MessagePort pair, if given, one end each), checks the consumer's verification, and
 * returns messages per second.
 */
export async function runPair(url, producerRole, consumerRole, shared, ports = null) {
  const data = { ...shared, barrier: createBarrier() };
  const [, result] = await Promise.all([
    runWorker(url, { ...data, role: producerRole, port: ports?.[0] }, ports ? [ports[0]] : []),
    runWorker(url, { ...data, role: consumerRole, port: ports?.[1] }, ports ? [ports[1]] : []),
  ]);
  verify(result.bad === 0, `${consumerRole}: ${result.bad} messages failed their check`);
  verify(result.received === shared.count, `${consumerRole}: received ${result.received} of ${shared.count}`);
  return (result.received / result.elapsedMs) * 1000;
}
