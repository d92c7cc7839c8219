/**
 * The publication's datagram buffers: one ArrayBuffer cut into equal entries, so io_uring
 * can register all of them at once and a send names an entry by index and offset.
 *
 *   pool.bytes: | entry 0 | entry 1 | ... | entry n-1 |     each strideBytes (datagramBytes
 *                ^ byteOffset = index x strideBytes          rounded up to 8 bytes)
 *
 * An entry holds one datagram: its headers and copied frames. When the last frame's payload
 * is sent in place from the ring (a long message or fragment), the entry holds the
 * datagram's first `lengthBytes - payloadBytes` bytes and the payload is ring bytes
 * [payloadOffsetBytes, payloadOffsetBytes + payloadBytes).
 */
import { type DatagramTarget, DatagramWriter } from './datagram-writer.js';

export interface PooledDatagram {
  readonly index: number;
  /** Where the entry starts in pool.bytes. */
  readonly byteOffset: number;
  /** The entry: pool.bytes[byteOffset, byteOffset + datagramBytes). */
  readonly buffer: Uint8Array;
  /** The buffer's views, made once (starting a datagram allocates nothing). */
  readonly target: DatagramTarget;
  /** The whole datagram's length, payload sent in place included. */
  lengthBytes: number;
  /** Bytes of the datagram sent from the ring instead of the entry (0: all in the entry). */
  payloadBytes: number;
  /** Where that payload starts in ring.bytes. */
  payloadOffsetBytes: number;
  messages: number;
  /** Ring slots this datagram finishes with: released when it and every earlier send completed. */
  slots: number;
  /** Its send completed (the kernel no longer reads its bytes). */
  completed: boolean;
}

export class DatagramPool {
  readonly bytes: Uint8Array;
  readonly entries: readonly PooledDatagram[];
  readonly strideBytes: number;
  private readonly free: PooledDatagram[];

  constructor(count: number, datagramBytes: number) {
    this.strideBytes = (datagramBytes + 7) & ~7;
    this.bytes = new Uint8Array(count * this.strideBytes);
    const entries: PooledDatagram[] = [];
    for (let index = 0; index < count; index++) {
      const byteOffset = index * this.strideBytes;
      const buffer = this.bytes.subarray(byteOffset, byteOffset + datagramBytes);
      entries.push({
        index,
        byteOffset,
        buffer,
        target: DatagramWriter.target(buffer),
        lengthBytes: 0,
        payloadBytes: 0,
        payloadOffsetBytes: 0,
        messages: 0,
        slots: 0,
        completed: false,
      });
    }
    this.entries = entries;
    this.free = entries.slice().reverse();
  }

  get freeEntries(): number {
    return this.free.length;
  }

  /** A free entry (the caller has checked `freeEntries`). */
  take(): PooledDatagram {
    return this.free.pop()!;
  }

  give(entry: PooledDatagram): void {
    this.free.push(entry);
  }
}
