import { describe, expect, it } from 'vitest';
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { Ring } from './ring.js';
import { drain, publishInPlace } from './test-support.js';

function setup(capacity = 8, maxMessageBytes = 16) {
  const ring = Ring.create({ capacity, maxMessageBytes });
  const consumer = ring.openConsumer(ring.addConsumer());
  return { ring, consumer, producer: ring.createProducer() };
}

describe('single producer', () => {
  it('reports NOT_CONNECTED, writing nothing, while no consumer is attached', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    const producer = ring.createProducer();
    expect(producer.tryClaim(1)).toBe(NOT_CONNECTED);
    expect(producer.offer(new Uint8Array(1))).toBe(NOT_CONNECTED);
    const consumer = ring.openConsumer(ring.addConsumer());
    expect(publishInPlace(producer, [7])).toBe(0);
    expect(drain(consumer)).toEqual([[7]]);
  });

  it('returns nothing from an empty ring', () => {
    const { consumer } = setup();
    expect(consumer.available()).toBe(0);
    expect(drain(consumer)).toEqual([]);
  });

  it('fills to exactly capacity, then reports BACK_PRESSURED until a slot is released', () => {
    const { producer, consumer } = setup(8);
    for (let i = 0; i < 8; i++) expect(publishInPlace(producer, [i])).toBe(i);
    expect(publishInPlace(producer, [8])).toBe(BACK_PRESSURED);
    expect(producer.tryClaim(1)).toBe(BACK_PRESSURED);
    expect(producer.hasCapacity(1)).toBe(false);
    expect(drain(consumer, 1)).toEqual([[0]]);
    expect(producer.hasCapacity(1)).toBe(true);
    expect(producer.hasCapacity(2)).toBe(false);
    expect(publishInPlace(producer, [8])).toBe(8);
    expect(drain(consumer)).toEqual([[1], [2], [3], [4], [5], [6], [7], [8]]);
  });

  it('wraps around many times with every batch size from 1 to capacity', () => {
    const capacity = 16;
    const { ring, producer, consumer } = setup(capacity, 4);
    let next = 0;
    for (let batch = 1; batch <= capacity; batch++) {
      for (let round = 0; round < 3; round++) {
        const first = producer.tryClaim(batch, 4);
        expect(first).toBe(next % 2 ** 31);
        for (let i = 0; i < batch; i++) new DataView(ring.buffer).setUint32(ring.offsetOf(first + i), next + i, true);
        producer.publish(first, batch);
        const seen: number[] = [];
        consumer.poll((bytes, offset, length, sequence, endOfBatch) => {
          expect(length).toBe(4);
          expect(sequence).toBe(next + seen.length);
          expect(endOfBatch).toBe(seen.length === batch - 1);
          seen.push(new DataView(bytes.buffer).getUint32(offset, true));
        });
        expect(seen).toEqual(Array.from({ length: batch }, (_, i) => next + i));
        next += batch;
      }
    }
  });

  it('carries messages of 0 bytes and of exactly maxMessageBytes, and rejects one byte more', () => {
    const { producer, consumer } = setup(8, 5);
    expect(producer.offer(new Uint8Array(0))).toBe(0);
    expect(producer.offer(new Uint8Array([1, 2, 3, 4, 5]))).toBe(1);
    expect(() => producer.offer(new Uint8Array(6))).toThrow(/message must be at most 5 bytes \(maxMessageBytes\), got a Uint8Array \(6 bytes\)/);
    expect(() => producer.tryClaim(1, 6)).toThrow(RangeError);
    expect(drain(consumer)).toEqual([[], [1, 2, 3, 4, 5]]);
  });

  it('rejects bad claim counts and lengths, naming the value', () => {
    const { producer } = setup(8);
    expect(() => producer.tryClaim(0)).toThrow(/got 0/);
    expect(() => producer.tryClaim(9)).toThrow(/count must be an integer from 1 to 8, got 9/);
    expect(() => producer.tryClaim(1.5)).toThrow(/got 1.5/);
    expect(() => producer.tryClaim(Number.NaN)).toThrow(RangeError);
    expect(() => producer.tryClaim(1, -1)).toThrow(/got -1/);
    expect(() => producer.setLength(0, 17)).toThrow(/got 17/);
  });

  it('lets a claim set each slot length before publish', () => {
    const { ring, producer, consumer } = setup(8, 8);
    const first = producer.tryClaim(3, 8);
    producer.setLength(first + 1, 2);
    ring.bytes.fill(9, ring.offsetOf(first + 1), ring.offsetOf(first + 1) + 2);
    producer.setLength(first + 2, 0);
    producer.publish(first, 3);
    expect(drain(consumer).map((m) => m.length)).toEqual([8, 2, 0]);
  });

  it('hands back an aborted newest claim so the next claim reuses its slots', () => {
    const { producer, consumer } = setup(8);
    const first = producer.tryClaim(3);
    producer.abort(first, 3);
    expect(publishInPlace(producer, [1])).toBe(first);
    expect(drain(consumer)).toEqual([[1]]);
  });

  it('publishes an aborted older claim as skipped slots that no handler sees', () => {
    const { ring, producer, consumer } = setup(8);
    const older = producer.tryClaim(2, 1);
    const newer = producer.tryClaim(1, 1);
    ring.bytes[ring.offsetOf(newer)] = 42;
    producer.abort(older, 2);
    producer.publish(newer, 1);
    expect(consumer.available()).toBe(3);
    expect(drain(consumer)).toEqual([[42]]);
  });

  it('refuses to publish out of claim order, or more than was claimed', () => {
    const { producer } = setup(8);
    const a = producer.tryClaim(1);
    const b = producer.tryClaim(1);
    expect(() => producer.publish(b, 1)).toThrow(/in order: expected sequence 0, got 1/);
    expect(() => producer.publish(a, 3)).toThrow(/goes past the newest claim/);
    producer.publish(a, 2);
  });

  it('allows only one single producer per ring, in any thread', () => {
    const { ring } = setup();
    expect(() => ring.createProducer()).toThrow(/already has its single producer/);
    expect(() => Ring.attach(ring.handle).createProducer()).toThrow(TypeError);
  });
});
