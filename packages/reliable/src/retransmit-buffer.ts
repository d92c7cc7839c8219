/**
 * The sender's bounded history of sent DATA datagrams, for retransmission: a circular
 * array of `capacity` datagram slots in one ArrayBuffer, oldest to newest in sequence order.
 * A datagram is packed straight into its slot, sent from it, and retransmitted from it byte
 * for byte, never consumed by a retransmission; it leaves the history when the receiver
 * reports it consumed (`releaseConsumed`) or, under the 'overwrite' policy, when the slot
 * is needed for a newer datagram (`evictOldest`).
 *
 *   slots:  [ oldest ... newest | free ... ]  (circular)
 *            ^ head              ^ head + count
 *   per slot: first sequence, end sequence (exclusive), length, sends the socket still reads
 *
 * A slot with a send under way (the socket still reads its bytes) is never rewritten.
 */
import { type DatagramTarget, DatagramWriter } from '@flux/udp';
import { frameSequenceDelta } from './control-layout.js';
import { FluxRangeError } from '@flux/ring';

export class RetransmitBuffer {
  readonly capacity: number;
  readonly datagramBytes: number;
  readonly bytes: Uint8Array;
  /** The same memory as `bytes`, as words (parity is computed word-wise). */
  readonly words: Int32Array;
  /** Bytes from one slot's start to the next's (a multiple of 8). */
  readonly strideBytes: number;
  /** Per slot: the writer's views of its bytes, made once. */
  readonly targets: DatagramTarget[];
  /** Per slot: its bytes as a view (send from these). */
  readonly views: Uint8Array[];
  private readonly firstSequences: Uint32Array;
  private readonly endSequences: Uint32Array;
  private readonly lengths: Int32Array;
  private readonly pendingSends: Int32Array;
  private head = 0;
  private count = 0;
  /** Bytes of the datagrams held: under 'back-pressure', exactly those the receiver has not consumed. */
  heldBytes = 0;

  constructor(capacity: number, datagramBytes: number) {
    if (!Number.isInteger(capacity) || capacity < 2)
      throw new FluxRangeError(`retransmit buffer capacity must be an integer of at least 2, got ${String(capacity)}`);
    this.capacity = capacity;
    this.datagramBytes = datagramBytes;
    const strideBytes = (datagramBytes + 7) & ~7;
    this.strideBytes = strideBytes;
    const buffer = new ArrayBuffer(capacity * strideBytes);
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.views = [];
    this.targets = [];
    for (let slot = 0; slot < capacity; slot++) {
      const view = this.bytes.subarray(slot * strideBytes, slot * strideBytes + datagramBytes);
      this.views.push(view);
      this.targets.push(DatagramWriter.target(view));
    }
    this.firstSequences = new Uint32Array(capacity);
    this.endSequences = new Uint32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.pendingSends = new Int32Array(capacity);
  }

  /** Datagrams held. */
  get size(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count === this.capacity;
  }

  /** The slot the next datagram goes in (valid when not full), or -1 while its last send is still under way. */
  nextSlot(): number {
    const slot = (this.head + this.count) % this.capacity;
    return this.pendingSends[slot] === 0 ? slot : -1;
  }

  /** Records the datagram just packed into nextSlot(): frames [firstSequence, endSequence). */
  append(slot: number, firstSequence: number, endSequence: number, lengthBytes: number): void {
    this.firstSequences[slot] = firstSequence;
    this.endSequences[slot] = endSequence;
    this.lengths[slot] = lengthBytes;
    this.heldBytes += lengthBytes;
    this.count++;
  }

  /** Drops the oldest datagram (the 'overwrite' policy, when full). */
  evictOldest(): void {
    if (this.count === 0) return;
    this.heldBytes -= this.lengths[this.head];
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /** Drops every datagram whose frames all lie before `consumedSequence`. */
  releaseConsumed(consumedSequence: number): void {
    while (this.count > 0 && frameSequenceDelta(this.endSequences[this.head], consumedSequence) <= 0) {
      this.heldBytes -= this.lengths[this.head];
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }

  /** The slot of the oldest datagram held (valid when not empty). */
  oldestSlot(): number {
    return this.head;
  }

  /** First sequence still held (undefined when empty). */
  oldestSequence(): number | undefined {
    return this.count === 0 ? undefined : this.firstSequences[this.head];
  }

  /** The slot holding `sequence`, or -1 (before the oldest, after the newest, or empty). */
  find(sequence: number): number {
    let low = 0;
    let high = this.count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const slot = (this.head + middle) % this.capacity;
      if (frameSequenceDelta(sequence, this.firstSequences[slot]) < 0) high = middle - 1;
      else if (frameSequenceDelta(sequence, this.endSequences[slot]) >= 0) low = middle + 1;
      else return slot;
    }
    return -1;
  }

  /** The slot after `slot` in sequence order, or -1 after the newest. */
  following(slot: number): number {
    const index = (slot - this.head + this.capacity) % this.capacity;
    return index + 1 < this.count ? (slot + 1) % this.capacity : -1;
  }

  firstSequenceOf(slot: number): number {
    return this.firstSequences[slot];
  }

  endSequenceOf(slot: number): number {
    return this.endSequences[slot];
  }

  lengthOf(slot: number): number {
    return this.lengths[slot];
  }

  /** A send of `slot` was handed to the socket. */
  sendStarted(slot: number): void {
    this.pendingSends[slot]++;
  }

  /** The socket finished with a send of `slot`. */
  sendCompleted(slot: number): void {
    this.pendingSends[slot]--;
  }
}
