/**
 * A reliable subscription: a bound socket (io_uring or node:dgram, links.ts) whose sessions
 * (one per publication and stream) are delivered exactly once and in order to a handler per
 * stream. The protocol is receiver.ts; this file feeds it datagrams and runs its timers.
 *
 *   socket --link--> ReliableReceiver --in order--> DatagramReader --> onMessage handler
 *                         |  STATUS, NAK, to each session's sender address
 *                         +--> link --> socket
 *
 * A gap the sender can no longer fill is an event, never a silent hang: 'failed' (onGap
 * 'fail', the default) or 'gap' then delivery goes on (onGap 'skip'). Events: see
 * ReliableEvent in receiver.ts.
 */
import {
  type Backend,
  type BackendChoice,
  type BackendOption,
  checkBufferBytes,
  DatagramReader,
  type DecodedMessage,
  type DecodingIteratorOptions,
  ErrorChannel,
  type ErrorListener,
  familyOf,
  type MessageIteratorOptions,
  type MessageSink,
  openOnBackend,
  type ReceivedMessage,
  type SocketOptions,
  StreamIterators,
  SubscriptionCounters,
} from '@flux/udp';
import { ReceiverCounters } from './counters.js';
import { DEFAULT_RECEIVE_BUFFER_BYTES, IDLE_TIMER_MS, MIN_TIMER_MS, NS_PER_MS, READER_SEQUENCE_WINDOW_FRAMES } from './defaults.js';
import { nowNs, requireInteger, type ResolvedReceiver, resolveReceiverOptions, windowWithin } from './options.js';
import { type ReliableEvent, ReliableReceiver, type SessionMemory, sessionMemoryFor } from './receiver.js';
import { channel } from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS, FluxHandlerError, registerCounterSource } from '@flux/ring';
import { optionalChoice, optionalSignal, requireFunction, requireObject, requireString, throwIfAborted } from '@flux/ring/validate';
import { openDgramReceiverLink } from './dgram-links.js';
import type { ReceiverLink, ReceiverLinkEvents } from './links.js';
import { openUringReceiverLink } from './uring-links.js';

const sessionDiagnostics = channel(DIAGNOSTICS_CHANNELS.reliableSession);
export interface ReliableSubscriptionOptions extends SocketOptions {
  /** Aborting it while open() runs rejects open() with a FluxAbortError; the socket is closed. */
  signal?: AbortSignal;
  /** Port to bind; 0 picks a free one (read it back from `subscription.port`). */
  port: number;
  /** Address to bind (default '0.0.0.0', or '::' with family 'IPv6'). */
  address?: string;
  /** The kernel interface: 'auto' (default), 'io_uring' or 'dgram', as a publication's `backend`. */
  backend?: BackendOption;
  /** Largest message reassembled (default 65,536). */
  maxMessageBytes?: number;
  /** Sessions at once (default 16); each holds windowDatagrams x maxDatagramBytes of window. */
  maxSessions?: number;
  /**
   * Bytes of DATA a sender may have sent beyond what was delivered: flow control (default
   * 1 MiB, at most half the socket's receive buffer, so a burst fits it).
   */
  windowBytes?: number;
  /** Out-of-order datagrams held per session (default 1,024). */
  windowDatagrams?: number;
  /** Longest datagram held out of order (default 1,472: a 1,500-byte MTU over IPv4); longer ones are taken only in order. */
  maxDatagramBytes?: number;
  /** What an unavailable gap does: 'fail' (default) ends the session with a 'failed' event; 'skip' reports a 'gap' and goes on. */
  onGap?: 'fail' | 'skip';
  /**
   * A gap is NAKed this long after it is seen (default 0: at the end of the event-loop turn
   * that found it, so datagrams reordered within one receive batch never cause a NAK; a
   * longer delay tolerates more reordering but waits at least one timer tick, ~1 ms).
   */
  nakDelayMs?: number;
  /** Shortest interval between NAKs of one gap (default 1 ms; at least twice the round trip, doubling per retry up to 100 ms). */
  nakRetryMs?: number;
  /**
   * NAKs a gap at the next expected sequence may go unanswered, with nothing delivered, before
   * it is given up under `onGap` (default 32: about 2.5 s with the default NAK backoff). A
   * gap that never fills (a sender that answers nothing, a path that loses every resend)
   * then ends in 'failed' or 'gap', never in a hang.
   */
  maxNakRounds?: number;
  /** A STATUS at least this often (default 50 ms). */
  statusIntervalMs?: number;
  /** No datagram from a sender for this long ends its session with 'timeout' (default 5,000 ms). */
  livenessTimeoutMs?: number;
}

