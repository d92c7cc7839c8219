/**
 * Multi producer: any number of threads claim with a CAS on the CLAIM sequence and publish
 * independently, in any order.
 *
 * A batch is published by one `Atomics.store` into the AVAILABLE entry of its first slot,
 * holding the batch's last sequence. A consumer at sequence s reads AVAILABLE[s & mask]:
 * if it names a sequence in [s, s + capacity) the batch from s is published, and it jumps
 * to the next batch; an older lap's value is behind s and reads as "not yet". So a consumer
 * stops at the first unpublished batch and never sees a half-written slot, whatever order
 * producers publish in (the Disruptor marks every slot; one mark per batch keeps publish at
 * one store).
 *
 * Each producer object remembers its own outstanding claims: the ranges it claimed and has
 * not yet published or aborted (producer-local, no shared memory; usually one range, since
 * back-to-back claims that no other producer interleaves merge). `publish`, `abort` and
 * `setLength` accept only sequences inside them, so publishing an unclaimed slot (another
 * producer's, or a future one) or the same claim twice throws instead of exposing a
 * half-written slot or overwriting a later lap's marker. Publishing part of a claim is
 * fine: any partition of a claim into batches, published in any order, is correct.
 */
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { CLAIM_SEQUENCE_INDEX, CLAIMED_MARKER_BIT } from './layout.js';
import { Producer } from './producer.js';
import type { ProducerView } from './ring-view.js';
import { addSequence, rejectSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { FluxRangeError, FluxTypeError } from './errors.js';
import { rejectInteger } from './validate.js';

/** Outstanding ranges an error message lists before "...". */
const LISTED_RANGES = 4;

export class MultiProducer extends Producer {
  /** Slowest consumer's sequence when this producer last loaded it. */
  private cachedGating: number;
  /** This producer's outstanding claims: pairs [first, last] (inclusive, wrapped), `pendingRanges` of them. */
  private readonly pending: number[] = [];
  private pendingRanges = 0;

  /** A producer for the calling thread (any number per ring): use `ring.createProducer()`. */
  constructor(ring: ProducerView) {
    super(ring);
    if (ring.producerMode !== 'multi') {
      throw new FluxTypeError('MultiProducer needs a ring created with producerMode "multi"');
    }
    this.cachedGating = addSequence(Atomics.load(ring.int32, CLAIM_SEQUENCE_INDEX), -ring.capacity);
  }

  tryClaim(count: number, lengthBytes = 0): number {
    this.checkCount(count);
    this.checkLength(lengthBytes);
    const int32 = this.int32;
    const capacity = this.capacity;
    for (;;) {
      const current = Atomics.load(int32, CLAIM_SEQUENCE_INDEX); // observes other producers' claims
      const last = addSequence(current, count);
      if (sequenceDiff(last, this.cachedGating) > capacity) {
        const gating = this.ring.minimumGatingSequence(current);
        if (gating === NOT_CONNECTED) return NOT_CONNECTED;
        this.cachedGating = gating;
        if (sequenceDiff(last, gating) > capacity) return BACK_PRESSURED;
      }
      // Lock-free: a failed CAS means another producer claimed, so the ring made progress.
      if (Atomics.compareExchange(int32, CLAIM_SEQUENCE_INDEX, current, last) === current) {
        const first = addSequence(current, 1);
        this.markClaimed(first, last); // at once: a producer that dies now leaves its extent behind (claim-unblocker.ts)
        this.fillLengths(first, count, lengthBytes);
        this.addPending(first, last);
        return first;
      }
    }
  }

  publish(first: number, count: number): void {
    const start = this.takeClaimed(first, count, 'publish');
    this.storeMarker(start, (start + count - 1) & SEQUENCE_MASK);
  }

  abort(first: number, count: number): void {
    const start = this.takeClaimed(first, count, 'abort');
    // Other producers may have claimed past this batch, so it cannot be handed back:
    // publish it as skipped slots.
    this.markAborted(start, count);
    this.storeMarker(start, (start + count - 1) & SEQUENCE_MASK);
  }

  /** Checks `first`/`count` and takes them out of this producer's outstanding claims; returns `first` wrapped. */
  private takeClaimed(first: number, count: number, what: 'publish' | 'abort'): number {
    if (typeof first !== 'number' || first >>> 0 !== first) rejectSequence('first', first);
    if (typeof count !== 'number' || (count | 0) !== count || count < 1 || count > this.capacity) rejectInteger('count', count, 1, this.capacity);
    const start = first & SEQUENCE_MASK;
    this.takePending(start, (start + count - 1) & SEQUENCE_MASK, count, what);
    return start;
  }

  private storeMarker(first: number, last: number): void {
    // publishes the batch's LENGTHS and DATA: consumers load this marker before reading them
    Atomics.store(this.ring.available, first & this.indexMask, last);
    this.ring.wakeSleepers();
  }

  /**
   * AVAILABLE[first] = last | CLAIMED_MARKER_BIT: the extent of an unpublished claim. A plain
   * store: it is read only by a ClaimUnblocker after its timeout, and the batch's publish
   * (an Atomics.store, later in this thread's program order) always overwrites it.
   */
  private markClaimed(first: number, last: number): void {
    this.ring.available[first & this.indexMask] = last | CLAIMED_MARKER_BIT;
  }

  /** Records a new claim, merged into the newest range when it directly follows it. */
  private addPending(first: number, last: number): void {
    const n = this.pendingRanges;
    if (n > 0 && this.pending[2 * n - 1] === addSequence(first, -1)) {
      this.pending[2 * n - 1] = last;
      this.markClaimed(this.pending[2 * n - 2], last); // the merged range's extent
      return;
    }
    this.pending[2 * n] = first;
    this.pending[2 * n + 1] = last;
    this.pendingRanges = n + 1;
  }

  /** Index of the outstanding range holding `count` sequences from `first`, or -1. */
  private findPending(first: number, count: number): number {
    const pending = this.pending;
    for (let i = 0; i < this.pendingRanges; i++) {
      const start = pending[2 * i];
      const offset = sequenceDiff(first, start);
      // exact: ranges, counts and offsets found inside a range are all within one capacity (<= 2^29)
      if (offset >= 0 && offset + count <= sequenceDiff(pending[2 * i + 1], start) + 1) return i;
    }
    return -1;
  }

  /** Removes `first..last` from this producer's outstanding claims; throws if it is not all inside one. */
  private takePending(first: number, last: number, count: number, what: 'publish' | 'abort'): void {
    const i = this.findPending(first, count);
    if (i < 0) {
      const range = count === 1 ? `sequence ${first}` : `sequences ${first} to ${last}`;
      throw new FluxRangeError(`${what}: ${range} not claimed by this producer, or already published or aborted (${this.describePending()})`);
    }
    const pending = this.pending;
    const start = pending[2 * i];
    const end = pending[2 * i + 1];
    // What stays outstanding gets its claimed marker before the caller's publish store, so a
    // ClaimUnblocker never takes a published part for part of a dead claim.
    if (first === start && last === end) {
      const n = this.pendingRanges - 1; // the whole range: move the newest range into its place
      pending[2 * i] = pending[2 * n];
      pending[2 * i + 1] = pending[2 * n + 1];
      this.pendingRanges = n;
    } else if (first === start) {
      pending[2 * i] = addSequence(last, 1);
      this.markClaimed(pending[2 * i], end);
    } else if (last === end) {
      pending[2 * i + 1] = addSequence(first, -1);
      this.markClaimed(start, pending[2 * i + 1]);
    } else {
      pending[2 * i + 1] = addSequence(first, -1); // the middle of a range: split it in two
      const n = this.pendingRanges;
      pending[2 * n] = addSequence(last, 1);
      pending[2 * n + 1] = end;
      this.pendingRanges = n + 1;
      this.markClaimed(start, pending[2 * i + 1]);
      this.markClaimed(pending[2 * n], end);
    }
  }

  protected checkUnpublished(sequence: number): void {
    if (this.findPending(sequence, 1) < 0) {
      throw new FluxRangeError(`setLength: sequence ${sequence} is not claimed by this producer, or already published or aborted (${this.describePending()})`);
    }
  }

  /** This producer's outstanding claims, for error messages. */
  private describePending(): string {
    if (this.pendingRanges === 0) return 'this producer has no outstanding claim';
    const ranges: string[] = [];
    for (let i = 0; i < Math.min(this.pendingRanges, LISTED_RANGES); i++) {
      const start = this.pending[2 * i];
      const end = this.pending[2 * i + 1];
      ranges.push(start === end ? `${start}` : `${start} to ${end}`);
    }
    if (this.pendingRanges > LISTED_RANGES) ranges.push('...');
    return `its outstanding claims: ${ranges.join(', ')}`;
  }

  hasCapacity(count: number): boolean {
    this.checkCount(count);
    const current = Atomics.load(this.ring.int32, CLAIM_SEQUENCE_INDEX);
    const gating = this.ring.minimumGatingSequence(current);
    if (gating === NOT_CONNECTED) return false;
    this.cachedGating = gating;
    return sequenceDiff(addSequence(current, count), gating) <= this.capacity;
  }
}
