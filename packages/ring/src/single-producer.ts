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
import { CURSOR_INDEX, OWNER_TAKING_OVER, PRODUCER_OWNER_PID_INDEX, SINGLE_PRODUCER_TAKEN_INDEX } from './layout.js';
import { loadOwner, processAlive, selfIdentity, storeOwner } from './process-identity.js';
import { Producer } from './producer.js';
import type { ProducerView } from './ring-view.js';
import { addSequence, rejectSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { FluxRangeError, FluxTypeError } from './errors.js';
import { rejectInteger } from './validate.js';

export class SingleProducer extends Producer {
  /** Newest sequence claimed. */
  private claimed: number;
  /** Newest sequence published. */
  private published: number;
  /** Slowest consumer's sequence when last loaded; claims up to it + capacity need no load. */
  private cachedGating: number;
  /** The pid of the dead process this producer took the ring over from, or 0. */
  readonly tookOverFrom: number = 0;

  /** A ring's one producer: use `ring.createProducer()`. */
  constructor(ring: ProducerView) {
    super(ring);
    if (ring.producerMode !== 'single') {
      throw new FluxTypeError('SingleProducer needs a ring created with producerMode "single"');
    }
    // Taken once per ring, across threads and processes: a second single producer would race
    // the first. A ring file's producer whose process is gone may be taken over.
    const int32 = ring.int32;
    if (Atomics.compareExchange(int32, SINGLE_PRODUCER_TAKEN_INDEX, 0, 1) !== 0) {
      const owner = loadOwner(int32, PRODUCER_OWNER_PID_INDEX);
      const dead = owner.pid > 0 && owner.pid !== process.pid && !processAlive(owner.pid, owner.startTicks);
      // One taker wins: the pid word goes from the dead pid to OWNER_TAKING_OVER, then to the taker's.
      if (!dead || Atomics.compareExchange(int32, PRODUCER_OWNER_PID_INDEX, owner.pid, OWNER_TAKING_OVER) !== owner.pid) {
        const holder = owner.pid > 0 ? ` (held by process ${owner.pid}${owner.pid === process.pid ? ', this one' : ''})` : '';
        throw new FluxTypeError(`this ring already has its single producer${holder}; create the ring with producerMode "multi" for more`);
      }
      this.tookOverFrom = owner.pid;
    }
    storeOwner(int32, PRODUCER_OWNER_PID_INDEX, selfIdentity());
    // What was published stays; what a dead producer claimed and never published is claimed again.
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
    const last = this.checkInOrder(first, count, 'publish');
    this.published = last;
    Atomics.store(this.int32, CURSOR_INDEX, last); // publishes the batch's LENGTHS and DATA
    this.ring.wakeSleepers();
  }

  abort(first: number, count: number): void {
    if (typeof first !== 'number' || first >>> 0 !== first) rejectSequence('first', first);
    if (typeof count !== 'number' || (count | 0) !== count || count < 1 || count > this.capacity) rejectInteger('count', count, 1, this.capacity);
    const start = first & SEQUENCE_MASK;
    const isNewestClaim =
      addSequence(start, count - 1) === this.claimed && sequenceDiff(start, this.published) >= 1 && count <= sequenceDiff(this.claimed, this.published);
    if (isNewestClaim) {
      this.claimed = addSequence(start, -1); // nothing claimed after it: hand the slots back
      return;
    }
    this.checkInOrder(start, count, 'abort');
    this.markAborted(start, count); // a later claim is outstanding: publish as skipped slots
    this.publish(start, count);
  }

  hasCapacity(count: number): boolean {
    this.checkCount(count);
    const gating = this.ring.minimumGatingSequence(this.claimed);
    if (gating === NOT_CONNECTED) return false;
    this.cachedGating = gating;
    return sequenceDiff(addSequence(this.claimed, count), gating) <= this.capacity;
  }

  protected checkUnpublished(sequence: number): void {
    const ahead = sequenceDiff(sequence, this.published);
    if (ahead < 1 || ahead > sequenceDiff(this.claimed, this.published)) {
      throw new FluxRangeError(`setLength: sequence ${sequence} is not claimed and unpublished by this producer (${this.outstanding()})`);
    }
  }

  /** The claimed, unpublished range, for error messages. */
  private outstanding(): string {
    const count = sequenceDiff(this.claimed, this.published);
    if (count === 0) return 'nothing is claimed and unpublished';
    const first = addSequence(this.published, 1);
    return count === 1 ? `claimed and unpublished: ${first}` : `claimed and unpublished: ${first} to ${this.claimed}`;
  }

  /**
   * `first..first+count-1` must be the oldest claimed, unpublished slots: claims are
   * published in order, each once. Returns the batch's last sequence.
   */
  private checkInOrder(first: number, count: number, what: 'publish' | 'abort'): number {
    if (typeof first !== 'number' || first >>> 0 !== first) rejectSequence('first', first);
    if (typeof count !== 'number' || (count | 0) !== count || count < 1 || count > this.capacity) rejectInteger('count', count, 1, this.capacity);
    const start = first & SEQUENCE_MASK;
    const outstanding = sequenceDiff(this.claimed, this.published);
    if (outstanding === 0) {
      throw new FluxRangeError(`${what}: sequence ${start} is not claimed (nothing is claimed and unpublished; claim with tryClaim first)`);
    }
    if (start !== ((this.published + 1) & SEQUENCE_MASK)) {
      throw new FluxRangeError(
        `single producer must publish or abort claims in order: expected sequence ${addSequence(this.published, 1)}, got ${start} (${this.outstanding()})`,
      );
    }
    if (count > outstanding) {
      throw new FluxRangeError(`${what} count ${count} from ${start} goes past the newest claim ${this.claimed}`);
    }
    return (start + count - 1) & SEQUENCE_MASK;
  }
}
