/**
 * A Flux ring: one SharedArrayBuffer shared by any number of threads.
 *
 * Contract (who may call what, from which thread):
 * - `Ring.create` allocates and initialises the buffer once; `Ring.attach(handle)` wraps the
 *   same buffer in another thread (post `ring.handle` to a worker).
 * - `createProducer()` returns a thread-local producer. In single-producer mode only one
 *   may ever exist (across all threads); in multi-producer mode any thread may create one.
 * - `addConsumer()` registers a gating consumer and returns its id; `openConsumer(id)`
 *   returns the thread-local reader for it. One thread reads as a given consumer.
 * - `removeConsumer(id)` releases a consumer whose thread is gone, from any thread.
 *
 * The memory layout is in layout.ts; the memory-ordering argument is in SAFETY.md.
 */
import { NOT_CONNECTED } from './codes.js';
import { requireInteger } from './validate.js';
import { Consumer } from './consumer.js';
import {
  CAPACITY_INDEX,
  CLAIM_SEQUENCE_INDEX,
  computeGeometry,
  CONSUMER_AFTER_MASK_FIELD,
  CONSUMER_GENERATION_FIELD,
  CONSUMER_SEQUENCE_FIELD,
  CONSUMER_STATE_FIELD,
  consumerFieldIndex,
  ConsumerState,
  CURSOR_INDEX,
  LAYOUT_VERSION,
  LAYOUT_VERSION_INDEX,
  MAGIC_INDEX,
  MAX_CAPACITY,
  MAX_CONSUMERS,
  MAX_CONSUMERS_INDEX,
  MAX_MESSAGE_BYTES_INDEX,
  MAX_RING_BYTES,
  PRODUCER_MODE_INDEX,
  ProducerMode,
  type ProducerModeName,
  RING_MAGIC,
  type RingGeometry,
  SLEEPERS_INDEX,
  SLOT_STRIDE_BYTES_INDEX,
  WAKE_INDEX,
} from './layout.js';
import { MultiProducer } from './multi-producer.js';
import type { Producer } from './producer.js';
import { addSequence, INITIAL_SEQUENCE, sequenceDiff } from './sequence.js';
import { SingleProducer } from './single-producer.js';
import { FluxRangeError, FluxTypeError } from './errors.js';

export interface RingOptions {
  /** Number of slots: a power of two from 2 to 2^29. */
  capacity: number;
  /** Largest message in bytes (0 allowed). Longer messages throw a RangeError; none is truncated. */
  maxMessageBytes: number;
  /** `'single'` (default): one producer, no CAS. `'multi'`: any number of producers in any threads. */
  producerMode?: ProducerModeName;
  /** Consumer regions to reserve, 1 to 32 (default 8). */
  maxConsumers?: number;
}

/** Structured-clonable: post it to a worker and `Ring.attach` it there. */
export interface RingHandle {
  readonly kind: 'flux.ring';
  readonly layoutVersion: number;
  readonly buffer: SharedArrayBuffer;
}

export interface AddConsumerOptions {
  /** Consumer ids this one runs after: it never reads a slot they have not released. */
  after?: readonly number[];
}

export class Ring {
  readonly buffer: SharedArrayBuffer;
  readonly geometry: RingGeometry;
  readonly capacity: number;
  /** `sequence & indexMask` is a sequence's slot index. */
  readonly indexMask: number;
  readonly maxMessageBytes: number;
  readonly slotStrideBytes: number;
  readonly producerMode: ProducerModeName;
  /** The whole buffer, for in-place reads and writes at `offsetOf(sequence)`. */
  readonly bytes: Uint8Array;
  /** The whole buffer as int32s: control words, and in-place payload writes at `offsetOf(sequence) >> 2`. */
  readonly int32: Int32Array;
  /** One int32 per slot: the length of the message in it. */
  readonly lengths: Int32Array;
  /** Multi-producer only: per slot, the last sequence of the batch that starts there. */
  readonly available: Int32Array;
  private readonly dataOffsetBytes: number;

