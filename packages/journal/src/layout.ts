/**
 * On-disk layout of a Flux journal: constants and offset helpers only. The algorithms are
 * in journal.ts (append, roll), reader.ts (replay), recovery.ts (open after a crash).
 *
 * A journal is a directory:
 *
 * ```
 *  journal.meta                 8 KiB, mapped by every opener: settings, the active and the
 *                               first segment, the durable position, wake-ups, writers
 *  0000000000.seg               segment 0: positions [0, segmentBytes)
 *  0000000001.seg               segment 1: positions [segmentBytes, 2 x segmentBytes)
 *  ...                          (retention deletes the oldest whole segments)
 * ```
 *
 * A position is a byte address in the journal's stream: segment `floor(p / segmentBytes)`,
 * data offset `p % segmentBytes`. Every record's position is its own first byte's, so
 * positions grow with append order and a reader can start at any of them.
 *
 * META (journal.meta), one 128-byte region per party, int32 indexes:
 * ```
 *  byte 0 ┌───────────────────────────────────────────────┐
 *         │ HEADER    magic, version, segmentBytes,       │ once, by the creator (magic last)
 *         │           index block, creator, created time, │
 *         │           retention                           │
 *    128  ├───────────────────────────────────────────────┤
 *         │ SEGMENTS  active segment, first segment       │ the writer that rolls / retains
 *    256  ├───────────────────────────────────────────────┤
 *         │ DURABLE   position every record before which  │ the writer that syncs
 *         │           is on stable storage (float64)      │
 *    384  ├───────────────────────────────────────────────┤
 *         │ SIGNAL    sleeper count, wake-up word         │ waiting readers / writers
 *    512  ├───────────────────────────────────────────────┤
 *         │ LOCK      pid holding it, recovery pending,   │ open and close (recovery, slots)
 *         │           where recovery starts (float64)     │
 *    640  ├───────────────────────────────────────────────┤
 *         │ WRITERS   MAX_WRITERS x (pid, start lo, hi, 0)│ each writer's own slot, under LOCK
 *   1152  ├───────────────────────────────────────────────┤
 *         │ (unused)                                      │
 *   4096  ├───────────────────────────────────────────────┤
 *         │ CLAIMS    MAX_WRITERS x 128 bytes: the        │ each writer, around every claim
 *         │           position its claim in flight starts │
 *         │           at or after, then (once its CAS     │
 *         │           won) where it ends (float64s; -1)   │
 *   8192  └───────────────────────────────────────────────┘
 * ```
 *
 * SEGMENT (NNNNNNNNNN.seg):
 * ```
 *  byte 0 ┌───────────────────────────────────────────────┐
 *         │ HEADER    magic, version, index, segmentBytes │ once, by the creator (magic last)
 *    128  ├───────────────────────────────────────────────┤
 *         │ TAIL      next free data offset (int32; CAS)  │ writers claim here
 *    256  ├───────────────────────────────────────────────┤
 *         │ INDEX     per INDEX_BLOCK_BYTES of data: the  │ the writer whose record covers
 *         │           record covering the block's first   │ the block's first byte
 *         │           byte (offset + 1, timestamp)        │
 *         ├─── page-aligned ──────────────────────────────┤
 *         │ DATA      segmentBytes of records             │ writers, in their claims
 *         └───────────────────────────────────────────────┘
 * ```
 *
 * RECORD, at a RECORD_ALIGNMENT_BYTES-aligned data offset:
 * ```
 *  byte 0          4          8                  16                 24         28        32
 *      ┌──────────┬──────────┬──────────────────┬──────────────────┬──────────┬─────────┬──────────
 *      │ length   │ type     │ position         │ timestampMs      │ checksum │ 0       │ payload
 *      │ int32    │ int32    │ float64          │ float64          │ int32    │         │ ...
 *      └──────────┴──────────┴──────────────────┴──────────────────┴──────────┴─────────┴──────────
 * ```
 * `length` is header plus payload bytes; the record takes `align(length, 32)` bytes. `0`:
 * not written yet. It is stored last, with `Atomics.store`: that store commits the record
 * (the publish rule; SAFETY.md). `type` is the user's (0 .. 2^31-1) or PADDING_TYPE (the
 * rest of a segment no record fitted in, or a gap recovery closed). `position` is the
 * record's own, so a scan recognises a record by itself. The checksum covers every word
 * of the record after it, bar itself (checksum.ts).
 */

