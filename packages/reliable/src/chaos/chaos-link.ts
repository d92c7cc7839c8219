/**
 * ChaosLink: a pure, deterministic model of one direction of a bad network, driven by a
 * virtual clock. No timers, no I/O: the caller pushes datagrams with the time it sent them
 * and polls with the time it is now; a copy comes out once its due time has come.
 *
 * ```
 *   push(bytes, nowNs)                                  poll(nowNs, deliver)
 *     |  decided now, in push order, from the seed          ^  every copy with dueNs <= nowNs,
 *     v                                                     |  by (dueNs, push order)
 *   +------------------+   +--------------------------------------+   +-------------------+
 *   | in a burst?      |   | copy 1, and copy 2 if duplicated;    |   | DueQueue          |
 *   | starts a burst?  |-->| each: due = nowNs + delayNs          |-->| min-heap of slots |
 *   | lost?  -> drop   |   |   + U[0, jitterNs]                   |   | <= maxQueued, else|
 *   +------------------+   |   + reorderDelayNs if reordered      |   | overflowed        |
 *                          |   maybe corrupted (corruption.ts)    |   +-------------------+
 *                          +--------------------------------------+
 * ```
 *
 * Determinism: every random decision is made at push time, in push order, each kind from its
 * own PRNG stream of the seed (see prng.ts). So the same seed and the same sequence of push
 * and poll calls (with the same nowNs values) give the same delivered bytes in the same order,
 * and which datagrams are lost depends only on the seed and the loss options, not on delay,
 * duplication, reordering or corruption settings.
 *
 * Loss: a datagram inside a burst is lost without a draw; otherwise it starts a burst with
 * burstStartPercent (it and the next burstLength-1 are lost), else it is lost with
 * lossPercent. Duplication, reordering, jitter and corruption apply to each surviving copy.
 *
 * Corruption is always structurally detectable. Real UDP checksums catch flipped payload
 * bits and the kernel drops such a datagram, which is loss, already modelled. So a corrupted
 * copy is, chosen by the PRNG: (a) truncated to a random shorter length 0..length-1, (b) its
 * byte 0 (the protocol version, always 1) set to a random value other than 1, or (c) replaced
 * by random bytes of a random length 0..length whose byte 0 is not 1. A receiver that checks
 * lengths and the version must drop it and count it. corruption.ts has the details.
 *
 * Memory: push copies the bytes into a reused slot (due-queue.ts); in steady state push and
 * poll allocate nothing. The bytes handed to `deliver` are valid only during that call.
 *
 * Contract: single-threaded. Pushing from inside `deliver` is allowed; a copy it makes that is
 * already due is delivered by the same poll.
 */
import { FluxRangeError, FluxTypeError } from '@flux/ring';
import { Counters } from '@flux/udp';
import { type ChaosOptions, type ResolvedChaosOptions, resolveChaosOptions } from './chaos-options.js';
import { corrupt } from './corruption.js';
import { DueQueue, type Slot } from './due-queue.js';
import { Sfc32 } from './prng.js';

export type { ChaosOptions } from './chaos-options.js';

/** Receives one delivered datagram: bytes[offsetBytes, offsetBytes + lengthBytes), valid only during the call. */
export type DeliverHandler = (bytes: Uint8Array, offsetBytes: number, lengthBytes: number) => void;

/** PRNG stream per kind of decision, so each kind's draws are independent of the others'. */
const Stream = {
  LOSS: 0,
  DUPLICATE: 1,
  REORDER: 2,
  JITTER: 3,
  CORRUPT: 4,
} as const;

/** Plain numbers, updated by push and poll. Every pushed datagram is lost, overflowed or delivered. */
export class ChaosCounters extends Counters {
  pushed = 0;
  /** Pushes dropped by random loss or a burst. */
  lost = 0;
  /** Extra copies made (each is then delivered or overflowed like any copy). */
  duplicated = 0;
  /** Copies queued with the extra reorderDelayNs. */
  reordered = 0;
  /** Copies queued corrupted. */
  corrupted = 0;
  delivered = 0;
  /** Copies dropped because maxQueued copies were already held. */
  overflowed = 0;
}

export class ChaosLink {
  readonly counters = new ChaosCounters();
  readonly options: ResolvedChaosOptions;
  private readonly queue: DueQueue;
  private readonly lossRandom: Sfc32;
  private readonly duplicateRandom: Sfc32;
  private readonly reorderRandom: Sfc32;
  private readonly jitterRandom: Sfc32;
  private readonly corruptRandom: Sfc32;
  /** Datagrams of the current burst still to lose. */
  private burstRemaining = 0;
  /** Order of the next queued copy. */
  private nextOrder = 0;

  constructor(options: ChaosOptions) {
    this.options = resolveChaosOptions(options);
    const seed = this.options.seed;
    this.queue = new DueQueue(this.options.maxQueued);
    this.lossRandom = new Sfc32(seed, Stream.LOSS);
    this.duplicateRandom = new Sfc32(seed, Stream.DUPLICATE);
    this.reorderRandom = new Sfc32(seed, Stream.REORDER);
    this.jitterRandom = new Sfc32(seed, Stream.JITTER);
    this.corruptRandom = new Sfc32(seed, Stream.CORRUPT);
  }