  private constructor(buffer: SharedArrayBuffer, geometry: RingGeometry) {
    this.buffer = buffer;
    this.geometry = geometry;
    this.capacity = geometry.capacity;
    this.indexMask = geometry.capacity - 1;
    this.maxMessageBytes = geometry.maxMessageBytes;
    this.slotStrideBytes = geometry.slotStrideBytes;
    this.producerMode = geometry.producerMode;
    this.dataOffsetBytes = geometry.dataOffsetBytes;
    this.bytes = new Uint8Array(buffer);
    this.int32 = new Int32Array(buffer);
    this.lengths = new Int32Array(buffer, geometry.lengthsOffsetBytes, geometry.capacity);
    this.available = new Int32Array(
      buffer,
      geometry.availableOffsetBytes,
      geometry.producerMode === 'multi' ? geometry.capacity : 0,
    );
  }

  /** Allocates and initialises a ring. Misconfiguration throws a TypeError or RangeError naming the value. */
  static create(options: RingOptions): Ring {
    if (typeof options !== 'object' || options === null) {
      throw new FluxTypeError(`Ring.create needs an options object, got ${String(options)}`);
    }
    const capacity = requireInteger('capacity', options.capacity, 2, MAX_CAPACITY);
    if ((capacity & (capacity - 1)) !== 0) {
      throw new FluxRangeError(`capacity must be a power of two, got ${capacity}`);
    }
    const maxMessageBytes = requireInteger('maxMessageBytes', options.maxMessageBytes, 0, MAX_RING_BYTES);
    const maxConsumers = requireInteger('maxConsumers', options.maxConsumers ?? 8, 1, MAX_CONSUMERS);
    const producerMode = options.producerMode ?? 'single';
    if (producerMode !== 'single' && producerMode !== 'multi') {
      throw new FluxTypeError(`producerMode must be 'single' or 'multi', got ${String(producerMode)}`);
    }
    const geometry = computeGeometry(capacity, maxMessageBytes, maxConsumers, producerMode);
    if (geometry.totalBytes > MAX_RING_BYTES) {
      throw new FluxRangeError(
        `capacity ${capacity} x maxMessageBytes ${maxMessageBytes} needs ${geometry.totalBytes} bytes, more than ${MAX_RING_BYTES}`,
      );
    }
    const int32 = new Int32Array(new SharedArrayBuffer(geometry.totalBytes));
    int32[MAGIC_INDEX] = RING_MAGIC;
    int32[LAYOUT_VERSION_INDEX] = LAYOUT_VERSION;
    int32[CAPACITY_INDEX] = capacity;
    int32[MAX_MESSAGE_BYTES_INDEX] = maxMessageBytes;
    int32[SLOT_STRIDE_BYTES_INDEX] = geometry.slotStrideBytes;
    int32[PRODUCER_MODE_INDEX] = producerMode === 'multi' ? ProducerMode.MULTI : ProducerMode.SINGLE;
    int32[MAX_CONSUMERS_INDEX] = maxConsumers;
    int32[CLAIM_SEQUENCE_INDEX] = INITIAL_SEQUENCE;
    int32[CURSOR_INDEX] = INITIAL_SEQUENCE;
    const ring = new Ring(int32.buffer as SharedArrayBuffer, geometry);
    // Slot i first carries sequence i; until then its marker names the lap before.
    for (let i = 0; i < ring.available.length; i++) ring.available[i] = addSequence(i, -capacity);
    return ring;
  }