export const META_MAGIC = 0x464c584a; // "FLXJ"
export const SEGMENT_MAGIC = 0x464c5853; // "FLXS"
/** Bumped whenever any offset or meaning below changes. */
export const JOURNAL_LAYOUT_VERSION = 1;

const INT32_BYTES = 4;
export const REGION_BYTES = 128;
const REGION_INT32S = REGION_BYTES / INT32_BYTES;
export const PAGE_BYTES = 4096;

export const META_FILE = 'journal.meta';
export const META_BYTES = 2 * PAGE_BYTES;
export const SEGMENT_SUFFIX = '.seg';
const SEGMENT_NAME_DIGITS = 10;

// ---- META: HEADER region, int32 indexes ---------------------------------------------------
export const META_MAGIC_INDEX = 0;
export const META_VERSION_INDEX = 1;
export const META_SEGMENT_BYTES_INDEX = 2;
export const META_INDEX_BLOCK_BYTES_INDEX = 3;
/** The creating process: pid, start ticks low, high (process-identity in @flux/ring). */
export const META_CREATOR_PID_INDEX = 4;
/** float64 at this byte offset: creation time, ms since the Unix epoch. */
export const META_CREATED_MS_BYTE = 32;
/** float64: retention by size, bytes kept (0: none). */
export const META_RETAIN_BYTES_BYTE = 40;
/** float64: retention by age, ms (0: none). */
export const META_RETAIN_MS_BYTE = 48;

// ---- META: SEGMENTS region ------------------------------------------------------------------
export const ACTIVE_SEGMENT_INDEX = REGION_INT32S;
export const FIRST_SEGMENT_INDEX = ACTIVE_SEGMENT_INDEX + 1;

// ---- META: DURABLE region: float64 -------------------------------------------------------
export const DURABLE_POSITION_BYTE = 2 * REGION_BYTES;

// ---- META: SIGNAL region -------------------------------------------------------------------
export const SLEEPERS_INDEX = 3 * REGION_INT32S;
export const WAKE_INDEX = SLEEPERS_INDEX + 1;

// ---- META: LOCK region ---------------------------------------------------------------------
export const LOCK_PID_INDEX = 4 * REGION_INT32S;
/** 1 once a writer was found dead (its claims may be torn); recovery clears it. */
export const RECOVERY_PENDING_INDEX = LOCK_PID_INDEX + 1;
/** float64: the lowest position a crashed writer's claim in flight started at or after (+Infinity: none known). */
export const RECOVER_FROM_BYTE = (LOCK_PID_INDEX + 2) * 4;

// ---- META: WRITERS region ------------------------------------------------------------------
export const MAX_WRITERS = 32;
export const WRITER_SLOT_INT32S = 4;
export const WRITERS_INDEX = 5 * REGION_INT32S;
/** The pid word of writer slot `slot` (then start low, start high). */
export function writerPidIndex(slot: number): number {
  return WRITERS_INDEX + slot * WRITER_SLOT_INT32S;
}

// ---- META: CLAIMS region, one 128-byte region per writer slot -------------------------------
export const CLAIMS_OFFSET_BYTES = PAGE_BYTES;
/**
 * Byte offset of writer slot `slot`'s claim word: a float64 position its claim in flight
 * starts at or after (stored before the claim's compare-exchange), -1 between claims.
 * Recovery scans from the lowest a crashed writer left; without it, a hole a writer left
 * while others went on writing could lie anywhere.
 */
