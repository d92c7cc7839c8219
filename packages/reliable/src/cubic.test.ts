/**
 * CUBIC (cubic.ts) and the pacer (pacer.ts) on a virtual clock: every time is a number given
 * to them, nothing waits.
 */
import { describe, expect, it } from 'vitest';
import { Cubic } from './cubic.js';
import { CUBIC_BETA, IDLE_RESTART_MIN_NS, INITIAL_WINDOW_DATAGRAMS, MIN_CONGESTION_WINDOW_DATAGRAMS, PACING_BURST_NS } from './defaults.js';
import { Pacer } from './pacer.js';

const SEGMENT = 1000;
const MS = 1e6;
const RTT = 10 * MS;

/** Acks a whole window, one segment at a time, over one round trip from `nowNs`; returns the time after. */
function ackWindow(cubic: Cubic, nowNs: number, cwndLimited = true, rttNs = RTT): number {
  const segments = Math.max(1, Math.floor(cubic.windowBytes / SEGMENT));
  for (let i = 0; i < segments; i++) cubic.onAck(SEGMENT, rttNs, cwndLimited, nowNs + (rttNs * (i + 1)) / segments);
  return nowNs + rttNs;
}

describe('CUBIC', () => {
  it('starts at the initial window and doubles it per round trip in slow start', () => {
    const cubic = new Cubic(SEGMENT);
    expect(cubic.windowBytes).toBe(INITIAL_WINDOW_DATAGRAMS * SEGMENT);
    expect(cubic.slowStart).toBe(true);
    let now = 0;
    for (let rtt = 0; rtt < 5; rtt++) {
      const before = cubic.windowBytes;
      now = ackWindow(cubic, now);
      expect(cubic.windowBytes).toBe(2 * before);
    }
  });

  it('does not grow while the application or the receiver, not the window, limits sending (RFC 7661)', () => {
    const cubic = new Cubic(SEGMENT);
    let now = 0;
    for (let rtt = 0; rtt < 10; rtt++) now = ackWindow(cubic, now, false);
    expect(cubic.windowBytes).toBe(INITIAL_WINDOW_DATAGRAMS * SEGMENT);
  });

  it('answers a loss with window x beta, sets ssthresh, and never goes below two datagrams', () => {
    const cubic = new Cubic(SEGMENT);
    let now = 0;
    for (let rtt = 0; rtt < 6; rtt++) now = ackWindow(cubic, now); // 640 segments
    const before = cubic.windowBytes;
    cubic.onCongestionEvent(now);
    expect(cubic.windowBytes).toBeCloseTo(before * CUBIC_BETA, 6);
    expect(cubic.ssthreshBytes).toBe(cubic.windowBytes);
    expect(cubic.slowStart).toBe(false);
    expect(cubic.congestionEvents).toBe(1);
    for (let i = 0; i < 100; i++) cubic.onCongestionEvent(now);
    expect(cubic.windowBytes).toBe(MIN_CONGESTION_WINDOW_DATAGRAMS * SEGMENT);
  });

  it('recovers along the cubic: W_max - C (K/2)^3 at K/2, W_max at K, and 1.3 W_max at 2K (a 100 ms RTT, where the cubic leads Reno)', () => {
    const rttNs = 100 * MS;
    const cubic = new Cubic(SEGMENT);
    let now = 0;
    for (let rtt = 0; rtt < 7; rtt++) now = ackWindow(cubic, now, true, rttNs); // 1,280 segments
    const wMax = cubic.windowBytes;
    cubic.onCongestionEvent(now);
    const kNs = Math.cbrt(((wMax / SEGMENT) * (1 - CUBIC_BETA)) / 0.4) * 1e9; // about 9.9 s
    const lossNs = now;
    const at = new Map<number, number>(); // fraction of K -> window / W_max
    while (now - lossNs < 2 * kNs) {
      const before = cubic.windowBytes;
      now = ackWindow(cubic, now, true, rttNs);
      // Never more than +50% in one round trip, never a decrease without a loss.
      expect(cubic.windowBytes).toBeLessThanOrEqual(1.5 * before + 1);
      expect(cubic.windowBytes).toBeGreaterThanOrEqual(before);
      for (const fraction of [0.5, 1, 2]) if (!at.has(fraction) && now - lossNs >= fraction * kNs) at.set(fraction, cubic.windowBytes / wMax);
    }
    // W_cubic(t) = C (t - K)^3 + W_max, read one RTT ahead (RFC 9438 §4.2): 0.9625, 1, 1.3 at K/2, K, 2K.
    expect(at.get(0.5)).toBeGreaterThan(0.95);
    expect(at.get(0.5)).toBeLessThan(0.98);
    expect(Math.abs((at.get(1) ?? 0) - 1)).toBeLessThan(0.02);
    expect(at.get(2)).toBeGreaterThan(1.25);
    expect(at.get(2)).toBeLessThan(1.36);
  });

  it('fast convergence: a loss below the last W_max lowers W_max further, so the flow gives way sooner', () => {
    const a = new Cubic(SEGMENT);
    const b = new Cubic(SEGMENT);
    let now = 0;
    for (let rtt = 0; rtt < 6; rtt++) {
      ackWindow(a, now);
      now = ackWindow(b, now);
    }
    a.onCongestionEvent(now);
    b.onCongestionEvent(now);
    b.onCongestionEvent(now + RTT); // a second loss while below W_max
    const aAfter = a.windowBytes;
    for (let rtt = 0; rtt < 20; rtt++) {
      ackWindow(a, now + rtt * RTT);
      ackWindow(b, now + rtt * RTT);
    }
    expect(b.windowBytes).toBeLessThan(a.windowBytes);
    expect(a.windowBytes).toBeGreaterThan(aAfter);
  });

  it('restarts at the initial window after an idle period longer than max(4 RTT, 200 ms), not a shorter one', () => {
    const cubic = new Cubic(SEGMENT);
    let now = 0;
    for (let rtt = 0; rtt < 5; rtt++) now = ackWindow(cubic, now);
    const grown = cubic.windowBytes;
    cubic.onIdleRestart(IDLE_RESTART_MIN_NS / 2, RTT, now);
    expect(cubic.windowBytes).toBe(grown);
    cubic.onIdleRestart(IDLE_RESTART_MIN_NS + 1, RTT, now);
    expect(cubic.windowBytes).toBe(INITIAL_WINDOW_DATAGRAMS * SEGMENT);
    expect(cubic.slowStart).toBe(true); // ssthresh stays above: slow start back towards where it was
  });

  it('paces at gain x window / RTT: twice in slow start, 1.25x after, unpaced before an RTT sample', () => {
    const cubic = new Cubic(SEGMENT);
    expect(cubic.pacingBytesPerSecond).toBe(Number.POSITIVE_INFINITY);
    cubic.onAck(SEGMENT, RTT, true, 0);
    expect(cubic.pacingBytesPerSecond).toBeCloseTo((2 * cubic.windowBytes) / (RTT / 1e9), 3);
    cubic.onCongestionEvent(1);
    expect(cubic.pacingBytesPerSecond).toBeCloseTo((1.25 * cubic.windowBytes) / (RTT / 1e9), 3);
  });
});

