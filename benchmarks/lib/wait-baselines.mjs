// Hand-written SharedArrayBuffer baselines for the ring latency benches: what a skilled user
// writes without @flux/ring, in its minimal form, so each Flux wait strategy is compared with
// the plain primitive of the same kind.
//
// Ping-pong (bench_ring_ping_pong_latency): one SAB holds two 64 B slots and two sequence
// words. A side writes its slot (stamp in the first word, its complement in the last), then
// Atomics.store()s the message's sequence and Atomics.notify()s; the other side waits until
// the sequence word reaches the message it expects, with one of
//   wait       Atomics.wait (a futex sleep: the kind of wait BlockingWaitStrategy does)
//   waitAsync  Atomics.waitAsync (the event loop: AsyncWaitStrategy's kind)
//   spin       Atomics.load in a loop (one core per side: BusySpinWaitStrategy's kind)
//
// Pipeline queue (bench_ring_pipeline_latency): a single-producer single-consumer queue of
// fixed slots (a 4 B length, then up to maxMessageBytes) in one SAB, a published count and a
// consumed count; the consumer sleeps in Atomics.wait on the published count, the producer
// (when full) on the consumed count. A side about to sleep first raises its sleeping flag and
// looks again; the other side notifies only when it sees the flag after moving its count
// (both are sequentially consistent Atomics, so one of the two always sees the other): no
// futex call per message while both are busy, as a skilled user would write it.

/** Bytes of one ping-pong message. */
export const PING_PONG_MESSAGE_BYTES = 64;
const PING_SEQUENCE = 0; // Int32 index: messages the pinger has published
const PONG_SEQUENCE = 1; // ... and the ponger
const SLOT_WORDS = PING_PONG_MESSAGE_BYTES / 4;
const PING_SLOT_WORD = 16; // the slots start at byte 64, a cache line away from the sequence words
const PONG_SLOT_WORD = PING_SLOT_WORD + SLOT_WORDS * 2; // and a cache line apart from each other
const PING_PONG_BYTES = (PONG_SLOT_WORD + SLOT_WORDS) * 4;
const WAIT_TIMEOUT_MS = 10_000;
const SPINS_PER_CLOCK_READ = 256; // @flux/ring's busy spin reads the clock as often

export const PING_PONG_KINDS = ['wait', 'waitAsync', 'spin'];

export function createPingPongBuffer() {
  return new SharedArrayBuffer(PING_PONG_BYTES);
}

/** Writes message `stamp` into the slot at Int32 index `slotWord`: the stamp, and its complement last. */
export function writeSlot(int32, slotWord, stamp) {
  int32[slotWord] = stamp;
  int32[slotWord + SLOT_WORDS - 1] = ~stamp;
}

/**
 * A ping-pong side's check: messages must arrive in order (0, 1, 2, ...), each with its stamp
 * and the stamp's complement; a corrupted, missing or duplicated message counts as bad.
 */
export class SlotChecker {
  constructor() {
    this.expected = 0;
    this.bad = 0;
  }

  check(int32, slotWord) {
    const stamp = this.expected++;
    const ok = int32[slotWord] === stamp && int32[slotWord + SLOT_WORDS - 1] === ~stamp;
    if (!ok) this.bad++;
    return ok;
  }
}

/** Waits until Int32 `index` of `int32` is at least `target` (a count that only grows), by `kind`. */
function waitSync(int32, index, target, kind) {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    if (kind === 'wait') {
      const value = Atomics.load(int32, index);
      if (value >= target) return;
      if (Atomics.wait(int32, index, value, WAIT_TIMEOUT_MS) === 'timed-out') throw new Error(`sab wait: no message within ${WAIT_TIMEOUT_MS} ms`);
      continue;
    }
    // Spin: the clock is read once per SPINS_PER_CLOCK_READ loads, as BusySpinWaitStrategy does.
    for (let spin = 0; spin < SPINS_PER_CLOCK_READ; spin++) if (Atomics.load(int32, index) >= target) return;
    if (Date.now() > deadline) throw new Error(`sab spin: no message within ${WAIT_TIMEOUT_MS} ms`);
  }
}

async function waitAsyncFor(int32, index, target) {
  for (;;) {
    const value = Atomics.load(int32, index);
    if (value >= target) return;
    const result = Atomics.waitAsync(int32, index, value, WAIT_TIMEOUT_MS);
    if (result.async && (await result.value) === 'timed-out') throw new Error(`sab waitAsync: no message within ${WAIT_TIMEOUT_MS} ms`);
  }
}

/**
 * One side of the SAB ping-pong. The pinger sends message i, waits for the pong, and records
 * each round trip (one clock read per iteration) after `warmup`; the ponger answers each.
 * `start` is called once both sides are ready (the bench's barrier). Returns { rttNs, bad }.
 */