export function claimFromByte(slot: number): number {
  return CLAIMS_OFFSET_BYTES + slot * REGION_BYTES;
}
/**
 * Byte offset of writer slot `slot`'s claim-end word: the float64 position its claim in
 * flight ends at, stored right after the claim's compare-exchange won (so it is set only
 * for bytes the writer owns), -1 between claims. With the process gone, [start, end) is
 * what `unblockDeadWriters` pads while other writers keep the journal open.
 */
export function claimEndByte(slot: number): number {
  return claimFromByte(slot) + 8;
}
/** The claim words' value between claims. */
export const NO_CLAIM = -1;

// ---- SEGMENT: HEADER region -----------------------------------------------------------------
export const SEGMENT_MAGIC_INDEX = 0;
export const SEGMENT_VERSION_INDEX = 1;
export const SEGMENT_NUMBER_INDEX = 2;
export const SEGMENT_BYTES_INDEX = 3;

// ---- SEGMENT: TAIL region -------------------------------------------------------------------
export const TAIL_INDEX = REGION_INT32S;

// ---- SEGMENT: INDEX region ------------------------------------------------------------------
export const INDEX_OFFSET_BYTES = 2 * REGION_BYTES;
/** An index entry: int32 data offset + 1 (0: not written), int32 0, float64 timestampMs. */
export const INDEX_ENTRY_BYTES = 16;
/** Data bytes per index entry. */
export const INDEX_BLOCK_BYTES = 64 * 1024;

/** Byte offset of a segment's DATA: after the index, on a page boundary. */
export function dataOffsetBytes(segmentBytes: number): number {
  const indexBytes = (segmentBytes / INDEX_BLOCK_BYTES) * INDEX_ENTRY_BYTES;
  return Math.ceil((INDEX_OFFSET_BYTES + indexBytes) / PAGE_BYTES) * PAGE_BYTES;
}

/** The whole segment file's bytes. */
export function segmentFileBytes(segmentBytes: number): number {
  return dataOffsetBytes(segmentBytes) + segmentBytes;
}

/** Byte offset of the index entry of data block `block`. */
export function indexEntryByte(block: number): number {
  return INDEX_OFFSET_BYTES + block * INDEX_ENTRY_BYTES;
}

// ---- RECORD ----------------------------------------------------------------------------------
export const RECORD_HEADER_BYTES = 32;
export const RECORD_ALIGNMENT_BYTES = 32;
export const LENGTH_FIELD = 0;
export const TYPE_FIELD = 4;
export const POSITION_FIELD = 8;
export const TIMESTAMP_FIELD = 16;
export const CHECKSUM_FIELD = 24;
/** `type` of a padding record (never a user's: theirs are 0 .. MAX_RECORD_TYPE). */
export const PADDING_TYPE = -1;
export const MAX_RECORD_TYPE = 2 ** 31 - 1;

/** Bytes a record of `payloadBytes` takes in a segment. */
export function recordStrideBytes(payloadBytes: number): number {
  return Math.ceil((RECORD_HEADER_BYTES + payloadBytes) / RECORD_ALIGNMENT_BYTES) * RECORD_ALIGNMENT_BYTES;
}

// ---- geometry bounds ---------------------------------------------------------------------------
export const MIN_SEGMENT_BYTES = INDEX_BLOCK_BYTES;
/** A mapped file is int32-indexable (2^31-1 bytes) with its header: 1 GiB of data at most. */
export const MAX_SEGMENT_BYTES = 2 ** 30;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** The largest payload a journal of `segmentBytes` takes: a record is at most 1/8 of a segment (Aeron's rule), so padding wastes at most that. */
export function maxPayloadBytes(segmentBytes: number): number {
  return segmentBytes / 8 - RECORD_HEADER_BYTES;
}

/** The file name of segment `segment`. */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(SEGMENT_NAME_DIGITS, '0')}${SEGMENT_SUFFIX}`;
}

/** The segment number a file name holds, or -1 when it is not a segment's. */
export function segmentNumberOf(name: string): number {
  const match = /^([0-9]{10,})\.seg$/.exec(name);
  return match === null ? -1 : Number(match[1]);
}
