/**
 * Replay: a JournalReader walks records in position order, from where it was started, to
 * the live end and on (it follows whatever is appended after: replay and the live stream
 * are one walk, so the switch from one to the other has no gap and no duplicate).
 *
 *   poll(handler, max)     delivers committed records in place (the segment's bytes, no
 *                          copy), skips padding, stops at the first record not committed yet
 *   pollInto(producer)     the same into a ring: one claim, a copy per record, one publish
 *   wait / waitAsync       sleep until a writer commits (SIGNAL in journal.meta: sleepers
 *                          count, then the wake word, then a re-check; writers bump and wake
 *                          only when someone sleeps)
 *   records()              for await: copies, batched, optionally following and paced
 *
 * A record is read only after its length's Atomics.load sees it committed; everything the
 * writer stored before that store is visible then (SAFETY.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { addSequence, FluxRangeError, FluxTypeError, Producer } from '@flux/ring';
import { type SharedMemoryProvider, waitOn, waitOnAsync } from '@flux/ring/mapped';
import {
  describe as describeValue,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalSignal,
  optionsObject,
  requireFunction,
  requireNumber,
} from '@flux/ring/validate';

import { JOURNAL_DEFAULTS } from './defaults.js';
import { JournalCorruptError } from './errors.js';
import { PADDING_TYPE, RECORD_ALIGNMENT_BYTES, RECORD_HEADER_BYTES, SLEEPERS_INDEX, TIMESTAMP_FIELD, TYPE_FIELD, WAKE_INDEX } from './layout.js';
import type { Meta } from './meta.js';
import { Segment } from './segment.js';

/**
 * Called once per record: its payload is `bytes.subarray(offsetBytes, offsetBytes +
 * lengthBytes)`, valid until the journal's retention deletes its segment and this reader
 * moves on (copy what you keep).
 */
export type JournalHandler = (bytes: Uint8Array, offsetBytes: number, lengthBytes: number, position: number, timestampMs: number, type: number) => void;

/** A record as the async iterator yields it: its payload copied. */
export interface JournalRecord {
  readonly position: number;
  readonly timestampMs: number;
  readonly type: number;
  readonly payload: Uint8Array;
}

export interface RecordsOptions {
  /** Keep waiting for new records at the live end (default false: the iteration ends there). */
  follow?: boolean;
  signal?: AbortSignal;
  /** Deliver at the pace the records were appended (their timestamps), `speed` times faster; default: as fast as they read. */
  pace?: { speed?: number };
}

/** How a journal hands its readers the segments (journal.ts). */
export interface SegmentSource {
  readonly memory: SharedMemoryProvider;
  readonly directory: string;
  readonly meta: Meta;
  readonly segmentBytes: number;
}

/** The longest delay a Node timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const noop = (): void => {};

/** Thrown by pollInto's handler to end a poll early without an error (caught in pollInto). */
const STOP_BEFORE_RECORD: unique symbol = Symbol('stop before this record');

export class JournalReader {
  private segment: Segment;
  private offsetBytes: number;
  private polling = false;
  /** The next segment, mapped ahead (readAhead), or undefined. */
  private ahead: Segment | undefined;
  /** Still looking for the first record at or after skipBeforeMs. */
  private skipping: boolean;

  /** @internal Journal.reader() makes readers. */
  constructor(
    private readonly source: SegmentSource,
    segment: Segment,
    offsetBytes: number,
    /** Records before this position, or earlier than `skipBeforeMs`, are walked, not delivered (a start inside a record or a block). */
    private skipBelowPosition: number,
    private readonly skipBeforeMs: number,
  ) {
    this.skipping = skipBeforeMs > Number.NEGATIVE_INFINITY;
    this.segment = segment;
    this.offsetBytes = offsetBytes;
  }

  /**
   * The position the next record will be read at. Before the first poll of a reader made
   * from a position or a time it may be earlier than asked (the start of the index block:
   * the records before the start are walked, not delivered).
   */
  get position(): number {
    return this.segment.basePosition + this.offsetBytes;
  }

