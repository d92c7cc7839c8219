/**
 * Unblocks a multi-producer ring whose producer died between claim and publish (a killed
 * process, a terminated worker): consumers stop at the first unpublished batch, so one
 * dead claim would stop them for good. Aeron's rule: a claim unpublished for longer than a
 * timeout is dead, and is published as padding. Here, as aborted slots.
 *
 *   consumers' frontier   the slowest active consumer, then every batch published after it:
 *                         s = the first unpublished sequence, stuck when CLAIM is past it
 *   dead                  s, and AVAILABLE[s], unchanged for `timeoutNs` of `poll(nowNs)` calls
 *   its extent            AVAILABLE[s] = last | CLAIMED_MARKER_BIT (multi-producer.ts marks every
 *                         claim at once); no marker (it died in the instant between its CAS and
 *                         its mark): s alone, and the rest of it on later polls
 *   unblocking            LENGTHS[s..last] = ABORTED_LENGTH, then CAS AVAILABLE[s] from the stuck
 *                         marker to `last` (the publish), then wake sleepers
 *
 * The timeout must be far longer than any live producer takes from claim to publish: a
 * producer that is merely that slow loses its claim (its messages read as aborted), and its
 * late writes land in slots that may belong to a later lap. Time is a parameter: call
 * `poll(nowNs)` from a monitor (a timer, a supervisor process) with a monotonic clock.
 */
import { FluxTypeError } from './errors.js';
import { ABORTED_LENGTH, CLAIM_SEQUENCE_INDEX } from './layout.js';
import type { Ring } from './ring.js';
import { isRing } from './ring-view.js';
import { addSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { NOT_CONNECTED } from './codes.js';
import { describe, requireNonNegative, requirePositive } from './validate.js';

export interface UnblockedClaim {
  /** The dead claim's first and last sequence, now published as aborted slots. */
  readonly first: number;
  readonly last: number;
}

export class ClaimUnblocker {
  readonly ring: Ring;
  readonly timeoutNs: number;
  private stuckAt = -1;
  private stuckMarker = 0;
  private sinceNs = 0;

  /** `ring`: a multi-producer Ring; `timeoutNs`: how long a claim may stay unpublished (> 0). */
  constructor(ring: Ring, timeoutNs: number) {
    if (!isRing(ring)) throw new FluxTypeError(`ring must be a Ring, got ${describe(ring)}`);
    if (ring.producerMode !== 'multi') throw new FluxTypeError('ClaimUnblocker needs a multi-producer ring (a single producer has no claims to unblock)');
    requirePositive('timeoutNs', timeoutNs);
    this.ring = ring;
    this.timeoutNs = timeoutNs;
  }

  /** Publishes as aborted the claim consumers are stuck at, if it has been stuck for the timeout as of `nowNs`. */
  poll(nowNs: number): UnblockedClaim[] {
    requireNonNegative('nowNs', nowNs);
    const ring = this.ring;
    const claim = Atomics.load(ring.int32, CLAIM_SEQUENCE_INDEX);
    const slowest = ring.minimumGatingSequence(claim);
    if (slowest === NOT_CONNECTED) return this.clear();
    const published = ring.scanPublished(slowest, ring.capacity);
    if (sequenceDiff(claim, published) <= 0) return this.clear(); // nothing claimed past what is published
    const stuck = addSequence(published, 1);
    const index = stuck & ring.indexMask;
    const marker = Atomics.load(ring.available, index);
    if (stuck !== this.stuckAt || marker !== this.stuckMarker) {
      this.stuckAt = stuck;
      this.stuckMarker = marker;
      this.sinceNs = nowNs;
      return [];
    }
    if (nowNs - this.sinceNs < this.timeoutNs) return [];
    let last = stuck;
    if (marker < 0) {
      const extent = marker & SEQUENCE_MASK;
      // a sane extent: from the stuck sequence, within what was claimed and one ring
      if (sequenceDiff(extent, stuck) >= 0 && sequenceDiff(extent, claim) <= 0 && sequenceDiff(extent, stuck) < ring.capacity) last = extent;
    }
    for (let s = stuck; ; s = addSequence(s, 1)) {
      ring.lengths[s & ring.indexMask] = ABORTED_LENGTH;
      if (s === last) break;
    }
    this.clear();
    // The publish. A producer that publishes this claim at this very moment (slower than the
    // timeout: the rule above) stores `last` too, and its messages may read as aborted.
    if (Atomics.compareExchange(ring.available, index, marker, last) !== marker) return [];
    ring.wakeSleepers();
    return [{ first: stuck, last }];
  }

  private clear(): UnblockedClaim[] {
    this.stuckAt = -1;
    return [];
  }
}
