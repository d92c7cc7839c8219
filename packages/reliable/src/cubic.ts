/**
 * CUBIC congestion control (RFC 9438), in bytes, on a virtual clock (`nowNs` is passed in).
 *
 *   window
 *     │            W_max ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─
 *     │          ╱‾‾‾╲ loss: W_max = window,   ╭──────╮ concave up to W_max,  ╱
 *     │         ╱     ╲ window *= β (0.7)   ╭──╯      ╰──╮ flat near it,    ╱ convex beyond
 *     │  slow  ╱       ╲________________ ╭──╯  W_cubic(t) = C (t - K)³ + W_max
 *     │ start ╱                          t = 0 at the loss, K = ∛(W_max (1 - β) / C)
 *     └───────────────────────────────────────────────────────────────────────▶ time
 *
 *   slow start        window += bytes acked, until a loss (or ssthresh, after one)
 *   avoidance         window moves towards W_cubic(t + RTT), at most +50% per RTT, and never
 *                     below the Reno-friendly estimate W_est (+α per window acked, α = 3(1-β)/(1+β))
 *   loss              a loss rate over the threshold (loss-rate.ts: the sender decides), at
 *                     most once per round trip (the sender's recovery rule): W_max = window
 *                     (fast convergence: less, if the window had not regained the last W_max),
 *                     window = ssthresh = max(window β, 2 datagrams)
 *   idle restart      nothing unconsumed for max(4 RTT, 200 ms): window = min(window, initial)
 *   app / receiver    the window grows only while it is what limits sending (RFC 7661): a
 *   limited           sender held back by the application or the receiver's window keeps it
 *
 * Segment units (RFC 9438's MSS) are the session's datagram length. Pacing: gain x window /
 * smoothed RTT, 2x in slow start and 1.25x after (pacer.ts lets it out in bursts).
 */
import type { CongestionController } from './congestion-controller.js';
import {
  CUBIC_BETA,
  CUBIC_C,
  IDLE_RESTART_MIN_NS,
  INITIAL_WINDOW_DATAGRAMS,
  MIN_CONGESTION_WINDOW_DATAGRAMS,
  PACING_GAIN_AVOIDANCE,
  PACING_GAIN_SLOW_START,
} from './defaults.js';

const NS_PER_SECOND = 1e9;
/** Reno-friendly additive increase per window acked (RFC 9438 §4.3). */
const ALPHA_CUBIC = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);
/** The window grows at most this much per round trip in avoidance (RFC 9438 §4.2: target ≤ 1.5 cwnd). */
const MAX_GROWTH_PER_RTT = 1.5;

export class Cubic implements CongestionController {
  /** The congestion window, bytes. */
  windowBytes: number;
  /** Below it: slow start. Infinity until the first loss. */
  ssthreshBytes = Number.POSITIVE_INFINITY;
  /** Loss events (each a multiplicative decrease). */
  congestionEvents = 0;
  private readonly segmentBytes: number;
  private readonly minWindowBytes: number;
  private readonly initialWindowBytes: number;
  /** W_max, in segments: the window before the last reduction. */
  private wMaxSegments = 0;
  /** K, seconds: when W_cubic reaches W_max again. */
  private kSeconds = 0;
  /** Start of the current avoidance epoch (ns), or -1: the next ack in avoidance starts one. */
  private epochStartNs = -1;
  /** The Reno-friendly estimate W_est, in segments. */
  private wEstSegments = 0;
  private rttNs = 0;

  constructor(segmentBytes: number) {
    this.segmentBytes = segmentBytes;
    this.minWindowBytes = MIN_CONGESTION_WINDOW_DATAGRAMS * segmentBytes;
    this.initialWindowBytes = INITIAL_WINDOW_DATAGRAMS * segmentBytes;
    this.windowBytes = this.initialWindowBytes;
  }

  get slowStart(): boolean {
    return this.windowBytes < this.ssthreshBytes;
  }

  /** gain x window / smoothed RTT; Infinity before an RTT sample (the initial window goes out unpaced). */
  get pacingBytesPerSecond(): number {
    if (this.rttNs <= 0) return Number.POSITIVE_INFINITY;
    const gain = this.slowStart ? PACING_GAIN_SLOW_START : PACING_GAIN_AVOIDANCE;
    return (gain * this.windowBytes * NS_PER_SECOND) / this.rttNs;
  }

  onAck(ackedBytes: number, rttNs: number, cwndLimited: boolean, nowNs: number): void {
    if (rttNs > 0) this.rttNs = rttNs;
    if (ackedBytes <= 0 || !cwndLimited) return;
    if (this.slowStart) {
      this.windowBytes = Math.min(this.windowBytes + ackedBytes, this.ssthreshBytes);
      if (!this.slowStart) this.epochStartNs = -1; // reached ssthresh: avoidance starts with the next ack
      return;
    }
    const segment = this.segmentBytes;
    const cwnd = this.windowBytes / segment;
    if (this.epochStartNs < 0) {
      this.epochStartNs = nowNs;
      if (cwnd < this.wMaxSegments) this.kSeconds = Math.cbrt((this.wMaxSegments - cwnd) / CUBIC_C);
      else {
        this.kSeconds = 0;
        this.wMaxSegments = cwnd;
      }
      this.wEstSegments = cwnd;
    }
    const ackedSegments = ackedBytes / segment;
    this.wEstSegments += (ALPHA_CUBIC * ackedSegments) / cwnd;
    const tSeconds = (nowNs - this.epochStartNs) / NS_PER_SECOND;
    const rttSeconds = this.rttNs / NS_PER_SECOND;
    const cubicNow = this.wCubic(tSeconds);
    if (cubicNow < this.wEstSegments) {
      this.windowBytes = Math.max(this.windowBytes, this.wEstSegments * segment); // Reno-friendly region
      return;
    }
    const target = Math.min(Math.max(this.wCubic(tSeconds + rttSeconds), cwnd), MAX_GROWTH_PER_RTT * cwnd);
    this.windowBytes += ((target - cwnd) / cwnd) * ackedSegments * segment;
  }

  onCongestionEvent(_nowNs: number): void {
    this.congestionEvents++;
    const cwnd = this.windowBytes / this.segmentBytes;
    // Fast convergence (RFC 9438 §4.7): a flow that lost again below its last W_max gives way sooner.
    this.wMaxSegments = cwnd < this.wMaxSegments ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    this.windowBytes = Math.max(this.windowBytes * CUBIC_BETA, this.minWindowBytes);
    this.ssthreshBytes = this.windowBytes;
    this.epochStartNs = -1;
  }

  onIdleRestart(idleNs: number, rttNs: number, _nowNs: number): void {
    if (idleNs < Math.max(IDLE_RESTART_MIN_NS, 4 * rttNs)) return;
    if (this.windowBytes > this.initialWindowBytes) {
      this.ssthreshBytes = Math.max(this.ssthreshBytes, (this.windowBytes * 3) / 4); // as Linux: slow start back to 3/4 of where it was
      this.windowBytes = this.initialWindowBytes;
    }
    this.epochStartNs = -1;
  }

  /** W_cubic(t), segments (RFC 9438 eq. 1). */
  private wCubic(tSeconds: number): number {
    const d = tSeconds - this.kSeconds;
    return CUBIC_C * d * d * d + this.wMaxSegments;
  }
}
