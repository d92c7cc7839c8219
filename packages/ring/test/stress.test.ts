/**
 * Multi-worker stress: several producers x several consumers (two independent, one running
 * after both) in worker threads, for every producer mode and every wait strategy. Every
 * message carries (producerId, sequence); consumers assert no loss, no duplicate, per-producer
 * order and intact payloads, and the dependent consumer asserts it never passes its
 * dependencies. A small ring forces wrap-around and back-pressure; producers also abort
 * some claims. Bounded: every worker stops at a deadline and reports.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Ring } from '../src/index.js';

const workerUrl = new URL('./workers/stress-worker.mjs', import.meta.url);
const DEADLINE_MS = 45_000;
const strategies = ['busy-spin', 'yielding', 'sleeping', 'blocking', 'phased', 'async'] as const;

interface WorkerResult {
  error?: string | null;
  sent?: number;
  received?: number;
  expected?: number[];
}

function run(data: object): Promise<WorkerResult> {
  const worker = new Worker(workerUrl, { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited ${code} before reporting`)));
  });
}

describe.each(['single', 'multi'] as const)('stress, %s producer', (producerMode) => {
  it.each(strategies)('%s: every message exactly once, in per-producer order', async (strategyName) => {
    const producers = producerMode === 'single' ? 1 : 3;
    // spinning strategies share two cores among six threads: fewer messages keep them bounded
    const spins = strategyName === 'busy-spin' || strategyName === 'yielding';
    const messagesPerProducer = spins ? 20_000 : 60_000;
    const ring = Ring.create({ capacity: 256, maxMessageBytes: 40, producerMode, maxConsumers: 4 });
    const left = ring.addConsumer();
    const right = ring.addConsumer();
    const joined = ring.addConsumer({ after: [left, right] });
    const common = {
      handle: ring.handle,
      strategyName,
      producers,
      messagesPerProducer,
      deadlineMs: Date.now() + DEADLINE_MS,
      seed: 20261122,
    };
    const consumers = [
      [left, []],
      [right, []],
      [joined, [left, right]],
    ].map(([consumerId, after]) => run({ ...common, role: 'consumer', consumerId, after }));
    const senders = Array.from({ length: producers }, (_, producerId) => run({ ...common, role: 'producer', producerId }));
    const sent = await Promise.all(senders);
    const received = await Promise.all(consumers);
    for (const result of [...sent, ...received]) expect(result.error ?? null).toBeNull();
    for (const result of received) {
      expect(result.expected).toEqual(new Array(producers).fill(messagesPerProducer));
      expect(result.received).toBe(producers * messagesPerProducer);
    }
  });
});
