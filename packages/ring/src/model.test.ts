/**
 * Property test: any sequence of claims, in-place writes, publishes, aborts, offers and
 * polls by two consumers (one running after the other) gives the same deliveries as a
 * plain array-backed queue model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACK_PRESSURED } from './codes.js';
import { Ring } from './ring.js';

type Op =
  | { kind: 'claim'; count: number; lengths: number[]; abort: boolean }
  | { kind: 'offer'; length: number }
  | { kind: 'poll'; consumer: 0 | 1; max: number };

const CAPACITY = 8;
const MAX_BYTES = 6;

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.integer({ min: 1, max: CAPACITY }).chain((count) =>
    fc.record({
      kind: fc.constant('claim' as const),
      count: fc.constant(count),
      lengths: fc.array(fc.integer({ min: 0, max: MAX_BYTES }), { minLength: count, maxLength: count }),
      abort: fc.boolean(),
    }),
  ),
  fc.record({ kind: fc.constant('offer' as const), length: fc.integer({ min: 0, max: MAX_BYTES }) }),
  fc.record({
    kind: fc.constant('poll' as const),
    consumer: fc.constantFrom(0 as const, 1 as const),
    max: fc.integer({ min: 1, max: CAPACITY + 2 }),
  }),
);

function messageBytes(id: number, length: number): number[] {
  return Array.from({ length }, (_, i) => (id * 7 + i) & 0xff);
}

describe.each(['single', 'multi'] as const)('ring against a queue model (%s producer)', (producerMode) => {
  it('delivers, back-pressures and skips exactly as the model does', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 120 }), (ops) => {
        const ring = Ring.create({ capacity: CAPACITY, maxMessageBytes: MAX_BYTES, producerMode });
        const first = ring.addConsumer();
        const consumers = [ring.openConsumer(first), ring.openConsumer(ring.addConsumer({ after: [first] }))];
        const producer = ring.createProducer();
        // The model: every slot ever published, in order; null for an aborted slot.
        const slots: (number[] | null)[] = [];
        const read = [0, 0]; // per consumer: slots consumed
        let nextId = 0;
        const poll = (c: 0 | 1, max: number) => {
          const readable = (c === 0 ? slots.length : read[0]) - read[c];
          const count = Math.min(max, readable);
          const got: number[][] = [];
          const consumed = consumers[c].poll((bytes, offset, length) => got.push([...bytes.subarray(offset, offset + length)]), max);
          expect(consumed).toBe(count);
          expect(got).toEqual(slots.slice(read[c], read[c] + count).filter((m) => m !== null));
          read[c] += count;
        };
        for (const op of ops) {
          if (op.kind === 'poll') {
            poll(op.consumer, op.max);
            continue;
          }
          const backlog = slots.length - Math.min(read[0], read[1]);
          const count = op.kind === 'offer' ? 1 : op.count;
          const full = backlog + count > CAPACITY;
          if (op.kind === 'offer') {
            const message = messageBytes(nextId, op.length);
            const result = producer.offer(Uint8Array.from(message));
            expect(result === BACK_PRESSURED).toBe(full);
            if (result >= 0) {
              nextId++;
              slots.push(message);
            }
            continue;
          }
          const sequence = producer.tryClaim(op.count);
          expect(sequence === BACK_PRESSURED).toBe(full);
          if (sequence < 0) continue;
          const batch = op.lengths.map((length, i) => {
            const message = messageBytes(nextId + i, length);
            producer.setLength(sequence + i, length);
            ring.bytes.set(message, ring.offsetOf(sequence + i));
            return message;
          });
          if (op.abort) {
            producer.abort(sequence, op.count);
            // single producer hands the newest claim back; multi publishes skipped slots
            if (producerMode === 'multi') slots.push(...batch.map(() => null));
          } else {
            producer.publish(sequence, op.count);
            slots.push(...batch);
            nextId += op.count;
          }
        }
        poll(0, CAPACITY);
        poll(1, CAPACITY);
        expect(read).toEqual([slots.length, slots.length]);
      }),
      { numRuns: 300, seed: 20261122 },
    );
  });
});
