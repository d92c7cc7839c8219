/**
 * A durable, append-only journal of records in memory-mapped segment files (layout.ts),
 * appended to by any number of threads and processes, replayed from any position or time.
 *
 *   claim     compare-exchange on the active segment's TAIL: a writer takes the bytes of its
 *             records (one CAS for a batch) and never waits for a reader. No room left: the
 *             writer whose CAS closes the segment (TAIL := segmentBytes) pads its rest and
 *             creates the next segment, then raises ACTIVE_SEGMENT; the others wait for it
 *             (bounded: a roller that died is replaced)
 *   write     header and payload in place, plain stores
 *   commit    checksum, index entries, then the length with Atomics.store (records.ts)
 *   wake      when a reader sleeps (SLEEPERS), bump WAKE and wake it
 *   sync      per the policy: fdatasync the segments up to the committed prefix, then raise
 *             DURABLE_POSITION (what a power loss keeps: see the table in docs/journal.md)
 *   retain    on a roll: delete the oldest whole segments past the size or age bound
 *
 * A record's position is its first byte's place in the journal's stream; appends return it.
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FluxRangeError, FluxTypeError } from '@flux/ring';
import { notifyOn, type SharedMemoryProvider, sharedMemoryProvider } from '@flux/ring/mapped';
import { optionalBoolean, optionalInteger, optionalNumber, optionsObject, requireBytes, requireInteger, requireString } from '@flux/ring/validate';

import { JOURNAL_DEFAULTS } from './defaults.js';
import {
  claimFromByte,
  INDEX_BLOCK_BYTES,
  NO_CLAIM,
  indexEntryByte,
  MAX_RECORD_TYPE,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  maxPayloadBytes,
  RECORD_HEADER_BYTES,
  recordStrideBytes,
  SLEEPERS_INDEX,
  segmentFileName,
  TAIL_INDEX,
  WAKE_INDEX,
} from './layout.js';
import { Meta, type StoredSettings } from './meta.js';
import { JournalReader, type JournalRecord, type RecordsOptions, type SegmentSource } from './reader.js';
import { commit, recordAt, writeHeader, writePadding } from './records.js';
import { type JournalGap, padDeadClaims, type RecoveryReport, recover, removeDeadBuilds } from './recovery.js';
import { Segment } from './segment.js';

/** When a journal's writes reach stable storage (each opener's own policy). */
export type SyncPolicy = 'none' | { everyRecords: number } | { everyMs: number };

export interface JournalOptions {
  /** Make the directory and the journal when there is none (default true). */
  create?: boolean;
  /** Data bytes per segment file, a power of two from 64 KiB to 1 GiB (default 64 MiB). Stored at creation. */
  segmentBytes?: number;
  /** Delete the oldest whole segments once the journal holds more than `maxBytes`, or they are older than `maxAgeMs`. Stored at creation. */
  retention?: { maxBytes?: number; maxAgeMs?: number };
  /** When this opener's appends are made durable (default 'none': the kernel writes back when it likes). */
  sync?: SyncPolicy;
  /** Permissions of the files this opener creates (default 0o600). */
  mode?: number;
  /** Replay only: no writer slot, no recovery, appends throw. */
  readOnly?: boolean;
}

export interface ReaderOptions {
  /** A position (the records at and after it), 'start' (the oldest kept) or 'end' (only what is appended from now; default 'start'). */
  from?: number | 'start' | 'end';
  /** The first record stamped at or after this time (ms since the Unix epoch) instead of `from`. */
  fromTimestampMs?: number;
}

export interface VerifyReport {
  readonly records: number;
  readonly paddingBytes: number;
  /** The first record that fails its checks, or undefined when every one passes. */
  readonly firstBadPosition: number | undefined;
  readonly endPosition: number;
}

/**
 * Records claimed in place: write each payload at `offsetOf(i)` in `bytes`, then `commit()`.
 * One object per journal, reused: valid until commit.
 */
export class JournalClaim {
  /** The segment file's bytes (the mapping). */
  bytes: Uint8Array = new Uint8Array(0);
  /** The byte offset of the first record's payload in `bytes`. */
  offsetBytes = 0;
  strideBytes = 0;
  lengthBytes = 0;
  count = 0;
  /** The first record's position (record i: position + i x strideBytes). */
  position = 0;
  /** @internal */ segment: Segment | undefined;
  /** @internal */ dataOffsetBytes = 0;
  /** @internal */ timestampMs = 0;

