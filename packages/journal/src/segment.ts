/**
 * One segment file, mapped (layout.ts): its views, its header checks, its claim word.
 *
 *   create    built whole under a private name and linked into place (whole-file.ts):
 *             header words, SEGMENT_MAGIC last; one creator wins, the others open
 *   open      maps the file, waits (bounded) for a creator still writing the header, checks
 *             magic, version, number and size: a file that is not this journal's segment,
 *             or was truncated, is a JournalCorruptError naming the file
 *
 * The mapping lives as long as its ArrayBuffer (the addon's finalizer unmaps it), so a
 * segment deleted by retention stays readable by whoever still holds it.
 */
import { join } from 'node:path';
import { adoptMapped, type SharedMemoryProvider } from '@flux/ring/mapped';

import { JournalCorruptError } from './errors.js';
import { createWhole } from './whole-file.js';
import {
  dataOffsetBytes,
  JOURNAL_LAYOUT_VERSION,
  SEGMENT_BYTES_INDEX,
  SEGMENT_MAGIC,
  SEGMENT_MAGIC_INDEX,
  SEGMENT_NUMBER_INDEX,
  SEGMENT_VERSION_INDEX,
  segmentFileBytes,
  segmentFileName,
  TAIL_INDEX,
} from './layout.js';

/** How long an open waits for another process to finish writing a new segment's header. */
const HEADER_WAIT_MS = 2000;

export class Segment {
  readonly int32: Int32Array;
  readonly float64: Float64Array;
  readonly bytes: Uint8Array;
  /** Byte offset of DATA in the file. */
  readonly dataOffsetBytes: number;
  /** The position of DATA's first byte. */
  readonly basePosition: number;

  private constructor(
    readonly number: number,
    readonly path: string,
    readonly buffer: ArrayBuffer,
    readonly segmentBytes: number,
  ) {
    this.int32 = new Int32Array(buffer);
    this.float64 = new Float64Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.dataOffsetBytes = dataOffsetBytes(segmentBytes);
    this.basePosition = number * segmentBytes;
  }

  /** Creates segment `number`; undefined when it exists already (another writer made it: open it). */
  static create(memory: SharedMemoryProvider, directory: string, number: number, segmentBytes: number, mode: number): Segment | undefined {
    const name = segmentFileName(number);
    const buffer = createWhole(memory, directory, name, segmentFileBytes(segmentBytes), mode, (made) => {
      const int32 = new Int32Array(made);
      int32[SEGMENT_VERSION_INDEX] = JOURNAL_LAYOUT_VERSION;
      int32[SEGMENT_NUMBER_INDEX] = number;
      int32[SEGMENT_BYTES_INDEX] = segmentBytes;
      Atomics.store(int32, SEGMENT_MAGIC_INDEX, SEGMENT_MAGIC); // last
    });
    return buffer === undefined ? undefined : new Segment(number, join(directory, name), buffer, segmentBytes);
  }

  /** Opens segment `number`, checked; `waitForHeader`: another process may be creating it right now. */
  static open(memory: SharedMemoryProvider, directory: string, number: number, segmentBytes: number, waitForHeader = true): Segment {
    const path = join(directory, segmentFileName(number));
    const buffer = memory.open(path);
    adoptMapped(buffer, memory.futex);
    if (buffer.byteLength !== segmentFileBytes(segmentBytes)) {
      throw new JournalCorruptError(
        path,
        0,
        `holds ${buffer.byteLength} bytes; a segment of this journal holds ${segmentFileBytes(segmentBytes)} (truncated or not this journal's)`,
      );
    }
    const segment = new Segment(number, path, buffer, segmentBytes);
    const int32 = segment.int32;
    if (Atomics.load(int32, SEGMENT_MAGIC_INDEX) === 0 && waitForHeader) {
      const deadline = Date.now() + HEADER_WAIT_MS;
      while (Atomics.load(int32, SEGMENT_MAGIC_INDEX) === 0 && Date.now() < deadline) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // 1 ms: the creator is between its two syscalls
      }
    }
    const magic = Atomics.load(int32, SEGMENT_MAGIC_INDEX);
    if (magic !== SEGMENT_MAGIC) {
      throw new JournalCorruptError(
        path,
        0,
        magic === 0 ? 'has no header (its creator stopped before writing it)' : `is not a Flux journal segment (magic 0x${(magic >>> 0).toString(16)})`,
      );
    }
    if (int32[SEGMENT_VERSION_INDEX] !== JOURNAL_LAYOUT_VERSION) {
      throw new JournalCorruptError(path, 0, `has layout version ${int32[SEGMENT_VERSION_INDEX]}; this build reads ${JOURNAL_LAYOUT_VERSION}`);
    }
    if (int32[SEGMENT_NUMBER_INDEX] !== number || int32[SEGMENT_BYTES_INDEX] !== segmentBytes) {
      throw new JournalCorruptError(
        path,
        0,
        `says it is segment ${int32[SEGMENT_NUMBER_INDEX]} of ${int32[SEGMENT_BYTES_INDEX]} bytes, not segment ${number} of ${segmentBytes}`,
      );
    }
    return segment;
  }

  /** Writes a header into a file whose creator stopped before its magic (recovery only). */
  static repairHeader(memory: SharedMemoryProvider, directory: string, number: number, segmentBytes: number): Segment {
    const path = join(directory, segmentFileName(number));
    const buffer = memory.open(path);
    if (buffer.byteLength !== segmentFileBytes(segmentBytes)) {
      throw new JournalCorruptError(path, 0, `holds ${buffer.byteLength} bytes; a segment of this journal holds ${segmentFileBytes(segmentBytes)}`);
    }
    const int32 = new Int32Array(buffer);
    int32[SEGMENT_VERSION_INDEX] = JOURNAL_LAYOUT_VERSION;
    int32[SEGMENT_NUMBER_INDEX] = number;
    int32[SEGMENT_BYTES_INDEX] = segmentBytes;
    Atomics.store(int32, SEGMENT_MAGIC_INDEX, SEGMENT_MAGIC);
    return Segment.open(memory, directory, number, segmentBytes, false);
  }

  /** The next free data offset (segmentBytes once the segment is closed). */
  tail(): number {
    return Atomics.load(this.int32, TAIL_INDEX);
  }
}
