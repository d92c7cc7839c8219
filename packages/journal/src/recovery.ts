/**
 * Opening a journal a writer crashed in (meta.ts decides when: a writer slot whose process is
 * gone, and no other writer open). What a crash leaves, and what recovery makes of it:
 *
 *   a claim never committed (length 0; SIGKILL between claim and publish)
 *   a record torn by a power loss (a page of it written back, another not: checksum fails)
 *        followed by any whole record in its segment: the gap becomes a padding record
 *        (readers skip it; it is reported in `gaps`)
 *        followed by nothing whole: the journal (or that segment) ends there; the torn bytes
 *        are zeroed and the tail set back, so new records start clean (`truncatedBytes`)
 *   a segment closed but not followed (the roller died before creating the next): created
 *   a build file (whole-file.ts) whose creator died before linking it: removed
 *   a segment file without its header (a build links only whole ones; kept for safety): repaired
 *   a segment file made ahead of a roll (past the active one): left for that roll
 *   a record before the durable position that fails its check: nothing a crash explains
 *        (it was on stable storage whole): JournalCorruptError
 *
 * It scans from the earliest claim a crashed writer had in flight (each writer stores where
 * its claim starts before taking it: META's CLAIMS), or from the segment before the active
 * one if that is earlier. Older damage, which only a power loss without a sync policy or a
 * failing disk can leave, is what `journal.verify()` finds.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SharedMemoryProvider } from '@flux/ring/mapped';

import { JournalCorruptError } from './errors.js';
import { INDEX_BLOCK_BYTES, indexEntryByte, RECORD_ALIGNMENT_BYTES, segmentNumberOf, TAIL_INDEX } from './layout.js';
import type { Meta } from './meta.js';
import { recordAt, writePadding } from './records.js';
import { Segment } from './segment.js';
import { buildPidOf } from './whole-file.js';

export interface JournalGap {
  /** Where the gap starts. */
  readonly position: number;
  readonly bytes: number;
}

export interface RecoveryReport {
  /** Where the scan started (the first byte of the segment before the active one). */
  readonly fromPosition: number;
  /** The journal's end after recovery: the next record's position. */
  readonly endPosition: number;
  /** Claims never committed, or torn records, with whole records after them: now padding. */
  readonly gaps: readonly JournalGap[];
  /** Bytes of torn or uncommitted records removed from the journal's end. */
  readonly truncatedBytes: number;
  /** Segment files recovery created, adopted or repaired. */
  readonly repairedSegments: readonly number[];
}

/** The segment numbers of `directory`'s segment files, ascending. */
export function segmentNumbers(directory: string): number[] {
  const numbers: number[] = [];
  for (const name of readdirSync(directory)) {
    const number = segmentNumberOf(name);
    if (number >= 0) numbers.push(number);
  }
  return numbers.sort((a, b) => a - b);
}

function openOrRepair(memory: SharedMemoryProvider, directory: string, number: number, segmentBytes: number, repaired: number[]): Segment {
  try {
    return Segment.open(memory, directory, number, segmentBytes, false);
  } catch (error) {
    if (error instanceof JournalCorruptError && /no header/.test(error.message)) {
      repaired.push(number);
      return Segment.repairHeader(memory, directory, number, segmentBytes);
    }
    throw error;
  }
}

