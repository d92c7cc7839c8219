// The hand-written SharedArrayBuffer baselines (lib/wait-baselines.mjs) check every message
// as the Flux sides do: these tests show the checks catch a bad message, and that the SPSC
// queue hands over messages in order across its wrap.
import { describe, expect, it } from 'vitest';
import { createSabQueue, SabQueue, SlotChecker, writeSlot } from './lib/wait-baselines.mjs';

describe('SlotChecker (the ping-pong check)', () => {
  it('accepts messages 0, 1, 2 ... and counts a corrupted, repeated or skipped one', () => {
    const int32 = new Int32Array(32);
    const checker = new SlotChecker();
    writeSlot(int32, 0, 0);
    expect(checker.check(int32, 0)).toBe(true);
    writeSlot(int32, 0, 1);
    int32[15] = 7; // a torn slot: the complement does not match
    expect(checker.check(int32, 0)).toBe(false);
    writeSlot(int32, 0, 1); // message 1 again, where 2 is expected
    expect(checker.check(int32, 0)).toBe(false);
    writeSlot(int32, 0, 4); // 3 skipped
    expect(checker.check(int32, 0)).toBe(false);
    expect(checker.bad).toBe(3);
  });
});

describe('SabQueue (the pipeline baseline)', () => {
  it('delivers every message in order, with its length, across many wraps', () => {
    const queue = new SabQueue(createSabQueue(4, 16));
    const seen = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3; i++) {
        const stamp = round * 3 + i;
        const at = queue.claim(1 + (stamp % 16), 1_000);
        queue.bytes[at] = stamp;
        queue.publish();
      }
      expect(queue.drain((bytes, offset, length) => seen.push([bytes[offset], length]), 1_000)).toBe(3);
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, stamp) => [stamp, 1 + (stamp % 16)]));
  });

  it('refuses a message above its slot size and times out (bounded) when full', () => {
    const queue = new SabQueue(createSabQueue(2, 8));
    expect(() => queue.claim(9, 10)).toThrow(/9 B is above 8 B/);
    queue.claim(1, 10);
    queue.publish();
    queue.claim(1, 10);
    queue.publish();
    expect(() => queue.claim(1, 20)).toThrow(/full for 20 ms/);
  });
});
