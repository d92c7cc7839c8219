import { describe, expect, it } from 'vitest';
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { Ring } from './ring.js';
import { drain, publishInPlace } from './test-support.js';

function setup(capacity = 8) {
  const ring = Ring.create({ capacity, maxMessageBytes: 8, producerMode: 'multi' });
  const consumer = ring.openConsumer(ring.addConsumer());
  return { ring, consumer, a: ring.createProducer(), b: ring.createProducer() };
}

function write(ring: Ring, first: number, values: number[]) {
  values.forEach((value, i) => {
    ring.bytes[ring.offsetOf(first + i)] = value;
  });
}

describe('multi producer', () => {
  it('never shows a consumer a slot claimed before an unpublished one', () => {
    const { ring, consumer, a, b } = setup(16);
    const first = a.tryClaim(2, 1);
    const second = b.tryClaim(3, 1);
    expect(second).toBe(first + 2);
    write(ring, second, [3, 4, 5]);
    b.publish(second, 3);
    expect(consumer.available()).toBe(0); // a's batch, before b's, is not published yet
    write(ring, first, [1, 2]);
    a.publish(first, 2);
    expect(drain(consumer)).toEqual([[1], [2], [3], [4], [5]]);
  });

  it('fills to capacity across producers, then reports BACK_PRESSURED', () => {
    const { consumer, a, b } = setup(8);
    for (let i = 0; i < 4; i++) {
      expect(publishInPlace(a, [i])).toBeGreaterThanOrEqual(0);
      expect(publishInPlace(b, [i])).toBeGreaterThanOrEqual(0);
    }
    expect(a.tryClaim(1)).toBe(BACK_PRESSURED);
    expect(b.hasCapacity(1)).toBe(false);
    expect(drain(consumer, 3)).toHaveLength(3);
    expect(b.tryClaim(3)).toBe(8);
    expect(a.tryClaim(1)).toBe(BACK_PRESSURED);
  });

  it('wraps around with every batch size, batches published in reverse order', () => {
    const capacity = 16;
    const { ring, consumer, a, b } = setup(capacity);
    let expected = 0;
    for (let batch = 1; batch <= capacity / 2; batch++) {
      for (let round = 0; round < 5; round++) {
        const first = a.tryClaim(batch, 1);
        const second = b.tryClaim(batch, 1);
        write(
          ring,
          first,
          Array.from({ length: batch }, (_, i) => (expected + i) & 0xff),
        );
        write(
          ring,
          second,
          Array.from({ length: batch }, (_, i) => (expected + batch + i) & 0xff),
        );
        b.publish(second, batch);
        a.publish(first, batch);
        const seen = drain(consumer).map(([v]) => v);
        expect(seen).toEqual(Array.from({ length: 2 * batch }, (_, i) => (expected + i) & 0xff));
        expected += 2 * batch;
      }
    }
  });

  it('publishes an aborted claim as skipped slots', () => {
    const { ring, consumer, a, b } = setup(8);
    const first = a.tryClaim(2, 1);
    const second = b.tryClaim(1, 1);
    write(ring, second, [9]);
    b.publish(second, 1);
    a.abort(first, 2);
    expect(drain(consumer)).toEqual([[9]]);
  });

  it('reports NOT_CONNECTED without consumers and rejects bad publish counts', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode: 'multi' });
    const producer = ring.createProducer();
    expect(producer.tryClaim(1)).toBe(NOT_CONNECTED);
    expect(producer.hasCapacity(1)).toBe(false);
    expect(() => producer.publish(0, 0)).toThrow(/got 0/);
    expect(() => producer.publish(0, 9)).toThrow(/got 9/);
  });
});
