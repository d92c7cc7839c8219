// Pieces shared by the one-producer / one-consumer throughput benches: the batching ring
// producer, the verifying ring consumer, and running a producer worker and a consumer
// worker to completion.
import { BlockingWaitStrategy, BusySpinWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait, createBarrier } from './barrier.mjs';
import { runWorker, verify } from './harness.mjs';

/** The wait a role uses, by name (worker data cannot carry a strategy object): 'spin' (one core each) or 'blocking' (more threads than cores). */
const waitStrategyOf = (name) => (name === 'blocking' ? new BlockingWaitStrategy() : new BusySpinWaitStrategy());

/** `messages` messages of `messageBytes`, their bytes counting up (the first int32 is stamped per message). */
export function batchTemplate(messages, messageBytes) {
  const bytes = new Uint8Array(messages * messageBytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  return bytes;
}

/**
 * Worker role: writes `count` messages of `messageBytes` in batches of `batch` (claim, one
 * copy of the whole batch, stamp each message's first int32 with its index, publish),
 * waiting when the ring is full (`wait`: 'spin' or 'blocking'; `parties` at the start line). The ring's capacity must be a multiple of
 * `batch`, so that no claim straddles the ring's end.
 */
export function stampingRingProducer({ handle, count, barrier, messageBytes, batch, deadlineMs, parties = 2, wait = 'spin' }) {
  const ring = Ring.attach(handle);
  verify(ring.capacity % batch === 0, `ring capacity ${ring.capacity} is not a multiple of the batch ${batch}`);
  const producer = ring.createProducer();
  const int32 = ring.int32;
  const bytes = ring.bytes;
  const source = batchTemplate(batch, messageBytes);
  const messageInt32s = messageBytes >> 2;
  const waiting = waitStrategyOf(wait);
  const deadline = Date.now() + deadlineMs;
  arriveAndWait(barrier, parties);
  for (let sent = 0; sent < count; ) {
    const first = producer.tryClaim(batch, messageBytes);
    if (first < 0) {
      if (!producer.waitForCapacity(batch, waiting, deadline - Date.now())) throw new Error('flux producer: deadline');
      continue;
    }
    const offset = ring.offsetOf(first);
    bytes.set(source, offset); // one copy per batch
    let word = offset >> 2;
    for (let i = 0; i < batch; i++, word += messageInt32s) int32[word] = sent + i; // stamp each message
    producer.publish(first, batch);
    sent += batch;
  }
  return {};
}

/**
 * Worker role: reads `count` messages of `messageBytes` in place (waiting as `wait` says) and
 * checks each one's stamp (its first int32 = its index) and length.
 */
export function stampCheckingRingConsumer({ handle, consumerId, count, barrier, messageBytes, deadlineMs, parties = 2, wait = 'spin' }) {
  const ring = Ring.attach(handle);
  const consumer = ring.openConsumer(consumerId);
  const int32 = ring.int32;
  const lengths = ring.lengths;
  const mask = ring.indexMask;
  const waiting = waitStrategyOf(wait);
  const deadline = Date.now() + deadlineMs;
  let expected = 0;
  let bad = 0;
  arriveAndWait(barrier, parties);
  const start = performance.now();
  while (expected < count) {
    const n = consumer.waitFor(waiting, deadline - Date.now());
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
  return (await runPairReports(url, producerRole, consumerRole, shared, ports)).perSecond;
}

/** As runPair; returns { perSecond, producer, consumer }: the rate and each worker's report. */
export async function runPairReports(url, producerRole, consumerRole, shared, ports = null) {
  const data = { ...shared, barrier: createBarrier() };
  const [producer, consumer] = await Promise.all([
    runWorker(url, { ...data, role: producerRole, port: ports?.[0] }, ports ? [ports[0]] : []),
    runWorker(url, { ...data, role: consumerRole, port: ports?.[1] }, ports ? [ports[1]] : []),
  ]);
  verify(consumer.bad === 0, `${consumerRole}: ${consumer.bad} messages failed their check`);
  verify(consumer.received === shared.count, `${consumerRole}: received ${consumer.received} of ${shared.count}`);
  return { perSecond: (consumer.received / consumer.elapsedMs) * 1000, producer, consumer };
}
