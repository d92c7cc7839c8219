/**
 * journal.meta (layout.ts): the settings a journal keeps, the lock that open and close take,
 * and the writer slots that say which processes may have records in flight.
 *
 *   create     built whole and linked into place (whole-file.ts): settings, then META_MAGIC
 *              (Atomics.store) last; one creator wins, the others open
 *   open       maps it, waits (bounded) for the magic, checks the version
 *   lock       a pid in LOCK (compare-exchange from 0); a holder that is gone is replaced;
 *              held only while a journal opens or closes (slots, recovery)
 *   slots      each open writer's process (pid, start time) in its own slot, written under
 *              the lock; a slot whose process is gone is a writer that crashed: its claims
 *              may be torn, so the journal needs recovery (RECOVERY_PENDING) once no other
 *              writer has it open
 */
import { join } from 'node:path';
import { FluxRangeError, FluxTimeoutError } from '@flux/ring';
import { adoptMapped, loadOwner, notifyOn, ownerAlive, processAlive, type SharedMemoryProvider, selfIdentity, storeOwner, waitOn } from '@flux/ring/mapped';

import { JournalCorruptError } from './errors.js';
import { createWhole } from './whole-file.js';
import {
  ACTIVE_SEGMENT_INDEX,
  DURABLE_POSITION_BYTE,
  FIRST_SEGMENT_INDEX,
  INDEX_BLOCK_BYTES,
  JOURNAL_LAYOUT_VERSION,
  LOCK_PID_INDEX,
  MAX_WRITERS,
  META_BYTES,
  META_CREATED_MS_BYTE,
  META_CREATOR_PID_INDEX,
  META_FILE,
  META_INDEX_BLOCK_BYTES_INDEX,
  META_MAGIC,
  META_MAGIC_INDEX,
  META_RETAIN_BYTES_BYTE,
  META_RETAIN_MS_BYTE,
  META_SEGMENT_BYTES_INDEX,
  META_VERSION_INDEX,
  claimEndByte,
  claimFromByte,
  NO_CLAIM,
  RECOVER_FROM_BYTE,
  RECOVERY_PENDING_INDEX,
  writerPidIndex,
} from './layout.js';

/** What a journal keeps in journal.meta: fixed when it is created. */
export interface StoredSettings {
  segmentBytes: number;
  retainBytes: number;
  retainMs: number;
}

const OPEN_WAIT_MS = 2000;
const LOCK_WAIT_MS = 10_000;

export class Meta {
  readonly int32: Int32Array;
  readonly float64: Float64Array;
  readonly path: string;

  private constructor(
    readonly buffer: ArrayBuffer,
    path: string,
    /** True when this open created the file. */
    readonly created: boolean,
  ) {
    this.int32 = new Int32Array(buffer);
    this.float64 = new Float64Array(buffer);
    this.path = path;
  }

