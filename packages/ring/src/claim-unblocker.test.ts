import { describe, expect, it } from 'vitest';
import { ClaimUnblocker } from './claim-unblocker.js';
import { ABORTED_LENGTH } from './layout.js';
import type { MultiProducer } from './multi-producer.js';
import { Ring } from './ring.js';

const TIMEOUT_NS = 1_000_000_000;

function setup() {
  const ring = Ring.create({ capacity: 16, maxMessageBytes: 4, producerMode: 'multi' });
  const consumer = ring.openConsumer(ring.addConsumer());
  const dead = ring.createProducer() as MultiProducer; // claims, and never publishes again: as if its process died
  const live = ring.createProducer() as MultiProducer;
  const read = () => {
    const seen: (number | 'aborted')[] = [];
    const n = consumer.available();
    for (let i = 0, s = consumer.nextSequence; i < n; i++, s = (s + 1) & 0x7fffffff) {
      seen.push(ring.lengthOf(s) === ABORTED_LENGTH ? 'aborted' : ring.int32[ring.offsetOf(s) >> 2]);
    }
    consumer.release(n);
    return seen;
  };
  const publish = (producer: MultiProducer, values: number[]) => {
    const first = producer.tryClaim(values.length, 4);
    values.forEach((v, i) => {
      ring.int32[ring.offsetOf((first + i) & 0x7fffffff) >> 2] = v;
    });
    producer.publish(first, values.length);
  };
  return { ring, dead, live, read, publish, unblocker: new ClaimUnblocker(ring, TIMEOUT_NS) };
}

describe('ClaimUnblocker', () => {
  it("publishes a dead producer's claim as aborted once it has been stuck for the timeout, and not before", () => {
    const { dead, live, read, publish, unblocker } = setup();
    publish(live, [1]);
    const first = dead.tryClaim(3, 4); // never published
    publish(live, [2, 3]);
    expect(read()).toEqual([1]); // stopped at the dead claim
    expect(unblocker.poll(0)).toEqual([]);
    expect(unblocker.poll(TIMEOUT_NS - 1)).toEqual([]);
    expect(read()).toEqual([]);
    expect(unblocker.poll(TIMEOUT_NS)).toEqual([{ first, last: first + 2 }]);
    expect(read()).toEqual(['aborted', 'aborted', 'aborted', 2, 3]);
    expect(unblocker.poll(2 * TIMEOUT_NS)).toEqual([]); // nothing stuck any more
  });

  it('never unblocks a claim that moves: the clock restarts whenever the stuck point or its marker changes', () => {
    const { dead, live, read, publish, unblocker } = setup();
    dead.tryClaim(1, 4);
    publish(live, [1]);
    expect(unblocker.poll(0)).toEqual([]);
    const second = setup();
    expect(second.unblocker.poll(0)).toEqual([]); // nothing claimed past what is published
    second.publish(second.live, [5]);
    expect(second.read()).toEqual([5]);
    expect(second.unblocker.poll(10 * TIMEOUT_NS)).toEqual([]);
    expect(read()).toEqual([]);
  });

  it('aborts only what a producer had not published of its claim: the head, the tail or the middle published first', () => {
    for (const [published, expected] of [
      [
        [0, 1],
        [10, 11, 'aborted', 'aborted', 20],
      ],
      [
        [2, 3],
        ['aborted', 'aborted', 12, 13, 20],
      ],
      [
        [1, 2],
        ['aborted', 11, 12, 'aborted', 20],
      ],
    ] as const) {
      const { ring, dead, live, read, publish, unblocker } = setup();
      const first = dead.tryClaim(4, 4);
      for (let i = 0; i < 4; i++) ring.int32[ring.offsetOf(first + i) >> 2] = 10 + i;
      dead.publish(first + published[0], 2); // part of its claim, then it dies
      publish(live, [20]);
      let nowNs = 0;
      const seen: (number | 'aborted')[] = [...read()];
      for (let polls = 0; polls < 8 && seen.length < 5; polls++, nowNs += TIMEOUT_NS) {
        unblocker.poll(nowNs);
        seen.push(...read());
      }
      expect(seen).toEqual(expected);
    }
  });

  it('refuses a single-producer ring and bad arguments', () => {
    const single = Ring.create({ capacity: 8, maxMessageBytes: 4 });
    expect(() => new ClaimUnblocker(single, TIMEOUT_NS)).toThrow(/multi-producer/);
    const { unblocker, ring } = setup();
    expect(() => new ClaimUnblocker(ring, 0)).toThrow(/timeoutNs/);
    expect(() => unblocker.poll(-1)).toThrow(/nowNs/);
  });
});