  /** Copies held, waiting to be due. */
  get queued(): number {
    return this.queue.size;
  }

  /** Sends bytes[offsetBytes, offsetBytes + lengthBytes) at nowNs. The bytes are copied. */
  push(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): void {
    if (!(bytes instanceof Uint8Array)) throw new FluxTypeError(`bytes must be a Uint8Array, got ${String(bytes)}`);
    if (!Number.isInteger(offsetBytes) || offsetBytes < 0) {
      throw new FluxRangeError(`offsetBytes must be an integer >= 0, got ${offsetBytes}`);
    }
    if (!Number.isInteger(lengthBytes) || lengthBytes < 0 || offsetBytes + lengthBytes > bytes.length) {
      throw new FluxRangeError(`lengthBytes must be an integer in 0..${bytes.length - offsetBytes}, got ${lengthBytes}`);
    }
    if (lengthBytes > this.options.maxDatagramBytes) {
      throw new FluxRangeError(`lengthBytes ${lengthBytes} exceeds maxDatagramBytes ${this.options.maxDatagramBytes}`);
    }
    checkNowNs(nowNs);
    this.counters.pushed++;
    if (this.isLost()) {
      this.counters.lost++;
      return;
    }
    this.enqueue(bytes, offsetBytes, lengthBytes, nowNs);
    const duplicatePercent = this.options.duplicatePercent;
    if (duplicatePercent > 0 && this.duplicateRandom.chancePercent(duplicatePercent)) {
      this.counters.duplicated++;
      this.enqueue(bytes, offsetBytes, lengthBytes, nowNs);
    }
  }

  /** The earliest due time of a held copy, or undefined when none is held. */
  nextDueNs(): number | undefined {
    return this.queue.peek()?.dueNs;
  }

  /**
   * Delivers every copy due at or before nowNs, in due-time order, ties in push order, and
   * returns how many. If `deliver` throws, that copy still counts as delivered and is released,
   * and the error propagates (later copies stay queued).
   */
  poll(nowNs: number, deliver: DeliverHandler): number {
    checkNowNs(nowNs);
    if (typeof deliver !== 'function') throw new FluxTypeError(`deliver must be a function, got ${String(deliver)}`);
    const queue = this.queue;
    let count = 0;
    for (;;) {
      const first = queue.peek();
      if (first === undefined || first.dueNs > nowNs) break;
      queue.remove();
      this.counters.delivered++;
      count++;
      try {
        deliver(first.bytes, 0, first.lengthBytes);
      } finally {
        queue.release(first);
      }
    }
    return count;
  }

  private isLost(): boolean {
    if (this.burstRemaining > 0) {
      this.burstRemaining--;
      return true;
    }
    const { burstStartPercent, lossPercent } = this.options;
    if (burstStartPercent > 0 && this.lossRandom.chancePercent(burstStartPercent)) {
      this.burstRemaining = this.options.burstLength - 1;
      return true;
    }
    return lossPercent > 0 && this.lossRandom.chancePercent(lossPercent);
  }

  /** Decides one copy's delay and damage, then queues it (or counts it as overflowed). */
  private enqueue(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): void {
    const { delayNs, jitterNs, reorderPercent, reorderDelayNs, corruptPercent } = this.options;
    let dueNs = nowNs + delayNs;
    if (jitterNs > 0) dueNs += Math.floor(this.jitterRandom.nextFloat() * (jitterNs + 1));
    const reordered = reorderPercent > 0 && this.reorderRandom.chancePercent(reorderPercent);
    if (reordered) dueNs += reorderDelayNs;
    const corrupted = corruptPercent > 0 && this.corruptRandom.chancePercent(corruptPercent);

    const slot: Slot | undefined = this.queue.take(lengthBytes);
    if (slot === undefined) {
      this.counters.overflowed++;
      return;
    }
    copyBytes(bytes, offsetBytes, lengthBytes, slot.bytes);
    slot.lengthBytes = lengthBytes;
    slot.dueNs = dueNs;
    slot.order = this.nextOrder++;
    if (reordered) this.counters.reordered++;
    if (corrupted && corrupt(slot, this.corruptRandom)) this.counters.corrupted++;
    this.queue.insert(slot);
  }
}

/** Copies without making a subarray view (push allocates nothing). */
function copyBytes(source: Uint8Array, offsetBytes: number, lengthBytes: number, target: Uint8Array): void {
  if (offsetBytes === 0 && lengthBytes === source.length) {
    target.set(source);
    return;
  }
  for (let index = 0; index < lengthBytes; index++) target[index] = source[offsetBytes + index];
}

function checkNowNs(nowNs: number): void {
  if (typeof nowNs !== 'number' || !Number.isFinite(nowNs)) {
    throw new FluxRangeError(`nowNs must be a finite number, got ${String(nowNs)}`);
  }
}
