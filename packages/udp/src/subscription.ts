/**
 * A subscription: a bound socket whose datagrams are parsed and whose messages are handed,
 * per stream, to a handler on this thread or into a @flux/ring for consumers on other
 * threads. Messages of a session arrive in the order sent: late (reordered or duplicated)
 * datagrams are dropped and counted, gaps are counted as lost frames (UDP does not
 * retransmit; @flux/reliable does). Every bad datagram is counted and dropped; none throws
 * out of the receive path.
 *
 * Datagrams arrive through a backend (backend.ts): a multishot io_uring receive into a
 * SharedArrayBuffer, parsed where they landed, where usable; node:dgram otherwise.
 */
import { BACK_PRESSURED, FluxHandlerError, FluxTypeError, NOT_CONNECTED, type Producer, type Ring, registerCounterSource } from '@flux/ring';
import {
  describe,
  optionalChoice,
  optionalInteger,
  optionalNumber,
  optionalSignal,
  requireFunction,
  requireInteger,
  requireObject,
  requireString,
  throwIfAborted,
} from '@flux/ring/validate';
import { type Backend, type BackendChoice, type BackendOption, openOnBackend } from './backend.js';
import { DropReason, SubscriptionCounters } from './counters.js';
import { DatagramReader, type MessageSink } from './datagram-reader.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SEQUENCE_WINDOW_FRAMES,
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
  MAX_SEQUENCE_WINDOW_FRAMES,
  MAX_SESSION_IDLE_TIMEOUT_MS,
  MAX_SESSIONS,
} from './defaults.js';
import { openDgramReceivePath } from './dgram-backend.js';
import { ErrorChannel, type ErrorListener } from './errors.js';
import { type DecodedMessage, type DecodingIteratorOptions, type MessageIteratorOptions, type ReceivedMessage, StreamIterators } from './message-queue.js';
import type { DatagramSink, ReceivePath } from './paths.js';
import { checkBufferBytes, familyOf, type SocketOptions } from './socket.js';
import { openUringReceivePath } from './uring-backend.js';

/** Largest UDP payload over IPv6 (65,535 - the 8-byte UDP header); IPv4's is 20 bytes less. */
const MAX_UDP_PAYLOAD_BYTES = 65_527;
/** Receive parts lent to the kernel on io_uring (each holds one datagram). */
const RECEIVE_PARTS = 256;
const BACKENDS = ['auto', 'io_uring', 'dgram'] as const;
const NS_PER_MS = 1e6;

/** The clock sessions expire by: monotonic, in ns (a float; sub-microsecond precision is not needed). */
const nowNs = (): number => performance.now() * NS_PER_MS;

export interface SubscriptionOptions extends SocketOptions {
  /** Port to bind; 0 picks a free one (read it back from `subscription.port`). */
  port: number;
  /** Aborting it while open() runs rejects open() with a FluxAbortError; the socket is closed. */
  signal?: AbortSignal;
  /** Address to bind (default '0.0.0.0', or '::' with family 'IPv6'). */
  address?: string;
  /** Largest message reassembled (default 65,536); longer ones are dropped as oversize. */
  maxMessageBytes?: number;
  /**
   * Sessions (publishers x streams) tracked at once (default 64, at most 65,536). A new
   * session beyond it takes the place of those idle past sessionIdleTimeoutMs, or, if none
   * is, is dropped and counted (tooManySessions).
   */
  maxSessions?: number;
  /**
   * A session not heard for this long is forgotten (default 5,000 ms; 1 to 2^31-1): its
   * place goes to a new session, and if it is heard again it starts over at the sequence it
   * then carries. Counted as sessionsExpired. See defaults.ts for why 5 seconds.
   */
  sessionIdleTimeoutMs?: number;
  /**
   * A datagram more than this many frames ahead of its session's expected sequence, or
   * more than this many behind, is dropped (outOfWindow) and moves nothing (default 2^24;
   * 1 to 2^30). Within it, ahead is a gap (framesLost), behind is late.
   */
  sequenceWindowFrames?: number;
  /**
   * Largest datagram received whole on io_uring (default 65,527: any); longer ones are
   * counted as truncated. Each of the 256 receive parts is this big (address space; only
   * the bytes datagrams fill are touched). node:dgram always receives whole datagrams.
   */
  maxDatagramBytes?: number;
  /** 'auto' (default): io_uring where @flux/uring says it is usable, else node:dgram. */
  backend?: BackendOption;
}

export class Subscription {
  readonly counters: SubscriptionCounters;
  /** Takes it out of the process's counter sources (counter-sources.ts in @flux/ring): at close. */
  private unregisterCounters: () => void = () => {};
  readonly port: number;
  readonly address: string;
  private readonly path: ReceivePath;
  private readonly choice: BackendChoice;
  private readonly sinks: Map<number, MessageSink>;
  private readonly iterators: StreamIterators;
  private readonly errors: ErrorChannel;
  private closed: Promise<void> | undefined;