export async function sabPingPongSide({ role, buffer, kind, warmup, samples, start }) {
  const int32 = new Int32Array(buffer);
  const pinger = role === 'pinger';
  const [outSequence, outSlot, inSequence, inSlot] = pinger
    ? [PING_SEQUENCE, PING_SLOT_WORD, PONG_SEQUENCE, PONG_SLOT_WORD]
    : [PONG_SEQUENCE, PONG_SLOT_WORD, PING_SEQUENCE, PING_SLOT_WORD];
  const checker = new SlotChecker();
  const total = warmup + samples;
  const rttNs = new Float64Array(pinger ? samples : 0);
  const send = (i) => {
    writeSlot(int32, outSlot, i);
    Atomics.store(int32, outSequence, i + 1);
    // The spin side never sleeps, so it has no one to wake: a skilled user skips the notify.
    if (kind !== 'spin') Atomics.notify(int32, outSequence);
  };
  // A pending Atomics.waitAsync does not keep Node's event loop alive: a timer does (as
  // AsyncWaitStrategy keeps one), or the worker exits mid-wait.
  const keepAlive = kind === 'waitAsync' ? setInterval(() => {}, 2 ** 31 - 1) : null;
  start();
  let previous = performance.now();
  for (let i = 0; i < total; i++) {
    if (pinger) send(i);
    if (kind === 'waitAsync') await waitAsyncFor(int32, inSequence, i + 1);
    else waitSync(int32, inSequence, i + 1, kind);
    checker.check(int32, inSlot);
    if (!pinger) send(i);
    else {
      const now = performance.now();
      if (i >= warmup) rttNs[i - warmup] = (now - previous) * 1e6;
      previous = now;
    }
  }
  if (keepAlive) clearInterval(keepAlive);
  return { rttNs, bad: checker.bad };
}

// ---- the pipeline's SPSC queue ----------------------------------------------------------

const PUBLISHED = 0; // Int32 index: messages the producer has published
const CONSUMED = 16; // ... and the consumer has consumed (a cache line away)
const CONSUMER_SLEEPING = 1; // 1 while the consumer is (about to be) in Atomics.wait on PUBLISHED
const PRODUCER_SLEEPING = 17; // 1 while the producer is (about to be) in Atomics.wait on CONSUMED
const QUEUE_HEADER_BYTES = 128;
const LENGTH_BYTES = 4;

/** A queue's shared memory: `capacity` slots of `maxMessageBytes` (plus a length each). */
export function createSabQueue(capacity, maxMessageBytes) {
  const slotBytes = LENGTH_BYTES + maxMessageBytes;
  return { buffer: new SharedArrayBuffer(QUEUE_HEADER_BYTES + capacity * slotBytes), capacity, maxMessageBytes };
}

/** A handle on a queue made by createSabQueue (in any thread): one producer and one consumer. */
export class SabQueue {
  constructor({ buffer, capacity, maxMessageBytes }) {
    this.int32 = new Int32Array(buffer, 0, QUEUE_HEADER_BYTES / 4);
    this.bytes = new Uint8Array(buffer, QUEUE_HEADER_BYTES);
    this.view = new DataView(buffer, QUEUE_HEADER_BYTES);
    this.capacity = capacity;
    this.slotBytes = LENGTH_BYTES + maxMessageBytes;
    this.maxMessageBytes = maxMessageBytes;
    this.published = 0; // the producer's own copy of its count
    this.consumed = 0; // the consumer's own copy of its count
  }

  /**
   * Producer: the byte offset (in `this.bytes`) at which to write a message of `length` bytes,
   * sleeping (bounded by `timeoutMs`) while the queue is full; call publish() after writing.
   */
  claim(length, timeoutMs) {
    if (length > this.maxMessageBytes) throw new Error(`sab queue: ${length} B is above ${this.maxMessageBytes} B`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const consumed = Atomics.load(this.int32, CONSUMED);
      if (this.published - consumed < this.capacity) break;
      if (Date.now() > deadline) throw new Error(`sab queue: full for ${timeoutMs} ms`);
      Atomics.store(this.int32, PRODUCER_SLEEPING, 1);
      if (Atomics.load(this.int32, CONSUMED) === consumed) Atomics.wait(this.int32, CONSUMED, consumed, timeoutMs);
      Atomics.store(this.int32, PRODUCER_SLEEPING, 0);
    }
    const slot = (this.published % this.capacity) * this.slotBytes;
    this.view.setUint32(slot, length, true);
    return slot + LENGTH_BYTES;
  }

  publish() {
    Atomics.store(this.int32, PUBLISHED, ++this.published);
    if (Atomics.load(this.int32, CONSUMER_SLEEPING) === 1) Atomics.notify(this.int32, PUBLISHED);
  }

  /**
   * Consumer: sleeps (bounded by `timeoutMs`) until a message is published, then hands every
   * published one to handler(bytes, offset, length) in order and releases them. Returns how
   * many it handled (0: timed out).
   */
  drain(handler, timeoutMs) {
    let published = Atomics.load(this.int32, PUBLISHED);
    if (published === this.consumed) {
      Atomics.store(this.int32, CONSUMER_SLEEPING, 1);
      if (Atomics.load(this.int32, PUBLISHED) === published) Atomics.wait(this.int32, PUBLISHED, published, timeoutMs);
      Atomics.store(this.int32, CONSUMER_SLEEPING, 0);
      published = Atomics.load(this.int32, PUBLISHED);
    }
    const count = published - this.consumed;
    for (let n = this.consumed; n < published; n++) {
      const slot = (n % this.capacity) * this.slotBytes;
      handler(this.bytes, slot + LENGTH_BYTES, this.view.getUint32(slot, true));
    }
    if (count > 0) {
      this.consumed = published;
      Atomics.store(this.int32, CONSUMED, published);
      if (Atomics.load(this.int32, PRODUCER_SLEEPING) === 1) Atomics.notify(this.int32, CONSUMED);
    }
    return count;
  }
}
