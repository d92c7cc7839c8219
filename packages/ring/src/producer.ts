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
import { type Codec, checkEncoded } from './codec.js';
import { ABORTED_LENGTH } from './layout.js';
import { isRing, type ProducerView } from './ring-view.js';
import { rejectSequence, SEQUENCE_MASK } from './sequence.js';
import { requireWaitStrategy, type WaitStrategy } from './wait/wait-strategy.js';
import { FluxRangeError, FluxTypeError } from './errors.js';
import { describe, rejectInteger, requireBytes, requireTimeout } from './validate.js';

/** Claims up to this many slots set their lengths entry by entry (one cache line of int32s). */
const SMALL_CLAIM_SLOTS = 16;

export abstract class Producer {
  readonly ring: ProducerView;
  // Hot fields copied from the ring, so the claim/publish path makes no property chains.
  protected readonly int32: Int32Array;
  protected readonly lengths: Int32Array;
  protected readonly indexMask: number;
  protected readonly capacity: number;
  protected readonly maxMessageBytes: number;

  protected constructor(ring: ProducerView) {
    if (new.target === (Producer as unknown)) throw new FluxTypeError('Producer is abstract: use ring.createProducer()');
    if (!isRing(ring)) throw new FluxTypeError(`ring must be a Ring, got ${describe(ring)}`);
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

  /**
   * Makes `count` claimed slots from `first` visible to consumers, with one store. Every
   * slot must be one this producer claimed and has not yet published or aborted: anything
   * else (an unclaimed sequence, a second publish of the same claim, a count past the
   * claim) throws a FluxRangeError naming the sequence, and publishes nothing.
   */
  abstract publish(first: number, count: number): void;

  /** Gives a claim back unpublished; consumers never see its slots. Checked as `publish`. */
  abstract abort(first: number, count: number): void;

  /** True when `count` slots could be claimed now (a hint: another producer may take them first). */
  abstract hasCapacity(count: number): boolean;

  /**
   * Sets the length (0..maxMessageBytes) of a slot this producer claimed and has not yet
   * published; `sequence` as in `ring.offsetOf`. Any other slot throws a FluxRangeError.
   */
  setLength(sequence: number, lengthBytes: number): void {
    if (typeof sequence !== 'number' || sequence >>> 0 !== sequence) rejectSequence('sequence', sequence);
    this.checkLength(lengthBytes);
    this.checkUnpublished(sequence & SEQUENCE_MASK);
    this.lengths[sequence & this.indexMask] = lengthBytes;
  }

  /**
   * Copies one message in and publishes it: one claim, one copy, one publish. Returns its
   * sequence, or BACK_PRESSURED / NOT_CONNECTED. `message` is a Uint8Array (a Buffer is
   * one); anything else, a string, an ArrayBuffer, another typed array, an array of
   * numbers, throws a FluxTypeError. A message longer than maxMessageBytes throws a
   * FluxRangeError. For many messages, claim a batch and write in place instead.
   */
  offer(message: Uint8Array): number {
    const bytes = requireBytes('message', message);
    if (bytes.length > this.maxMessageBytes) {
      throw new FluxRangeError(`message must be at most ${this.maxMessageBytes} bytes (maxMessageBytes), got ${describe(bytes)}`);
    }
    const sequence = this.tryClaim(1, bytes.length);
    if (sequence >= 0) {
      this.ring.bytes.set(bytes, this.ring.offsetOf(sequence));
      this.publish(sequence, 1);
    }
    return sequence;
  }

  /**
   * Encodes `value` with `codec` (codec.ts) and offers it: its sequence, or BACK_PRESSURED /
   * NOT_CONNECTED. Bytes from encode are copied in as offer() copies them; a string is
   * encoded as UTF-8 straight into the claimed slot (no intermediate buffer). A message
   * longer than maxMessageBytes throws a FluxRangeError naming its length, and nothing is
   * published (a claim taken for it is aborted). What encode throws reaches the caller.
   */
  offerValue<T>(value: T, codec: Codec<T>): number {
    const encoded = checkEncoded(codec.encode(value));
    return typeof encoded === 'string' ? this.offerText(encoded) : this.offer(encoded);
  }

  private offerText(text: string): number {
    // Every UTF-16 unit is at least one byte of UTF-8: longer than that never fits.
    if (text.length > this.maxMessageBytes) rejectText(text, this.maxMessageBytes);
    const sequence = this.tryClaim(1, 0);
    if (sequence < 0) return sequence;
    const offset = this.ring.offsetOf(sequence);
    const { read, written } = encoder.encodeInto(text, this.ring.bytes.subarray(offset, offset + this.maxMessageBytes));
    if (read < text.length) {
      this.abort(sequence, 1);
      rejectText(text, this.maxMessageBytes);
    }
    this.fillLengths(sequence, 1, written);
    this.publish(sequence, 1);
    return sequence;
  }

  /**
   * Waits with `strategy` until `count` slots are free or `timeoutMs` passes (Infinity
   * allowed); true if they are. Consumers wake blocked producers when they release slots.
   */
  waitForCapacity(count: number, strategy: WaitStrategy, timeoutMs: number): boolean {
    this.checkCount(count);
    requireWaitStrategy('strategy', strategy);
    requireTimeout('timeoutMs', timeoutMs);
    return strategy.waitFor(() => (this.hasCapacity(count) ? 1 : 0), this.ring.int32, timeoutMs) > 0;
  }

  /** Throws a FluxRangeError unless `sequence` (wrapped) is claimed by this producer and unpublished. */
  protected abstract checkUnpublished(sequence: number): void;

  // `typeof x !== 'number' || (x | 0) !== x` rejects non-numbers, NaN, fractions and anything outside int32.
  // The error itself is built off the hot path, by rejectInteger.
  protected checkCount(count: number): void {
    if (typeof count !== 'number' || (count | 0) !== count || count < 1 || count > this.capacity) rejectInteger('count', count, 1, this.capacity);
  }

  protected checkLength(lengthBytes: number): void {
    if (typeof lengthBytes !== 'number' || (lengthBytes | 0) !== lengthBytes || lengthBytes < 0 || lengthBytes > this.maxMessageBytes) {
      rejectInteger('lengthBytes', lengthBytes, 0, this.maxMessageBytes);
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

const encoder = new TextEncoder();

function rejectText(text: string, maxMessageBytes: number): never {
  throw new FluxRangeError(`message is ${encoder.encode(text).length} bytes in UTF-8, longer than maxMessageBytes (${maxMessageBytes})`);
}

export { BACK_PRESSURED, NOT_CONNECTED };