  private constructor(path: ReceivePath, choice: BackendChoice, sinks: Map<number, MessageSink>, counters: SubscriptionCounters, errors: ErrorChannel) {
    this.path = path;
    this.choice = choice;
    this.sinks = sinks;
    this.iterators = new StreamIterators(sinks);
    this.counters = counters;
    this.errors = errors;
    this.port = path.port;
    this.address = path.address;
  }

  /**
   * Binds the socket and starts receiving. Bad options reject with a FluxTypeError or
   * FluxRangeError naming the option; an error the system raises while binding or setting
   * socket options (EADDRINUSE, a buffer size refused) rejects, as Node reports it.
   */
  static async open(options: SubscriptionOptions): Promise<Subscription> {
    const o = requireObject('options', options);
    const port = requireInteger('port', o.port, 0, 65535);
    const signal = optionalSignal('signal', o.signal);
    throwIfAborted(signal, 'Subscription.open()');
    const maxMessageBytes = optionalInteger('maxMessageBytes', o.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 0, 2 ** 30);
    const maxSessions = optionalInteger('maxSessions', o.maxSessions, DEFAULT_MAX_SESSIONS, 1, MAX_SESSIONS);
    const maxDatagramBytes = optionalInteger('maxDatagramBytes', o.maxDatagramBytes, MAX_UDP_PAYLOAD_BYTES, 16, MAX_UDP_PAYLOAD_BYTES);
    const sessionIdleTimeoutMs = optionalNumber(
      'sessionIdleTimeoutMs',
      o.sessionIdleTimeoutMs,
      DEFAULT_SESSION_IDLE_TIMEOUT_MS,
      1,
      MAX_SESSION_IDLE_TIMEOUT_MS,
    );
    const sequenceWindowFrames = optionalInteger('sequenceWindowFrames', o.sequenceWindowFrames, DEFAULT_SEQUENCE_WINDOW_FRAMES, 1, MAX_SEQUENCE_WINDOW_FRAMES);
    checkBufferBytes('receiveBufferBytes', o.receiveBufferBytes);
    checkBufferBytes('sendBufferBytes', o.sendBufferBytes);
    const backend = optionalChoice('backend', o.backend, BACKENDS, 'auto');
    const family0 = optionalChoice('family', o.family, ['IPv4', 'IPv6'] as const, 'IPv4');
    const address = o.address === undefined ? (family0 === 'IPv6' ? '::' : '0.0.0.0') : requireString('address', o.address);
    const family = familyOf(address, o.family);
    const counters = new SubscriptionCounters();
    const errors = new ErrorChannel();
    const sinks = new Map<number, MessageSink>();
    const reader = new DatagramReader({
      maxMessageBytes,
      maxSessions,
      sinkFor: (streamId) => sinks.get(streamId),
      counters,
      sessionIdleTimeoutNs: sessionIdleTimeoutMs * NS_PER_MS,
      sequenceWindowFrames,
      onHandlerError: (error, _sessionId, streamId) => errors.handlerError(new FluxHandlerError(`the onMessage handler of stream ${streamId}`, error)),
    });
    const sink: DatagramSink = {
      read: (bytes, offsetBytes, lengthBytes) => reader.read(bytes, offsetBytes, lengthBytes, nowNs()),
      readTruncated: (lengthBytes) => reader.readTruncated(lengthBytes),
      receiveError: (error) => {
        reader.receiveError();
        if (error !== undefined) errors.socketError(error);
      },
    };
    const binding = { address, port, family, receiveBufferBytes: o.receiveBufferBytes, sendBufferBytes: o.sendBufferBytes };
    const { path, choice } = await openOnBackend<ReceivePath>(
      backend,
      () => openUringReceivePath(binding, { family, maxDatagramBytes, parts: RECEIVE_PARTS }, sink),
      () => openDgramReceivePath(binding, sink),
    );
    const subscription = new Subscription(path, choice, sinks, counters, errors);
    errors.source = `udp subscription on ${address}:${subscription.port}`;
    subscription.unregisterCounters = registerCounterSource(errors.source, () => counters.snapshot());
    if (signal?.aborted) {
      await subscription.close();
      throwIfAborted(signal, 'Subscription.open()');
    }
    return subscription;
  }

  /**
   * Lets the process exit while this subscription is open (Node's unref(): its socket no
   * longer holds the event loop; a `for await` over messages() does not either). Returns this.
   */
  unref(): this {
    this.path.setRef(false);
    return this;
  }

  /** Undoes unref(): the open socket keeps the process alive again (the default). Returns this. */
  ref(): this {
    this.path.setRef(true);
    return this;
  }