export class ReliableSubscription {
  readonly counters = new ReceiverCounters();
  /** Frames and messages as parsed: messagesReceived, framesLost (skipped gaps), drops by reason. */
  readonly messageCounters = new SubscriptionCounters();
  /** Takes it out of the process's counter sources (counter-sources.ts in @flux/ring): at close. */
  private unregisterCounters: () => void = () => {};
  readonly port: number;
  readonly address: string;
  private readonly link: ReceiverLink;
  private readonly choice: BackendChoice;
  private readonly receiver: ReliableReceiver;
  private readonly sinks = new Map<number, MessageSink>();
  private readonly iterators = new StreamIterators(this.sinks);
  /** Replaced, never changed in place: a listener that adds or removes one while events go out does not disturb that loop. */
  private listeners: readonly ((event: ReliableEvent) => void)[] = [];
  private readonly errors = new ErrorChannel();
  private workScheduled = false;
  /** Driven by turn() on a thread of its own (hot.ts): work is done there, never scheduled. */
  private busyPoll = false;
  private workDue = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDueNs = Infinity;
  private closed: Promise<void> | undefined;

  private constructor(link: ReceiverLink, choice: BackendChoice, resolved: ResolvedReceiver, events: ReceiverLinkEvents) {
    this.link = link;
    this.choice = choice;
    this.port = link.port;
    this.address = link.address;
    const options = resolved.receiver;
    const reader = new DatagramReader({
      maxMessageBytes: resolved.maxMessageBytes,
      maxSessions: options.maxSessions,
      sinkFor: (streamId) => this.sinks.get(streamId),
      counters: this.messageCounters,
      // Sessions end by the protocol's own events (receiver.ts), never by the reader's clock (defaults.ts).
      sequenceWindowFrames: READER_SEQUENCE_WINDOW_FRAMES,
      onHandlerError: (error, _sessionId, streamId) => this.errors.handlerError(new FluxHandlerError(`the onMessage handler of stream ${streamId}`, error)),
    });
    this.sessionMemory = sessionMemoryFor(options, resolved.maxMessageBytes);
    this.receiver = new ReliableReceiver(
      options,
      reader,
      (streamId) => this.sinks.has(streamId),
      {
        sendControl: (bytes, lengthBytes, address, port) => this.link.sendControl(bytes, lengthBytes, address, port),
      },
      this.counters,
      (event) => {
        if (sessionDiagnostics.hasSubscribers) sessionDiagnostics.publish({ source: this.errors.source, event });
        for (const listener of this.listeners) {
          try {
            listener(event);
          } catch (error) {
            this.errors.handlerError(new FluxHandlerError(`an onEvent listener ('${event.type}')`, error));
          }
        }
      },
    );
    // The link was opened first (it names the port) with `events` and calls its methods: they become this subscription's.
    events.onDatagram = (bytes, offsetBytes, lengthBytes, address, port) => this.receiver.onDatagram(bytes, offsetBytes, lengthBytes, address, port, nowNs());
    events.onBatchEnd = () => this.schedule();
    events.onTruncated = () => this.counters.malformed++; // longer than any datagram a sender sends (65,507 bytes)
    events.onError = (error) => this.socketFailed(error);
  }

  /**
   * Errors, to `listener`; returns a function that removes it:
   *  - socket errors as Node reports them (`code`, `errno`, `syscall`), counted in
   *    receiveErrors; without a listener they are only counted;
   *  - a FluxHandlerError when an onMessage handler or an onEvent listener threw (`cause`):
   *    that message counts as delivered, the others are delivered as usual, the session
   *    goes on; without a listener it is rethrown on a later turn of the event loop (an
   *    uncaught exception, as a throwing 'message' listener of a node:dgram socket is).
   */
  onError(listener: ErrorListener): () => void {
    return this.errors.add(listener);
  }

  private socketFailed(error: Error): void {
    this.counters.receiveErrors++;
    this.errors.socketError(error);
  }

  static async open(options: ReliableSubscriptionOptions): Promise<ReliableSubscription> {
    return ReliableSubscription.openWith(options, { busyPoll: false });
  }

