/**
 * Messages from the network as an async iterator, for code on the event loop:
 *
 *   for await (const { bytes, sessionId, streamId } of subscription.messages(streamId)) { ... }
 *
 * The receive path copies each message (a new Uint8Array, yours to keep) into a FIFO; the
 * iterator takes them in order. The FIFO is bounded by its owner, because the network cannot
 * wait for a slow loop body:
 *
 *   @flux/udp        at maxQueuedMessages (`full`) the subscription's sink drops the message
 *                    and counts it as `queueFull` (UDP has no back channel)
 *   @flux/reliable   the sink always pushes; at maxQueuedMessages the subscription pauses
 *                    delivery (the sender is then held back by flow control) and resumes
 *                    when the loop has taken the FIFO down to half (onDrained)
 *
 * StreamIterators registers each queue as its stream's sink and unregisters it when the
 * iteration ends; both subscriptions use it.
 *
 * Cost against `onMessage` (in place, no copy, no promise): one copy, one small object and
 * a promise turn per message, and a wake-up through the event loop when the FIFO was empty.
 * Use `onMessage` on a hot path; use this where `for await` reads better.
 *
 * Iteration ends, after the messages already queued, when the subscription closes; at once
 * when the loop breaks (return()), the signal aborts, or no message arrives for idleTimeoutMs.
 */
import { type Codec, FluxHandlerError, FluxRangeError, FluxTypeError } from '@flux/ring';
import { describe, optionalCodec, optionalInteger, optionsObject, requireNumber } from '@flux/ring/validate';
import type { MessageSink } from './datagram-reader.js';

export interface ReceivedMessage {
  /** A copy of the message: yours to keep. */
  bytes: Uint8Array;
  sessionId: number;
  streamId: number;
}

/** A message as a `messages(streamId, { codec })` iterator yields it: the codec's value, decoded in place (no copy). */
export interface DecodedMessage<T> {
  value: T;
  sessionId: number;
  streamId: number;
}

export interface MessageIteratorOptions {
  /** FIFO bound (default 4,096 messages): what happens at it depends on the transport (see above). */
  maxQueuedMessages?: number;
  /** Ends the iteration once aborted. */
  signal?: AbortSignal;
  /** Ends the iteration when no message arrives for this long (default Infinity). */
  idleTimeoutMs?: number;
}

/**
 * A decoding iterator's options: `codec.decode` runs on the receive path, on the message in
 * place (a view valid during the call), and the iterator yields its value. A message it
 * cannot decode (decode throws) is dropped and counted (`undecodable`); the error goes to
 * onError listeners as a FluxHandlerError (only counted without listeners: a peer's bad
 * bytes must not crash the process).
 */
export interface DecodingIteratorOptions<T> extends MessageIteratorOptions {
  codec: Codec<T>;
}

const DEFAULT_MAX_QUEUED_MESSAGES = 4096;
/** Taken messages are compacted out of the array once this many have accumulated at its front. */
const COMPACT_AFTER = 1024;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Largest maxQueuedMessages (each queued message is a copy held in memory). */
const MAX_QUEUED_MESSAGES = 1 << 24;
/** Largest finite idleTimeoutMs: a setTimeout's bound (Infinity: no idle timeout). */
const MAX_IDLE_TIMEOUT_MS = 2 ** 31 - 1;

function checkIteratorOptions(
  options: MessageIteratorOptions | undefined,
): Required<Omit<MessageIteratorOptions, 'signal'>> & { signal: AbortSignal | undefined; codec: Codec<unknown> | undefined } {
  const o = optionsObject('options', options);
  const maxQueuedMessages = optionalInteger('maxQueuedMessages', o.maxQueuedMessages, DEFAULT_MAX_QUEUED_MESSAGES, 1, MAX_QUEUED_MESSAGES);
  const idleTimeoutMs =
    o.idleTimeoutMs === undefined || o.idleTimeoutMs === Infinity ? Infinity : requireNumber('idleTimeoutMs', o.idleTimeoutMs, 0, MAX_IDLE_TIMEOUT_MS);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new FluxTypeError(`signal must be an AbortSignal, got ${describe(signal)}`);
  const codec = optionalCodec('codec', (o as Partial<DecodingIteratorOptions<unknown>>).codec);
  return { maxQueuedMessages, idleTimeoutMs, signal, codec };
}

