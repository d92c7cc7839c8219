/**
 * What every producer offers, and the parts single- and multi-producer share.
 *
 * The fast path is in place: `tryClaim(count, lengthBytes)` hands out `count` consecutive
 * slots with their lengths set, the caller writes payloads straight into `ring.bytes` (or
 * `ring.int32`) at `ring.offsetOf(sequence)`, and `publish(first, count)` makes the whole
 * batch visible with one store. `offer(bytes)` is the copying convenience for one message.
 *
 * A producer object is thread-local: create one per thread with `ring.createProducer()`.
 */
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { ABORTED_LENGTH } from './layout.js';
import type { Ring } from './ring.js';
import type { WaitStrategy } from './wait/wait-strategy.js';
import { FluxRangeError } from './errors.js';

/** Claims up to this many slots set their lengths entry by entry (one cache line of int32s). */
const SMALL_CLAIM_SLOTS = 16;

export abstract class Producer {
  readonly ring: Ring;
  // Hot fields copied from the ring, so the claim/publish path makes no property chains.
  protected readonly int32: Int32Array;
  protected readonly lengths: Int32Array;
  protected readonly indexMask: number;
  protected readonly capacity: number;
  protected readonly maxMessageBytes: number;

  protected constructor(ring: Ring) {
    this.ring = ring;
    this.int32 = ring.int32;
    this.lengths = ring.lengths;
    this.indexMask = ring.indexMask;
    this.capacity = ring.capacity;
    this.maxMessageBytes = ring.maxMessageBytes;
  }

  /**
   * Claims `count` consecutive slots (1..capacity), each with length `lengthBytes`
   * (0..maxMessageBytes; change one with `setLength`). Returns the first claimed sequence,
   * or BACK_PRESSURED (ring full) or NOT_CONNECTED (no consumer). Every claim must be
   * published or aborted.
   */
  abstract tryClaim(count: number, lengthBytes?: number): number;

  /** Makes `count` claimed slots from `first` visible to consumers, with one store. */
  abstract publish(first: number, count: number): void;

  /** Gives a claim back unpublished; consumers never see its slots. */
  abstract abort(first: number, count: number): void;

  /** True when `count` slots could be claimed now (a hint: another producer may take them first). */
  abstract hasCapacity(count: number): boolean;

  /** Sets the length of a claimed, unpublished slot. */
  setLength(sequence: number, lengthBytes: number): void {
    this.checkLength(lengthBytes);
    this.lengths[sequence & this.indexMask] = lengthBytes;
  }

  /**
   * Copies one message in and publishes it: one claim, one copy, one publish. Returns its
   * sequence, or BACK_PRESSURED / NOT_CONNECTED. Throws a RangeError if it is longer than
   * maxMessageBytes. For many messages, claim a batch and write in place instead.
   */
  offer(message: Uint8Array): number {
    const sequence = this.tryClaim(1, message.length);
    if (sequence >= 0) {
      this.ring.bytes.set(message, this.ring.offsetOf(sequence));
      this.publish(sequence, 1);
    }
    return sequence;
  }

  /**
   * Waits with `strategy` until `count` slots are free or `timeoutMs` passes; true if they
   * are. Consumers wake blocked producers when they release slots.
   */
  waitForCapacity(count: number, strategy: WaitStrategy, timeoutMs: number): boolean {
    this.checkCount(count);
    return strategy.waitFor(() => (this.hasCapacity(count) ? 1 : 0), this.ring.int32, timeoutMs) > 0;
  }

  // `(x | 0) !== x` rejects NaN, fractions and anything outside int32 in one comparison.
  protected checkCount(count: number): void {
    if ((count | 0) !== count || count < 1 || count > this.capacity) {
      throw new FluxRangeError(`claim count must be an integer from 1 to capacity ${this.capacity}, got ${count}`);
    }
  }

  protected checkLength(lengthBytes: number): void {
    if ((lengthBytes | 0) !== lengthBytes || lengthBytes < 0 || lengthBytes > this.maxMessageBytes) {
      throw new FluxRangeError(
        `message length must be an integer from 0 to maxMessageBytes ${this.maxMessageBytes}, got ${lengthBytes}`,
      );
    }
  }


  /**
   * Writes `lengthBytes` into the LENGTHS entries of `count` slots from `first` (wrap-aware).
   * Small claims store only entries that differ: a consumer reading the entries just before
   * these shares their cache line, and a load that finds the value already there (the usual
   * case for fixed-size messages) leaves the line shared instead of taking it away from the
   * consumer on every message.
   */
  protected fillLengths(first: number, count: number, lengthBytes: number): void {
    const lengths = this.lengths;
    const mask = this.indexMask;
    const start = first & mask;
    if (count === 1) {
      if (lengths[start] !== lengthBytes) lengths[start] = lengthBytes;
      return;
    }
    if (count <= SMALL_CLAIM_SLOTS) {
      for (let i = 0; i < count; i++) {
        const index = (start + i) & mask;
        if (lengths[index] !== lengthBytes) lengths[index] = lengthBytes;
      }
      return;
    }
    const end = start + count;
    if (end <= lengths.length) {
      lengths.fill(lengthBytes, start, end);
    } else {
      lengths.fill(lengthBytes, start);
      lengths.fill(lengthBytes, 0, end - lengths.length);
    }
  }

  /** Marks `count` slots from `first` as aborted so consumers skip them. */
  protected markAborted(first: number, count: number): void {
    this.fillLengths(first, count, ABORTED_LENGTH);
  }

}

export { BACK_PRESSURED, NOT_CONNECTED };