  /**
   * Lets the process exit while this subscription is open (Node's unref(): its socket no
   * longer holds the event loop; its timer never does). Returns this.
   */
  unref(): this {
    this.link.setRef(false);
    return this;
  }

  /** Undoes unref(): the open socket keeps the process alive again (the default). Returns this. */
  ref(): this {
    this.link.setRef(true);
    return this;
  }

  /** `await using subscription = await ReliableSubscription.open(...)`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal The hot worker's open (hot.ts): with `busyPoll`, driven by turn() in a loop on io_uring, not by the event loop. */
  static async openWith(options: ReliableSubscriptionOptions, how: { busyPoll: boolean }): Promise<ReliableSubscription> {
    requireObject('options', options);
    requireInteger('port', options.port, 0, 65535);
    const signal = optionalSignal('signal', options.signal);
    throwIfAborted(signal, 'ReliableSubscription.open()');
    if (options.address !== undefined) requireString('address', options.address);
    checkBufferBytes('receiveBufferBytes', options.receiveBufferBytes);
    checkBufferBytes('sendBufferBytes', options.sendBufferBytes);
    const resolved = resolveReceiverOptions(options);
    const address = options.address ?? (options.family === 'IPv6' ? '::' : '0.0.0.0');
    const family = familyOf(address, options.family);
    const backend = how.busyPoll ? 'io_uring' : optionalChoice('backend', options.backend, ['auto', 'io_uring', 'dgram'] as const, 'auto');
    const binding = {
      address,
      port: options.port,
      family,
      receiveBufferBytes: options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER_BYTES,
      sendBufferBytes: options.sendBufferBytes,
    };
    // The link is opened before the subscription it delivers to (which needs its port): the
    // subscription's constructor fills these in. Nothing arrives before that: delivery runs
    // on a later turn of the event loop, or on turn() in busy-poll mode.
    const events: ReceiverLinkEvents = { onDatagram: () => {}, onBatchEnd: () => {}, onTruncated: () => {}, onError: () => {} };
    const { path: link, choice } = await openOnBackend<ReceiverLink>(
      backend,
      () => openUringReceiverLink(binding, events),
      () => openDgramReceiverLink(binding, events),
    );
    // Linux reports twice the size asked for (its bookkeeping share included): half is what a burst may fill.
    if (options.windowBytes === undefined) resolved.receiver.windowBytes = windowWithin(resolved.receiver.windowBytes, link.receiveBufferBytes);
    const subscription = new ReliableSubscription(link, choice, resolved, events);
    if (how.busyPoll) {
      link.startBusyPoll();
      subscription.busyPoll = true;
    } else subscription.arm();
    subscription.errors.source = `reliable subscription on port ${subscription.port}`;
    subscription.unregisterCounters = registerCounterSource(subscription.errors.source, () => ({
      ...subscription.counters.snapshot(),
      ...Object.fromEntries(Object.entries(subscription.messageCounters.snapshot()).map(([name, value]) => [`message.${name}`, value])),
    }));
    if (signal?.aborted) {
      await subscription.close();
      throwIfAborted(signal, 'ReliableSubscription.open()');
    }
    return subscription;
  }

  /** @internal Busy-poll mode: one turn (take what arrived; the receiver's work when due). */
  turn(): void {
    this.link.poll();
    const now = nowNs();
    if (this.workDue || now >= this.receiver.nextDeadlineNs()) {
      this.workDue = false;
      this.receiver.doWork(now);
    }
  }

  /** @internal Pauses delivery (every stream), as a full iterator queue does; resume() undoes it. */
  pauseDelivery(): void {
    this.receiver.pause();
  }

  /** @internal */
  resumeDelivery(): void {
    this.receiver.resume();
    this.schedule();
  }

  /** The kernel interface datagrams arrive through: 'io_uring' or 'dgram' (links.ts). */
  get backend(): Backend {
    return this.choice.backend;
  }

  /** Why node:dgram is used ('' on io_uring, 'asked for' when the option said 'dgram'). */
  get backendReason(): string {
    return this.choice.reason;
  }

  /** Delivers stream `streamId`'s messages to `handler`, in order, exactly once per session. Register before publishers connect. */
  onMessage(streamId: number, handler: MessageSink): this {
    requireInteger('streamId', streamId, 0, 0xffff_ffff);
    requireFunction('handler', handler);
    this.sinks.set(streamId, handler);
    return this;
  }