  /**
   * Delivers up to `maxRecords` committed records to `handler` in position order; returns
   * how many. 0: none is committed yet at this reader's position (the live end). A handler
   * that throws has its record counted as read; the throw passes through.
   */
  poll(handler: JournalHandler, maxRecords: number = JOURNAL_DEFAULTS.pollLimit): number {
    requireFunction('handler', handler);
    if (!(maxRecords >= 1 && maxRecords <= JOURNAL_DEFAULTS.pollLimit && Number.isInteger(maxRecords))) {
      optionalInteger('maxRecords', maxRecords, 1, 1, JOURNAL_DEFAULTS.pollLimit);
    }
    if (this.polling) throw new FluxTypeError('poll() was called from inside its own handler; return from the handler first');
    this.polling = true;
    let delivered = 0;
    const segmentBytes = this.source.segmentBytes;
    try {
      while (delivered < maxRecords) {
        if (this.offsetBytes >= segmentBytes && !this.nextSegment()) break;
        // One segment at a time, its fields in locals; the offset is stored back before each
        // handler call (a throw does not replay the record) and at the end.
        const { int32, float64, bytes, basePosition, dataOffsetBytes } = this.segment;
        let offset = this.offsetBytes;
        while (delivered < maxRecords && offset < segmentBytes) {
          const byte = dataOffsetBytes + offset;
          const lengthBytes = Atomics.load(int32, byte >> 2);
          if (lengthBytes === 0) break;
          const stride = (lengthBytes + RECORD_ALIGNMENT_BYTES - 1) & -RECORD_ALIGNMENT_BYTES;
          if (lengthBytes < RECORD_HEADER_BYTES || offset + stride > segmentBytes) {
            this.offsetBytes = offset;
            throw new JournalCorruptError(this.segment.path, byte, `at byte ${byte}: a record length of ${lengthBytes} (position ${this.position})`);
          }
          const position = basePosition + offset;
          offset += stride;
          if (int32[(byte + TYPE_FIELD) >> 2] === PADDING_TYPE || position < this.skipBelowPosition) continue;
          const timestampMs = float64[(byte + TIMESTAMP_FIELD) >> 3];
          if (this.skipping) {
            if (timestampMs < this.skipBeforeMs) continue;
            this.skipping = false; // from the first one at or after the time, all follow
          }
          delivered++;
          this.offsetBytes = offset;
          handler(bytes, byte + RECORD_HEADER_BYTES, lengthBytes - RECORD_HEADER_BYTES, position, timestampMs, int32[(byte + TYPE_FIELD) >> 2]);
        }
        this.offsetBytes = offset;
        if (offset < segmentBytes) break; // the live end, or enough delivered
      }
    } finally {
      this.polling = false;
    }
    return delivered;
  }

  /**
   * Copies up to `maxRecords` committed records into a ring through `producer` (a thread's
   * or another process's ring): one claim, a copy per record into its slot, one publish.
   * Returns how many, 0 at the live end, or the ring's BACK_PRESSURED / NOT_CONNECTED with
   * nothing read (back-pressure: call again later). A slot holds the payload only: the
   * record's type, position and timestamp stay in the journal. A record longer than the
   * ring's maxMessageBytes stays unread: the call ends before it, publishing the records
   * before it, and a call that meets it first throws a FluxRangeError naming it (step over
   * it with `poll`, or replay into a ring with wider slots).
   */
  pollInto(producer: Producer, maxRecords: number = JOURNAL_DEFAULTS.pollLimit): number {
    if (!(producer instanceof Producer)) throw new FluxTypeError(`producer must be a ring Producer (ring.createProducer()), got ${describeValue(producer)}`);
    optionalInteger('maxRecords', maxRecords, 1, 1, JOURNAL_DEFAULTS.pollLimit);
    if (!this.available()) return 0;
    const ring = producer.ring;
    let count = Math.min(maxRecords, ring.capacity);
    if (!producer.hasCapacity(count)) {
      // As many as fit: a binary search between 1 (tried by the claim) and count (does not fit).
      let fits = 1;
      let over = count;
      while (over - fits > 1) {
        const middle = (fits + over) >>> 1;
        if (producer.hasCapacity(middle)) fits = middle;
        else over = middle;
      }
      count = fits;
    }
    const first = producer.tryClaim(count, 0);
    if (first < 0) return first;
    const { bytes: slots, maxMessageBytes } = ring;
    let copied = 0;
    const copy: JournalHandler = (bytes, offsetBytes, lengthBytes, position) => {
      if (lengthBytes > maxMessageBytes) {
        this.offsetBytes = position - this.segment.basePosition; // unread: a retry into a wider ring gets it
        if (copied > 0) throw STOP_BEFORE_RECORD; // publish the batch before it; the next call throws
        throw new FluxRangeError(
          `the record at position ${position} holds ${lengthBytes} bytes; the ring's slots hold at most ${maxMessageBytes} (maxMessageBytes)`,
        );
      }
      const sequence = addSequence(first, copied);
      slots.set(bytes.subarray(offsetBytes, offsetBytes + lengthBytes), ring.offsetOf(sequence));
      producer.setLength(sequence, lengthBytes);
      copied++;
    };
    try {
      this.poll(copy, count);
    } catch (error) {
      if (error !== STOP_BEFORE_RECORD) throw error;
    } finally {
      if (copied > 0) producer.publish(first, copied);
      if (copied < count) producer.abort(addSequence(first, copied), count - copied);
    }
    return copied;
  }

  /** Whether a committed record (padding included) waits at this reader's position. */
  available(): boolean {
    if (this.offsetBytes >= this.source.segmentBytes) return this.source.meta.activeSegment() > this.segment.number;
    return Atomics.load(this.segment.int32, (this.segment.dataOffsetBytes + this.offsetBytes) >> 2) !== 0;
  }

