/**
 * The hot mode: a reliable publication or subscription driven by a worker thread that
 * busy-polls its io_uring socket (hot-worker.ts), for the lowest latency, at the price of a
 * core spinning all the time, data or not.
 *
 *   HotReliablePublication (this thread)                 worker (spins)
 *     producers on any thread --claim/publish--> ring --> doWork, submit, reap --> socket
 *     connected() / flush() / close() / counters() <-- control block words (hot-layout.ts)
 *
 *   HotReliableSubscription (this thread)                worker (spins)
 *     consumer.poll(handler): messages in place <-- ring <-- reap, deliver, doWork <-- socket
 *
 * The same protocol, options and counters as ReliablePublication / ReliableSubscription; only
 * the driving differs: the event loop's turn there, a loop of turns here. io_uring only
 * (it throws UringUnavailableError where io_uring is not usable). The owner's calls poll
 * the control block once per millisecond: they are not on the data path.
 */
import { Worker } from 'node:worker_threads';
import { type Consumer, FluxError, Ring, registerCounterSource } from '@flux/ring';
import {
  optionalInteger,
  optionalSignal,
  requireInteger,
  requireNumber,
  requireObject,
  throwIfAborted,
  type WaitOptions,
  waitOptions,
} from '@flux/ring/validate';
import { capability, UringUnavailableError } from '@flux/uring';
import { type CounterSnapshot, ErrorChannel, type ErrorListener, LocalOffer, type ResolvedRingFed, resolveRingFedOptions, systemError } from '@flux/udp';
import type { ReliableSubscriptionSnapshot, SenderCounters } from './counters.js';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FLUSH_TIMEOUT_MS,
  DEFAULT_HOT_MAX_MESSAGE_BYTES,
  DEFAULT_HOT_RING_CAPACITY,
  HOT_START_TIMEOUT_MS,
  HOT_STOP_GRACE_MS,
  MAX_TIMEOUT_MS,
  MIN_HOT_RING_CAPACITY,
  POLL_INTERVAL_MS,
} from './defaults.js';
import {
  CAUGHT_UP_WORD,
  CLOSE_TIMEOUT_MS_WORD,
  CONTROL_INT32S,
  COUNTERS_OFFSET_BYTES,
  controlBlockBytes,
  counterNames,
  HotState,
  PACKED_WORD,
  readCounters,
  SENDER_STATE_WORD,
  SENDER_STATES,
  STATE_WORD,
  STOP_WORD,
} from './hot-layout.js';
import type { ReliablePublicationOptions } from './publication.js';
import type { SenderState } from './sender.js';
import type { ReliableSubscriptionOptions } from './subscription.js';
import { SEQUENCE_MASK, sequenceDiff } from '@flux/ring';

/** The built worker beside this file (dist/hot-worker.js or .cjs). */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.cjs') ? './hot-worker.cjs' : './hot-worker.js', import.meta.url);
}

interface WorkerMessage {
  type: 'open' | 'error';
  [key: string]: unknown;
}

/** A started worker, its control block, and what it said. */
class HotWorker {
  readonly words: Int32Array;
  readonly numbers: Float64Array;
  readonly names: string[];
  readonly errors = new ErrorChannel();
  private readonly worker: Worker;
  private exited: Promise<void>;
  private failure: Error | undefined;

