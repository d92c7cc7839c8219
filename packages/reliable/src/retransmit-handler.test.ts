import { describe, expect, it } from 'vitest';
import { SenderCounters } from './counters.js';
import { RetransmitBuffer } from './retransmit-buffer.js';
import { RetransmitHandler } from './retransmit-handler.js';

const MS = 1_000_000;

/** A buffer holding datagrams of 2 frames each: [0,2) [2,4) ... [2n-2, 2n), 100 bytes each. */
function setUp(datagrams: number, capacity = 16, bytesPerSecond = 1e9, windowBytes = 1e9, rttNs = 0) {
  const buffer = new RetransmitBuffer(capacity, 200);
  for (let i = 0; i < datagrams; i++) {
    if (buffer.isFull) buffer.evictOldest();
    buffer.append(buffer.nextSlot(), i * 2, i * 2 + 2, 100);
  }
  const resent: number[] = [];
  const unavailable: [number, number][] = [];
  const counters = new SenderCounters();
  const handler = new RetransmitHandler(
    buffer,
    { resend: (slot) => resent.push(buffer.firstSequenceOf(slot)), unavailable: (start, length) => unavailable.push([start, length]) },
    counters,
    1 * MS,
    bytesPerSecond,
  );
  handler.setWindow(windowBytes, rttNs);
  return { buffer, handler, resent, unavailable, counters, next: datagrams * 2 };
}

describe('RetransmitHandler', () => {
  it('resends every datagram a range touches, from the buffer, without consuming it', () => {
    const { handler, resent, buffer, next } = setUp(8);
    handler.onNakRange(3, 4, next, 0); // frames 3..6: datagrams at 2, 4, 6
    expect(resent).toEqual([2, 4, 6]);
    expect(buffer.size).toBe(8);
  });

  it('does not repeat a retransmission under way (lingering), then does', () => {
    const { handler, resent, counters, next } = setUp(8);
    handler.onNakRange(0, 2, next, 0);
    handler.onNakRange(0, 2, next, 0.5 * MS);
    expect(resent).toEqual([0]);
    expect(counters.retransmitsLingering).toBe(1);
    handler.onNakRange(0, 2, next, 1 * MS);
    expect(resent).toEqual([0, 0]);
  });

  it('answers a range no longer held with UNAVAILABLE, and resends the held rest', () => {
    const { handler, resent, unavailable, next } = setUp(20, 16); // 0..7 overwritten
    handler.onNakRange(4, 6, next, 0); // 4..9: 4..7 gone, 8..9 held
    expect(unavailable).toEqual([[4, 4]]);
    expect(resent).toEqual([8]);
  });

  it('ignores what was never sent', () => {
    const { handler, resent, unavailable, next } = setUp(4);
    handler.onNakRange(next, 100, next, 0);
    handler.onNakRange(6, 1000, next, 0); // clipped to 6..7
    expect(resent).toEqual([6]);
    expect(unavailable).toEqual([]);
  });

  it('limits the retransmission rate, so a NAK flood cannot make it an amplifier', () => {
    // 1 MB/s with a burst of 100 KB; NAKs for all 16 datagrams (1,600 B) every 1.01 ms ask 1.6 MB/s.
    const flood = setUp(16, 16, 1_000_000);
    for (let i = 0; i < 100_000; i++) flood.handler.onNakRange(0, flood.next, flood.next, i * 1.01 * MS);
    expect(flood.counters.retransmitsRateLimited).toBeGreaterThan(0);
    expect(flood.counters.retransmits * 100).toBeLessThanOrEqual(101 * 1_000_000 + 100_000); // 101 s at 1 MB/s + the burst
    expect(flood.counters.retransmits * 100).toBeGreaterThan(90 * 1_000_000); // and the limit is used, not starved
  });

  it('resends at most one window per round trip, however many NAKs ask (an on-path NAK flood)', () => {
    // A 1,000-byte window (10 datagrams), a 10 ms round trip, a linger of 1 ms: NAKs for all
    // 16 datagrams every 0.1 ms would ask 16 kB per ms; the window allows 1 kB per 10 ms.
    const flood = setUp(16, 16, 1e9, 1_000, 10 * MS);
    let askedBytes = 0;
    for (let i = 0; i < 10_000; i++) {
      flood.handler.onNakRange(0, flood.next, flood.next, i * 0.1 * MS); // 1 s in all
      askedBytes += 16 * 100;
    }
    const resentBytes = flood.counters.retransmits * 100;
    expect(flood.counters.retransmitsWindowLimited).toBeGreaterThan(0);
    expect(resentBytes).toBeLessThanOrEqual(askedBytes);
    expect(resentBytes).toBeLessThanOrEqual(1_000 * (1 + 1_000 / 10)); // the first window + one per 10 ms RTT over 1 s
    expect(resentBytes).toBeGreaterThan(0.9 * 1_000 * (1_000 / 10)); // and the budget is used, not starved
  });

  it('grants no retransmission before the receiver told its window', () => {
    const { handler, resent, counters, next } = setUp(8, 16, 1e9, 0);
    handler.onNakRange(0, next, next, 0);
    expect(resent).toEqual([]);
    expect(counters.retransmitsWindowLimited).toBe(8);
  });
});