  /** @internal */
  constructor(private readonly journal: Journal) {}

  /** Where record `index`'s payload starts in `bytes`. */
  offsetOf(index: number): number {
    return this.offsetBytes + index * this.strideBytes;
  }

  /** Publishes the claimed records (readers see them in position order). */
  commit(): void {
    this.journal.commitClaim(this);
  }
}

const now = (): number => performance.timeOrigin + performance.now();

export class Journal implements SegmentSource {
  readonly memory: SharedMemoryProvider;
  readonly meta: Meta;
  readonly segmentBytes: number;
  /** The largest payload one record takes (1/8 of a segment, less its header). */
  readonly maxPayloadBytes: number;
  /** What recovery found when this open recovered the journal (a writer had crashed in it), or undefined. */
  readonly recovery: RecoveryReport | undefined;
  /** Settings asked for that differ from the stored ones, which the journal kept: one line each. */
  readonly settingsKept: readonly string[];
  readonly readOnly: boolean;

  private segment: Segment;
  /** The segment reserve() took its bytes in (this.segment may have rolled on since). */
  private claimed: Segment | undefined;
  /** The segment after this.segment, created and being prefaulted ahead of the roll (prepareNext). */
  private next: Segment | undefined;
  private readonly slot: number;
  /** Float64 index of this writer's claim word in META (CLAIMS). */
  private readonly claimWord: number;
  private readonly claimObject: JournalClaim;
  private claimOpen = false;
  private readonly mode: number;
  private readonly syncEveryRecords: number;
  private sinceSync = 0;
  private readonly syncTimer: NodeJS.Timeout | undefined;
  private readonly syncsFiles: boolean;
  private closed = false;

  private constructor(
    readonly directory: string,
    init: {
      memory: SharedMemoryProvider;
      meta: Meta;
      slot: number;
      recovery: RecoveryReport | undefined;
      settingsKept: string[];
      mode: number;
      sync: SyncPolicy;
      readOnly: boolean;
    },
  ) {
    this.memory = init.memory;
    this.meta = init.meta;
    this.segmentBytes = init.meta.settings.segmentBytes;
    this.maxPayloadBytes = maxPayloadBytes(this.segmentBytes);
    this.recovery = init.recovery;
    this.settingsKept = init.settingsKept;
    this.slot = init.slot;
    this.claimWord = claimFromByte(Math.max(0, init.slot)) / 8;
    this.mode = init.mode;
    this.readOnly = init.readOnly;
    this.claimObject = new JournalClaim(this);
    this.segment = this.openActive();
    if (!this.readOnly) prefault(this.memory, this.segment, true);
    const sync = init.sync;
    this.syncEveryRecords = typeof sync === 'object' && 'everyRecords' in sync ? sync.everyRecords : 0;
    this.syncsFiles = sync !== 'none';
    if (typeof sync === 'object' && 'everyMs' in sync) {
      this.syncTimer = setInterval(() => {
        if (this.sinceSync > 0) this.sync();
      }, sync.everyMs);
      this.syncTimer.unref();
    }
  }

