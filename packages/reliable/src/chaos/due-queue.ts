/**
 * The datagram copies a ChaosLink holds until they are due: a binary min-heap of slots keyed
 * by (dueNs, order), plus a free list of slots whose buffers are reused.
 *
 * ```
 *                 heap[0]  (smallest dueNs; equal dueNs: smallest order)
 *                /       \
 *          heap[1]       heap[2]          children of i: 2i+1, 2i+2
 *          /    \        /    \
 *        ...    ...    ...    ...         heap[size..] : stale, ignored
 *
 *   free[0..freeCount) : released slots, most recent last (taken first)
 * ```
 *
 * A slot's buffer is allocated the first time the slot needs that many bytes (rounded up to a
 * power of two, at least MIN_SLOT_BYTES) and kept when the slot is released, so once the
 * queue has seen its peak depth and datagram sizes, take/insert/remove allocate nothing. The
 * heap and free arrays only grow (their length never shrinks; `size` and `freeCount` mark the
 * live part), up to the queue's capacity.
 */

/** Smallest buffer a slot gets, so tiny datagrams do not cause a string of regrowths. */
export const MIN_SLOT_BYTES = 64;

const EMPTY_BYTES = new Uint8Array(0);

export class Slot {
  bytes: Uint8Array = EMPTY_BYTES;
  lengthBytes = 0;
  dueNs = 0;
  /** Copy order: breaks dueNs ties so equal-time copies come out in push order. */
  order = 0;
}

function roundUpBytes(lengthBytes: number): number {
  let capacityBytes = MIN_SLOT_BYTES;
  while (capacityBytes < lengthBytes) capacityBytes *= 2;
  return capacityBytes;
}

function before(left: Slot, right: Slot): boolean {
  return left.dueNs < right.dueNs || (left.dueNs === right.dueNs && left.order < right.order);
}

export class DueQueue {
  private readonly heap: Slot[] = [];
  private readonly free: Slot[] = [];
  private heapSize = 0;
  private freeCount = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.heapSize;
  }

  /** The first slot out, or undefined when empty. */
  peek(): Slot | undefined {
    return this.heapSize === 0 ? undefined : this.heap[0];
  }

  /**
   * A slot whose buffer holds at least `lengthBytes`, not yet in the queue; undefined when the
   * queue is at capacity. Give it back with insert() or release().
   */
  take(lengthBytes: number): Slot | undefined {
    if (this.heapSize >= this.capacity) return undefined;
    let slot: Slot;
    if (this.freeCount > 0) {
      this.freeCount--;
      slot = this.free[this.freeCount];
    } else {
      slot = new Slot();
    }
    if (slot.bytes.length < lengthBytes) slot.bytes = new Uint8Array(roundUpBytes(lengthBytes));
    return slot;
  }

  insert(slot: Slot): void {
    let index = this.heapSize++;
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(slot, heap[parent])) break;
      heap[index] = heap[parent];
      index = parent;
    }
    heap[index] = slot;
  }

  /** Takes the first slot out of the queue (call release() when done with its bytes). */
  remove(): Slot | undefined {
    if (this.heapSize === 0) return undefined;
    const heap = this.heap;
    const first = heap[0];
    const last = heap[--this.heapSize];
    const size = this.heapSize;
    let index = 0;
    for (;;) {
      const leftChild = 2 * index + 1;
      if (leftChild >= size) break;
      const rightChild = leftChild + 1;
      const child = rightChild < size && before(heap[rightChild], heap[leftChild]) ? rightChild : leftChild;
      if (!before(heap[child], last)) break;
      heap[index] = heap[child];
      index = child;
    }
    if (size > 0) heap[index] = last;
    return first;
  }

  release(slot: Slot): void {
    this.free[this.freeCount++] = slot;
  }
}