  private constructor(worker: Worker, control: SharedArrayBuffer, role: 'publication' | 'subscription') {
    this.worker = worker;
    this.words = new Int32Array(control, 0, CONTROL_INT32S);
    this.numbers = new Float64Array(control, COUNTERS_OFFSET_BYTES);
    this.names = counterNames(role);
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /** Starts the worker and resolves with its 'open' message once its socket is open. */
  static async start(role: 'publication' | 'subscription', options: object, ring: Ring): Promise<{ hot: HotWorker; open: WorkerMessage }> {
    const report = capability();
    if (!report.usable) throw new UringUnavailableError(report.reason);
    const control = new SharedArrayBuffer(controlBlockBytes(role));
    const worker = new Worker(workerUrl(), { workerData: { role, options, ring: ring.handle, control } });
    const hot = new HotWorker(worker, control, role);
    const open = await new Promise<WorkerMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new FluxError('ERR_FLUX_TIMEOUT', `the hot ${role} worker did not open within ${HOT_START_TIMEOUT_MS} ms`)),
        HOT_START_TIMEOUT_MS,
      );
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'open') {
          clearTimeout(timer);
          resolve(message);
        } else if (message.type === 'error') {
          const error =
            message.errno !== undefined
              ? systemError(message.errno as number, String(message.syscall ?? 'socket'))
              : new FluxError('ERR_FLUX_WORKER_EXIT', `the hot ${role} worker: ${String(message.message)}`);
          if (message.fatal) {
            hot.failure = error;
            clearTimeout(timer);
            reject(error);
          } else hot.errors.socketError(error);
        }
      });
      worker.once('error', (error) => {
        hot.failure = error;
        clearTimeout(timer);
        reject(error);
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        reject(hot.failure ?? new FluxError('ERR_FLUX_WORKER_EXIT', `the hot ${role} worker exited before it opened`));
      });
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    });
    return { hot, open };
  }

  /** Until the worker stopped (its waits end there). */
  get running(): boolean {
    return Atomics.load(this.words, STATE_WORD) !== HotState.STOPPED;
  }

  counters(): Record<string, number> {
    return readCounters(this.words, this.numbers, this.names);
  }

  /** Asks the worker to close (its close takes `timeoutMs`) and resolves once it has exited (terminated if it has not, HOT_STOP_GRACE_MS later). */
  async stop(timeoutMs: number): Promise<void> {
    Atomics.store(this.words, CLOSE_TIMEOUT_MS_WORD, timeoutMs);
    Atomics.store(this.words, STOP_WORD, 1);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs + HOT_STOP_GRACE_MS);
    });
    if ((await Promise.race([this.exited, late])) === 'late') await this.worker.terminate();
    clearTimeout(timer);
  }

  /** Polls `done` once per POLL_INTERVAL_MS until it holds, the worker stopped, or `timeoutMs` passes. */
  async until(done: () => boolean, timeoutMs: number, signal?: AbortSignal, what = ''): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    throwIfAborted(signal, what);
    while (!done() && this.running && Date.now() <= deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      throwIfAborted(signal, what);
    }
  }

  /** Whether the worker thread keeps the process alive (Worker's ref()/unref()). */
  setRef(ref: boolean): void {
    if (ref) this.worker.ref();
    else this.worker.unref();
  }
}

export type HotReliablePublicationOptions<T = Uint8Array | string> = ReliablePublicationOptions<T>;

/** As ReliablePublication<T>: offer() takes bytes or a string, or with a `codec` the codec's values (encoded on the offering thread). */
export class HotReliablePublication<T = Uint8Array | string> {
  /** Producers on any thread attach `ring.handle` and claim/publish in place; the worker sends. */
  readonly ring: Ring;
  readonly backend = 'io_uring' as const;
  readonly sessionId: number;
  readonly datagramBytes: number;
  private readonly hot: HotWorker;
  private readonly local: LocalOffer;
  private readonly backPressure = { backPressured: 0 };
  /** Takes it out of the process's counter sources (counter-sources.ts in @flux/ring): at close. */
  private unregisterCounters: () => void = () => {};
  private closed: Promise<void> | undefined;

  private constructor(ring: Ring, hot: HotWorker, open: WorkerMessage, codec: ResolvedRingFed['codec']) {
    this.ring = ring;
    this.hot = hot;
    this.sessionId = open.sessionId as number;
    this.datagramBytes = open.datagramBytes as number;
    this.local = new LocalOffer(ring, this.backPressure, codec);
  }