  /**
   * Opens (by default creating) the journal in `directory`. A journal a writer crashed in is
   * recovered first when no other writer has it open (`recovery` says what was found).
   * Throws SharedMemoryUnavailableError without @flux/uring's addon (import '@flux/uring').
   */
  static open(directory: string, options?: JournalOptions): Journal {
    requireString('directory', directory);
    const o = optionsObject('options', options);
    const readOnly = optionalBoolean('readOnly', o.readOnly, false);
    const create = optionalBoolean('create', o.create, !readOnly);
    const segmentBytes = optionalInteger('segmentBytes', o.segmentBytes, JOURNAL_DEFAULTS.segmentBytes, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES);
    if ((segmentBytes & (segmentBytes - 1)) !== 0)
      throw new FluxRangeError(`segmentBytes must be a power of two from ${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES}, got ${segmentBytes}`);
    const retention = o.retention === undefined ? {} : optionsObject('retention', o.retention);
    const retainBytes = optionalNumber('retention.maxBytes', retention.maxBytes, 0, 0, Number.MAX_SAFE_INTEGER);
    const retainMs = optionalNumber('retention.maxAgeMs', retention.maxAgeMs, 0, 0, Number.MAX_SAFE_INTEGER);
    const mode = optionalInteger('mode', o.mode, JOURNAL_DEFAULTS.mode, 0, 0o777);
    const sync = syncPolicyOf(o.sync);
    const memory = sharedMemoryProvider();
    if (create) mkdirSync(directory, { recursive: true, mode: 0o700 });
    const asked: StoredSettings = { segmentBytes, retainBytes, retainMs };
    const meta = Meta.openOrCreate(memory, directory, asked, mode, create);
    if (meta.created) removeDeadBuilds(directory); // a creator of the journal that died before linking its meta left one
    const stored = meta.settings;
    const settingsKept: string[] = [];
    if (!meta.created) {
      if (o.segmentBytes !== undefined && segmentBytes !== stored.segmentBytes)
        settingsKept.push(`segmentBytes: kept the stored ${stored.segmentBytes}, not ${segmentBytes}`);
      if (retention.maxBytes !== undefined && retainBytes !== stored.retainBytes)
        settingsKept.push(`retention.maxBytes: kept the stored ${stored.retainBytes}, not ${retainBytes}`);
      if (retention.maxAgeMs !== undefined && retainMs !== stored.retainMs)
        settingsKept.push(`retention.maxAgeMs: kept the stored ${stored.retainMs}, not ${retainMs}`);
    }
    let slot = -1;
    let recovery: RecoveryReport | undefined;
    if (!readOnly) {
      meta.withLock(() => {
        // With other writers alive, recovery will not run: pad the dead writers' claims now,
        // before registerWriter forgets them (alone, recovery pads them and reports the gaps).
        if (meta.writers().some((writer) => writer.alive)) padDeadClaims(memory, directory, meta, now());
        const registered = meta.registerWriter(true);
        slot = registered.slot;
        try {
          // The first segment, or the active one when its creator died before making it (O_EXCL: a no-op when it exists).
          Segment.create(memory, directory, meta.activeSegment(), stored.segmentBytes, mode);
          if (registered.recover) {
            recovery = recover(memory, directory, meta, mode, now());
            meta.recoveryDone();
          }
        } catch (error) {
          meta.releaseWriter(slot); // a failed open holds no slot (it would stop the next open's recovery)
          throw error;
        }
      });
    }
    return new Journal(directory, { memory, meta, slot, recovery, settingsKept, mode, sync, readOnly });
  }

  /** The oldest position kept (retention moves it). */
  get startPosition(): number {
    return this.meta.firstSegment() * this.segmentBytes;
  }

  /** Where the next record will be claimed: every record before it is claimed (not all committed yet). */
  get endPosition(): number {
    const segment = this.openActive();
    return segment.basePosition + Math.min(segment.tail(), this.segmentBytes);
  }

  /** The stored retention bounds (0: none): whole segments go once the journal holds more than maxBytes, or are older than maxAgeMs. */
  get retention(): { maxBytes: number; maxAgeMs: number } {
    const { retainBytes, retainMs } = this.meta.settings;
    return { maxBytes: retainBytes, maxAgeMs: retainMs };
  }

  /** When the journal was created (ms since the Unix epoch). */
  get createdMs(): number {
    return this.meta.createdMs;
  }

  /** Every record before this position is on stable storage (raised by sync()). */
  get durablePosition(): number {
    return this.meta.durablePosition();
  }

  /**
   * Appends one record of `bytes[offsetBytes .. offsetBytes + lengthBytes)` and returns its
   * position. `type`: 0 .. 2^31-1, the application's. Never waits for readers.
   */
  appendBytes(bytes: Uint8Array, offsetBytes = 0, lengthBytes?: number, type = 0, timestampMs = now()): number {
    requireBytes('bytes', bytes);
    if (lengthBytes === undefined) lengthBytes = bytes.length - offsetBytes;
    if (
      !(offsetBytes >= 0 && lengthBytes >= 0 && offsetBytes + lengthBytes <= bytes.length && Number.isInteger(offsetBytes) && Number.isInteger(lengthBytes))
    ) {
      throw new FluxRangeError(`offsetBytes ${offsetBytes} and lengthBytes ${lengthBytes} must lie inside the ${bytes.length} bytes given`);
    }
    const claim = this.claim(lengthBytes, 1, type, timestampMs);
    claim.bytes.set(lengthBytes === bytes.length ? bytes : bytes.subarray(offsetBytes, offsetBytes + lengthBytes), claim.offsetBytes);
    this.commitClaim(claim);
    return claim.position;
  }

