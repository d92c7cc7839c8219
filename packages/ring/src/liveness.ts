/**
 * Detects stalled consumers: a consumer with unread messages whose sequence has not moved
 * for `stallTimeoutNs`. A consumer that is caught up is idle, not stalled, however long it
 * waits. A stalled consumer gates every producer; if its thread is gone (a terminated
 * worker), `ring.removeConsumer(id)` releases the producers and its dependents.
 *
 * Time is a parameter: call `poll(nowNs)` from a monitor (a timer, a supervisor thread)
 * with any monotonic clock, e.g. `process.hrtime.bigint()` converted to a number.
 */
import { isRing, type LivenessView } from './ring-view.js';
import { sequenceDiff } from './sequence.js';
import { FluxTypeError } from './errors.js';
import { describe, requireNonNegative, requirePositive } from './validate.js';

export interface ConsumerStall {
  readonly consumerId: number;
  /** Its last released sequence. */
  readonly sequence: number;
  /** Slots claimed past it that it has not released. */
  readonly lag: number;
  /** How long it has not moved while behind. */
  readonly stalledForNs: number;
}

export class StallDetector {
  readonly ring: LivenessView;
  readonly stallTimeoutNs: number;
  private readonly lastSequence: Float64Array;
  private readonly sinceNs: Float64Array;

  /** `stallTimeoutNs`: a finite number of nanoseconds greater than 0. */
  constructor(ring: LivenessView, stallTimeoutNs: number) {
    if (!isRing(ring)) throw new FluxTypeError(`ring must be a Ring, got ${describe(ring)}`);
    requirePositive('stallTimeoutNs', stallTimeoutNs);
    this.ring = ring;
    this.stallTimeoutNs = stallTimeoutNs;
    this.lastSequence = new Float64Array(ring.maxConsumers).fill(-1);
    this.sinceNs = new Float64Array(ring.maxConsumers);
  }

  /** The consumers stalled as of `nowNs` (a finite number of at least 0, from a monotonic clock). */
  poll(nowNs: number): ConsumerStall[] {
    requireNonNegative('nowNs', nowNs);
    const stalls: ConsumerStall[] = [];
    const newest = this.ring.cursor();
    for (let id = 0; id < this.ring.maxConsumers; id++) {
      if (!this.ring.isConsumerActive(id)) {
        this.lastSequence[id] = -1;
        continue;
      }
      const sequence = this.ring.consumerSequence(id);
      const lag = sequenceDiff(newest, sequence);
      if (lag <= 0 || sequence !== this.lastSequence[id]) {
        // caught up, or moved since the last poll: not stalled
        this.lastSequence[id] = sequence;
        this.sinceNs[id] = nowNs;
        continue;
      }
      const stalledForNs = nowNs - this.sinceNs[id];
      if (stalledForNs >= this.stallTimeoutNs) stalls.push({ consumerId: id, sequence, lag, stalledForNs });
    }
    return stalls;
  }
}