  /** Opens `directory`'s journal.meta, creating it with `settings` when there is none (and `create`). */
  static openOrCreate(memory: SharedMemoryProvider, directory: string, settings: StoredSettings, mode: number, create: boolean): Meta {
    const path = join(directory, META_FILE);
    if (create) {
      const made = createWhole(memory, directory, META_FILE, META_BYTES, mode, (buffer) => {
        const int32 = new Int32Array(buffer);
        const float64 = new Float64Array(buffer);
        int32[META_VERSION_INDEX] = JOURNAL_LAYOUT_VERSION;
        int32[META_SEGMENT_BYTES_INDEX] = settings.segmentBytes;
        int32[META_INDEX_BLOCK_BYTES_INDEX] = INDEX_BLOCK_BYTES;
        storeOwner(int32, META_CREATOR_PID_INDEX, selfIdentity());
        float64[META_CREATED_MS_BYTE / 8] = Date.now();
        float64[META_RETAIN_BYTES_BYTE / 8] = settings.retainBytes;
        float64[META_RETAIN_MS_BYTE / 8] = settings.retainMs;
        float64[RECOVER_FROM_BYTE / 8] = Number.POSITIVE_INFINITY;
        Atomics.store(int32, META_MAGIC_INDEX, META_MAGIC); // last
      });
      if (made !== undefined) return new Meta(made, path, true);
    }
    let buffer: ArrayBuffer;
    try {
      buffer = memory.open(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !create) {
        throw new FluxRangeError(`${directory} holds no journal (no ${META_FILE}); open it with create: true to make one`);
      }
      throw error;
    }
    adoptMapped(buffer, memory.futex);
    const meta = new Meta(buffer, path, false);
    if (buffer.byteLength !== META_BYTES) throw new JournalCorruptError(path, 0, `holds ${buffer.byteLength} bytes, not ${META_BYTES}: not a Flux journal's`);
    const deadline = Date.now() + OPEN_WAIT_MS;
    while (Atomics.load(meta.int32, META_MAGIC_INDEX) === 0 && Date.now() < deadline) waitOn(meta.int32, META_MAGIC_INDEX, 0, 1);
    const magic = Atomics.load(meta.int32, META_MAGIC_INDEX);
    if (magic !== META_MAGIC) {
      throw new JournalCorruptError(
        path,
        0,
        magic === 0 ? 'has no header (its creator stopped before writing it: remove the directory)' : 'is not a Flux journal',
      );
    }
    if (meta.int32[META_VERSION_INDEX] !== JOURNAL_LAYOUT_VERSION) {
      throw new JournalCorruptError(path, 0, `has layout version ${meta.int32[META_VERSION_INDEX]}; this build reads ${JOURNAL_LAYOUT_VERSION}`);
    }
    return meta;
  }

  get settings(): StoredSettings {
    return {
      segmentBytes: this.int32[META_SEGMENT_BYTES_INDEX],
      retainBytes: this.float64[META_RETAIN_BYTES_BYTE / 8],
      retainMs: this.float64[META_RETAIN_MS_BYTE / 8],
    };
  }

  get createdMs(): number {
    return this.float64[META_CREATED_MS_BYTE / 8];
  }

  activeSegment(): number {
    return Atomics.load(this.int32, ACTIVE_SEGMENT_INDEX);
  }

  firstSegment(): number {
    return Atomics.load(this.int32, FIRST_SEGMENT_INDEX);
  }

  /** Raises the active segment to `segment` (never lowers it: two rollers may race). */
  advanceActive(segment: number): void {
    for (;;) {
      const current = Atomics.load(this.int32, ACTIVE_SEGMENT_INDEX);
      if (current >= segment || Atomics.compareExchange(this.int32, ACTIVE_SEGMENT_INDEX, current, segment) === current) return;
    }
  }

  /** Raises the first kept segment to `segment`. */
  advanceFirst(segment: number): void {
    for (;;) {
      const current = Atomics.load(this.int32, FIRST_SEGMENT_INDEX);
      if (current >= segment || Atomics.compareExchange(this.int32, FIRST_SEGMENT_INDEX, current, segment) === current) return;
    }
  }

  /** Position before which every record is on stable storage (the last sync's). A plain float64: one writer at a time moves it, under the sync's own order. */
  durablePosition(): number {
    return this.float64[DURABLE_POSITION_BYTE / 8];
  }

  raiseDurable(position: number): void {
    if (position > this.float64[DURABLE_POSITION_BYTE / 8]) this.float64[DURABLE_POSITION_BYTE / 8] = position;
  }