  /** Appends `payload` (a string as UTF-8) and returns its position. */
  append(payload: Uint8Array | string, type = 0): number {
    if (typeof payload === 'string') {
      const lengthBytes = Buffer.byteLength(payload, 'utf8');
      const claim = this.claim(lengthBytes, 1, type);
      if (lengthBytes > 0) Buffer.from(claim.bytes.buffer, claim.offsetBytes, lengthBytes).write(payload, 'utf8');
      this.commitClaim(claim);
      return claim.position;
    }
    return this.appendBytes(payload, 0, payload.length, type);
  }

  /**
   * Claims `count` records of `lengthBytes` each, contiguous, stamped `timestampMs`: write
   * their payloads in place, then `commit()`. One claim is open at a time per journal object.
   */
  claim(lengthBytes: number, count = 1, type = 0, timestampMs = now()): JournalClaim {
    if (this.readOnly) throw new FluxTypeError(`${this.directory} was opened readOnly: it takes no appends`);
    if (this.closed) throw new FluxTypeError('the journal is closed');
    if (this.claimOpen) throw new FluxTypeError('claim() was called while the previous claim is not committed; commit it first');
    if (!(lengthBytes >= 0 && lengthBytes <= this.maxPayloadBytes && Number.isInteger(lengthBytes))) {
      requireInteger('lengthBytes', lengthBytes, 0, this.maxPayloadBytes);
    }
    const strideBytes = recordStrideBytes(lengthBytes);
    const maxCount = Math.floor((this.maxPayloadBytes + RECORD_HEADER_BYTES) / strideBytes);
    if (!(count >= 1 && count <= maxCount && Number.isInteger(count))) requireInteger('count', count, 1, maxCount);
    if (!(type >= 0 && type <= MAX_RECORD_TYPE && Number.isInteger(type))) requireInteger('type', type, 0, MAX_RECORD_TYPE);
    const total = strideBytes * count;
    const offset = this.reserve(total, timestampMs);
    const segment = this.claimed as Segment;
    if (this.next?.number !== segment.number + 1) this.prepareNext(segment);
    for (let i = 0; i < count; i++) writeHeader(segment, offset + i * strideBytes, RECORD_HEADER_BYTES + lengthBytes, type, timestampMs);
    const claim = this.claimObject;
    claim.segment = segment;
    claim.bytes = segment.bytes;
    claim.dataOffsetBytes = offset;
    claim.offsetBytes = segment.dataOffsetBytes + offset + RECORD_HEADER_BYTES;
    claim.strideBytes = strideBytes;
    claim.lengthBytes = lengthBytes;
    claim.count = count;
    claim.position = segment.basePosition + offset;
    claim.timestampMs = timestampMs;
    this.claimOpen = true;
    return claim;
  }

  /** @internal JournalClaim.commit. */
  commitClaim(claim: JournalClaim): void {
    if (!this.claimOpen || claim !== this.claimObject) throw new FluxTypeError('commit() was called with no open claim (each claim commits once)');
    this.claimOpen = false;
    const segment = claim.segment as Segment;
    const lengthBytes = RECORD_HEADER_BYTES + claim.lengthBytes;
    for (let i = 0; i < claim.count; i++) {
      commit(segment, claim.dataOffsetBytes + i * claim.strideBytes, lengthBytes, claim.strideBytes, lengthBytes, claim.timestampMs);
    }
    this.meta.float64[this.claimWord + 1] = NO_CLAIM;
    this.meta.float64[this.claimWord] = NO_CLAIM;
    this.afterCommit(claim.count);
  }

  /** A handler that appends every message it is given: pass it to a ring consumer's poll() or a subscription's onMessage(). */
  sink(type = 0): (bytes: Uint8Array, offsetBytes: number, lengthBytes: number) => void {
    requireInteger('type', type, 0, MAX_RECORD_TYPE);
    return (bytes, offsetBytes, lengthBytes) => {
      this.appendBytes(bytes, offsetBytes, lengthBytes, type);
    };
  }

