/**
 * The stress scenario both stress tests run (packages/ring/test/stress.test.ts between
 * threads, packages/uring/test/process-ring.test.ts between processes): on a ring with two
 * independent consumers and one running after both, `producers` producers each send
 * `messagesPerProducer` (producerId, sequence) messages, each role in its own thread or
 * process (`run`: the stress worker's data in, its report out), and every consumer must
 * report every message exactly once, in per-producer order.
 */
import { expect } from 'vitest';

export interface StressReport {
  error?: string | null;
  sent?: number;
  received?: number;
  expected?: number[];
}

export interface StressRing {
  readonly handle: unknown;
  addConsumer(options?: { after?: readonly number[] }): number;
}

export async function runStress(
  ring: StressRing,
  settings: { strategyName: string; producers: number; messagesPerProducer: number; deadlineMs: number; seed: number },
  run: (data: object) => Promise<StressReport>,
): Promise<void> {
  const left = ring.addConsumer();
  const right = ring.addConsumer();
  const joined = ring.addConsumer({ after: [left, right] });
  const common = { handle: ring.handle, ...settings };
  const consumers = [
    [left, []],
    [right, []],
    [joined, [left, right]],
  ].map(([consumerId, after]) => run({ ...common, role: 'consumer', consumerId, after }));
  const senders = Array.from({ length: settings.producers }, (_, producerId) => run({ ...common, role: 'producer', producerId }));
  const sent = await Promise.all(senders);
  const received = await Promise.all(consumers);
  for (const result of [...sent, ...received]) expect(result.error ?? null).toBeNull();
  for (const result of received) {
    expect(result.expected).toEqual(new Array(settings.producers).fill(settings.messagesPerProducer));
    expect(result.received).toBe(settings.producers * settings.messagesPerProducer);
  }
}
