import { describe, expect, it } from 'vitest';
import { BACK_PRESSURED } from './codes.js';
import { Ring } from './ring.js';
import { drain, publishInPlace } from './test-support.js';

describe.each(['single', 'multi'] as const)('consumers (%s producer)', (producerMode) => {
  const create = (capacity = 8, maxConsumers = 8) => Ring.create({ capacity, maxMessageBytes: 8, producerMode, maxConsumers });

  it('broadcasts every message to every consumer', () => {
    const ring = create();
    const one = ring.openConsumer(ring.addConsumer());
    const two = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    for (let i = 0; i < 5; i++) publishInPlace(producer, [i]);
    expect(drain(one)).toEqual([[0], [1], [2], [3], [4]]);
    expect(drain(two)).toEqual([[0], [1], [2], [3], [4]]);
  });

  it('gates the producer on the slowest consumer', () => {
    const ring = create(4);
    const fast = ring.openConsumer(ring.addConsumer());
    const slow = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    for (let i = 0; i < 4; i++) publishInPlace(producer, [i]);
    drain(fast);
    expect(publishInPlace(producer, [4])).toBe(BACK_PRESSURED);
    drain(slow, 1);
    expect(publishInPlace(producer, [4])).toBe(4);
  });

  it('runs a consumer added after another strictly behind it (pipeline)', () => {
    const ring = create();
    const first = ring.addConsumer();
    const second = ring.addConsumer({ after: [first] });
    const a = ring.openConsumer(first);
    const b = ring.openConsumer(second);
    const producer = ring.createProducer();
    for (let i = 0; i < 4; i++) publishInPlace(producer, [i]);
    expect(b.available()).toBe(0);
    expect(drain(a, 2)).toEqual([[0], [1]]);
    expect(drain(b)).toEqual([[0], [1]]);
    drain(a);
    expect(drain(b)).toEqual([[2], [3]]);
  });

  it('joins a diamond: the last consumer waits for both branches', () => {
    const ring = create();
    const left = ring.addConsumer();
    const right = ring.addConsumer();
    const join = ring.openConsumer(ring.addConsumer({ after: [left, right] }));
    const producer = ring.createProducer();
    for (let i = 0; i < 3; i++) publishInPlace(producer, [i]);
    drain(ring.openConsumer(left), 3);
    expect(join.available()).toBe(0);
    drain(ring.openConsumer(right), 1);
    expect(drain(join)).toEqual([[0]]);
  });

  it('neither loses nor repeats messages when a handler throws', () => {
    const ring = create();
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    for (let i = 0; i < 6; i++) publishInPlace(producer, [i]);
    const seen: number[] = [];
    const handler = (bytes: Uint8Array, offset: number) => {
      seen.push(bytes[offset]);
      if (bytes[offset] === 2) throw new Error('boom');
    };
    expect(() => consumer.poll(handler)).toThrow('boom');
    expect(consumer.nextSequence).toBe(3);
    expect(consumer.poll(handler)).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(publishInPlace(producer, [6])).toBeGreaterThanOrEqual(0); // slots were released
  });

  it('releases no more than it has read, and rejects bad counts', () => {
    const ring = create();
    const consumer = ring.openConsumer(ring.addConsumer());
    publishInPlace(ring.createProducer(), [1]);
    expect(() => consumer.release(1)).toThrow(/to the 0 slots read, got 1/);
    expect(consumer.available()).toBe(1);
    expect(() => consumer.release(2)).toThrow(RangeError);
    expect(() => consumer.release(-1)).toThrow(RangeError);
    consumer.release(1);
    expect(consumer.nextSequence).toBe(1);
  });

  it('rejects a bad handler or batch limit, naming it', () => {
    const ring = create();
    const consumer = ring.openConsumer(ring.addConsumer());
    expect(() => consumer.poll(undefined as never)).toThrow(/handler must be a function, got undefined/);
    expect(() => consumer.poll(() => {}, 0)).toThrow(/got 0/);
    expect(() => consumer.poll(() => {}, 2.5)).toThrow(TypeError); // a fraction is the wrong kind of value
  });

  it('sees only messages published after it joined', () => {
    const ring = create();
    const early = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    publishInPlace(producer, [1]);
    const late = ring.openConsumer(ring.addConsumer());
    publishInPlace(producer, [2]);
    expect(drain(late)).toEqual([[2]]);
    expect(drain(early)).toEqual([[1], [2]]);
  });

  it('releases producers and dependents when a dead consumer is removed', () => {
    const ring = create(4);
    const deadId = ring.addConsumer();
    const dependent = ring.openConsumer(ring.addConsumer({ after: [deadId] }));
    const zombie = ring.openConsumer(deadId);
    const producer = ring.createProducer();
    for (let i = 0; i < 4; i++) publishInPlace(producer, [i]);
    expect(publishInPlace(producer, [4])).toBe(BACK_PRESSURED);
    expect(dependent.available()).toBe(0);
    expect(ring.removeConsumer(deadId)).toBe(true);
    expect(drain(dependent)).toEqual([[0], [1], [2], [3]]);
    expect(publishInPlace(producer, [4])).toBe(4);
    expect(() => zombie.poll(() => {})).toThrow(/consumer 0 was removed/);
  });
});