  /**
   * Stream `streamId`'s messages as an async iterator of copies (see @flux/udp's
   * message-queue.ts), in order and exactly once per session, replacing any handler of that
   * stream. Nothing is dropped for a slow loop body: when it falls `maxQueuedMessages`
   * behind, this subscription stops delivering (every stream) and holds what arrives in its
   * window, so flow control holds the senders back; it resumes when the loop has taken the
   * FIFO down to half. After the loop breaks, the signal aborts or the idle timeout passes,
   * the stream has no handler: its messages are then acknowledged and dropped as
   * `unknownStream`. Closing the subscription ends the loop after the messages queued.
   */
  messages(streamId: number, options?: MessageIteratorOptions): AsyncIterableIterator<ReceivedMessage>;
  /**
   * With `{ codec }`: each message decoded in place on the receive path (no copy), yielded as
   * `{ value, sessionId, streamId }`. One the codec cannot decode was delivered by the
   * protocol (it is not sent again) but is dropped here and counted (`undecodable`), its
   * error to onError listeners as a FluxHandlerError.
   */
  messages<T>(streamId: number, options: DecodingIteratorOptions<T>): AsyncIterableIterator<DecodedMessage<T>>;
  messages(streamId: number, options: MessageIteratorOptions = {}): AsyncIterableIterator<ReceivedMessage | DecodedMessage<unknown>> {
    requireInteger('streamId', streamId, 0, 0xffff_ffff);
    const receiver = this.receiver;
    const counters = this.counters;
    const errors = this.errors;
    const resume = () => {
      receiver.resume();
      this.schedule();
    };
    const queue = this.iterators.open(
      streamId,
      options,
      (queue) => (bytes, offset, length, sessionId, stream) => {
        const undecodable = queue.push(bytes, offset, length, sessionId, stream);
        if (undecodable !== undefined) {
          counters.undecodable++;
          errors.droppedError(undecodable);
        }
        if (queue.full) receiver.pause();
      },
      resume, // a loop that stops must not leave delivery paused
    );
    queue.onDrained = resume;
    if (this.closed !== undefined) queue.end();
    return queue;
  }

  /** Session events: 'begin', 'gap', 'end', 'timeout', 'failed' (see ReliableEvent). */
  onEvent(listener: (event: ReliableEvent) => void): this {
    requireFunction('listener', listener);
    this.listeners = [...this.listeners, listener];
    return this;
  }

  /** Removes a listener onEvent() added (the first registration of it, as EventEmitter's off() does). Returns this. */
  offEvent(listener: (event: ReliableEvent) => void): this {
    requireFunction('listener', listener);
    const at = this.listeners.indexOf(listener);
    if (at >= 0) this.listeners = [...this.listeners.slice(0, at), ...this.listeners.slice(at + 1)];
    return this;
  }

  /** What one session allocates, and when (receiver.ts): maxBytes x maxSessions bounds them all. */
  readonly sessionMemory: SessionMemory;

  /** Sessions live now (ended ones linger until their sender goes quiet). */
  get sessionCount(): number {
    return this.receiver.sessionCount;
  }

  async close(): Promise<void> {
    this.unregisterCounters();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueNs = -1; // never re-armed
    await (this.closed ??= this.link.close());
    this.iterators.endAll();
  }

  /** Runs the receiver's work after this turn's datagrams: one scan and one STATUS for all of them. */
  private schedule(): void {
    if (this.busyPoll) {
      this.workDue ||= this.receiver.hasPendingWork;
      return;
    }
    if (this.receiver.hasPendingWork && !this.workScheduled) {
      this.workScheduled = true;
      setImmediate(this.work);
    }
  }

  private readonly work = (): void => {
    this.workScheduled = false;
    if (this.timerDueNs < 0) return;
    this.receiver.doWork(nowNs());
    this.arm();
  };

  /** Sets the timer for the receiver's next deadline (at least 1 ms away: Node's timer granularity). */
  private arm(): void {
    if (this.timerDueNs < 0) return;
    const dueNs = this.receiver.nextDeadlineNs();
    const now = nowNs();
    const delayMs = dueNs === Infinity ? IDLE_TIMER_MS : Math.max(MIN_TIMER_MS, Math.ceil((dueNs - now) / NS_PER_MS));
    if (this.timer !== undefined && this.timerDueNs <= now + delayMs * NS_PER_MS) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDueNs = now + delayMs * NS_PER_MS;
    this.timer = setTimeout(this.onTimer, delayMs);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.work();
  };
}