  /** `await using subscription = await Subscription.open(...)`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The kernel interface datagrams arrive through: 'io_uring' or 'dgram' (see backend.ts). */
  get backend(): Backend {
    return this.choice.backend;
  }

  /** Why node:dgram is used ('' on io_uring). */
  get backendReason(): string {
    return this.choice.reason;
  }

  /**
   * Delivers stream `streamId`'s messages to `handler` on this thread. A handler that
   * throws does not stop delivery: the throw is caught for that call and counted
   * (handlerErrors), the message counts as delivered (it is not repeated), the datagram's
   * other messages are still delivered, and the error goes to the onError listeners as a
   * FluxHandlerError (`cause`: what was thrown). With no onError listener it is rethrown
   * on a later turn of the event loop (an uncaught exception, as from a throwing 'message'
   * listener of a node:dgram socket); if the process survives that, delivery goes on.
   */
  onMessage(streamId: number, handler: MessageSink): this {
    this.checkStream(streamId);
    requireFunction('handler', handler);
    this.sinks.set(streamId, handler);
    return this;
  }

  /**
   * Adds a listener for this subscription's errors: socket errors (Node-style: `code`,
   * `errno`, `syscall`; counted in receiveErrors; without listeners only counted) and
   * handler errors (FluxHandlerError; see onMessage). Returns a function that removes the
   * listener. A listener that throws is rethrown on a later turn, as a FluxHandlerError.
   */
  onError(listener: ErrorListener): () => void {
    return this.errors.add(listener);
  }

  /**
   * Delivers stream `streamId`'s messages into `ring` (one claim, copy and publish each),
   * for consumers on any thread. When the ring is full or has no consumer the message is
   * dropped and counted (`ringFull`): the network cannot wait.
   */
  deliverToRing(streamId: number, ring: Ring): this {
    this.checkStream(streamId);
    if (
      typeof ring !== 'object' ||
      ring === null ||
      typeof (ring as Partial<Ring>).createProducer !== 'function' ||
      !((ring as Partial<Ring>).bytes instanceof Uint8Array)
    ) {
      throw new FluxTypeError(`ring must be a @flux/ring Ring, got ${describe(ring)}`);
    }
    const producer: Producer = ring.createProducer();
    const target = ring.bytes;
    const counters = this.counters;
    this.sinks.set(streamId, (bytes, offset, length) => {
      if (length > ring.maxMessageBytes) return counters.drop(DropReason.OVERSIZE);
      const sequence = producer.tryClaim(1, length);
      if (sequence === BACK_PRESSURED || sequence === NOT_CONNECTED) return counters.drop(DropReason.RING_FULL);
      target.set(bytes.subarray(offset, offset + length), ring.offsetOf(sequence));
      producer.publish(sequence, 1);
    });
    return this;
  }

  /**
   * Stream `streamId`'s messages as an async iterator of copies (see message-queue.ts),
   * replacing any handler of that stream. When the loop body falls `maxQueuedMessages`
   * behind, further messages are dropped and counted (`queueFull`): UDP cannot wait. After
   * the loop breaks, the signal aborts or the idle timeout passes, the stream has no handler
   * (its messages count as `unknownStream`); closing the subscription ends the loop after
   * the messages already queued. No application code runs on the receive path here (the
   * loop body runs on its own turn: what it throws rejects the caller's own async function
   * and ends the iteration through return()), so there are no handler errors to report.
   */
  messages(streamId: number, options?: MessageIteratorOptions): AsyncIterableIterator<ReceivedMessage>;
  /**
   * With `{ codec }`: each message decoded in place on the receive path (no copy), yielded as
   * `{ value, sessionId, streamId }`. One the codec cannot decode is dropped and counted
   * (`undecodable`), its error to onError listeners as a FluxHandlerError.
   */
  messages<T>(streamId: number, options: DecodingIteratorOptions<T>): AsyncIterableIterator<DecodedMessage<T>>;
  messages(streamId: number, options?: MessageIteratorOptions): AsyncIterableIterator<ReceivedMessage | DecodedMessage<unknown>> {
    this.checkStream(streamId);
    const counters = this.counters;
    const errors = this.errors;
    const queue = this.iterators.open(streamId, options, (queue) => (bytes, offset, length, sessionId, stream) => {
      if (queue.full) return counters.drop(DropReason.QUEUE_FULL);
      const undecodable = queue.push(bytes, offset, length, sessionId, stream);
      if (undecodable !== undefined) {
        counters.drop(DropReason.UNDECODABLE);
        errors.droppedError(undecodable);
      }
    });
    if (this.closed !== undefined) queue.end();
    return queue;
  }

  async close(): Promise<void> {
    this.unregisterCounters();
    await (this.closed ??= this.path.close());
    this.iterators.endAll();
  }

  private checkStream(streamId: number): void {
    requireInteger('streamId', streamId, 0, 0xffff_ffff);
  }
}
