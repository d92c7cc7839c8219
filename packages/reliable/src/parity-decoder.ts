/**
 * The receiver's half of forward error correction: the payloads of the last `slots` DATA
 * datagrams a session accepted (in order or held out of order), kept so that a PARITY
 * datagram can rebuild the one datagram of its group that did not arrive, without a round
 * trip. Bounded: `slots` x the longest datagram, allocated once, when the session's first
 * PARITY arrives (a stream without FEC pays nothing).
 *
 *   history (circular, by arrival):  [first, end, payload length, payload copy] x slots
 *   PARITY [first, end), count k:    the k - 1 held members of [first, end) + one hole
 *                                    -> hole's frames, payload = parity ^ members, length = XOR ^ members'
 *
 * Recovery needs exactly k - 1 members held and one contiguous hole of at most 255 frames;
 * anything else (more loss in the group, a parity that arrived before the group's last
 * datagram, a member already overwritten in the history) leaves the hole to NAKs. The
 * rebuilt datagram goes through the receiver's usual DATA checks, so a forged or
 * inconsistent parity cannot deliver anything a DATA datagram could not.
 */
import { FrameLayout } from '@flux/udp';
import {
  COUNT_OFFSET,
  frameSequenceDelta,
  PARITY_END_SEQUENCE_OFFSET,
  PARITY_LENGTH_XOR_OFFSET,
  PARITY_PAYLOAD_OFFSET,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  STREAM_ID_OFFSET,
} from './control-layout.js';
import { readUint32LE, writeUint32LE } from './control-frames.js';
import { alignedBytes, xorInto } from './xor.js';

const HEADER_BYTES = FrameLayout.DATAGRAM_HEADER_BYTES;
const EMPTY = -1;

export class ParityDecoder {
  readonly slots: number;
  readonly maxPayloadBytes: number;
  /** The datagram recover() rebuilt (header included). */
  readonly datagram: Uint8Array;
  private readonly datagramWords: Int32Array;
  private readonly history: Uint8Array;
  private readonly historyWords: Int32Array;
  private readonly strideBytes: number;
  private readonly firsts: Uint32Array;
  private readonly ends: Uint32Array;
  private readonly payloadLengths: Int32Array;
  private next = 0;
  /** Slots of one group's members, sorted by sequence during recover(). */
  private readonly members: Int32Array;

  /** `slots`: datagrams remembered (at least the largest group); `maxDatagramBytes`: the longest remembered. */
  constructor(slots: number, maxDatagramBytes: number) {
    this.slots = slots;
    this.maxPayloadBytes = maxDatagramBytes - HEADER_BYTES;
    this.strideBytes = (this.maxPayloadBytes + 7) & ~7;
    const history = alignedBytes(slots * this.strideBytes);
    this.history = history.bytes;
    this.historyWords = history.words;
    const datagram = alignedBytes(maxDatagramBytes);
    this.datagram = datagram.bytes;
    this.datagramWords = datagram.words;
    this.firsts = new Uint32Array(slots);
    this.ends = new Uint32Array(slots);
    this.payloadLengths = new Int32Array(slots).fill(EMPTY);
    this.members = new Int32Array(slots);
  }

  /** Bytes a decoder of these dimensions allocates. */
  static bytesFor(slots: number, maxDatagramBytes: number): number {
    const strideBytes = (maxDatagramBytes - HEADER_BYTES + 7) & ~7;
    return ((slots * strideBytes + 7) & ~7) + ((maxDatagramBytes + 7) & ~7) + slots * 4 * Uint32Array.BYTES_PER_ELEMENT;
  }

  /** Bytes this decoder allocated. */
  get allocatedBytes(): number {
    return (
      this.history.byteLength +
      this.datagram.byteLength +
      this.firsts.byteLength +
      this.ends.byteLength +
      this.payloadLengths.byteLength +
      this.members.byteLength
    );
  }

  /** Remembers an accepted DATA datagram, frames [first, end); one longer than maxDatagramBytes is not remembered. */
  record(firstSequence: number, endSequence: number, bytes: Uint8Array, offsetBytes: number, lengthBytes: number): void {
    const payloadBytes = lengthBytes - HEADER_BYTES;
    if (payloadBytes > this.maxPayloadBytes) return;
    const slot = this.next;
    this.next = slot + 1 === this.slots ? 0 : slot + 1;
    this.firsts[slot] = firstSequence;
    this.ends[slot] = endSequence;
    this.payloadLengths[slot] = payloadBytes;
    this.history.set(bytes.subarray(offsetBytes + HEADER_BYTES, offsetBytes + lengthBytes), slot * this.strideBytes);
  }

