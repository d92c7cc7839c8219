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

export class DatagramWriter {
  readonly sessionId: number;
  readonly streamId: number;
  readonly datagramBytes: number;
  /** Sequence the next frame will carry (u32, wraps). */
  nextSequence: number;
  private buffer: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private positionBytes = 0;
  private frames = 0;

  constructor(sessionId: number, streamId: number, datagramBytes: number, initialSequence = 0) {
    this.sessionId = sessionId >>> 0;
    this.streamId = streamId >>> 0;
    this.datagramBytes = datagramBytes;
    this.nextSequence = initialSequence >>> 0;
  }

  /** Starts a datagram in `buffer` (at least datagramBytes long). */
  begin(buffer: Uint8Array): void {
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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
    const start = this.positionBytes;
    this.view.setUint16(start + FRAME_LENGTH_OFFSET, lengthBytes, true);
    this.buffer[start + FRAME_FLAGS_OFFSET] = flags;
    this.buffer[start + FRAME_RESERVED_OFFSET] = 0;
    this.buffer.set(source.subarray(offsetBytes, offsetBytes + lengthBytes), start + FRAME_HEADER_BYTES);
    this.positionBytes = start + FRAME_HEADER_BYTES + lengthBytes;
    this.frames++;
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
