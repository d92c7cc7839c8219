/**
 * A consumer: the thread-local reader for one consumer region. Every consumer sees every
 * message (broadcast); producers are gated by the slowest; a consumer added `after` others
 * never reads a slot they have not released (pipelines and diamonds).
 *
 * Reading is in place and batched: `available()` says how many slots from `nextSequence`
 * are readable, the caller reads them at `ring.offsetOf(sequence)`, and `release(count)`
 * moves the consumer's sequence once for the whole batch. `poll(handler)` does the same
 * around a callback, skipping aborted slots.
 *
 * A handler that throws does not lose or repeat messages: the message it threw on counts
 * as delivered, the sequence moves past it in `finally`, and the error propagates; the next
 * poll starts at the message after it (Agrona's rule).
 */
import {
  CONSUMER_OWNER_PID_FIELD,
  ABORTED_LENGTH,
  CONSUMER_AFTER_MASK_FIELD,
  CONSUMER_GENERATION_FIELD,
  CONSUMER_SEQUENCE_FIELD,
  CONSUMER_STATE_FIELD,
  consumerFieldIndex,
  ConsumerState,
  CURSOR_INDEX,
} from './layout.js';
import { selfIdentity, storeOwner } from './process-identity.js';
import { isRing, type ConsumerView } from './ring-view.js';
import { addSequence, SEQUENCE_MASK, sequenceDiff } from './sequence.js';
import { type AsyncWaiter, type AsyncWaitOptions, requireAsyncWaiter, requireWaitStrategy, type WaitStrategy } from './wait/wait-strategy.js';
import { ConsumerRemovedError, FluxRangeError, FluxTypeError } from './errors.js';
import { describe, optionalBoolean, optionsObject, rejectInteger, requireFunction, requireInteger, requireTimeout } from './validate.js';

/**
 * Called once per message. `bytes` is the whole ring buffer: the message is
 * `bytes.subarray(offsetBytes, offsetBytes + lengthBytes)`, valid until the handler returns.
 */
export type MessageHandler = (bytes: Uint8Array, offsetBytes: number, lengthBytes: number, sequence: number, endOfBatch: boolean) => void;

export class Consumer {
  readonly ring: ConsumerView;
  readonly id: number;
  private readonly multiProducer: boolean;
  private readonly sequenceIndex: number;
  private readonly generationIndex: number;
  private readonly generation: number;
  /** Int32 indexes of the sequences of the consumers this one runs after. */
  private readonly dependencySequenceIndexes: Int32Array;
  private readonly dependencyStateIndexes: Int32Array;
  /** Last sequence released (mirrors the shared CONSUMER_SEQUENCE). */
  private lastReleased: number;
  /** Highest sequence known to be published; always the end of a published batch. */
  private publishedHigh: number;
  /** Highest sequence known readable: publishedHigh limited by the dependencies. */
  private readableHigh: number;
  /** True while `poll` runs its handler: poll and release may not be called from inside it. */
  private polling = false;
  /** Bound once, so waiting allocates nothing per call. */
  readonly probe: () => number;