  /**
   * Rebuilds the missing datagram of the PARITY frame at bytes[offsetBytes, + lengthBytes)
   * (checked by checkControl) into `datagram` and returns its length, or 0 when it cannot
   * (see above) or when the hole lies wholly before `expectedSequence` (already delivered).
   */
  recover(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, expectedSequence: number): number {
    const first = readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET);
    const end = readUint32LE(bytes, offsetBytes + PARITY_END_SEQUENCE_OFFSET);
    const count = bytes[offsetBytes + COUNT_OFFSET];
    const parityBytes = lengthBytes - PARITY_PAYLOAD_OFFSET;
    const span = frameSequenceDelta(end, first);
    if (frameSequenceDelta(end, expectedSequence) <= 0 || span < count || span > count * FrameLayout.MAX_FRAMES_PER_DATAGRAM) return 0;
    if (parityBytes > this.maxPayloadBytes || count - 1 > this.slots) return 0;

    // The group's members held, in sequence order (insertion sort: at most 31).
    const members = this.members;
    let held = 0;
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.payloadLengths[slot] === EMPTY) continue;
      if (frameSequenceDelta(this.firsts[slot], first) < 0 || frameSequenceDelta(this.ends[slot], end) > 0) continue;
      if (held === count - 1) return 0; // more than k - 1: nothing is missing, or the history is inconsistent
      let at = held++;
      while (at > 0 && frameSequenceDelta(this.firsts[members[at - 1]], this.firsts[slot]) > 0) {
        members[at] = members[at - 1];
        at--;
      }
      members[at] = slot;
    }
    if (held !== count - 1) return 0;

    // Exactly one hole, contiguous, of 1..255 frames.
    let cursor = first;
    let holeStart = -1;
    let holeEnd = 0;
    for (let i = 0; i < held; i++) {
      const slot = members[i];
      const gap = frameSequenceDelta(this.firsts[slot], cursor);
      if (gap < 0) return 0; // overlapping members
      if (gap > 0) {
        if (holeStart !== -1) return 0;
        holeStart = cursor;
        holeEnd = this.firsts[slot];
      }
      cursor = this.ends[slot];
    }
    if (cursor !== end) {
      if (holeStart !== -1) return 0;
      holeStart = cursor;
      holeEnd = end;
    }
    const holeFrames = frameSequenceDelta(holeEnd, holeStart);
    if (holeStart === -1 || holeFrames > FrameLayout.MAX_FRAMES_PER_DATAGRAM || frameSequenceDelta(holeEnd, expectedSequence) <= 0) return 0;

    // payload = parity ^ members; length = length XOR ^ members' lengths.
    let payloadBytes = readUint32LE(bytes, offsetBytes + PARITY_LENGTH_XOR_OFFSET);
    const datagram = this.datagram;
    datagram.set(bytes.subarray(offsetBytes + PARITY_PAYLOAD_OFFSET, offsetBytes + lengthBytes), HEADER_BYTES);
    for (let i = 0; i < held; i++) {
      const slot = members[i];
      const memberBytes = this.payloadLengths[slot];
      if (memberBytes > parityBytes) return 0;
      payloadBytes ^= memberBytes;
      xorInto(datagram, this.datagramWords, HEADER_BYTES, this.history, this.historyWords, slot * this.strideBytes, memberBytes);
    }
    if (payloadBytes < FrameLayout.FRAME_HEADER_BYTES || payloadBytes > parityBytes) return 0;

    datagram[FrameLayout.VERSION_OFFSET] = FrameLayout.PROTOCOL_VERSION; // a DATA datagram, as its sender wrote it
    datagram[FrameLayout.TYPE_OFFSET] = FrameLayout.FrameType.DATA;
    datagram[FrameLayout.DATAGRAM_FLAGS_OFFSET] = 0;
    datagram[FrameLayout.FRAME_COUNT_OFFSET] = holeFrames;
    writeUint32LE(datagram, FrameLayout.SESSION_ID_OFFSET, readUint32LE(bytes, offsetBytes + SESSION_ID_OFFSET));
    writeUint32LE(datagram, FrameLayout.STREAM_ID_OFFSET, readUint32LE(bytes, offsetBytes + STREAM_ID_OFFSET));
    writeUint32LE(datagram, FrameLayout.SEQUENCE_OFFSET, holeStart);
    return HEADER_BYTES + payloadBytes;
  }
}