  /** A reader from a position ('start' by default), 'end', or a timestamp. */
  reader(options?: ReaderOptions): JournalReader {
    const o = optionsObject('options', options);
    if (o.fromTimestampMs !== undefined) {
      const fromMs = optionalNumber('fromTimestampMs', o.fromTimestampMs, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      const { segment, offsetBytes } = this.locateTime(fromMs);
      return new JournalReader(this, segment, offsetBytes, 0, fromMs);
    }
    const from = o.from ?? 'start';
    const end = this.endPosition;
    let position: number;
    if (from === 'start') position = this.startPosition;
    else if (from === 'end') position = end;
    else if (typeof from === 'number') {
      if (!(from >= this.startPosition && from <= end && Number.isInteger(from))) {
        throw new FluxRangeError(`from must be a position from ${this.startPosition} (the oldest kept) to ${end} (the end), got ${String(from)}`);
      }
      position = from;
    } else throw new FluxTypeError(`from must be a position, 'start' or 'end', got ${typeof from === 'string' ? `'${from}'` : typeof from}`);
    const { segment, offsetBytes } = this.locatePosition(position);
    return new JournalReader(this, segment, offsetBytes, position, Number.NEGATIVE_INFINITY);
  }

  /** `for await` over the records (copied) from `options.from`; see JournalReader.records. */
  records(options?: ReaderOptions & RecordsOptions): AsyncIterableIterator<JournalRecord> {
    const o = optionsObject('options', options);
    return this.reader({ from: o.from, fromTimestampMs: o.fromTimestampMs }).records({ follow: o.follow, signal: o.signal, pace: o.pace });
  }

  /**
   * Makes every committed record durable now: fdatasync of the segments up to the committed
   * prefix (the first record not committed yet), then DURABLE_POSITION. Returns it.
   */
  sync(): number {
    const from = Math.max(this.meta.durablePosition(), this.startPosition);
    const reader = this.reader({ from });
    const firstSegment = Math.floor(from / this.segmentBytes);
    while (reader.poll(noop) > 0) {}
    const end = reader.position;
    for (let number = firstSegment; number <= Math.floor(end / this.segmentBytes) && number <= this.meta.activeSegment(); number++) {
      const fd = openSync(join(this.directory, segmentFileName(number)), 'r+');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.meta.raiseDurable(end);
    this.sinceSync = 0;
    return end;
  }

  /** Deletes the oldest whole segments past the retention bounds (also done on every roll); returns how many. */
  applyRetention(nowMs = Date.now()): number {
    const { retainBytes, retainMs } = this.meta.settings;
    if (retainBytes === 0 && retainMs === 0) return 0;
    let deleted = 0;
    for (;;) {
      const first = this.meta.firstSegment();
      const active = this.meta.activeSegment();
      if (first >= active) return deleted;
      const tooBig = retainBytes > 0 && (active - first + 1) * this.segmentBytes > retainBytes;
      // A segment's last record is no later than the next segment's first.
      const tooOld = retainMs > 0 && this.firstTimestampOf(first + 1) < nowMs - retainMs;
      if (!tooBig && !tooOld) return deleted;
      this.meta.advanceFirst(first + 1);
      try {
        unlinkSync(join(this.directory, segmentFileName(first)));
        deleted++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // another writer deleted it
      }
    }
  }

  /** Reads every kept record and checks it (length, own position, checksum): what recovery does not scan. */
  verify(): VerifyReport {
    let records = 0;
    let paddingBytes = 0;
    const active = this.meta.activeSegment();
    for (let number = this.meta.firstSegment(); number <= active; number++) {
      const segment = Segment.open(this.memory, this.directory, number, this.segmentBytes);
      const limit = Math.min(segment.tail(), this.segmentBytes);
      let offset = 0;
      while (offset < limit) {
        if (Atomics.load(segment.int32, (segment.dataOffsetBytes + offset) >> 2) === 0 && number === active) break; // not committed yet
        const stride = recordAt(segment, offset, limit);
        if (stride === 0) return { records, paddingBytes, firstBadPosition: segment.basePosition + offset, endPosition: segment.basePosition + offset };
        if (segment.int32[((segment.dataOffsetBytes + offset) >> 2) + 1] === -1) paddingBytes += stride;
        else records++;
        offset += stride;
      }
      if (number === active) return { records, paddingBytes, firstBadPosition: undefined, endPosition: segment.basePosition + offset };
    }
    return { records, paddingBytes, firstBadPosition: undefined, endPosition: this.endPosition };
  }

  /**
   * Pads the claims that writers whose process is gone took and never committed, so readers
   * go on past them while other writers keep the journal open (recovery, which does the
   * same, waits for an open with no other writer). Decided by liveness, not a timeout: a
   * writer is gone when its pid has exited or names another process (start time). Also done
   * by every writer's open. Returns the gaps padded (readers skip them). A writer that died
   * in the instant between its claim's CAS and storing the claim's end leaves a hole only
   * recovery closes.
   */
  unblockDeadWriters(): JournalGap[] {
    if (this.readOnly) throw new FluxTypeError(`${this.directory} was opened readOnly: it does not write padding`);
    const gaps = this.meta.withLock(() => padDeadClaims(this.memory, this.directory, this.meta, now()));
    if (gaps.length > 0) this.wake();
    return gaps;
  }

  /** The writers recorded in the journal now, and whether each still runs. */
  writers(): { pid: number; alive: boolean }[] {
    return this.meta.writers();
  }

  /** `using journal = Journal.open(...)`: close() at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Releases this writer's slot (a clean close: the next open need not recover) and stops its sync timer. */
  close(): void {
    if (this.closed) return;
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    if (this.syncsFiles && this.sinceSync > 0 && !this.readOnly) this.sync();
    this.closed = true;
    if (this.slot >= 0) this.meta.withLock(() => this.meta.releaseWriter(this.slot));
  }

  // ---- claiming -------------------------------------------------------------------------

  /**
   * Takes `total` bytes in the active segment; returns their data offset in this.claimed.
   * The writer whose bytes end the segment, exactly or with padding, rolls it.
   */
  private reserve(total: number, timestampMs: number): number {
    for (;;) {
      const segment = this.segment;
      const int32 = segment.int32;
      const tail = Atomics.load(int32, TAIL_INDEX);
      if (tail + total <= this.segmentBytes) {
        this.meta.float64[this.claimWord] = segment.basePosition + tail; // before the CAS: recovery's lower bound for this claim
        if (Atomics.compareExchange(int32, TAIL_INDEX, tail, tail + total) !== tail) continue;
        this.meta.float64[this.claimWord + 1] = segment.basePosition + tail + total; // these bytes are this writer's: unblockDeadWriters may pad them
        this.claimed = segment;
        if (tail + total === this.segmentBytes) this.roll(segment); // filled exactly: closed with no padding
        return tail;
      }
      if (tail < this.segmentBytes) {
        if (Atomics.compareExchange(int32, TAIL_INDEX, tail, this.segmentBytes) !== tail) continue;
        writePadding(segment, tail, this.segmentBytes - tail, timestampMs); // this writer closed it
        this.wake();
        this.roll(segment);
        continue;
      }
      this.awaitNext(segment);
    }
  }

  /**
   * On its first claim in a segment: creates the next one (or maps it, when another writer made
   * it) and prefaults it on a pool thread, so the roll and the first writes into it do not
   * pay a page fault per 4 KiB (several microseconds each in a VM).
   */
  private prepareNext(current: Segment): void {
    const number = current.number + 1;
    const created = Segment.create(this.memory, this.directory, number, this.segmentBytes, this.mode);
    if (created !== undefined && this.syncsFiles) syncDirectory(this.directory);
    this.next = created ?? Segment.open(this.memory, this.directory, number, this.segmentBytes);
    prefault(this.memory, this.next, true);
  }

  /** Makes the segment after `closed` active (this writer closed it), creating it unless prepared, and applies retention. */
  private roll(closed: Segment): void {
    const number = closed.number + 1;
    if (this.next?.number !== number) this.prepareNext(closed);
    this.meta.advanceActive(number);
    this.segment = this.next as Segment;
    this.next = undefined;
    this.wake();
    this.applyRetention();
  }

  /** Waits (bounded) for the writer that closed `closed` to make the next one; takes over when it does not. */
  private awaitNext(closed: Segment): void {
    const deadline = Date.now() + 2000;
    while (this.meta.activeSegment() <= closed.number) {
      if (Date.now() > deadline) {
        this.roll(closed); // its roller is gone (or stuck): any writer may create the next segment
        return;
      }
      Atomics.wait(SLEEP_WORD, 0, 0, 0.05);
    }
    this.segment = this.openActive();
  }

  private openActive(): Segment {
    const active = this.meta.activeSegment();
    if (this.segment === undefined || this.segment.number !== active) {
      if (this.next?.number === active) {
        this.segment = this.next;
        this.next = undefined;
      } else this.segment = Segment.open(this.memory, this.directory, active, this.segmentBytes);
    }
    return this.segment;
  }

  private afterCommit(records: number): void {
    if (Atomics.load(this.meta.int32, SLEEPERS_INDEX) !== 0) this.wake();
    if (this.syncsFiles) {
      this.sinceSync += records;
      if (this.syncEveryRecords > 0 && this.sinceSync >= this.syncEveryRecords) this.sync();
    }
  }

  private wake(): void {
    Atomics.add(this.meta.int32, WAKE_INDEX, 1);
    notifyOn(this.meta.int32, WAKE_INDEX);
  }

  // ---- locating --------------------------------------------------------------------------

  /** The segment and a record boundary at or before `position` to start a reader at (it skips to `position`). */
  private locatePosition(position: number): { segment: Segment; offsetBytes: number } {
    const number = Math.min(Math.floor(position / this.segmentBytes), this.meta.activeSegment());
    const segment = Segment.open(this.memory, this.directory, number, this.segmentBytes);
    const offset = position - segment.basePosition;
    return { segment, offsetBytes: offset >= this.segmentBytes ? offset : boundaryBefore(segment, offset) };
  }

  /** The segment and offset to start a reader looking for the first record at or after `fromMs`. */
  private locateTime(fromMs: number): { segment: Segment; offsetBytes: number } {
    let low = this.meta.firstSegment();
    let high = this.meta.activeSegment();
    // The last segment whose first record is not after fromMs.
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (this.firstTimestampOf(middle) <= fromMs) low = middle;
      else high = middle - 1;
    }
    const segment = Segment.open(this.memory, this.directory, low, this.segmentBytes);
    let lowBlock = 0;
    let highBlock = Math.max(0, Math.floor((Math.min(segment.tail(), this.segmentBytes) - 1) / INDEX_BLOCK_BYTES));
    while (lowBlock < highBlock) {
      const middle = Math.ceil((lowBlock + highBlock) / 2);
      const entry = indexEntryByte(middle);
      const written = Atomics.load(segment.int32, entry >> 2) !== 0;
      if (written && segment.float64[(entry + 8) >> 3] <= fromMs) lowBlock = middle;
      else highBlock = middle - 1;
    }
    return { segment, offsetBytes: boundaryBefore(segment, lowBlock * INDEX_BLOCK_BYTES) };
  }

  /** The first record's timestamp in segment `number` (its index entry 0), +Infinity when it has none yet. */
  private firstTimestampOf(number: number): number {
    if (number > this.meta.activeSegment()) return Number.POSITIVE_INFINITY;
    let segment: Segment;
    try {
      segment = number === this.segment.number ? this.segment : Segment.open(this.memory, this.directory, number, this.segmentBytes);
    } catch {
      return Number.POSITIVE_INFINITY;
    }
    const entry = indexEntryByte(0);
    return Atomics.load(segment.int32, entry >> 2) === 0 ? Number.POSITIVE_INFINITY : segment.float64[(entry + 8) >> 3];
  }
}

const SLEEP_WORD = new Int32Array(new SharedArrayBuffer(4));

/** Starts faulting `segment`'s pages in on a pool thread; a failure costs only the faults it would have saved. */
export function prefault(memory: SharedMemoryProvider, segment: Segment, write: boolean): void {
  memory.prefault(segment.buffer, write).catch(noop);
}
const noop = (): void => {};

/** A record boundary at or before data offset `offsetBytes`: the index entry of its block, or an earlier one, or 0. */
function boundaryBefore(segment: Segment, offsetBytes: number): number {
  for (let block = Math.floor(offsetBytes / INDEX_BLOCK_BYTES); block >= 0; block--) {
    const value = Atomics.load(segment.int32, indexEntryByte(block) >> 2);
    if (value !== 0 && value - 1 <= offsetBytes) return value - 1;
  }
  return 0;
}

function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncPolicyOf(value: unknown): SyncPolicy {
  if (value === undefined || value === 'none') return 'none';
  if (typeof value === 'object' && value !== null) {
    const policy = value as Record<string, unknown>;
    if ('everyRecords' in policy) return { everyRecords: requireInteger('sync.everyRecords', policy.everyRecords, 1, 2 ** 31 - 1) };
    if ('everyMs' in policy) return { everyMs: requireInteger('sync.everyMs', policy.everyMs, 1, 2 ** 31 - 1) };
  }
  throw new FluxTypeError(`sync must be 'none', { everyRecords: N } or { everyMs: M }, got ${typeof value === 'string' ? `'${value}'` : typeof value}`);
}
