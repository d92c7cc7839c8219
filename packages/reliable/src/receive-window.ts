/**
 * The receiver's hybrid window of datagrams that arrived ahead of the next expected
 * sequence (no I/O). Datagrams are copied into a fixed pool of slots and found again by
 * their first sequence, which never changes (a retransmission is the original datagram):
 *
 *   near: first - expected < ringFrames      ring[first & (ringFrames - 1)] -> slot   O(1), no allocation
 *   far:  further ahead                       Map<first, slot>, at most maxFarDatagrams entries
 *
 *   expected                       expected + ringFrames
 *      v                                    v
 *      | gap | d1 | gap | d2 d3 | ......... |   far: d9 ... (bounded)
 *
 * Both are bounded: the pool holds `maxDatagrams` slots, the map `maxFarDatagrams`, so no
 * sequence number, however hostile, grows memory; what does not fit is refused and counted
 * by the caller (the sender resends it when NAKed). Two datagrams in the ring cannot
 * collide: their first sequences would differ by at least ringFrames.
 *
 * Memory: nothing large until the first datagram is held (a session that never sees loss or
 * reordering never allocates it); from then on exactly `ReceiveWindow.bytesFor(...)`:
 * maxDatagrams x (maxDatagramBytes rounded up to 8, + 12 of bookkeeping) + ringFrames x 8.
 */
import { frameSequenceDelta } from './control-layout.js';
import { FluxRangeError } from '@flux/ring';

export const StoreResult = {
  STORED: 0,
  DUPLICATE: 1,
  /** No free slot, or the far map is full. */
  FULL: 2,
} as const;
export type StoreResultCode = (typeof StoreResult)[keyof typeof StoreResult];

export class ReceiveWindow {
  readonly ringFrames: number;
  readonly maxDatagrams: number;
  readonly maxFarDatagrams: number;
  /** The held datagrams' bytes (empty until the first is held). */
  bytes: Uint8Array = new Uint8Array(0);
  private readonly strideBytes: number;
  private readonly mask: number;
  /** Allocated on the first store (see the memory note above). */
  private allocated = false;
  /** ring[i]: the slot holding the datagram whose first sequence is tags[i], or -1. */
  private ring = new Int32Array(0);
  private tags = new Uint32Array(0);
  private readonly far = new Map<number, number>();
  private lengths = new Int32Array(0);
  private frames = new Int32Array(0);
  private freeSlots = new Int32Array(0);
  private freeCount: number;
  /** Held datagrams dropped to make room for nearer ones (see evictFurtherThan). */
  evictions = 0;

  constructor(ringFrames: number, maxDatagrams: number, maxDatagramBytes: number, maxFarDatagrams: number) {
    if (!Number.isInteger(ringFrames) || ringFrames < 2 || (ringFrames & (ringFrames - 1)) !== 0) {
      throw new FluxRangeError(`windowFrames must be a power of two of at least 2, got ${String(ringFrames)}`);
    }
    this.ringFrames = ringFrames;
    this.mask = ringFrames - 1;
    this.maxDatagrams = maxDatagrams;
    this.maxFarDatagrams = maxFarDatagrams;
    this.strideBytes = (maxDatagramBytes + 7) & ~7;
    this.freeCount = maxDatagrams;
  }

  /** Bytes a window of these dimensions allocates once it holds a datagram. */
  static bytesFor(ringFrames: number, maxDatagrams: number, maxDatagramBytes: number): number {
    const strideBytes = (maxDatagramBytes + 7) & ~7;
    return maxDatagrams * (strideBytes + 3 * Int32Array.BYTES_PER_ELEMENT) + ringFrames * (Int32Array.BYTES_PER_ELEMENT + Uint32Array.BYTES_PER_ELEMENT);
  }

  /** Bytes this window has allocated (0 until its first datagram is held). */
  get allocatedBytes(): number {
    return this.bytes.byteLength + this.ring.byteLength + this.tags.byteLength + this.lengths.byteLength + this.frames.byteLength + this.freeSlots.byteLength;
  }

  private allocate(): void {
    const maxDatagrams = this.maxDatagrams;
    this.bytes = new Uint8Array(maxDatagrams * this.strideBytes);
    this.ring = new Int32Array(this.ringFrames).fill(-1);
    this.tags = new Uint32Array(this.ringFrames);
    this.lengths = new Int32Array(maxDatagrams);
    this.frames = new Int32Array(maxDatagrams);
    this.freeSlots = new Int32Array(maxDatagrams);
    for (let i = 0; i < maxDatagrams; i++) this.freeSlots[i] = maxDatagrams - 1 - i;
    this.allocated = true;
  }

  /** Datagrams held. */
  get size(): number {
    return this.maxDatagrams - this.freeCount;
  }

  get farSize(): number {
    return this.far.size;
  }

