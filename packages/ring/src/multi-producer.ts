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
 */
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { CLAIM_SEQUENCE_INDEX } from './layout.js';
import { Producer } from './producer.js';
import type { Ring } from './ring.js';
import { addSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { FluxRangeError, FluxTypeError } from './errors.js';

export class MultiProducer extends Producer {
  /** Slowest consumer's sequence when this producer last loaded it. */
  private cachedGating: number;

  constructor(ring: Ring) {
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
        this.fillLengths(first, count, lengthBytes);
        return first;
      }
    }
  }

  publish(first: number, count: number): void {
    if ((count | 0) !== count || count < 1 || count > this.capacity) {
      throw new FluxRangeError(`publish count must be an integer from 1 to capacity ${this.capacity}, got ${count}`);
    }
    // publishes the batch's LENGTHS and DATA: consumers load this marker before reading them
    Atomics.store(this.ring.available, first & this.indexMask, (first + count - 1) & SEQUENCE_MASK);
    this.ring.wakeSleepers();
  }

  abort(first: number, count: number): void {
    // Other producers may have claimed past this batch, so it cannot be handed back:
    // publish it as skipped slots.
    this.markAborted(first, count);
    this.publish(first, count);
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
