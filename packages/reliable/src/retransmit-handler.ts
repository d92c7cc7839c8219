/**
 * The sender's answer to a NAK (no I/O; time is a parameter): each datagram the ranges touch
 * is resent from the retransmit buffer at once, unless
 *  - it was resent less than `lingerNs` ago: a retransmission already under way is not
 *    repeated (the receiver's next NAK after it arrives, or not, decides);
 *  - the retransmit rate limit is spent: a token bucket of bytes per second, so a flood of
 *    NAKs (or one NAK with huge ranges) cannot turn the sender into an amplifier; the
 *    receiver NAKs again later;
 *  - it is no longer held: that part of the range is answered with one UNAVAILABLE frame,
 *    and the receiver applies its gap policy.
 * Ranges are clipped to what was sent; nothing past `nextSequence` is answered.
 */
import { sequenceDelta } from './control-layout.js';
import type { RetransmitBuffer } from './retransmit-buffer.js';

export interface RetransmitCounters {
  retransmits: number;
  retransmitsLingering: number;
  retransmitsRateLimited: number;
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
    let remaining = Math.min(lengthFrames, Math.max(0, sequenceDelta(nextSequence, start)));
    if (remaining <= 0) return; // nothing of it was sent yet, or it lies before everything
    const oldest = this.buffer.oldestSequence();
    const missing = oldest === undefined ? remaining : Math.min(remaining, Math.max(0, sequenceDelta(oldest, start)));
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
      if (sequenceDelta(this.buffer.firstSequenceOf(slot), end) >= 0) break;
      if (nowNs < this.lingerUntilNs[slot]) {
        this.counters.retransmitsLingering++;
        continue;
      }
      const lengthBytes = this.buffer.lengthOf(slot);
      if (this.tokensBytes < lengthBytes) {
        this.counters.retransmitsRateLimited++;
        continue;
      }
      this.tokensBytes -= lengthBytes;
      this.lingerUntilNs[slot] = nowNs + this.lingerNs;
      this.counters.retransmits++;
      this.actions.resend(slot);
    }
  }

  private refill(nowNs: number): void {
    const elapsedNs = nowNs - this.tokensAtNs;
    if (elapsedNs <= 0) return;
    this.tokensAtNs = nowNs;
    this.tokensBytes = Math.min(this.burstBytes, this.tokensBytes + elapsedNs * this.bytesPerNs);
  }
}