describe('the pacer', () => {
  it('lets a burst out, then spaces datagrams at its rate', () => {
    const pacer = new Pacer(SEGMENT);
    const rate = 10_000_000; // bytes per second: one 1,000-byte datagram per 100 µs
    pacer.setRate(rate, 0);
    let now = 10 * MS; // tokens have filled to the burst
    let sent = 0;
    while (pacer.canSend(now)) {
      pacer.onSent(SEGMENT);
      sent++;
    }
    const burst = Math.max(10 * SEGMENT, (rate * PACING_BURST_NS) / 1e9);
    expect(sent * SEGMENT).toBeGreaterThanOrEqual(burst);
    expect(sent * SEGMENT).toBeLessThanOrEqual(burst + SEGMENT);
    // From now on, at the rate: one second lets rate bytes through (and a datagram's worth of rounding).
    const start = now;
    let bytes = 0;
    while (now < start + 1e9) {
      now = pacer.nextSendNs(now);
      expect(pacer.canSend(now)).toBe(true);
      pacer.onSent(SEGMENT);
      bytes += SEGMENT;
    }
    expect(Math.abs(bytes - rate)).toBeLessThanOrEqual(2 * SEGMENT);
  });

  it('lets everything through when unpaced', () => {
    const pacer = new Pacer(SEGMENT);
    pacer.setRate(Number.POSITIVE_INFINITY, 0);
    for (let i = 0; i < 10_000; i++) {
      expect(pacer.canSend(0)).toBe(true);
      pacer.onSent(SEGMENT);
    }
    expect(pacer.nextSendNs(5)).toBe(5);
  });
});