/** Removes build files (whole-file.ts) whose creator is dead: it stopped before linking them into place. */
export function removeDeadBuilds(directory: string): void {
  for (const name of readdirSync(directory)) {
    const pid = buildPidOf(name);
    if (pid < 0 || pidAlive(pid)) continue;
    try {
      unlinkSync(join(directory, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Pads every claim a dead writer's CAS won and it never fully committed, from its first
 * record not committed to the claim's end (META's CLAIMS: start and end), and forgets the
 * claim. Holding the journal's lock; other writers may be appending: the claim's bytes were
 * the dead writer's alone, and its committed records (a claim commits in order) are kept.
 */
export function padDeadClaims(memory: SharedMemoryProvider, directory: string, meta: Meta, nowMs: number): JournalGap[] {
  const { segmentBytes } = meta.settings;
  const gaps: JournalGap[] = [];
  for (const { slot, start, end } of meta.deadClaims()) {
    const number = Math.floor(start / segmentBytes);
    if (number >= meta.firstSegment() && end <= (number + 1) * segmentBytes) {
      const segment = Segment.open(memory, directory, number, segmentBytes);
      let offset = start - segment.basePosition;
      const endOffset = end - segment.basePosition;
      while (offset < endOffset) {
        const lengthBytes = Atomics.load(segment.int32, (segment.dataOffsetBytes + offset) >> 2);
        if (lengthBytes === 0) {
          writePadding(segment, offset, endOffset - offset, nowMs);
          gaps.push({ position: segment.basePosition + offset, bytes: endOffset - offset });
          break;
        }
        offset += (lengthBytes + RECORD_ALIGNMENT_BYTES - 1) & -RECORD_ALIGNMENT_BYTES;
      }
    }
    meta.clearClaim(slot);
  }
  return gaps;
}

/** Recovers `directory`'s journal (holding its lock, no other writer open); `nowMs` stamps the padding it writes. */
export function recover(memory: SharedMemoryProvider, directory: string, meta: Meta, mode: number, nowMs: number): RecoveryReport {
  const { segmentBytes } = meta.settings;
  removeDeadBuilds(directory);
  const repaired: number[] = [];
  const gaps: JournalGap[] = [];
  let truncatedBytes = 0;
  // Segments past the active one are made ahead of a roll (prepareNext) and hold nothing: a
  // roll raises ACTIVE_SEGMENT before any writer claims in its new segment. They stay for the roll.
  const onDisk = segmentNumbers(directory).filter((n) => n >= meta.firstSegment());
  let active = meta.activeSegment();
  // The segment before the active one (a power loss tears the newest records), or where a crashed writer's claim was, if earlier.
  const first = Math.max(meta.firstSegment(), Math.min(active - 1, Math.floor(meta.recoverFrom() / segmentBytes)));
  const durable = meta.durablePosition();

  // The loop ends at the active segment (first <= active always).
  for (let number = first; ; number++) {
    let segment: Segment;
    if (onDisk.includes(number)) segment = openOrRepair(memory, directory, number, segmentBytes, repaired);
    else {
      segment = Segment.create(memory, directory, number, segmentBytes, mode) ?? Segment.open(memory, directory, number, segmentBytes);
      repaired.push(number);
    }
    const last = number >= active;
    const limit = Math.min(segment.tail(), segmentBytes);
    let offset = 0;
    while (offset < limit) {
      const stride = recordAt(segment, offset, limit);
      if (stride > 0) {
        offset += stride;
        continue;
      }
      const position = segment.basePosition + offset;
      if (position < durable) {
        throw new JournalCorruptError(
          segment.path,
          segment.dataOffsetBytes + offset,
          `at byte ${segment.dataOffsetBytes + offset}: the record at position ${position} fails its checks, and it lies before the durable position ${durable} (it was synced whole)`,
        );
      }
      let next = offset + RECORD_ALIGNMENT_BYTES;
      while (next < limit && recordAt(segment, next, limit) === 0) next += RECORD_ALIGNMENT_BYTES;
      if (next < limit) {
        writePadding(segment, offset, next - offset, nowMs);
        gaps.push({ position, bytes: next - offset });
        offset = next;
        continue;
      }
      // Nothing whole after it: the records of this segment end here.
      segment.bytes.fill(0, segment.dataOffsetBytes + offset, segment.dataOffsetBytes + limit);
      if (last) {
        truncatedBytes += limit - offset;
        clearIndexFrom(segment, offset);
        Atomics.store(segment.int32, TAIL_INDEX, offset);
      } else {
        writePadding(segment, offset, segmentBytes - offset, nowMs);
        gaps.push({ position, bytes: segmentBytes - offset });
      }
      break;
    }
    if (last && segment.tail() >= segmentBytes) {
      // Closed, and its roller died before the next existed.
      active = number + 1;
      if (Segment.create(memory, directory, active, segmentBytes, mode) !== undefined) repaired.push(active);
      meta.advanceActive(active);
      return { fromPosition: first * segmentBytes, endPosition: active * segmentBytes, gaps, truncatedBytes, repairedSegments: repaired };
    }
    if (last)
      return { fromPosition: first * segmentBytes, endPosition: segment.basePosition + segment.tail(), gaps, truncatedBytes, repairedSegments: repaired };
  }
}

/** Clears the index entries of blocks starting at or after `offsetBytes` (a dead writer may have written one for a claim now gone). */
function clearIndexFrom(segment: Segment, offsetBytes: number): void {
  for (let block = Math.ceil(offsetBytes / INDEX_BLOCK_BYTES); block * INDEX_BLOCK_BYTES < segment.segmentBytes; block++) {
    Atomics.store(segment.int32, indexEntryByte(block) >> 2, 0);
  }
}