/** The FIFO behind one iterator: of copies (ReceivedMessage), or with a codec of decoded values (DecodedMessage). */
export class MessageQueue<M extends ReceivedMessage | DecodedMessage<unknown> = ReceivedMessage> implements AsyncIterableIterator<M> {
  readonly maxQueuedMessages: number;
  private readonly codec: Codec<unknown> | undefined;
  private readonly idleTimeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly items: M[] = [];
  private head = 0;
  /** No more pushes: the subscription closed. Queued messages are still yielded. */
  private ended = false;
  /** Iteration is over (break, abort, idle): nothing more is yielded. */
  private finished = false;
  private waiter: ((result: IteratorResult<M, undefined>) => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Called once when iteration is over, however it ended: the owner unregisters. */
  private readonly onFinish: () => void;
  /** Called when next() takes the FIFO from above half its bound to half (reliable resumes here). */
  onDrained: (() => void) | undefined;

  constructor(options: MessageIteratorOptions | undefined, onFinish: () => void) {
    const checked = checkIteratorOptions(options);
    this.maxQueuedMessages = checked.maxQueuedMessages;
    this.idleTimeoutMs = checked.idleTimeoutMs;
    this.signal = checked.signal;
    this.codec = checked.codec;
    this.onFinish = onFinish;
    if (this.signal?.aborted)
      this.finished = true; // over before it began: the owner registers nothing
    else this.signal?.addEventListener('abort', this.abort, { once: true });
  }

  /** Messages queued and not yet taken. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Whether the FIFO is at its bound. */
  get full(): boolean {
    return this.length >= this.maxQueuedMessages;
  }

  /** Whether iteration is over (no push will ever be read). */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Copies one message in (with a codec: decodes it in place); the owner decides beforehand
   * whether a full FIFO takes it. Returns the codec's error, as a FluxHandlerError, when it
   * could not decode the message (nothing was queued: the owner counts it); else undefined.
   */
  push(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, sessionId: number, streamId: number): FluxHandlerError | undefined {
    if (this.finished || this.ended) return undefined;
    let message: M;
    if (this.codec !== undefined) {
      let value: unknown;
      try {
        value = this.codec.decode(bytes.subarray(offsetBytes, offsetBytes + lengthBytes));
      } catch (error) {
        return new FluxHandlerError(`codec.decode of a message on stream ${streamId} (session ${sessionId})`, error);
      }
      message = { value, sessionId, streamId } as M;
    } else {
      // Not bytes.slice(): on a Buffer (node:dgram's) that is a view of memory it may reuse.
      const copy = new Uint8Array(lengthBytes);
      copy.set(bytes.subarray(offsetBytes, offsetBytes + lengthBytes));
      message = { bytes: copy, sessionId, streamId } as M;
    }
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      this.clearIdle();
      waiter({ done: false, value: message });
      return undefined;
    }
    this.items.push(message);
    return undefined;
  }

  /** The subscription closed: yield what is queued, then end. */
  end(): void {
    this.ended = true;
    if (this.length === 0) this.finish();
  }

  next(): Promise<IteratorResult<M, undefined>> {
    if (this.length > 0) return Promise.resolve({ done: false, value: this.take() });
    if (this.finished || this.ended) {
      this.finish();
      return Promise.resolve(DONE);
    }
    if (this.waiter !== undefined) return Promise.reject(new FluxRangeError('next() called again before its previous promise settled'));
    return new Promise((resolve) => {
      this.waiter = resolve;
      if (this.idleTimeoutMs !== Infinity) this.idleTimer = setTimeout(this.finish, this.idleTimeoutMs);
    });
  }

  return(): Promise<IteratorResult<M, undefined>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private take(): M {
    const message = this.items[this.head];
    this.items[this.head++] = undefined as unknown as M; // let it be collected
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    if (this.onDrained !== undefined && this.length === this.maxQueuedMessages >>> 1) this.onDrained();
    if (this.ended && this.length === 0) this.finish();
    return message;
  }

  private readonly abort = (): void => this.finish();

  private readonly finish = (): void => {
    if (this.finished) return;
    this.finished = true;
    this.items.length = 0;
    this.head = 0;
    this.clearIdle();
    this.signal?.removeEventListener('abort', this.abort);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(DONE);
    this.onFinish();
  };

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

/** A subscription's iterators: each queue is its stream's sink until its iteration ends. */
export class StreamIterators {
  private readonly queues = new Set<{ end(): void }>();
  private readonly sinks: Map<number, MessageSink>;

  constructor(sinks: Map<number, MessageSink>) {
    this.sinks = sinks;
  }

  /**
   * A queue for stream `streamId`, registered (replacing any handler) with the sink
   * `sinkFor(queue)` builds; `onFinish` runs once its iteration ends, after it is unregistered.
   */
  open<M extends ReceivedMessage | DecodedMessage<unknown>>(
    streamId: number,
    options: MessageIteratorOptions | undefined,
    sinkFor: (queue: MessageQueue<M>) => MessageSink,
    onFinish?: () => void,
  ): MessageQueue<M> {
    let sink: MessageSink | undefined;
    const queue: MessageQueue<M> = new MessageQueue<M>(options, () => {
      this.queues.delete(queue);
      if (this.sinks.get(streamId) === sink) this.sinks.delete(streamId);
      onFinish?.();
    });
    if (queue.isFinished) return queue; // the signal had already aborted: nothing to register
    sink = sinkFor(queue);
    this.queues.add(queue);
    this.sinks.set(streamId, sink);
    return queue;
  }

  /** The subscription closed: every iteration ends after the messages it has queued. */
  endAll(): void {
    for (const queue of this.queues) queue.end();
  }
}
