/**
 * Packs messages from a @flux/ring into datagrams (no I/O): as many whole messages as fit
 * each datagram, a long message alone (in place or copied) or as fragments BEGIN ... END.
 * Used by the publication (packages/udp) and by @flux/reliable's sender, which copies every
 * frame into its retransmit buffer and caps the frames per datagram (its flow-control window).
 *
 *   ring: | packed, not released | unpacked ... |
 *          ^ consumer.nextSequence  ^ + pendingSlots: the next pack starts here
 *
 * Slots are not released here: the caller releases them (releaseSlots) once nothing reads
 * them any more (the datagram's send completed, for a payload sent in place).
 */
import { ABORTED_LENGTH, type Consumer, type Ring, SEQUENCE_MASK } from '@flux/ring';
import type { DatagramTarget, DatagramWriter } from './datagram-writer.js';
import { FrameFlag } from './frame-layout.js';

/** What one pack() produced; the publication's pool entries are such records. */
export interface PackedDatagram {
  /** The whole datagram's length (0: nothing but aborted slots), payload in place included. */
  lengthBytes: number;
  /** Bytes of the last frame's payload left in the ring, sent in place (0: all copied). */
  payloadBytes: number;
  /** Where that payload starts in ring.bytes. */
  payloadOffsetBytes: number;
  messages: number;
  /** Ring slots this datagram finishes with. */
  slots: number;
}

export class RingPacker {
  /** Slots packed into datagrams and not yet released. */
  pendingSlots = 0;
  /** Bytes of the first message not yet fully in a datagram that earlier fragments carried. */
  private fragmentOffsetBytes = 0;

  constructor(
    private readonly ring: Ring,
    private readonly consumer: Consumer,
    private readonly writer: DatagramWriter,
    private readonly maxFramePayloadBytes: number,
    /** fragmentsSent counts each frame of a message sent in more than one. */
    private readonly counters: { fragmentsSent: number },
  ) {}

  /** Readable slots not yet packed into a datagram. */
  unpacked(): number {
    const ready = this.consumer.available() - this.pendingSlots;
    return ready > 0 ? ready : 0;
  }

  /**
   * Fills `target` from the first slot not yet in a datagram, reading at most `available`
   * slots and writing at most `maxFrames` frames; records the result in `into` and returns
   * slots consumed plus frames written (0: no progress). Frames of at least
   * `inPlaceMinBytes` go alone, payload left in the ring (Infinity: always copy).
   */
  pack(target: DatagramTarget, into: PackedDatagram, available: number, inPlaceMinBytes: number, maxFrames = 255): number {
    const ring = this.ring;
    const bytes = ring.bytes;
    const lengths = ring.lengths;
    const mask = ring.indexMask;
    // The sequences walked here are the ring's own: offsets come from its geometry, unchecked (ring.offsetOf checks its argument).
    const dataOffsetBytes = ring.dataOffsetBytes;
    const strideBytes = ring.slotStrideBytes;
    const writer = this.writer;
    writer.begin(target);
    into.payloadBytes = 0;
    let sequence = (this.consumer.nextSequence + this.pendingSlots) & SEQUENCE_MASK;
    let consumed = 0;
    let messages = 0;
    while (consumed < available && writer.frameCount < maxFrames) {
      const lengthBytes = lengths[sequence & mask];
      if (lengthBytes === ABORTED_LENGTH) {
        consumed++;
        sequence = (sequence + 1) & SEQUENCE_MASK;
        continue;
      }
      const offset = dataOffsetBytes + (sequence & mask) * strideBytes;
      const room = writer.roomBytes;
      if (this.fragmentOffsetBytes === 0 && lengthBytes <= room && (lengthBytes < inPlaceMinBytes || writer.frameCount > 0)) {
        writer.addFrame(bytes, offset, lengthBytes, FrameFlag.UNFRAGMENTED);
        consumed++;
        messages++;
        sequence = (sequence + 1) & SEQUENCE_MASK;
        continue;
      }
      // A long message, or one that does not fit here. One that fits a datagram waits for
      // the next; otherwise it goes alone, in place, whole or as fragments.
      if (writer.frameCount > 0) break;
      const chunkBytes = Math.min(lengthBytes - this.fragmentOffsetBytes, this.maxFramePayloadBytes);
      const isFirst = this.fragmentOffsetBytes === 0;
      const isLast = this.fragmentOffsetBytes + chunkBytes === lengthBytes;
      const flags = (isFirst ? FrameFlag.BEGIN : 0) | (isLast ? FrameFlag.END : 0);
      const start = offset + this.fragmentOffsetBytes;
      if (chunkBytes >= inPlaceMinBytes) {
        writer.addFrameHeader(chunkBytes, flags);
        into.payloadOffsetBytes = start;
        into.payloadBytes = chunkBytes;
      } else {
        writer.addFrame(bytes, start, chunkBytes, flags);
      }
      if (!(isFirst && isLast)) this.counters.fragmentsSent++;
      if (isLast) {
        this.fragmentOffsetBytes = 0;
        consumed++;
        messages++;
      } else {
        this.fragmentOffsetBytes += chunkBytes;
      }
      break; // an in-place frame or a fragment is its datagram's only frame
    }
    this.pendingSlots += consumed;
    into.slots = consumed;
    into.messages = messages;
    const frames = writer.frameCount;
    into.lengthBytes = frames > 0 ? writer.finish() : 0;
    return consumed + frames;
  }
}