  /** Runs `fn` holding the journal's lock (bounded: a live holder for LOCK_WAIT_MS is a FluxTimeoutError). */
  withLock<T>(fn: () => T): T {
    const int32 = this.int32;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const holder = Atomics.compareExchange(int32, LOCK_PID_INDEX, 0, process.pid);
      if (holder === 0) break;
      if (holder !== process.pid && !processAlive(holder, 0)) {
        Atomics.compareExchange(int32, LOCK_PID_INDEX, holder, 0); // its holder is gone
        continue;
      }
      if (Date.now() > deadline) throw new FluxTimeoutError(`${this.path}: process ${holder} has held the journal's lock for ${LOCK_WAIT_MS} ms`);
      waitOn(int32, LOCK_PID_INDEX, holder, 1);
    }
    try {
      return fn();
    } finally {
      Atomics.store(int32, LOCK_PID_INDEX, 0);
      notifyOn(int32, LOCK_PID_INDEX);
    }
  }

  /**
   * Under the lock: clears the slots of writers whose process is gone (marking the journal
   * for recovery), takes a free slot for this writer, and says whether recovery is due now
   * (pending and no other live writer). -1 as slot: none was asked for (`register` false).
   */
  registerWriter(register: boolean): { slot: number; recover: boolean; otherWriters: number } {
    const int32 = this.int32;
    let slot = -1;
    let otherWriters = 0;
    for (let i = 0; i < MAX_WRITERS; i++) {
      const owner = loadOwner(int32, writerPidIndex(i));
      if (owner.pid === 0) {
        if (slot < 0 && register) slot = i;
      } else if (!ownerAlive(owner)) {
        // It may have died inside a claim: keep where that claim starts for recovery (the lowest of all such).
        const claimFrom = this.float64[claimFromByte(i) / 8];
        if (claimFrom !== NO_CLAIM) this.lowerRecoverFrom(claimFrom);
        clearSlot(int32, i);
        this.clearClaim(i);
        Atomics.store(int32, RECOVERY_PENDING_INDEX, 1);
        if (slot < 0 && register) slot = i;
      } else {
        otherWriters++;
      }
    }
    if (register) {
      if (slot < 0) throw new FluxRangeError(`${this.path}: ${MAX_WRITERS} writers have the journal open already (at most ${MAX_WRITERS})`);
      this.clearClaim(slot);
      storeOwner(int32, writerPidIndex(slot), selfIdentity());
    }
    return { slot, recover: Atomics.load(int32, RECOVERY_PENDING_INDEX) === 1 && otherWriters === 0, otherWriters };
  }

  /** Where recovery must start scanning at the latest: the lowest claim a crashed writer left in flight (+Infinity: none). */
  recoverFrom(): number {
    return this.float64[RECOVER_FROM_BYTE / 8];
  }

  private lowerRecoverFrom(position: number): void {
    if (position < this.float64[RECOVER_FROM_BYTE / 8]) this.float64[RECOVER_FROM_BYTE / 8] = position;
  }

  recoveryDone(): void {
    this.float64[RECOVER_FROM_BYTE / 8] = Number.POSITIVE_INFINITY;
    Atomics.store(this.int32, RECOVERY_PENDING_INDEX, 0);
  }

  releaseWriter(slot: number): void {
    clearSlot(this.int32, slot);
  }

  /** The claims in flight of writers whose process is gone, whose CAS had won ([start, end) positions). Under the lock. */
  deadClaims(): { slot: number; start: number; end: number }[] {
    const found: { slot: number; start: number; end: number }[] = [];
    for (let i = 0; i < MAX_WRITERS; i++) {
      const owner = loadOwner(this.int32, writerPidIndex(i));
      if (owner.pid === 0 || ownerAlive(owner)) continue;
      const start = this.float64[claimFromByte(i) / 8];
      const end = this.float64[claimEndByte(i) / 8];
      if (start !== NO_CLAIM && end !== NO_CLAIM && end > start) found.push({ slot: i, start, end });
    }
    return found;
  }

  /** Forgets writer slot `slot`'s claim in flight (it was padded). Under the lock. */
  clearClaim(slot: number): void {
    this.float64[claimEndByte(slot) / 8] = NO_CLAIM;
    this.float64[claimFromByte(slot) / 8] = NO_CLAIM;
  }

  /** The writers recorded now (alive or not). */
  writers(): { pid: number; alive: boolean }[] {
    const found: { pid: number; alive: boolean }[] = [];
    for (let i = 0; i < MAX_WRITERS; i++) {
      const owner = loadOwner(this.int32, writerPidIndex(i));
      if (owner.pid !== 0) found.push({ pid: owner.pid, alive: ownerAlive(owner) });
    }
    return found;
  }

  recoveryPending(): boolean {
    return Atomics.load(this.int32, RECOVERY_PENDING_INDEX) === 1;
  }
}

function clearSlot(int32: Int32Array, slot: number): void {
  const pid = writerPidIndex(slot);
  Atomics.store(int32, pid, 0);
  Atomics.store(int32, pid + 1, 0);
  Atomics.store(int32, pid + 2, 0);
}