  /** The reader for consumer `id` of `ring`: usually `ring.openConsumer(id)`. */
  constructor(ring: ConsumerView, id: number) {
    if (!isRing(ring)) throw new FluxTypeError(`ring must be a Ring, got ${describe(ring)}`);
    requireInteger('consumer id', id, 0, ring.maxConsumers - 1);
    if (!ring.isConsumerActive(id)) {
      throw new FluxRangeError(`consumer ${id} is not active: add it with ring.addConsumer() first`);
    }
    this.ring = ring;
    this.id = id;
    this.multiProducer = ring.producerMode === 'multi';
    this.sequenceIndex = consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD);
    this.generationIndex = consumerFieldIndex(id, CONSUMER_GENERATION_FIELD);
    this.generation = Atomics.load(ring.int32, this.generationIndex);
    const afterMask = Atomics.load(ring.int32, consumerFieldIndex(id, CONSUMER_AFTER_MASK_FIELD));
    const dependencies: number[] = [];
    for (let other = 0; other < ring.maxConsumers; other++) if (afterMask & (1 << other)) dependencies.push(other);
    this.dependencySequenceIndexes = Int32Array.from(dependencies, (d) => consumerFieldIndex(d, CONSUMER_SEQUENCE_FIELD));
    this.dependencyStateIndexes = Int32Array.from(dependencies, (d) => consumerFieldIndex(d, CONSUMER_STATE_FIELD));
    storeOwner(ring.int32, consumerFieldIndex(id, CONSUMER_OWNER_PID_FIELD), selfIdentity()); // this process reads as it now
    this.lastReleased = Atomics.load(ring.int32, this.sequenceIndex);
    this.publishedHigh = this.lastReleased;
    this.readableHigh = this.lastReleased;
    this.probe = () => this.available();
  }

  /** The next sequence to read. */
  get nextSequence(): number {
    return addSequence(this.lastReleased, 1);
  }

  /**
   * Number of consecutive readable slots from `nextSequence` (at most `max`), possibly 0:
   * everything published (and released by the consumers this one runs after) when it is
   * called. Loads shared state only when its cached view holds fewer than `max`. Aborted
   * slots count: their `ring.lengthOf` is ABORTED_LENGTH.
   */
  available(max = this.ring.capacity): number {
    if (typeof max !== 'number' || (max | 0) !== max || max < 0) rejectInteger('max', max, 0, SEQUENCE_MASK);
    let readable = sequenceDiff(this.readableHigh, this.lastReleased);
    if (readable < max) readable = this.refresh();
    return readable < max ? readable : max;
  }

  /**
   * Marks `count` slots from `nextSequence` consumed (0 up to what `available()` said):
   * producers may reuse them. Not from inside a `poll` handler (poll releases what it delivers).
   */
  release(count: number): void {
    if (this.polling) {
      throw new FluxTypeError('release() was called from inside a poll() handler; poll releases the messages it delivers');
    }
    const readable = sequenceDiff(this.readableHigh, this.lastReleased);
    if (typeof count !== 'number' || (count | 0) !== count || count < 0 || count > readable) {
      if (typeof count !== 'number' || !Number.isInteger(count)) requireInteger('count', count, 0, readable);
      throw new FluxRangeError(`release count must be an integer from 0 to the ${readable} slots read, got ${describe(count)}`);
    }
    this.releaseSlots(count);
  }

  private releaseSlots(count: number): void {
    if (count === 0) return;
    this.checkNotRemoved();
    this.lastReleased = addSequence(this.lastReleased, count);
    // publishes "done with these slots" to producers and to consumers that run after this one
    Atomics.store(this.ring.int32, this.sequenceIndex, this.lastReleased);
    this.ring.wakeSleepers();
  }

  /**
   * Delivers up to `maxMessages` (1 .. 2^31-1) readable messages to `handler` in sequence
   * order, then releases them with one store. Returns the number of slots consumed (aborted
   * slots are skipped, not delivered, but counted). Never waits.
   *
   * A handler that throws loses and repeats nothing (Agrona's rule): the message it threw
   * on counts as consumed, and the release happens in `finally`, so the messages before it
   * and that message are released, the error propagates to the caller unchanged, and the
   * next poll starts at the message after it. The handler may not call `poll` or `release`
   * on this consumer (a FluxTypeError); its view of the message is valid until it returns.
   */
  poll(handler: MessageHandler, maxMessages = this.ring.capacity): number {
    requireFunction('handler', handler);
    if (typeof maxMessages !== 'number' || (maxMessages | 0) !== maxMessages || maxMessages < 1) rejectInteger('maxMessages', maxMessages, 1, SEQUENCE_MASK);
    if (this.polling) throw new FluxTypeError('poll() was called from inside its own handler; return from the handler first');
    const count = this.available(maxMessages);
    if (count === 0) return 0;
    const ring = this.ring;
    const lengths = ring.lengths;
    const bytes = ring.bytes;
    const mask = ring.indexMask;
    const dataOffsetBytes = ring.dataOffsetBytes;
    const strideBytes = ring.slotStrideBytes;
    let sequence = addSequence(this.lastReleased, 1);
    let consumed = 0;
    this.polling = true;
    try {
      while (consumed < count) {
        const lengthBytes = lengths[sequence & mask];
        consumed++; // counted before the handler runs: a throw does not replay this message
        if (lengthBytes !== ABORTED_LENGTH) {
          handler(bytes, dataOffsetBytes + (sequence & mask) * strideBytes, lengthBytes, sequence, consumed === count);
        }
        sequence = addSequence(sequence, 1);
      }
    } finally {
      this.polling = false;
      this.releaseSlots(consumed);
    }
    return consumed;
  }

  /**
   * Waits with `strategy` for at least one readable slot, at most `timeoutMs` (Infinity
   * allowed). Returns `available()` (0 on timeout). Blocks the calling thread.
   */
  waitFor(strategy: WaitStrategy, timeoutMs: number): number {
    requireWaitStrategy('strategy', strategy);
    requireTimeout('timeoutMs', timeoutMs);
    const readable = this.available();
    if (readable > 0) return readable;
    return strategy.waitFor(this.probe, this.ring.int32, timeoutMs);
  }

  /** As `waitFor`, without blocking the event loop. Bad arguments reject the promise. */
  waitForAsync(strategy: AsyncWaiter, timeoutMs: number, options?: AsyncWaitOptions): Promise<number> {
    try {
      requireAsyncWaiter('strategy', strategy);
      requireTimeout('timeoutMs', timeoutMs);
      optionalBoolean('options.unref', optionsObject('options', options).unref, false);
      const readable = this.available();
      if (readable > 0) return Promise.resolve(readable);
      return strategy.waitForAsync(this.probe, this.ring.int32, timeoutMs, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Loads the producers' and dependencies' progress; returns the readable count. */
  private refresh(): number {
    const ring = this.ring;
    const int32 = ring.int32;
    this.checkNotRemoved();
    this.publishedHigh = this.multiProducer
      ? ring.scanPublished(this.publishedHigh, ring.capacity) // continues from the last known batch end
      : Atomics.load(int32, CURSOR_INDEX); // observes the producer's publish
    let high = this.publishedHigh;
    const dependencies = this.dependencySequenceIndexes;
    for (let i = 0; i < dependencies.length; i++) {
      // a removed dependency no longer holds this consumer back
      if (Atomics.load(int32, this.dependencyStateIndexes[i]) !== ConsumerState.ACTIVE) continue;
      const released = Atomics.load(int32, dependencies[i]); // observes the dependency's release
      if (sequenceDiff(released, high) < 0) high = released;
    }
    if (sequenceDiff(high, this.readableHigh) > 0) this.readableHigh = high;
    const readable = sequenceDiff(this.readableHigh, this.lastReleased);
    return readable > 0 ? readable : 0; // a dependency may still be behind where this one joined
  }

  private checkNotRemoved(): void {
    if (Atomics.load(this.ring.int32, this.generationIndex) !== this.generation) {
      throw new ConsumerRemovedError(this.id);
    }
  }
}