  /** Starts the worker, which opens the socket and the session (as ReliablePublication.open). */
  static async open<T = Uint8Array | string>(options: HotReliablePublicationOptions<T>): Promise<HotReliablePublication<T>> {
    const resolved = resolveRingFedOptions(options as HotReliablePublicationOptions<unknown>); // checked here, before a thread starts
    // An AbortSignal cannot cross to the worker, nor can a codec (functions): it encodes on this thread.
    const { signal: _, codec: __, ...cloneable } = options;
    const signal = optionalSignal('signal', options.signal);
    throwIfAborted(signal, 'HotReliablePublication.open()');
    const ring = Ring.create({
      capacity: resolved.ringCapacity,
      maxMessageBytes: resolved.maxMessageBytes,
      producerMode: resolved.producerMode,
      maxConsumers: 1,
    });
    const { hot, open } = await HotWorker.start('publication', { ...cloneable, sessionId: resolved.sessionId, backend: 'io_uring' }, ring);
    const publication = new HotReliablePublication<T>(ring, hot, open, resolved.codec);
    publication.unregisterCounters = registerCounterSource(`hot reliable publication to ${resolved.host}:${resolved.port} stream ${resolved.streamId}`, () =>
      publication.counters(),
    );
    if (signal?.aborted) {
      await publication.close(0);
      throwIfAborted(signal, 'HotReliablePublication.open()');
    }
    return publication;
  }

  /** Lets the process exit while the worker runs (Worker's unref()); what is undelivered may then never be. Returns this. */
  unref(): this {
    this.hot.setRef(false);
    return this;
  }

  /** Undoes unref() (the default: the running worker keeps the process alive). Returns this. */
  ref(): this {
    this.hot.setRef(true);
    return this;
  }

  /** `await using publication = await HotReliablePublication.open(...)`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** As ReliablePublication's state, as the worker last wrote it (at most HOT_COUNTERS_EVERY_TURNS turns old; final once closed). */
  get state(): SenderState {
    return SENDER_STATES[Atomics.load(this.hot.words, SENDER_STATE_WORD)];
  }

  /** As ReliablePublication.offer: a copy into the ring from this thread. */
  offer(message: T): number {
    return this.local.offer(message);
  }

  /** As ReliablePublication.connected: a timeout, or `{ timeoutMs, signal }`. */
  async connected(timeoutMs: number | WaitOptions = DEFAULT_CONNECT_TIMEOUT_MS): Promise<boolean> {
    const wait = waitOptions('timeoutMs', timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
    await this.hot.until(() => this.state !== 'setup', wait.timeoutMs, wait.signal, 'connected()');
    return this.state === 'connected';
  }

  /** Resolves true once everything published before the call was consumed by the subscription; a timeout, or `{ timeoutMs, signal }`. */
  async flush(timeoutMs: number | WaitOptions = DEFAULT_FLUSH_TIMEOUT_MS): Promise<boolean> {
    const wait = waitOptions('timeoutMs', timeoutMs, DEFAULT_FLUSH_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
    const target = this.ring.cursor();
    const drained = () => {
      const words = this.hot.words;
      const packed = Atomics.load(words, PACKED_WORD);
      return sequenceDiff(packed & SEQUENCE_MASK, target) >= 0 && Atomics.load(words, CAUGHT_UP_WORD) === 1;
    };
    await this.hot.until(() => drained() || this.state === 'timedOut', wait.timeoutMs, wait.signal, 'flush()');
    return drained();
  }

  /** Counters as ReliablePublication's, a copy at most HOT_COUNTERS_EVERY_TURNS turns old (backPressured: this thread's offers). */
  counters(): CounterSnapshot<SenderCounters> {
    const counters = this.hot.counters();
    counters.backPressured += this.backPressure.backPressured;
    return counters as unknown as CounterSnapshot<SenderCounters>;
  }

  onError(listener: ErrorListener): () => void {
    return this.hot.errors.add(listener);
  }

  /** Sends what is queued, ends the stream and closes the socket (as ReliablePublication.close), then stops the worker. */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    requireNumber('timeoutMs', timeoutMs, 0, MAX_TIMEOUT_MS);
    this.unregisterCounters();
    this.local.close();
    await (this.closed ??= this.hot.stop(timeoutMs));
  }
}

export interface HotReliableSubscriptionOptions extends ReliableSubscriptionOptions {
  /** The one stream delivered into the ring. */
  streamId: number;
  /** Ring slots, a power of two, at least 4,096 (default 16,384). */
  ringCapacity?: number;
  /** Longest message (default 2,048): the ring's slot size, and the subscription's maxMessageBytes. */
  maxMessageBytes?: number;
}

export class HotReliableSubscription {
  /** The ring the worker fills, one message per slot, in order, exactly once per session. */
  readonly ring: Ring;
  /** This thread's consumer of it: `consumer.poll(handler)` reads messages in place. */
  readonly consumer: Consumer;
  readonly backend = 'io_uring' as const;
  readonly address: string;
  readonly port: number;
  private readonly hot: HotWorker;
  /** Takes it out of the process's counter sources (counter-sources.ts in @flux/ring): at close. */
  private unregisterCounters: () => void = () => {};
  private closed: Promise<void> | undefined;

