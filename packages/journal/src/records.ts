/**
 * Writing and recognising records in a segment (layout.ts's RECORD): the steps every writer
 * (journal.ts), recovery (recovery.ts) and the readers share.
 *
 *   writeHeader     type, position, timestampMs, the reserved word, and the payload's last
 *                   word zeroed (the checksum reads whole words)          plain stores
 *   commit          checksum, the index entries the record covers, then
 *                   length with Atomics.store: the record is published    the publish store
 *   recordAt        the stride of a whole, self-consistent record at an offset, or 0
 */
import { recordChecksum } from './checksum.js';
import {
  CHECKSUM_FIELD,
  INDEX_BLOCK_BYTES,
  indexEntryByte,
  MAX_RECORD_TYPE,
  PADDING_TYPE,
  POSITION_FIELD,
  RECORD_ALIGNMENT_BYTES,
  RECORD_HEADER_BYTES,
  TIMESTAMP_FIELD,
  TYPE_FIELD,
} from './layout.js';
import type { Segment } from './segment.js';

/** Writes the header of the record at data offset `offsetBytes` (all but length and checksum). */
export function writeHeader(segment: Segment, offsetBytes: number, lengthBytes: number, type: number, timestampMs: number): void {
  const byte = segment.dataOffsetBytes + offsetBytes;
  const int32 = segment.int32;
  const word = byte >> 2;
  int32[word + TYPE_FIELD / 4] = type;
  segment.float64[(byte + POSITION_FIELD) >> 3] = segment.basePosition + offsetBytes;
  segment.float64[(byte + TIMESTAMP_FIELD) >> 3] = timestampMs;
  int32[word + 7] = 0;
  int32[word + ((lengthBytes - 1) >> 2)] = 0; // the payload's last word: bytes past the payload stay 0
}

/** Checksums, indexes and publishes the record at `offsetBytes` of `strideBytes` (its header written). */
export function commit(segment: Segment, offsetBytes: number, lengthBytes: number, strideBytes: number, coveredBytes: number, timestampMs: number): void {
  const int32 = segment.int32;
  const word = (segment.dataOffsetBytes + offsetBytes) >> 2;
  int32[word + CHECKSUM_FIELD / 4] = recordChecksum(int32, word, lengthBytes, coveredBytes);
  // The index entry of every block whose first byte this record covers (most records cover none).
  if (
    offsetBytes % INDEX_BLOCK_BYTES === 0 ||
    Math.floor(offsetBytes / INDEX_BLOCK_BYTES) !== Math.floor((offsetBytes + strideBytes - 1) / INDEX_BLOCK_BYTES)
  ) {
    for (let block = Math.ceil(offsetBytes / INDEX_BLOCK_BYTES); block * INDEX_BLOCK_BYTES < offsetBytes + strideBytes; block++) {
      const entry = indexEntryByte(block);
      segment.float64[(entry + 8) >> 3] = timestampMs;
      Atomics.store(int32, entry >> 2, offsetBytes + 1);
    }
  }
  Atomics.store(int32, word, lengthBytes); // publishes the record
}

/** Writes and publishes a padding record over `bytes` from `offsetBytes` (a multiple of RECORD_ALIGNMENT_BYTES, at least a header). */
export function writePadding(segment: Segment, offsetBytes: number, bytes: number, timestampMs: number): void {
  writeHeader(segment, offsetBytes, RECORD_HEADER_BYTES, PADDING_TYPE, timestampMs);
  commit(segment, offsetBytes, bytes, bytes, RECORD_HEADER_BYTES, timestampMs);
}

/** Bytes a record of `lengthBytes` (header included) takes. */
export function alignedBytes(lengthBytes: number): number {
  return Math.ceil(lengthBytes / RECORD_ALIGNMENT_BYTES) * RECORD_ALIGNMENT_BYTES;
}

/**
 * The stride of the whole record at data offset `offsetBytes` that ends by `limitBytes`,
 * or 0: not written, torn, or not a record (its length, type, own position or checksum
 * disagree). A record names its own position, so a scan cannot take stale bytes for one.
 */
export function recordAt(segment: Segment, offsetBytes: number, limitBytes: number): number {
  const byte = segment.dataOffsetBytes + offsetBytes;
  const int32 = segment.int32;
  const word = byte >> 2;
  const lengthBytes = Atomics.load(int32, word);
  if (lengthBytes < RECORD_HEADER_BYTES) return 0;
  const stride = alignedBytes(lengthBytes);
  if (offsetBytes + stride > limitBytes) return 0;
  if (segment.float64[(byte + POSITION_FIELD) >> 3] !== segment.basePosition + offsetBytes) return 0;
  const type = int32[word + TYPE_FIELD / 4];
  if (type < PADDING_TYPE || type > MAX_RECORD_TYPE) return 0;
  const covered = type === PADDING_TYPE ? RECORD_HEADER_BYTES : lengthBytes;
  return recordChecksum(int32, word, lengthBytes, covered) === int32[word + CHECKSUM_FIELD / 4] ? stride : 0;
}
