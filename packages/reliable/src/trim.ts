/**
 * Cutting the frames before a sequence off a DATA datagram (no I/O, no allocation): when a
 * datagram overlaps the next expected sequence, its frames from that sequence on are copied
 * behind a new header into a scratch buffer, as if the sender had framed them so.
 *
 * ```
 *   in:   | header: first = e - 2, count 5 | f(e-2) | f(e-1) | f(e) | f(e+1) | f(e+2) |
 *   out:  | header: first = e,     count 3 |                   f(e) | f(e+1) | f(e+2) |
 * ```
 *
 * The frames are copied unchanged, so fragments keep their BEGIN/END flags and the
 * DatagramReader reassembles across the cut as it would across a datagram boundary.
 */
import { checkFrameList, FrameLayout } from '@flux/udp';

const { DATAGRAM_HEADER_BYTES, FRAME_COUNT_OFFSET, FRAME_HEADER_BYTES, FRAME_LENGTH_OFFSET, SEQUENCE_OFFSET } = FrameLayout;

/**
 * Writes into `out` the datagram at bytes[offsetBytes, offsetBytes + lengthBytes) without
 * its first `skipFrames` frames (0 < skipFrames < frame count); returns its length, or -1
 * when the datagram's frame list is malformed (nothing may be trusted of it then).
 */
export function trimFramesBefore(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, skipFrames: number, out: Uint8Array): number {
  const frameCount = bytes[offsetBytes + FRAME_COUNT_OFFSET];
  const end = offsetBytes + lengthBytes;
  if (skipFrames <= 0 || skipFrames >= frameCount || checkFrameList(bytes, offsetBytes, end, frameCount) !== null) return -1;
  let position = offsetBytes + DATAGRAM_HEADER_BYTES;
  for (let frame = 0; frame < skipFrames; frame++) {
    position += FRAME_HEADER_BYTES + (bytes[position + FRAME_LENGTH_OFFSET] | (bytes[position + FRAME_LENGTH_OFFSET + 1] << 8));
  }
  const tailBytes = end - position;
  if (DATAGRAM_HEADER_BYTES + tailBytes > out.length) return -1;
  out.set(bytes.subarray(offsetBytes, offsetBytes + DATAGRAM_HEADER_BYTES), 0);
  out.set(bytes.subarray(position, end), DATAGRAM_HEADER_BYTES);
  out[FRAME_COUNT_OFFSET] = frameCount - skipFrames;
  const first = (readSequence(bytes, offsetBytes) + skipFrames) >>> 0;
  out[SEQUENCE_OFFSET] = first;
  out[SEQUENCE_OFFSET + 1] = first >>> 8;
  out[SEQUENCE_OFFSET + 2] = first >>> 16;
  out[SEQUENCE_OFFSET + 3] = first >>> 24;
  return DATAGRAM_HEADER_BYTES + tailBytes;
}

function readSequence(bytes: Uint8Array, offsetBytes: number): number {
  const at = offsetBytes + SEQUENCE_OFFSET;
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}
