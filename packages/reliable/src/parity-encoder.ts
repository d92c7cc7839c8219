/**
 * The sender's half of forward error correction: every DATA datagram sent for the first
 * time is XORed into the current group's parity; after `groupDatagrams` datagrams (or when
 * the sender goes idle) the group's PARITY datagram goes out and a new group begins. No
 * allocation per datagram: the parity frame is built in place, payload word by word.
 *
 *   DATA d0 | d1 | ... | d(k-1) | PARITY(first d0, end d(k-1), XOR lengths, d0 ^ d1 ^ ... ^ d(k-1))
 *
 * Layout: control-layout.ts (PARITY). Retransmissions are not parity-covered: they are
 * copies of datagrams already in a group.
 */
import { FrameLayout } from '@flux/udp';
import { ControlType, PARITY_END_SEQUENCE_OFFSET, PARITY_LENGTH_XOR_OFFSET, PARITY_PAYLOAD_OFFSET } from './control-layout.js';
import { type SessionToken, writeHeader, writeUint32LE } from './control-frames.js';
import { alignedBytes, xorInto } from './xor.js';

export class ParityEncoder {
  readonly groupDatagrams: number;
  /** The parity frame being built: header and body written when the group closes. */
  readonly frame: Uint8Array;
  private readonly frameWords: Int32Array;
  private datagrams = 0;
  private firstSequence = 0;
  private endSequence = 0;
  private lengthXor = 0;
  private longestPayloadBytes = 0;

  /** `maxDatagramBytes`: the longest DATA datagram added (its parity frame is PARITY_OVERHEAD_BYTES longer). */
  constructor(groupDatagrams: number, maxDatagramBytes: number) {
    this.groupDatagrams = groupDatagrams;
    const { bytes, words } = alignedBytes(PARITY_PAYLOAD_OFFSET + maxDatagramBytes - FrameLayout.DATAGRAM_HEADER_BYTES);
    this.frame = bytes;
    this.frameWords = words;
  }

  /** DATA datagrams in the open group. */
  get pending(): number {
    return this.datagrams;
  }

  /**
   * Adds the DATA datagram at bytes[offsetBytes, offsetBytes + lengthBytes) (offsetBytes a
   * multiple of 4; `words` views the same memory as `bytes`), frames [first, end).
   * Returns true when the group is full: close() it.
   */
  add(bytes: Uint8Array, words: Int32Array, offsetBytes: number, lengthBytes: number, firstSequence: number, endSequence: number): boolean {
    if (this.datagrams === 0) this.firstSequence = firstSequence;
    this.endSequence = endSequence;
    const payloadBytes = lengthBytes - FrameLayout.DATAGRAM_HEADER_BYTES;
    xorInto(this.frame, this.frameWords, PARITY_PAYLOAD_OFFSET, bytes, words, offsetBytes + FrameLayout.DATAGRAM_HEADER_BYTES, payloadBytes);
    this.lengthXor ^= payloadBytes;
    if (payloadBytes > this.longestPayloadBytes) this.longestPayloadBytes = payloadBytes;
    this.datagrams++;
    return this.datagrams === this.groupDatagrams;
  }

  /**
   * Closes the open group (at least one datagram): completes its PARITY frame in `frame` and
   * returns its length. Send it, then call reset() before the next add().
   */
  close(sessionId: number, streamId: number, token: SessionToken): number {
    const frame = this.frame;
    writeHeader(frame, ControlType.PARITY, 0, this.datagrams, sessionId, streamId, this.firstSequence, token);
    writeUint32LE(frame, PARITY_END_SEQUENCE_OFFSET, this.endSequence);
    writeUint32LE(frame, PARITY_LENGTH_XOR_OFFSET, this.lengthXor);
    return PARITY_PAYLOAD_OFFSET + this.longestPayloadBytes;
  }

  /** Starts a new group (the parity's bytes are zeroed). */
  reset(): void {
    this.frame.fill(0, PARITY_PAYLOAD_OFFSET, PARITY_PAYLOAD_OFFSET + this.longestPayloadBytes);
    this.datagrams = 0;
    this.lengthXor = 0;
    this.longestPayloadBytes = 0;
  }
}
