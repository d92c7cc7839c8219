/**
 * Multi-worker stress: several producers x several consumers (two independent, one running
 * after both) in worker threads, for every producer mode and every wait strategy. Every
 * message carries (producerId, sequence); consumers assert no loss, no duplicate, per-producer
 * order and intact payloads, and the dependent consumer asserts it never passes its
 * dependencies. A small ring forces wrap-around and back-pressure; producers also abort
 * some claims. Bounded: every worker stops at a deadline and reports.
 */
import { Worker } from 'node:worker_threads';
import { describe, it } from 'vitest';
import { Ring } from '../src/index.js';
import { runStress, type StressReport } from './stress-scenario.js';

const workerUrl = new URL('./workers/stress-worker.mjs', import.meta.url);
const DEADLINE_MS = 45_000;
const strategies = ['busy-spin', 'yielding', 'sleeping', 'blocking', 'phased', 'async'] as const;

function run(data: object): Promise<StressReport> {
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
    await runStress(ring, { strategyName, producers, messagesPerProducer, deadlineMs: Date.now() + DEADLINE_MS, seed: 20261122 }, run);
  });
});