  /** Blocks this thread until a record is committed at this reader's position or `timeoutMs` passes; true when one is. */
  wait(timeoutMs: number): boolean {
    requireNumber('timeoutMs', timeoutMs, 0, Number.POSITIVE_INFINITY);
    const int32 = this.source.meta.int32;
    Atomics.add(int32, SLEEPERS_INDEX, 1);
    try {
      const seen = Atomics.load(int32, WAKE_INDEX);
      if (this.available()) return true;
      waitOn(int32, WAKE_INDEX, seen, timeoutMs);
      return this.available();
    } finally {
      Atomics.sub(int32, SLEEPERS_INDEX, 1);
    }
  }

  /**
   * Like wait, on the event loop; rejects with the signal's reason when it aborts. While it
   * waits it keeps the process alive, as a pending socket read does (the futex wait itself
   * holds no reference on the loop: a `tail --follow` script would exit mid-wait).
   */
  async waitAsync(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    requireNumber('timeoutMs', timeoutMs, 0, Number.POSITIVE_INFINITY);
    optionalSignal('signal', signal);
    signal?.throwIfAborted();
    const int32 = this.source.meta.int32;
    Atomics.add(int32, SLEEPERS_INDEX, 1);
    try {
      const seen = Atomics.load(int32, WAKE_INDEX);
      if (this.available()) return true;
      const result = waitOnAsync(int32, WAKE_INDEX, seen, timeoutMs);
      if (typeof result !== 'string') {
        const keepAlive = setInterval(noop, Math.max(1, Math.min(timeoutMs, MAX_TIMER_MS)));
        try {
          await (signal === undefined ? result : abortable(result, signal));
        } finally {
          clearInterval(keepAlive);
        }
      }
      return this.available();
    } finally {
      Atomics.sub(int32, SLEEPERS_INDEX, 1);
    }
  }

  /**
   * The records from this reader's position, copied, for `for await`: to the live end, or
   * on as they are appended (`follow`), as fast as they read or at their recorded pace.
   */
  async *records(options?: RecordsOptions): AsyncIterableIterator<JournalRecord> {
    const o = optionsObject('options', options);
    const follow = optionalBoolean('follow', o.follow, false);
    const signal = optionalSignal('signal', o.signal);
    const pace = o.pace === undefined ? undefined : optionsObject('pace', o.pace);
    const speed = pace === undefined ? 0 : optionalNumber('pace.speed', pace.speed, 1, Number.MIN_VALUE, Number.MAX_VALUE);
    const batch: JournalRecord[] = [];
    const collect: JournalHandler = (bytes, offsetBytes, lengthBytes, position, timestampMs, type) => {
      batch.push({ position, timestampMs, type, payload: bytes.slice(offsetBytes, offsetBytes + lengthBytes) });
    };
    let firstMs = Number.NaN;
    let startWallMs = 0;
    for (;;) {
      signal?.throwIfAborted();
      batch.length = 0;
      if (this.poll(collect, JOURNAL_DEFAULTS.iteratorBatch) === 0) {
        if (!follow) return;
        await this.waitAsync(JOURNAL_DEFAULTS.followRecheckMs, signal);
        continue;
      }
      for (const record of batch) {
        if (speed > 0) {
          if (Number.isNaN(firstMs)) {
            firstMs = record.timestampMs;
            startWallMs = performance.now();
          }
          const dueInMs = startWallMs + (record.timestampMs - firstMs) / speed - performance.now();
          if (dueInMs >= 1) await sleep(dueInMs, undefined, { signal });
        }
        yield record;
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<JournalRecord> {
    return this.records();
  }

  /** Moves to the next segment once it exists; false while it does not yet. */
  private nextSegment(): boolean {
    const { meta, memory, directory, segmentBytes } = this.source;
    const next = this.segment.number + 1;
    if (meta.activeSegment() < next) return false;
    if (meta.firstSegment() > next) {
      throw new FluxRangeError(
        `the reader at position ${this.position} fell behind retention: segment ${next} was deleted; the journal now starts at position ${meta.firstSegment() * segmentBytes}`,
      );
    }
    this.segment = this.ahead?.number === next ? this.ahead : Segment.open(memory, directory, next, segmentBytes);
    this.offsetBytes = 0;
    this.ahead = undefined;
    this.readAhead();
    return true;
  }

  /**
   * Maps the segment after this one, when it exists, and prefaults it for reading on a pool
   * thread while this one is read: a long replay's next mapping is in place when it gets
   * there (done from the second segment on, so a short-lived reader costs nothing).
   */
  private readAhead(): void {
    const { meta, memory, directory, segmentBytes } = this.source;
    const number = this.segment.number + 1;
    if (meta.activeSegment() < number) return;
    try {
      this.ahead = Segment.open(memory, directory, number, segmentBytes);
    } catch {
      return; // retention deleted it already: nextSegment says so when the reader gets there
    }
    memory.prefault(this.ahead.buffer, false).catch(noop);
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
