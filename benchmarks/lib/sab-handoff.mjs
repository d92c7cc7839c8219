// The minimal SharedArrayBuffer handoff: the least a JavaScript producer thread and consumer
// thread can do to pass fixed-size messages through shared memory, and so the limit any ring
// written in JavaScript is measured against on this machine. One producer, one consumer, a
// power-of-two array of 64-byte slots, two counters, nothing else: no claim/publish
// protocol, no length per message, no gating sequences, no wait strategy but a spin.
//
//   Int32Array over the SharedArrayBuffer (byte offsets):
//   0     head: messages published (written by the producer, Atomics.store after the slots)
//   128   tail: messages consumed  (written by the consumer, Atomics.store after reading)
//   256   slot 0 | slot 1 | ... | slot capacity-1     (slot i holds message n where n & mask = i)
//
//   The counters are 128 bytes apart (two cache lines, so the adjacent-line prefetcher does
//   not pair them); the slots are written with plain stores and published by the head's
//   Atomics.store, which orders them before it (the ring's rule, SAFETY.md).
//
// The producer writes a batch as the Flux bench producers do (one copy of the batch's bytes,
// then each message's first int32 stamped with its index, or, per message, 16 int32 stores
// in place); the consumer reads in place whatever is ready and checks each stamp.
import { arriveAndWait } from './barrier.mjs';
import { batchTemplate } from './pairs.mjs';

const HEAD = 0; // int32 index
const TAIL = 32; // int32 index: byte 128
const DATA_OFFSET_BYTES = 256;
const DEADLINE_EVERY_SPINS = 1 << 12; // Date.now() once per this many empty spins

/** The shared memory of a handoff of `capacity` (a power of two) slots of `slotBytes`. */
export function createSabHandoff(capacity, slotBytes) {
  if (!Number.isInteger(Math.log2(capacity))) throw new RangeError(`capacity must be a power of two, got ${capacity}`);
  if (slotBytes % 4 !== 0) throw new RangeError(`slotBytes must be a multiple of 4, got ${slotBytes}`);
  return { buffer: new SharedArrayBuffer(DATA_OFFSET_BYTES + capacity * slotBytes), capacity, slotBytes };
}

/**
 * Worker role: writes `count` messages in batches of `batch` (a divisor of the capacity, so
 * no batch straddles the end). `inPlace`: each message written as 16 int32 stores in its
 * slot (the per-message bench's in-place write) instead of one copy of the batch.
 */
export function sabHandoffProducer({ handoff, count, batch, barrier, deadlineMs, inPlace = false }) {
  const { buffer, capacity, slotBytes } = handoff;
  if (capacity % batch !== 0) throw new RangeError(`batch ${batch} does not divide the capacity ${capacity}`);
  const control = new Int32Array(buffer, 0, DATA_OFFSET_BYTES >> 2);
  const bytes = new Uint8Array(buffer, DATA_OFFSET_BYTES);
  const int32 = new Int32Array(buffer, DATA_OFFSET_BYTES);
  const source = batchTemplate(batch, slotBytes);
  const mask = capacity - 1;
  const slotInt32s = slotBytes >> 2;
  const deadline = Date.now() + deadlineMs;
  let tailSeen = 0;
  let spins = 0;
  arriveAndWait(barrier, 2);
  for (let head = 0; head < count; head += batch) {
    while (head + batch - tailSeen > capacity) {
      tailSeen = Atomics.load(control, TAIL);
      if (++spins % DEADLINE_EVERY_SPINS === 0 && Date.now() > deadline) throw new Error('SAB handoff producer: deadline');
    }
    const first = head & mask;
    let word = first * slotInt32s;
    if (inPlace) {
      for (let n = head; n < head + batch; n++, word += slotInt32s) {
        int32[word] = n;
        for (let i = 1; i < slotInt32s; i++) int32[word + i] = n ^ i;
      }
    } else {
      bytes.set(source, first * slotBytes);
      for (let n = head; n < head + batch; n++, word += slotInt32s) int32[word] = n;
    }
    Atomics.store(control, HEAD, head + batch); // publishes the slots written above
  }
  return {};
}

/** Worker role: reads `count` messages in place, in whatever batches are ready, and checks each stamp. */
export function sabHandoffConsumer({ handoff, count, barrier, deadlineMs }) {
  const { buffer, capacity, slotBytes } = handoff;
  const control = new Int32Array(buffer, 0, DATA_OFFSET_BYTES >> 2);
  const int32 = new Int32Array(buffer, DATA_OFFSET_BYTES);
  const mask = capacity - 1;
  const slotInt32s = slotBytes >> 2;
  const deadline = Date.now() + deadlineMs;
  let tail = 0;
  let bad = 0;
  let spins = 0;
  arriveAndWait(barrier, 2);
  const start = performance.now();
  while (tail < count) {
    const head = Atomics.load(control, HEAD);
    if (head === tail) {
      if (++spins % DEADLINE_EVERY_SPINS === 0 && Date.now() > deadline) throw new Error('SAB handoff consumer: deadline');
      continue;
    }
    for (let n = tail; n < head; n++) if (int32[(n & mask) * slotInt32s] !== n) bad++;
    tail = head;
    Atomics.store(control, TAIL, tail); // the slots read above may be written again
  }
  return { elapsedMs: performance.now() - start, received: tail, bad };
}
