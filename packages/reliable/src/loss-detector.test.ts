import { describe, expect, it } from 'vitest';
import { MAX_TRACKED_GAPS } from './defaults.js';
import { LossDetector } from './loss-detector.js';
import { ReceiveWindow } from './receive-window.js';

const US = 1_000;
const MS = 1_000_000;
const timing = { nakDelayNs: 100 * US, minRetryNs: 1 * MS, maxRetryNs: 16 * MS };
const datagram = new Uint8Array(64);

/** Collects NAKs: each an array of [start, length] ranges. */
function collector() {
  const naks: [number, number][][] = [];
  let current: [number, number][] = [];
  return {
    naks,
    sink: {
      range: (_index: number, start: number, length: number) => current.push([start, length]),
      end: () => {
        naks.push(current);
        current = [];
      },
    },
  };
}

function hold(window: ReceiveWindow, expected: number, first: number, frames: number): void {
  window.store(first >>> 0, frames, datagram, 0, 64, (first - expected) | 0);
}

describe('LossDetector', () => {
  it('NAKs a gap once its delay has passed, not before', () => {
    const window = new ReceiveWindow(1024, 16, 64, 4);
    const loss = new LossDetector(timing, 1024);
    const { naks, sink } = collector();
    hold(window, 100, 105, 5); // 100..104 missing
    loss.scan(100, 110, window, 0);
    expect(loss.nakDue(50 * US, 0, sink)).toBe(0);
    expect(loss.nakDue(100 * US, 0, sink)).toBe(1);
    expect(naks).toEqual([[[100, 5]]]);
  });

  it('stops NAKing when the data arrives', () => {
    const window = new ReceiveWindow(1024, 16, 64, 4);
    const loss = new LossDetector(timing, 1024);
    const { naks, sink } = collector();
    hold(window, 100, 105, 5);
    loss.scan(100, 110, window, 0);
    loss.nakDue(100 * US, 0, sink);
    // 100..104 arrive and are delivered: expected moves to 105, then past the held datagram.
    loss.scan(110, 110, window, 200 * US);
    expect(loss.gaps).toBe(0);
    expect(loss.nakDue(100 * MS, 0, sink)).toBe(0);
    expect(naks.length).toBe(1);
  });

  it('coalesces every due gap into one NAK', () => {
    const window = new ReceiveWindow(1024, 16, 64, 4);
    const loss = new LossDetector(timing, 1024);
    const { naks, sink } = collector();
    hold(window, 0, 2, 2); // gaps 0..1, 4..5, 8..9
    hold(window, 0, 6, 2);
    hold(window, 0, 10, 2);
    loss.scan(0, 12, window, 0);
    expect(loss.nakDue(1 * MS, 0, sink)).toBe(3);
    expect(naks).toEqual([
      [
        [0, 2],
        [4, 2],
        [8, 2],
      ],
    ]);
  });

  it('handles more gaps than it tracks: the nearest first, the rest later', () => {
    const window = new ReceiveWindow(4096, 512, 64, 4);
    const loss = new LossDetector(timing, 4096);
    for (let i = 0; i < 100; i++) hold(window, 0, i * 2 + 1, 1); // gaps at every even sequence
    loss.scan(0, 200, window, 0);
    expect(loss.gaps).toBe(MAX_TRACKED_GAPS);
    expect(loss.startOf(0)).toBe(0);
  });

  it('NAKs a gap again after the retry interval, doubling it each time up to the cap', () => {
    const window = new ReceiveWindow(1024, 16, 64, 4);
    const loss = new LossDetector(timing, 1024);
    const { naks, sink } = collector();
    hold(window, 0, 1, 1);
    loss.scan(0, 2, window, 0);
    const times: number[] = [];
    for (let now = 0; now <= 60 * MS; now += 50 * US) {
      if (loss.nakDue(now, 0, sink) > 0) times.push(now);
    }
    const intervals = times.slice(1).map((time, i) => time - times[i]);
    expect(intervals.slice(0, 5)).toEqual([1 * MS, 2 * MS, 4 * MS, 8 * MS, 16 * MS].map((x) => Math.ceil(x / (50 * US)) * 50 * US));
    expect(Math.max(...intervals)).toBe(16 * MS);
    expect(naks.length).toBe(times.length);
  });

  it('waits at least twice the round trip between NAKs of a gap', () => {
    const window = new ReceiveWindow(1024, 16, 64, 4);
    const loss = new LossDetector(timing, 1024);
    const { sink } = collector();
    hold(window, 0, 1, 1);
    loss.scan(0, 2, window, 0);
    loss.nakDue(100 * US, 3 * MS, sink);
    expect(loss.nextDeadlineNs()).toBe(100 * US + 6 * MS);
  });

  it('keeps the timer of a gap that data split in two', () => {
    const window = new ReceiveWindow(1024, 16, 64, 4);
    const loss = new LossDetector(timing, 1024);
    const { sink } = collector();
    hold(window, 0, 10, 1); // gap 0..9
    loss.scan(0, 11, window, 0);
    loss.nakDue(100 * US, 0, sink); // next deadline 1.1 ms
    hold(window, 0, 4, 1); // splits it: 0..3 and 5..9
    loss.scan(0, 11, window, 200 * US);
    expect(loss.gaps).toBe(2);
    expect(loss.nextDeadlineNs()).toBe(1.1 * MS);
  });
});
