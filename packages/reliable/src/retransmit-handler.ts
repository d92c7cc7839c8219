/**
 * The sender's answer to a NAK (no I/O; time is a parameter): each datagram the ranges touch
 * is resent from the retransmit buffer at once, unless
 *  - it was resent less than `lingerNs` ago: a retransmission already under way is not
 *    repeated (the receiver's next NAK after it arrives, or not, decides);
 *  - a window's worth was resent within the last round trip: a bucket of the receiver's
 *    window bytes, refilled at one window per RTT (at least MIN_BUDGET_RTT_NS), so however
 *    many NAKs arrive, even from on the path, retransmissions never exceed what a receiver
 *    could have lost (a window) per round trip; the receiver NAKs again later;
 *  - the retransmit rate limit is spent: a token bucket of bytes per second on top;
 *  - it is no longer held: that part of the range is answered with one UNAVAILABLE frame,
 *    and the receiver applies its gap policy.
 * Ranges are clipped to what was sent; nothing past `nextSequence` is answered, so what is
 * resent is never more than the datagrams the NAK's ranges name. Off-path NAKs never get
 * here: they lack the session token (sender.ts).
 */
import { frameSequenceDelta } from './control-layout.js';
import { MIN_BUDGET_RTT_NS } from './defaults.js';
import type { RetransmitBuffer } from './retransmit-buffer.js';

export interface RetransmitCounters {
  retransmits: number;
  retransmitsLingering: number;
  retransmitsRateLimited: number;
  retransmitsWindowLimited: number;
  unavailableSent: number;
}

export interface RetransmitActions {
  /** Resend the datagram in `slot` (its bytes, unchanged). */
  resend(slot: number): void;
  /** Tell the receiver [startSequence, startSequence + lengthFrames) is gone. */
  unavailable(startSequence: number, lengthFrames: number): void;
}

export class RetransmitHandler {
  private readonly buffer: RetransmitBuffer;
  private readonly actions: RetransmitActions;
  private readonly counters: RetransmitCounters;
  /** Per slot: no resend before this time (ns). A new datagram in the slot resets it (`reset`). */
  private readonly lingerUntilNs: Float64Array;
  private readonly bytesPerNs: number;
  private readonly burstBytes: number;
  private tokensBytes: number;
  private tokensAtNs = 0;
  /** The window budget: at most windowBytes, refilled at windowBytes per round trip. */
  private windowBytes = 0;
  private windowBytesPerNs = 0;
  private windowTokensBytes = 0;
  private windowTokensAtNs = 0;
  lingerNs: number;

  constructor(buffer: RetransmitBuffer, actions: RetransmitActions, counters: RetransmitCounters, lingerNs: number, maxBytesPerSecond: number) {
    this.buffer = buffer;
    this.actions = actions;
    this.counters = counters;
    this.lingerUntilNs = new Float64Array(buffer.capacity).fill(-Infinity);
    this.lingerNs = lingerNs;
    this.bytesPerNs = maxBytesPerSecond / 1e9;
    this.burstBytes = Math.max(buffer.datagramBytes * 16, maxBytesPerSecond / 10);
    this.tokensBytes = this.burstBytes;
  }

  /**
   * The receiver's window (bytes) and round trip (ns, 0 when unknown), from its STATUS: the
   * budget becomes one window per round trip. A larger window grants its growth at once.
   */
  setWindow(windowBytes: number, rttNs: number): void {
    if (windowBytes > this.windowBytes) this.windowTokensBytes += windowBytes - this.windowBytes;
    this.windowBytes = windowBytes;
    this.windowTokensBytes = Math.min(this.windowTokensBytes, windowBytes);
    this.windowBytesPerNs = windowBytes / Math.max(MIN_BUDGET_RTT_NS, rttNs);
  }

  /** A new datagram went into `slot`: it has never been resent. */
  reset(slot: number): void {
    this.lingerUntilNs[slot] = -Infinity;
  }

  /**
   * Answers one NAK range [startSequence, startSequence + lengthFrames); `nextSequence` is
   * the first sequence not yet sent.
   */
  onNakRange(startSequence: number, lengthFrames: number, nextSequence: number, nowNs: number): void {
    if (lengthFrames <= 0) return;
    let start = startSequence >>> 0;
    let remaining = Math.min(lengthFrames, Math.max(0, frameSequenceDelta(nextSequence, start)));
    if (remaining <= 0) return; // nothing of it was sent yet, or it lies before everything
    const oldest = this.buffer.oldestSequence();
    const missing = oldest === undefined ? remaining : Math.min(remaining, Math.max(0, frameSequenceDelta(oldest, start)));
    if (missing > 0) {
      this.counters.unavailableSent++;
      this.actions.unavailable(start, missing);
      start = (start + missing) >>> 0;
      remaining -= missing;
    }
    if (remaining <= 0) return;
    const end = (start + remaining) >>> 0;
    this.refill(nowNs);
    for (let slot = this.buffer.find(start); slot >= 0; slot = this.buffer.following(slot)) {
      if (frameSequenceDelta(this.buffer.firstSequenceOf(slot), end) >= 0) break;
      if (nowNs < this.lingerUntilNs[slot]) {
        this.counters.retransmitsLingering++;
        continue;
      }
      const lengthBytes = this.buffer.lengthOf(slot);
      if (this.windowTokensBytes < lengthBytes) {
        this.counters.retransmitsWindowLimited++;
        continue;
      }
      if (this.tokensBytes < lengthBytes) {
        this.counters.retransmitsRateLimited++;
        continue;
      }
      this.windowTokensBytes -= lengthBytes;
      this.tokensBytes -= lengthBytes;
      this.lingerUntilNs[slot] = nowNs + this.lingerNs;
      this.counters.retransmits++;
      this.actions.resend(slot);
    }
  }

  private refill(nowNs: number): void {
    const elapsedNs = nowNs - this.tokensAtNs;
    if (elapsedNs > 0) {
      this.tokensAtNs = nowNs;
      this.tokensBytes = Math.min(this.burstBytes, this.tokensBytes + elapsedNs * this.bytesPerNs);
    }
    const windowElapsedNs = nowNs - this.windowTokensAtNs;
    if (windowElapsedNs > 0) {
      this.windowTokensAtNs = nowNs;
      this.windowTokensBytes = Math.min(this.windowBytes, this.windowTokensBytes + windowElapsedNs * this.windowBytesPerNs);
    }
  }
}
