import { describe, expect, it } from 'vitest';
import { StallDetector } from './liveness.js';
import { Ring } from './ring.js';

const MS = 1_000_000;

function setup() {
  const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
  const busy = ring.openConsumer(ring.addConsumer());
  const stuck = ring.addConsumer();
  return { ring, busy, stuck, producer: ring.createProducer(), detector: new StallDetector(ring, 100 * MS) };
}

describe('StallDetector', () => {
  it('reports a consumer that has unread messages and has not moved for the timeout', () => {
    const { producer, busy, stuck, detector } = setup();
    producer.offer(Uint8Array.of(1));
    busy.poll(() => {});
    expect(detector.poll(0)).toEqual([]);
    expect(detector.poll(99 * MS)).toEqual([]);
    expect(detector.poll(100 * MS)).toEqual([{ consumerId: stuck, sequence: 2 ** 31 - 1, lag: 1, stalledForNs: 100 * MS }]);
  });

  it('does not report consumers that are caught up, however long they idle', () => {
    const { detector } = setup();
    expect(detector.poll(0)).toEqual([]);
    expect(detector.poll(10_000 * MS)).toEqual([]);
  });

  it('restarts the clock when the consumer moves, and forgets removed consumers', () => {
    const { ring, producer, stuck, detector } = setup();
    const stuckReader = ring.openConsumer(stuck);
    producer.offer(Uint8Array.of(1));
    producer.offer(Uint8Array.of(2));
    detector.poll(0);
    stuckReader.poll(() => {}, 1);
    expect(detector.poll(150 * MS).map((s) => s.consumerId)).toEqual([0]); // consumer 0 never read
    expect(detector.poll(250 * MS).map((s) => s.consumerId)).toEqual([0, stuck]);
    ring.removeConsumer(stuck);
    expect(detector.poll(300 * MS).map((s) => s.consumerId)).toEqual([0]);
  });

  it('rejects a non-positive timeout', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    expect(() => new StallDetector(ring, 0)).toThrow(/got 0/);
  });
});