  private constructor(ring: Ring, consumer: Consumer, hot: HotWorker, open: WorkerMessage) {
    this.ring = ring;
    this.consumer = consumer;
    this.hot = hot;
    this.address = open.address as string;
    this.port = open.port as number;
  }

  /** Starts the worker, which binds the socket (as ReliableSubscription.open) and delivers stream `streamId` into the ring. */
  static async open(options: HotReliableSubscriptionOptions): Promise<HotReliableSubscription> {
    requireObject('options', options);
    const { signal: _, ...cloneable } = options; // an AbortSignal cannot cross to the worker
    const signal = optionalSignal('signal', options.signal);
    throwIfAborted(signal, 'HotReliableSubscription.open()');
    const streamId = requireInteger('streamId', options.streamId, 0, 0xffff_ffff);
    const capacity = optionalInteger('ringCapacity', options.ringCapacity, DEFAULT_HOT_RING_CAPACITY, MIN_HOT_RING_CAPACITY, 2 ** 29);
    if ((capacity & (capacity - 1)) !== 0) throw new FluxError('ERR_FLUX_OUT_OF_RANGE', `ringCapacity must be a power of two, got ${capacity}`);
    const maxMessageBytes = optionalInteger('maxMessageBytes', options.maxMessageBytes, DEFAULT_HOT_MAX_MESSAGE_BYTES, 0, 2 ** 20);
    const ring = Ring.create({ capacity, maxMessageBytes, producerMode: 'single', maxConsumers: 1 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const { hot, open } = await HotWorker.start('subscription', { ...cloneable, streamId, maxMessageBytes }, ring);
    const subscription = new HotReliableSubscription(ring, consumer, hot, open);
    subscription.unregisterCounters = registerCounterSource(`hot reliable subscription on port ${subscription.port} stream ${streamId}`, () =>
      subscription.counters(),
    );
    if (signal?.aborted) {
      await subscription.close();
      throwIfAborted(signal, 'HotReliableSubscription.open()');
    }
    return subscription;
  }

  /** Lets the process exit while the worker runs (Worker's unref()). Returns this. */
  unref(): this {
    this.hot.setRef(false);
    return this;
  }

  /** Undoes unref() (the default: the running worker keeps the process alive). Returns this. */
  ref(): this {
    this.hot.setRef(true);
    return this;
  }

  /** `await using subscription = await HotReliableSubscription.open(...)`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Counters as ReliableSubscription's (`counters` and, prefixed `message.`, `messageCounters`), a copy at most HOT_COUNTERS_EVERY_TURNS turns old. */
  counters(): ReliableSubscriptionSnapshot {
    return this.hot.counters() as unknown as ReliableSubscriptionSnapshot;
  }

  onError(listener: ErrorListener): () => void {
    return this.hot.errors.add(listener);
  }

  /** Closes the socket and stops the worker; messages already in the ring stay readable. */
  async close(): Promise<void> {
    this.unregisterCounters();
    await (this.closed ??= this.hot.stop(0));
  }
}
