/**
 * Single producer: exactly one thread claims and publishes, so claiming needs no CAS.
 *
 * Claim reads only producer-local state until the cached gating sequence says the ring may
 * be full (Agrona's producer-side cache of the consumer position); only then does it load
 * the consumers' sequences. Publish is one `Atomics.store` of the CURSOR, which publishes
 * every plain write to the batch's LENGTHS and DATA made before it (SAFETY.md).
 *
 * Claims are published (or aborted) in the order they were claimed; publishing out of
 * order would expose an unpublished batch, so it throws.
 */
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { CURSOR_INDEX, SINGLE_PRODUCER_TAKEN_INDEX } from './layout.js';
import { Producer } from './producer.js';
import type { Ring } from './ring.js';
import { addSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { FluxRangeError, FluxTypeError } from './errors.js';

export class SingleProducer extends Producer {
  /** Newest sequence claimed. */
  private claimed: number;
  /** Newest sequence published. */
  private published: number;
  /** Slowest consumer's sequence when last loaded; claims up to it + capacity need no load. */
  private cachedGating: number;

  constructor(ring: Ring) {
    super(ring);
    if (ring.producerMode !== 'single') {
      throw new FluxTypeError('SingleProducer needs a ring created with producerMode "single"');
    }
    // Taken once per ring, across threads: a second single producer would race the first.
    if (Atomics.compareExchange(ring.int32, SINGLE_PRODUCER_TAKEN_INDEX, 0, 1) !== 0) {
      throw new FluxTypeError(
        'this ring already has its single producer; create the ring with producerMode "multi" for more',
      );
    }
    this.claimed = Atomics.load(ring.int32, CURSOR_INDEX);
    this.published = this.claimed;
    // Forces the first claim to load the consumers (and see NOT_CONNECTED if there are none).
    this.cachedGating = addSequence(this.claimed, -ring.capacity);
  }

  tryClaim(count: number, lengthBytes = 0): number {
    this.checkCount(count);
    this.checkLength(lengthBytes);
    const claimed = this.claimed;
    const last = (claimed + count) & SEQUENCE_MASK;
    if (sequenceDiff(last, this.cachedGating) > this.capacity) {
      const gating = this.ring.minimumGatingSequence(claimed);
      if (gating === NOT_CONNECTED) return NOT_CONNECTED;
      this.cachedGating = gating;
      if (sequenceDiff(last, gating) > this.capacity) return BACK_PRESSURED;
    }
    const first = (claimed + 1) & SEQUENCE_MASK;
    this.claimed = last;
    this.fillLengths(first, count, lengthBytes);
    return first;
  }

  publish(first: number, count: number): void {
    const last = this.checkInOrder(first, count);
    this.published = last;
    Atomics.store(this.int32, CURSOR_INDEX, last); // publishes the batch's LENGTHS and DATA
    this.ring.wakeSleepers();
  }

  abort(first: number, count: number): void {
    const isNewestClaim =
      count >= 1 &&
      addSequence(first, count - 1) === this.claimed &&
      sequenceDiff(first, this.published) >= 1;
    if (isNewestClaim) {
      this.claimed = addSequence(first, -1); // nothing claimed after it: hand the slots back
      return;
    }
    this.checkInOrder(first, count);
    this.markAborted(first, count); // a later claim is outstanding: publish as skipped slots
    this.publish(first, count);
  }

  hasCapacity(count: number): boolean {
    this.checkCount(count);
    const gating = this.ring.minimumGatingSequence(this.claimed);
    if (gating === NOT_CONNECTED) return false;
    this.cachedGating = gating;
    return sequenceDiff(addSequence(this.claimed, count), gating) <= this.capacity;
  }

  private checkInOrder(first: number, count: number): number {
    const last = (first + count - 1) & SEQUENCE_MASK;
    if (first !== ((this.published + 1) & SEQUENCE_MASK)) {
      throw new FluxRangeError(
        `single producer must publish or abort claims in order: expected sequence ${addSequence(this.published, 1)}, got ${first}`,
      );
    }
    if ((count | 0) !== count || count < 1 || sequenceDiff(last, this.claimed) > 0) {
      throw new FluxRangeError(`publish/abort count ${count} from ${first} goes past the newest claim ${this.claimed}`);
    }
    return last;
  }
}
