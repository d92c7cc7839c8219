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
import { describe, optionalChoice, optionalInteger, optionsObject, rejectInteger, requireInteger, requireObject } from './validate.js';
import { Consumer } from './consumer.js';
import { RING_BRAND } from './ring-view.js';
import {
  CAPACITY_INDEX,
  CLAIM_SEQUENCE_INDEX,
  computeGeometry,
  CONSUMER_AFTER_MASK_FIELD,
  CONSUMER_GENERATION_FIELD,
  CONSUMER_SEQUENCE_FIELD,
  CONSUMER_OWNER_PID_FIELD,
  CONSUMER_STATE_FIELD,
  CREATOR_PID_INDEX,
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
  PRODUCER_OWNER_PID_INDEX,
  ProducerMode,
  type ProducerModeName,
  RING_MAGIC,
  type RingGeometry,
  SINGLE_PRODUCER_TAKEN_INDEX,
  SLEEPERS_INDEX,
  SLOT_STRIDE_BYTES_INDEX,
  slotStrideBytes,
  WAKE_INDEX,
} from './layout.js';
import { MultiProducer } from './multi-producer.js';
import type { Producer } from './producer.js';
import { addSequence, INITIAL_SEQUENCE, rejectSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { SingleProducer } from './single-producer.js';
import { FluxRangeError, FluxTypeError } from './errors.js';
import { loadOwner, ownerAlive, selfIdentity, storeOwner } from './process-identity.js';
import { adoptMapped, SharedMemoryUnavailableError, sharedMemoryProvider } from './shared-memory.js';
import { readdirSync, rmSync } from 'node:fs';
import { notifyOn } from './wait/futex.js';

export interface RingOptions {
  /** Number of slots: a power of two from 2 to 2^29. */
  capacity: number;
  /** Largest message in bytes (0 allowed). Longer messages throw a RangeError; none is truncated. */
  maxMessageBytes: number;
  /** `'single'` (default): one producer, no CAS. `'multi'`: any number of producers in any threads. */
  producerMode?: ProducerModeName;
  /** Consumer regions to reserve, 1 to 32 (default 8). */
  maxConsumers?: number;
  /**
   * A ring between processes: the file to create (it must not exist yet), memory-mapped
   * shared by every process that `Ring.open`s it. Needs @flux/uring's addon (shared-memory.ts).
   */
  path?: string;
  /** The same, named: the file `/dev/shm/flux-ring.<name>` (`ringPath(name)`). One of `path` and `name`. */
  name?: string;
  /** The file's permissions (default 0o600: the creating user only). */
  mode?: number;
}

/** Structured-clonable: post it to a worker and `Ring.attach` it there. */
export interface RingHandle {
  readonly kind: 'flux.ring';
  readonly layoutVersion: number;
  /** A thread ring's memory; undefined for a ring in a file. */
  readonly buffer?: SharedArrayBuffer;
  /** A ring in a file: its path (`Ring.attach` opens it). */
  readonly path?: string;
}

/** Where ring files named by `name` live: tmpfs, so they are memory, never written to a disk. */
export const RING_DIRECTORY = '/dev/shm';
/** A named ring's file name: this, then the name. */
const RING_FILE_PREFIX = 'flux-ring.';
/** Names: letters, digits, '.', '_' and '-', 1 to 200 of them. */
const RING_NAME = /^[A-Za-z0-9._-]{1,200}$/;

/** Who holds a ring (ring.holders()): a process recorded in it, and whether it still runs. */
export interface RingHolder {
  role: 'creator' | 'producer' | 'consumer';
  pid: number;
  alive: boolean;
  /** For a consumer's reader: which consumer. */
  consumerId?: number;
}

/** The paths of the ring files (`flux-ring.*`) in `directory` (default RING_DIRECTORY), sorted; intact rings or not. */
export function ringFiles(directory: string = RING_DIRECTORY): string[] {
  if (typeof directory !== 'string' || directory.length === 0) throw new FluxTypeError(`directory must be a non-empty string, got ${describe(directory)}`);
  return readdirSync(directory)
    .filter((entry) => entry.startsWith(RING_FILE_PREFIX))
    .sort()
    .map((entry) => `${directory}/${entry}`);
}

/** The file of the ring named `name`: `/dev/shm/flux-ring.<name>`. */
export function ringPath(name: string): string {
  if (typeof name !== 'string' || !RING_NAME.test(name) || name === '.' || name === '..') {
    throw new FluxTypeError(`name must be 1 to 200 letters, digits, '.', '_' or '-', got ${describe(name)}`);
  }
  return `${RING_DIRECTORY}/${RING_FILE_PREFIX}${name}`;
}

function pathOf(o: { path?: unknown; name?: unknown }): string | undefined {
  if (o.path !== undefined && o.name !== undefined) throw new FluxTypeError('give one of path and name, not both');
  if (o.name !== undefined) return ringPath(o.name as string);
  if (o.path === undefined) return undefined;
  if (typeof o.path !== 'string' || o.path.length === 0 || o.path.includes('\0')) {
    throw new FluxTypeError(`path must be a non-empty string, got ${describe(o.path)}`);
  }
  return o.path;
}

export interface AddConsumerOptions {
  /** Consumer ids this one runs after: it never reads a slot they have not released. */
  after?: readonly number[];
}

/** Only Ring.create and Ring.attach construct a Ring. */
const CONSTRUCT = Symbol('Ring.construct');

/** A header field of a buffer being attached: an int32 that must lie in [min, max]. */
function headerField(source: string, name: string, value: number, min: number, max: number): number {
  if (value < min || value > max) {
    throw new FluxRangeError(`${source}'s ring header ${name} must be from ${min} to ${max}, got ${value}: not an intact Flux ring`);
  }
  return value;
}

export class Ring {
  /** A SharedArrayBuffer (a thread ring), or a mapped file's ArrayBuffer (a ring between processes). */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** The file of a ring between processes; undefined for a thread ring. */
  readonly path: string | undefined;
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
  /** Where slot 0's payload starts in `bytes`: `offsetOf(s)` is `dataOffsetBytes + (s & indexMask) * slotStrideBytes`. */
  readonly dataOffsetBytes: number;

  private constructor(token: symbol, buffer: SharedArrayBuffer | ArrayBuffer, geometry: RingGeometry, path: string | undefined) {
    if (token !== CONSTRUCT) {
      throw new FluxTypeError('a Ring is made by Ring.create(options) or Ring.attach(handle), not by new Ring()');
    }
    Object.defineProperty(this, RING_BRAND, { value: true }); // isRing(): the algorithms check what they are given
    this.buffer = buffer;
    this.path = path;
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
    this.available = new Int32Array(buffer, geometry.availableOffsetBytes, geometry.producerMode === 'multi' ? geometry.capacity : 0);
  }

  /**
   * Allocates and initialises a ring. Misconfiguration throws a FluxTypeError (a value of
   * the wrong kind) or FluxRangeError (out of bounds) naming the option and the value.
   */
  static create(options: RingOptions): Ring {
    const o = requireObject('options', options);
    const capacity = requireInteger('capacity', o.capacity, 2, MAX_CAPACITY);
    if ((capacity & (capacity - 1)) !== 0) {
      throw new FluxRangeError(`capacity must be a power of two, got ${capacity}`);
    }
    const maxMessageBytes = requireInteger('maxMessageBytes', o.maxMessageBytes, 0, MAX_RING_BYTES);
    const maxConsumers = optionalInteger('maxConsumers', o.maxConsumers, 8, 1, MAX_CONSUMERS);
    const producerMode = optionalChoice('producerMode', o.producerMode, ['single', 'multi'] as const, 'single');
    const geometry = computeGeometry(capacity, maxMessageBytes, maxConsumers, producerMode);
    if (geometry.totalBytes > MAX_RING_BYTES) {
      throw new FluxRangeError(`capacity ${capacity} x maxMessageBytes ${maxMessageBytes} needs ${geometry.totalBytes} bytes, more than ${MAX_RING_BYTES}`);
    }
    const path = pathOf(o);
    const mode = optionalInteger('mode', o.mode, 0o600, 0, 0o777);
    let buffer: SharedArrayBuffer | ArrayBuffer;
    if (path !== undefined) {
      const memory = sharedMemoryProvider();
      buffer = memory.create(path, geometry.totalBytes, mode);
      adoptMapped(buffer, memory.futex);
    } else {
      try {
        buffer = new SharedArrayBuffer(geometry.totalBytes);
      } catch (error) {
        throw new FluxRangeError(
          `capacity ${capacity} x maxMessageBytes ${maxMessageBytes} needs ${geometry.totalBytes} bytes, which could not be allocated: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    const int32 = new Int32Array(buffer);
    int32[LAYOUT_VERSION_INDEX] = LAYOUT_VERSION;
    int32[CAPACITY_INDEX] = capacity;
    int32[MAX_MESSAGE_BYTES_INDEX] = maxMessageBytes;
    int32[SLOT_STRIDE_BYTES_INDEX] = geometry.slotStrideBytes;
    int32[PRODUCER_MODE_INDEX] = producerMode === 'multi' ? ProducerMode.MULTI : ProducerMode.SINGLE;
    int32[MAX_CONSUMERS_INDEX] = maxConsumers;
    storeOwner(int32, CREATOR_PID_INDEX, selfIdentity());
    int32[CLAIM_SEQUENCE_INDEX] = INITIAL_SEQUENCE;
    int32[CURSOR_INDEX] = INITIAL_SEQUENCE;
    const ring = new Ring(CONSTRUCT, buffer, geometry, path);
    // Slot i first carries sequence i; until then its marker names the lap before.
    for (let i = 0; i < ring.available.length; i++) ring.available[i] = addSequence(i, -capacity);
    // The magic last, by a store that publishes everything above: another process that
    // opens the file before this sees no magic, and is told the file is not a ring (yet).
    Atomics.store(int32, MAGIC_INDEX, RING_MAGIC);
    return ring;
  }

  /**
   * Opens a ring between processes that another process created: by name (`Ring.create({
   * name })`) or `{ path }`. The file's header is checked as `attach` checks a buffer: a
   * file that is not a Flux ring, of another layout version, or truncated (its size is not
   * what its header implies) throws, naming the file.
   */
  static open(target: string | { path?: string; name?: string }): Ring {
    const path = typeof target === 'string' ? ringPath(target) : pathOf(requireObject('target', target));
    if (path === undefined) throw new FluxTypeError('Ring.open needs a name, or { path } or { name }');
    const memory = sharedMemoryProvider();
    const buffer = memory.open(path);
    adoptMapped(buffer, memory.futex);
    return Ring.fromBuffer(buffer, path, path);
  }

  /**
   * Wraps a ring created elsewhere (usually another thread) from its handle. The buffer's
   * header is checked field by field (magic, layout version, capacity a power of two,
   * maxMessageBytes, slot stride, producer mode, maxConsumers, the byte length they imply)
   * and so are the control words (sequences, consumer states), so a buffer that is not an
   * intact Flux ring throws a FluxTypeError or FluxRangeError instead of being read.
   */
  static attach(handle: RingHandle): Ring {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'flux.ring') {
      throw new FluxTypeError(`handle must be a ring handle (ring.handle), got ${describe(handle)}`);
    }
    if (handle.layoutVersion !== LAYOUT_VERSION) {
      throw new FluxTypeError(`ring handle has layout version ${describe(handle.layoutVersion)}; this @flux/ring reads layout version ${LAYOUT_VERSION}`);
    }
    if (handle.buffer === undefined && typeof handle.path === 'string') return Ring.open({ path: handle.path });
    const buffer: unknown = handle.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || (buffer as { growable?: boolean }).growable === true) {
      throw new FluxTypeError(`handle.buffer must be the SharedArrayBuffer of a Flux ring, got ${describe(buffer)}`);
    }
    return Ring.fromBuffer(buffer, 'handle.buffer', undefined);
  }

  /** Checks a buffer's header and control words (see attach), and wraps it. */
  private static fromBuffer(buffer: SharedArrayBuffer | ArrayBuffer, source: string, path: string | undefined): Ring {
    const minimum = computeGeometry(2, 0, 1, 'single').totalBytes;
    if (buffer.byteLength < minimum || buffer.byteLength % 4 !== 0 || buffer.byteLength > MAX_RING_BYTES) {
      throw new FluxRangeError(`${source} of ${buffer.byteLength} bytes cannot hold a Flux ring (at least ${minimum} bytes, a multiple of 4)`);
    }
    const int32 = new Int32Array(buffer);
    const magic = Atomics.load(int32, MAGIC_INDEX); // the creator's last store (create): everything else is written
    if (magic !== RING_MAGIC) {
      const hint = magic === 0 ? ': empty, or its creator has not finished creating it' : '';
      throw new FluxTypeError(`${source} is not a Flux ring (magic 0x${(magic >>> 0).toString(16)}${hint})`);
    }
    if (int32[LAYOUT_VERSION_INDEX] !== LAYOUT_VERSION) {
      throw new FluxTypeError(`${source} holds ring layout version ${int32[LAYOUT_VERSION_INDEX]}; this @flux/ring reads layout version ${LAYOUT_VERSION}`);
    }
    const capacity = headerField(source, 'capacity', int32[CAPACITY_INDEX], 2, MAX_CAPACITY);
    if ((capacity & (capacity - 1)) !== 0) {
      throw new FluxRangeError(`${source}'s ring header capacity must be a power of two, got ${capacity}: not an intact Flux ring`);
    }
    const maxMessageBytes = headerField(source, 'maxMessageBytes', int32[MAX_MESSAGE_BYTES_INDEX], 0, MAX_RING_BYTES);
    const stride = slotStrideBytes(maxMessageBytes);
    headerField(source, 'slotStrideBytes', int32[SLOT_STRIDE_BYTES_INDEX], stride, stride);
    const modeValue = headerField(source, 'producerMode', int32[PRODUCER_MODE_INDEX], ProducerMode.SINGLE, ProducerMode.MULTI);
    const maxConsumers = headerField(source, 'maxConsumers', int32[MAX_CONSUMERS_INDEX], 1, MAX_CONSUMERS);
    headerField(source, 'single-producer flag', int32[SINGLE_PRODUCER_TAKEN_INDEX], 0, 1);
    const mode = modeValue === ProducerMode.MULTI ? 'multi' : 'single';
    const geometry = computeGeometry(capacity, maxMessageBytes, maxConsumers, mode);
    if (geometry.totalBytes !== buffer.byteLength) {
      throw new FluxRangeError(
        `${source} of ${buffer.byteLength} bytes does not match its header's geometry (${geometry.totalBytes} bytes): not an intact Flux ring`,
      );
    }
    // Control words: every sequence is 31-bit (never negative), states are known, dependencies are consumers.
    headerField(source, 'claim sequence', Atomics.load(int32, CLAIM_SEQUENCE_INDEX), 0, SEQUENCE_MASK);
    headerField(source, 'cursor', Atomics.load(int32, CURSOR_INDEX), 0, SEQUENCE_MASK);
    headerField(source, 'sleeper count', Atomics.load(int32, SLEEPERS_INDEX), 0, 2 ** 31 - 1);
    for (let id = 0; id < maxConsumers; id++) {
      headerField(source, `consumer ${id} state`, Atomics.load(int32, consumerFieldIndex(id, CONSUMER_STATE_FIELD)), 0, ConsumerState.ACTIVE);
      headerField(source, `consumer ${id} sequence`, Atomics.load(int32, consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD)), 0, SEQUENCE_MASK);
      const afterMask = Atomics.load(int32, consumerFieldIndex(id, CONSUMER_AFTER_MASK_FIELD));
      if (maxConsumers < 32 && afterMask >>> maxConsumers !== 0) {
        throw new FluxRangeError(
          `${source}'s ring header consumer ${id} dependencies name consumers beyond maxConsumers ${maxConsumers} (mask 0x${(afterMask >>> 0).toString(16)}): not an intact Flux ring`,
        );
      }
    }
    return new Ring(CONSTRUCT, buffer, geometry, path);
  }

  get handle(): RingHandle {
    if (this.path !== undefined) return { kind: 'flux.ring', layoutVersion: LAYOUT_VERSION, path: this.path };
    return { kind: 'flux.ring', layoutVersion: LAYOUT_VERSION, buffer: this.buffer as SharedArrayBuffer };
  }

  /** The pid of the process that created the ring (0 for a ring of an older @flux/ring). */
  get creatorPid(): number {
    return this.int32[CREATOR_PID_INDEX];
  }

  /**
   * The processes recorded in the ring, and whether each still runs: its creator, the
   * holder of its single producer, and the reader of each active consumer. (Multi-producer
   * producers are not recorded: they hold nothing but their claims.)
   */
  holders(): RingHolder[] {
    const holders: RingHolder[] = [];
    const creator = loadOwner(this.int32, CREATOR_PID_INDEX);
    if (creator.pid > 0) holders.push({ role: 'creator', pid: creator.pid, alive: ownerAlive(creator) });
    const producer = this.producerOwner();
    if (producer !== undefined) holders.push({ role: 'producer', ...producer });
    for (let id = 0; id < this.maxConsumers; id++) {
      const owner = this.isConsumerActive(id) ? this.consumerOwner(id) : undefined;
      if (owner !== undefined) holders.push({ role: 'consumer', consumerId: id, ...owner });
    }
    return holders;
  }

  /**
   * Removes the ring files in `directory` (default RING_DIRECTORY: the files `name` makes)
   * that nobody holds: every process recorded in them (holders()) is gone. A file that is
   * not an intact ring (a foreign file, one still being created) is left alone. Returns the
   * paths removed. A process that still has a removed ring mapped keeps using it; it can no
   * longer be opened.
   */
  static removeUnheld(directory: string = RING_DIRECTORY): string[] {
    const removed: string[] = [];
    for (const path of ringFiles(directory)) {
      let ring: Ring;
      try {
        ring = Ring.open({ path });
      } catch (error) {
        if (error instanceof SharedMemoryUnavailableError) throw error;
        continue; // not an intact ring: not ours to remove
      }
      if (ring.holders().some((holder) => holder.alive)) continue;
      rmSync(path, { force: true });
      removed.push(path);
    }
    return removed;
  }

  get maxConsumers(): number {
    return this.geometry.maxConsumers;
  }

  /**
   * Byte offset in `bytes` of the payload of `sequence`'s slot. `sequence` is an integer
   * from 0 to 2^32-1, taken modulo 2^31: a sequence, or `first + i` within a claim written
   * without wrapping. Anything else (NaN, a fraction, a negative such as BACK_PRESSURED, a
   * string) throws instead of naming some slot.
   */
  offsetOf(sequence: number): number {
    if (typeof sequence !== 'number' || sequence >>> 0 !== sequence) rejectSequence('sequence', sequence);
    return this.dataOffsetBytes + (sequence & this.indexMask) * this.slotStrideBytes;
  }

  /** Length in bytes of the message at `sequence` (as in `offsetOf`), or ABORTED_LENGTH for an aborted slot. */
  lengthOf(sequence: number): number {
    if (typeof sequence !== 'number' || sequence >>> 0 !== sequence) rejectSequence('sequence', sequence);
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
  addConsumer(options?: AddConsumerOptions): number {
    const after: unknown = optionsObject('options', options).after;
    if (after !== undefined && !Array.isArray(after)) {
      throw new FluxTypeError(`after must be an array of consumer ids, got ${describe(after)}`);
    }
    let afterMask = 0;
    for (let i = 0; i < (after?.length ?? 0); i++) {
      const dependency = requireInteger(`after[${i}]`, (after as unknown[])[i], 0, this.maxConsumers - 1);
      if (!this.isConsumerActive(dependency)) {
        throw new FluxRangeError(`after[${i}]: consumer ${dependency} is not active`);
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
      Atomics.store(int32, consumerFieldIndex(id, CONSUMER_OWNER_PID_FIELD), 0); // nobody reads as it until openConsumer
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
    const removed = Atomics.compareExchange(this.int32, stateIndex, ConsumerState.ACTIVE, ConsumerState.FREE) === ConsumerState.ACTIVE;
    if (removed) {
      Atomics.add(this.int32, consumerFieldIndex(id, CONSUMER_GENERATION_FIELD), 1);
      this.wakeSleepers();
    }
    return removed;
  }

  /**
   * The process reading as consumer `id` (the last to `openConsumer` it), whether it still
   * runs, or undefined when nobody has opened it since it was added. Between threads of one
   * process the owner is always this process, alive: only a process that is gone is dead.
   */
  consumerOwner(id: number): { pid: number; alive: boolean } | undefined {
    requireInteger('consumer id', id, 0, this.maxConsumers - 1);
    const owner = loadOwner(this.int32, consumerFieldIndex(id, CONSUMER_OWNER_PID_FIELD));
    if (owner.pid === 0) return undefined;
    return { pid: owner.pid, alive: ownerAlive(owner) };
  }

  /**
   * Removes every active consumer whose reading process is gone (killed, crashed, exited
   * without removing it), so that producers and dependents stop waiting for it; returns
   * their ids. Consumers nobody has opened yet are kept. Safe from any process, any time.
   */
  removeDeadConsumers(): number[] {
    const removed: number[] = [];
    for (let id = 0; id < this.maxConsumers; id++) {
      if (!this.isConsumerActive(id)) continue;
      const owner = this.consumerOwner(id);
      if (owner !== undefined && !owner.alive && this.removeConsumer(id)) removed.push(id);
    }
    return removed;
  }

  /** The process holding the single producer (single-producer rings), or undefined when none was created. */
  producerOwner(): { pid: number; alive: boolean } | undefined {
    if (this.producerMode !== 'single' || Atomics.load(this.int32, SINGLE_PRODUCER_TAKEN_INDEX) === 0) return undefined;
    const owner = loadOwner(this.int32, PRODUCER_OWNER_PID_INDEX);
    if (owner.pid <= 0) return { pid: owner.pid, alive: true }; // being created or taken over
    return { pid: owner.pid, alive: ownerAlive(owner) };
  }

  /** Whether consumer `id` (0 .. maxConsumers - 1) is registered. */
  isConsumerActive(id: number): boolean {
    requireInteger('consumer id', id, 0, this.maxConsumers - 1);
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
    if (typeof reference !== 'number' || (reference & SEQUENCE_MASK) !== reference) rejectInteger('reference', reference, 0, SEQUENCE_MASK);
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
    if (this.producerMode !== 'multi') {
      throw new FluxTypeError('scanPublished reads the batch markers of a multi-producer ring; this ring is single-producer');
    }
    if (typeof after !== 'number' || (after & SEQUENCE_MASK) !== after) rejectInteger('after', after, 0, SEQUENCE_MASK);
    if (typeof limit !== 'number' || (limit | 0) !== limit || limit < 0 || limit > this.capacity) rejectInteger('limit', limit, 0, this.capacity);
    const available = this.available;
    const mask = this.indexMask;
    const capacity = this.capacity;
    let high = after;
    for (let scanned = 0; scanned < limit; ) {
      const start = addSequence(high, 1);
      const batchEnd = Atomics.load(available, start & mask); // observes a batch's publish
      if (batchEnd < 0) break; // claimed, not yet published (CLAIMED_MARKER_BIT)
      const length = sequenceDiff(batchEnd, start) + 1;
      if (length <= 0 || length > capacity) break;
      high = batchEnd;
      scanned += length;
    }
    return high;
  }

  /** Threads (of any process) in a blocking or async wait on this ring now: a gauge, for monitoring and tests. */
  sleepers(): number {
    return Atomics.load(this.int32, SLEEPERS_INDEX);
  }

  /** Wakes threads blocked in a blocking or async wait, if there are any (one load otherwise). */
  wakeSleepers(): void {
    if (Atomics.load(this.int32, SLEEPERS_INDEX) !== 0) {
      Atomics.add(this.int32, WAKE_INDEX, 1); // changes the futex word a sleeper checked
      notifyOn(this.int32, WAKE_INDEX); // Atomics.notify, or a futex wake on a mapped file (wait/futex.ts)
    }
  }
}