  /** Wraps a ring created elsewhere (usually another thread) from its handle. */
  static attach(handle: RingHandle): Ring {
    if (typeof handle !== 'object' || handle === null || handle.kind !== 'flux.ring') {
      throw new FluxTypeError(`Ring.attach needs a handle from ring.handle, got ${String(handle)}`);
    }
    if (handle.layoutVersion !== LAYOUT_VERSION) {
      throw new FluxTypeError(
        `ring handle has layout version ${String(handle.layoutVersion)}; this @flux/ring reads layout version ${LAYOUT_VERSION}`,
      );
    }
    const buffer = handle.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < 512) {
      throw new FluxTypeError('ring handle buffer must be the SharedArrayBuffer of a Flux ring');
    }
    const int32 = new Int32Array(buffer);
    if (int32[MAGIC_INDEX] !== RING_MAGIC) {
      throw new FluxTypeError(`buffer is not a Flux ring (magic 0x${(int32[MAGIC_INDEX] >>> 0).toString(16)})`);
    }
    if (int32[LAYOUT_VERSION_INDEX] !== LAYOUT_VERSION) {
      throw new FluxTypeError(
        `buffer holds ring layout version ${int32[LAYOUT_VERSION_INDEX]}; this @flux/ring reads layout version ${LAYOUT_VERSION}`,
      );
    }
    const mode = int32[PRODUCER_MODE_INDEX] === ProducerMode.MULTI ? 'multi' : 'single';
    const geometry = computeGeometry(
      int32[CAPACITY_INDEX],
      int32[MAX_MESSAGE_BYTES_INDEX],
      int32[MAX_CONSUMERS_INDEX],
      mode,
    );
    if (geometry.totalBytes !== buffer.byteLength || geometry.slotStrideBytes !== int32[SLOT_STRIDE_BYTES_INDEX]) {
      throw new FluxTypeError(`ring buffer of ${buffer.byteLength} bytes does not match its header's geometry`);
    }
    return new Ring(buffer, geometry);
  }

  get handle(): RingHandle {
    return { kind: 'flux.ring', layoutVersion: LAYOUT_VERSION, buffer: this.buffer };
  }

  get maxConsumers(): number {
    return this.geometry.maxConsumers;
  }

  /** Byte offset in `bytes` of the payload of `sequence`'s slot. */
  offsetOf(sequence: number): number {
    return this.dataOffsetBytes + (sequence & this.indexMask) * this.slotStrideBytes;
  }

  /** Length in bytes of the message at `sequence`, or ABORTED_LENGTH for an aborted slot. */
  lengthOf(sequence: number): number {
    return this.lengths[sequence & this.indexMask];
  }

  /**
   * A producer for the calling thread. Single-producer rings allow one, ever (a second
   * throws a TypeError); multi-producer rings allow any number, in any threads.
   */
  createProducer(): Producer {
    return this.producerMode === 'multi' ? new MultiProducer(this) : new SingleProducer(this);
  }

  /** The reader for consumer `id` (from `addConsumer`), for the calling thread. */
  openConsumer(id: number): Consumer {
    return new Consumer(this, id);
  }

  // ---- consumers -------------------------------------------------------------------------

  /**
   * Registers a consumer and returns its id. It receives every message published after it
   * joins, and gates producers from then on. Safe while producers run, from any thread.
   * Throws a RangeError when all `maxConsumers` regions are taken.
   */
  addConsumer(options: AddConsumerOptions = {}): number {
    let afterMask = 0;
    for (const dependency of options.after ?? []) {
      requireInteger('after[] consumer id', dependency, 0, this.maxConsumers - 1);
      if (!this.isConsumerActive(dependency)) {
        throw new FluxRangeError(`after[]: consumer ${dependency} is not active`);
      }
      afterMask |= 1 << dependency;
    }
    const int32 = this.int32;
    for (let id = 0; id < this.maxConsumers; id++) {
      const stateIndex = consumerFieldIndex(id, CONSUMER_STATE_FIELD);
      if (Atomics.compareExchange(int32, stateIndex, ConsumerState.FREE, ConsumerState.JOINING) !== ConsumerState.FREE) {
        continue;
      }
      const sequenceIndex = consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD);
      Atomics.store(int32, consumerFieldIndex(id, CONSUMER_AFTER_MASK_FIELD), afterMask);
      Atomics.add(int32, consumerFieldIndex(id, CONSUMER_GENERATION_FIELD), 1);
      // Join protocol (as the Disruptor's addGatingSequences): start at the cursor, become
      // ACTIVE, then start again at the cursor. A producer
      // that computed its gating minimum before ACTIVE saw only sequences <= the second
      // value, so it cannot overwrite a slot this consumer will read. See SAFETY.md.
      Atomics.store(int32, sequenceIndex, this.cursor());
      Atomics.store(int32, stateIndex, ConsumerState.ACTIVE);
      Atomics.store(int32, sequenceIndex, this.cursor());
      return id;
    }
    throw new FluxRangeError(`all ${this.maxConsumers} consumer regions are in use (maxConsumers)`);
  }

  /**
   * Releases a consumer's region: producers and dependents stop waiting for it. Meant for a
   * consumer whose thread has gone (a terminated worker); a live reader for it throws at
   * its next batch. Returns false if it was not active.
   */
  removeConsumer(id: number): boolean {
    requireInteger('consumer id', id, 0, this.maxConsumers - 1);
    const stateIndex = consumerFieldIndex(id, CONSUMER_STATE_FIELD);
    const removed =
      Atomics.compareExchange(this.int32, stateIndex, ConsumerState.ACTIVE, ConsumerState.FREE) === ConsumerState.ACTIVE;
    if (removed) {
      Atomics.add(this.int32, consumerFieldIndex(id, CONSUMER_GENERATION_FIELD), 1);
      this.wakeSleepers();
    }
    return removed;
  }

  isConsumerActive(id: number): boolean {
    return Atomics.load(this.int32, consumerFieldIndex(id, CONSUMER_STATE_FIELD)) === ConsumerState.ACTIVE;
  }

  /** Last sequence consumer `id` has released. */
  consumerSequence(id: number): number {
    requireInteger('consumer id', id, 0, this.maxConsumers - 1);
    return Atomics.load(this.int32, consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD));
  }

  /** Ids of the active consumers. */
  activeConsumers(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.maxConsumers; id++) if (this.isConsumerActive(id)) ids.push(id);
    return ids;
  }

  // ---- shared algorithms used by producers and consumers ----------------------------------

  /**
   * Single producer: the published cursor. Multi producer: the newest claimed sequence
   * (claimed slots are published, or aborted, soon after). Every consumer is at or behind it.
   */
  cursor(): number {
    const index = this.producerMode === 'multi' ? CLAIM_SEQUENCE_INDEX : CURSOR_INDEX;
    return Atomics.load(this.int32, index); // observes the claim / cursor
  }

  /**
   * The slowest active consumer's sequence, or NOT_CONNECTED when there is none. Producers
   * may claim up to (result + capacity). `reference` is any sequence within 2^30 of every
   * consumer's (the producer passes its newest claim) to compare them against.
   */
  minimumGatingSequence(reference: number): number {
    const int32 = this.int32;
    let minimum = reference;
    let distance = Number.MAX_SAFE_INTEGER;
    for (let id = 0; id < this.geometry.maxConsumers; id++) {
      // observes the consumer's state, then its released sequence
      if (Atomics.load(int32, consumerFieldIndex(id, CONSUMER_STATE_FIELD)) !== ConsumerState.ACTIVE) continue;
      const sequence = Atomics.load(int32, consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD));
      const ahead = sequenceDiff(sequence, reference);
      if (ahead < distance) {
        distance = ahead;
        minimum = sequence;
      }
    }
    return distance === Number.MAX_SAFE_INTEGER ? NOT_CONNECTED : minimum;
  }

  /**
   * Multi-producer: the highest sequence published contiguously after `after`, scanning
   * at most `limit` slots of batch markers. Returns `after` when nothing new is published.
   */
  scanPublished(after: number, limit: number): number {
    const available = this.available;
    const mask = this.indexMask;
    const capacity = this.capacity;
    let high = after;
    for (let scanned = 0; scanned < limit; ) {
      const start = addSequence(high, 1);
      const batchEnd = Atomics.load(available, start & mask); // observes a batch's publish
      const length = sequenceDiff(batchEnd, start) + 1;
      if (length <= 0 || length > capacity) break;
      high = batchEnd;
      scanned += length;
    }
    return high;
  }

  /** Wakes threads blocked in a blocking or async wait, if there are any (one load otherwise). */
  wakeSleepers(): void {
    if (Atomics.load(this.int32, SLEEPERS_INDEX) !== 0) {
      Atomics.add(this.int32, WAKE_INDEX, 1); // changes the futex word a sleeper checked
      Atomics.notify(this.int32, WAKE_INDEX);
    }
  }
}
