/**
 * Packs frames into one datagram buffer (no I/O): the sender's half of frame-layout.ts.
 * Used by the publication for every datagram; tested on its own.
 */
import {
  DATAGRAM_FLAGS_OFFSET,
  DATAGRAM_HEADER_BYTES,
  FRAME_COUNT_OFFSET,
  FRAME_FLAGS_OFFSET,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_OFFSET,
  FRAME_RESERVED_OFFSET,
  FrameType,
  MAX_FRAMES_PER_DATAGRAM,
  PROTOCOL_VERSION,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  STREAM_ID_OFFSET,
  TYPE_OFFSET,
  VERSION_OFFSET,
} from './frame-layout.js';

/** Payloads up to this size are copied as int32 words when aligned (measured: 15 ns vs 65 ns for 64 B). */
const WORD_COPY_MAX_BYTES = 256;

/** A datagram buffer with the views the writer needs (see DatagramWriter.target). */
export interface DatagramTarget {
  readonly buffer: Uint8Array;
  readonly view: DataView;
  readonly words: Int32Array;
}

export class DatagramWriter {
  readonly sessionId: number;
  readonly streamId: number;
  readonly datagramBytes: number;
  /** Sequence the next frame will carry (u32, wraps). */
  nextSequence: number;
  private buffer: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private positionBytes = 0;
  /** Int32 view of the datagram's whole ArrayBuffer (word indexes are absolute). */
  private words: Int32Array = new Int32Array(0);
  private bufferByteOffset = 0;
  private source: Uint8Array | undefined;
  private sourceByteOffset = 0;
  private sourceWords: Int32Array = new Int32Array(0);
  private frames = 0;

  constructor(sessionId: number, streamId: number, datagramBytes: number, initialSequence = 0) {
    this.sessionId = sessionId >>> 0;
    this.streamId = streamId >>> 0;
    this.datagramBytes = datagramBytes;
    this.nextSequence = initialSequence >>> 0;
  }

  /**
   * Views of one datagram buffer, made once: pass the same target to `begin` every time the
   * buffer is reused, so starting a datagram allocates nothing.
   */
  static target(buffer: Uint8Array): DatagramTarget {
    return {
      buffer,
      view: new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength),
      words: new Int32Array(buffer.buffer, 0, buffer.buffer.byteLength >>> 2),
    };
  }

  /** Starts a datagram in `target` (a buffer of at least datagramBytes, or its views). */
  begin(target: Uint8Array | DatagramTarget): void {
    const views = target instanceof Uint8Array ? DatagramWriter.target(target) : target;
    this.buffer = views.buffer;
    this.view = views.view;
    this.words = views.words;
    this.bufferByteOffset = views.buffer.byteOffset;
    this.positionBytes = DATAGRAM_HEADER_BYTES;
    this.frames = 0;
  }

  get frameCount(): number {
    return this.frames;
  }

  get lengthBytes(): number {
    return this.positionBytes;
  }

  /** Payload bytes a next frame could carry in this datagram (0 if no frame fits). */
  get roomBytes(): number {
    if (this.frames === MAX_FRAMES_PER_DATAGRAM) return 0;
    return Math.max(0, this.datagramBytes - this.positionBytes - FRAME_HEADER_BYTES);
  }

  /** Appends a frame; the caller has checked `lengthBytes <= roomBytes`. */
  addFrame(source: Uint8Array, offsetBytes: number, lengthBytes: number, flags: number): void {
    const buffer = this.buffer;
    const payload = this.writeFrameHeader(lengthBytes, flags);
    if (source !== this.source) this.useSource(source);
    const sourceByte = this.sourceByteOffset + offsetBytes;
    const targetByte = this.bufferByteOffset + payload;
    if (lengthBytes <= WORD_COPY_MAX_BYTES && ((targetByte | sourceByte) & 3) === 0) {
      // Short and 4-aligned on both sides (ring slots are 8-aligned; frames stay aligned
      // while lengths are multiples of 4): int32 copies cost ~1/4 of subarray + set.
      const words = lengthBytes >>> 2;
      const from = this.sourceWords;
      const to = this.words;
      const fromWord = sourceByte >>> 2;
      const toWord = targetByte >>> 2;
      for (let i = 0; i < words; i++) to[toWord + i] = from[fromWord + i];
      for (let i = words << 2; i < lengthBytes; i++) buffer[payload + i] = source[offsetBytes + i];
    } else {
      buffer.set(source.subarray(offsetBytes, offsetBytes + lengthBytes), payload);
    }
    this.positionBytes = payload + lengthBytes;
    this.frames++;
  }

  /**
   * Appends a frame header for a payload the caller sends from elsewhere (scatter/gather):
   * the datagram is this buffer's first `lengthBytes - payloadBytes` bytes, then the payload.
   * It must be the datagram's last frame.
   */
  addFrameHeader(payloadBytes: number, flags: number): void {
    this.positionBytes = this.writeFrameHeader(payloadBytes, flags) + payloadBytes;
    this.frames++;
  }

  /** Writes a frame header at the current position; returns where its payload starts. */
  private writeFrameHeader(payloadBytes: number, flags: number): number {
    const buffer = this.buffer;
    const start = this.positionBytes;
    buffer[start + FRAME_LENGTH_OFFSET] = payloadBytes & 0xff; // little-endian u16
    buffer[start + FRAME_LENGTH_OFFSET + 1] = payloadBytes >>> 8;
    buffer[start + FRAME_FLAGS_OFFSET] = flags;
    buffer[start + FRAME_RESERVED_OFFSET] = 0;
    return start + FRAME_HEADER_BYTES;
  }

  /** Caches an int32 view of `source`'s whole buffer (word indexes are absolute). */
  private useSource(source: Uint8Array): void {
    this.source = source;
    this.sourceByteOffset = source.byteOffset;
    this.sourceWords = new Int32Array(source.buffer, 0, source.buffer.byteLength >>> 2);
  }

  /** Writes the header; returns the datagram's length. The frames' sequences are used up. */
  finish(): number {
    const view = this.view;
    view.setUint8(VERSION_OFFSET, PROTOCOL_VERSION);
    view.setUint8(TYPE_OFFSET, FrameType.DATA);
    view.setUint8(DATAGRAM_FLAGS_OFFSET, 0);
    view.setUint8(FRAME_COUNT_OFFSET, this.frames);
    view.setUint32(SESSION_ID_OFFSET, this.sessionId, true);
    view.setUint32(STREAM_ID_OFFSET, this.streamId, true);
    view.setUint32(SEQUENCE_OFFSET, this.nextSequence, true);
    this.nextSequence = (this.nextSequence + this.frames) >>> 0;
    return this.positionBytes;
  }
}
