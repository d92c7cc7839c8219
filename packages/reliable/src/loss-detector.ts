/**
 * Finds the gaps between the next expected sequence and the highest one heard of, and
 * decides when to NAK each (no I/O; time is a parameter). Timers, not packets, drive it:
 *
 *   a new gap          NAKed `nakDelayNs` after it is first seen (a reordered datagram
 *                      usually fills it first, and then it is never NAKed)
 *   a NAKed gap        NAKed again after retryNs = max(minRetryNs, 2 x RTT), doubling on
 *                      each retry up to maxRetryNs, until its data arrives
 *   data arrives       the gap shrinks, splits or disappears at the next scan; the pieces
 *                      keep the timer of the gap they came from
 *
 * All gaps due at once go out in one NAK (up to MAX_NAK_RANGES ranges). At most
 * MAX_TRACKED_GAPS gaps are tracked, nearest first; those beyond wait until nearer ones
 * close. The scan covers at most `scanFrames` frames past the expected sequence.
 *
 *   expected                    highest
 *      v                           v
 *      | gap A | data | gap B | data |       -> NAK [A, B] when their deadlines pass
 */
import { frameSequenceDelta, MAX_NAK_RANGES } from './control-layout.js';
import { MAX_NAK_BACKOFF_SHIFT, MAX_TRACKED_GAPS } from './defaults.js';
import type { ReceiveWindow } from './receive-window.js';

/** Bytes of typed arrays one LossDetector allocates: two generations of start, end, deadline and retry per tracked gap. */
export const LOSS_DETECTOR_BYTES = 2 * MAX_TRACKED_GAPS * (4 + 4 + 8 + 4);

export interface LossTiming {
  nakDelayNs: number;
  minRetryNs: number;
  maxRetryNs: number;
}

/** Receives the ranges of one NAK: called `count` times, then `end(count)`. */
export interface NakSink {
  range(index: number, startSequence: number, lengthFrames: number): void;
  end(count: number): void;
}

export class LossDetector {
  private readonly timing: LossTiming;
  private readonly scanFrames: number;
  private starts = new Uint32Array(MAX_TRACKED_GAPS);
  private ends = new Uint32Array(MAX_TRACKED_GAPS);
  private deadlinesNs = new Float64Array(MAX_TRACKED_GAPS);
  private retries = new Int32Array(MAX_TRACKED_GAPS);
  private count = 0;
  // The scan's output, swapped with the above.
  private nextStarts = new Uint32Array(MAX_TRACKED_GAPS);
  private nextEnds = new Uint32Array(MAX_TRACKED_GAPS);
  private nextDeadlinesNs = new Float64Array(MAX_TRACKED_GAPS);
  private nextRetries = new Int32Array(MAX_TRACKED_GAPS);

  constructor(timing: LossTiming, scanFrames: number) {
    this.timing = timing;
    this.scanFrames = scanFrames;
  }

  /** Gaps tracked now. */
  get gaps(): number {
    return this.count;
  }

  /** Earliest NAK deadline (ns), or Infinity when there is no gap. */
  nextDeadlineNs(): number {
    let earliest = Infinity;
    for (let i = 0; i < this.count; i++) if (this.deadlinesNs[i] < earliest) earliest = this.deadlinesNs[i];
    return earliest;
  }

  startOf(index: number): number {
    return this.starts[index];
  }

  endOf(index: number): number {
    return this.ends[index];
  }

  /** When gap `index` is next NAKed (ns). */
  deadlineOf(index: number): number {
    return this.deadlinesNs[index];
  }

  /**
   * Rebuilds the gap list for [expected, highest) from what `window` holds; new gaps get a
   * deadline of nowNs + nakDelayNs, pieces of known gaps keep theirs.
   */
  scan(expected: number, highest: number, window: ReceiveWindow, nowNs: number): void {
    const limit = Math.min(Math.max(0, frameSequenceDelta(highest, expected)), this.scanFrames);
    let found = 0;
    let old = 0; // old gaps are sorted by start; walk them alongside
    let offset = 0;
    while (offset < limit && found < MAX_TRACKED_GAPS) {
      const frames = window.framesAt((expected + offset) >>> 0);
      if (frames > 0) {
        offset += frames;
        continue;
      }
      const gapStartOffset = offset;
      offset++;
      while (offset < limit && window.framesAt((expected + offset) >>> 0) === 0) offset++;
      const start = (expected + gapStartOffset) >>> 0;
      const end = (expected + offset) >>> 0;
      // Inherit from the old gap that contains this one's start, if any.
      while (old < this.count && frameSequenceDelta(this.ends[old], start) <= 0) old++;
      this.nextStarts[found] = start;
      this.nextEnds[found] = end;
      if (old < this.count && frameSequenceDelta(this.starts[old], start) <= 0) {
        this.nextDeadlinesNs[found] = this.deadlinesNs[old];
        this.nextRetries[found] = this.retries[old];
      } else {
        this.nextDeadlinesNs[found] = nowNs + this.timing.nakDelayNs;
        this.nextRetries[found] = 0;
      }
      found++;
    }
    this.swap(found);
  }

  /** Forgets every gap (the session ended or skipped ahead). */
  clear(): void {
    this.count = 0;
  }

  /**
   * NAKs every gap whose deadline has passed, in one NAK of at most MAX_NAK_RANGES ranges,
   * and sets each one's next deadline; returns the ranges NAKed.
   */
  nakDue(nowNs: number, rttNs: number, sink: NakSink): number {
    let ranges = 0;
    const timing = this.timing;
    const baseRetryNs = Math.max(timing.minRetryNs, 2 * rttNs);
    for (let i = 0; i < this.count && ranges < MAX_NAK_RANGES; i++) {
      if (this.deadlinesNs[i] > nowNs) continue;
      sink.range(ranges++, this.starts[i], (this.ends[i] - this.starts[i]) >>> 0);
      const retryNs = Math.min(timing.maxRetryNs, baseRetryNs * 2 ** Math.min(this.retries[i], MAX_NAK_BACKOFF_SHIFT));
      this.deadlinesNs[i] = nowNs + retryNs;
      this.retries[i]++;
    }
    if (ranges > 0) sink.end(ranges);
    return ranges;
  }

  private swap(found: number): void {
    const starts = this.starts;
    this.starts = this.nextStarts;
    this.nextStarts = starts;
    const ends = this.ends;
    this.ends = this.nextEnds;
    this.nextEnds = ends;
    const deadlinesNs = this.deadlinesNs;
    this.deadlinesNs = this.nextDeadlinesNs;
    this.nextDeadlinesNs = deadlinesNs;
    const retries = this.retries;
    this.retries = this.nextRetries;
    this.nextRetries = retries;
    this.count = found;
  }
}