  /**
   * Copies a datagram whose first sequence is `first`, `ahead` frames past the next
   * expected one (ahead > 0).
   */
  store(first: number, frameCount: number, bytes: Uint8Array, offsetBytes: number, lengthBytes: number, ahead: number): StoreResultCode {
    if (!this.allocated) this.allocate();
    const near = ahead < this.ringFrames;
    const index = first & this.mask;
    // A datagram first held far stays in the map when the window catches up with it.
    if (near && this.ring[index] >= 0 && this.tags[index] === first) return StoreResult.DUPLICATE;
    if (this.far.size > 0 && this.far.has(first)) return StoreResult.DUPLICATE;
    if (!near && this.far.size >= this.maxFarDatagrams) return StoreResult.FULL;
    if (this.freeCount === 0 && !this.evictFurtherThan((first - ahead) >>> 0, ahead)) return StoreResult.FULL;
    const slot = this.freeSlots[--this.freeCount];
    this.bytes.set(bytes.subarray(offsetBytes, offsetBytes + lengthBytes), slot * this.strideBytes);
    this.lengths[slot] = lengthBytes;
    this.frames[slot] = frameCount;
    if (near) {
      // An entry with another tag here lies behind the window (overlapping datagrams from a
      // faulty sender moved past it): free it rather than leak its slot.
      const stale = this.ring[index];
      if (stale >= 0) this.release(stale);
      this.ring[index] = slot;
      this.tags[index] = first;
    } else {
      this.far.set(first, slot);
    }
    return StoreResult.STORED;
  }

  /**
   * Frees the slot of the held datagram furthest ahead of `expected`, if it is further than
   * `ahead`: when the pool is full, data nearer the expected sequence is worth more (it
   * unblocks delivery); the evicted datagram is NAKed again later. Returns whether one was freed.
   */
  private evictFurtherThan(expected: number, ahead: number): boolean {
    let farthest = -1;
    let farthestAhead = ahead;
    for (const first of this.far.keys()) {
      const distance = frameSequenceDelta(first, expected);
      if (distance > farthestAhead) {
        farthestAhead = distance;
        farthest = first;
      }
    }
    if (farthest >= 0) {
      this.release(this.far.get(farthest)!);
      this.far.delete(farthest);
      this.evictions++;
      return true;
    }
    for (let offset = this.ringFrames - 1; offset > ahead; offset--) {
      const sequence = (expected + offset) >>> 0;
      const index = sequence & this.mask;
      if (this.ring[index] >= 0 && this.tags[index] === sequence) {
        this.release(this.ring[index]);
        this.ring[index] = -1;
        this.evictions++;
        return true;
      }
    }
    return false;
  }

  /** Whether a datagram starting at `sequence` is held near (the ring) or far. */
  has(sequence: number): boolean {
    if (!this.allocated) return false;
    const index = sequence & this.mask;
    if (this.ring[index] >= 0 && this.tags[index] === sequence >>> 0) return true;
    return this.far.size > 0 && this.far.has(sequence >>> 0);
  }

  /** The slot of the datagram starting at `sequence`, removed from the window (free it after use), or -1. */
  take(sequence: number): number {
    if (!this.allocated) return -1;
    const first = sequence >>> 0;
    const index = first & this.mask;
    const slot = this.ring[index];
    if (slot >= 0 && this.tags[index] === first) {
      this.ring[index] = -1;
      return slot;
    }
    if (this.far.size > 0) {
      const farSlot = this.far.get(first);
      if (farSlot !== undefined) {
        this.far.delete(first);
        return farSlot;
      }
    }
    return -1;
  }

  /** Frames of the datagram held at `sequence`, or 0 when none starts there. */
  framesAt(sequence: number): number {
    if (!this.allocated) return 0;
    const first = sequence >>> 0;
    const index = first & this.mask;
    const slot = this.ring[index];
    if (slot >= 0 && this.tags[index] === first) return this.frames[slot];
    if (this.far.size > 0) {
      const farSlot = this.far.get(first);
      if (farSlot !== undefined) return this.frames[farSlot];
    }
    return 0;
  }

  offsetOf(slot: number): number {
    return slot * this.strideBytes;
  }

  lengthOf(slot: number): number {
    return this.lengths[slot];
  }

  framesOf(slot: number): number {
    return this.frames[slot];
  }

  /** Returns a slot taken with take() to the pool. */
  release(slot: number): void {
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Drops every held datagram that starts before `sequence` (after a skipped gap); returns how many. */
  discardBefore(sequence: number): number {
    let discarded = 0;
    if (this.size === 0) return 0;
    for (let index = 0; index < this.ringFrames; index++) {
      const slot = this.ring[index];
      if (slot >= 0 && frameSequenceDelta(this.tags[index], sequence) < 0) {
        this.ring[index] = -1;
        this.release(slot);
        discarded++;
      }
    }
    for (const [first, slot] of this.far) {
      if (frameSequenceDelta(first, sequence) < 0) {
        this.far.delete(first);
        this.release(slot);
        discarded++;
      }
    }
    return discarded;
  }
}
