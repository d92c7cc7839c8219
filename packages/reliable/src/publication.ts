/**
 * A reliable publication: messages published into a @flux/ring by any thread reach one
 * ReliableSubscription exactly once and in order, over io_uring or node:dgram (links.ts;
 * 'auto' chooses as @flux/udp does). The protocol is sender.ts; this file runs it on this
 * thread's event loop and hands its datagrams to the link.
 *
 *   producers (any thread) --claim/publish--> ring --ReliableSender--> link --> socket (connected)
 *                                                       ^  STATUS, NAK (the kernel passes only the peer's datagrams)
 *
 * Back-pressure: the sender stops packing at the receiver's window or a full retransmit
 * buffer; the ring fills and producers' claims return BACK_PRESSURED. Memory is the ring
 * plus the retransmit buffer, whatever the send rate.
 */
import { randomBytes } from 'node:crypto';
import { AsyncWaitStrategy, Ring, registerCounterSource } from '@flux/ring';
import { optionalBoolean, optionalChoice, optionalSignal, throwIfAborted, type WaitOptions, waitOptions } from '@flux/ring/validate';
import {
  type Backend,
  type BackendChoice,
  type BackendOption,
  ErrorChannel,
  type ErrorListener,
  LocalOffer,
  openOnBackend,
  type ResolvedRingFed,
  type RingFedOptions,
  resolveRingFedOptions,
} from '@flux/udp';
import { openDgramSenderLink } from './dgram-links.js';
import type { SenderLink, SenderLinkEvents } from './links.js';
import { openUringSenderLink } from './uring-links.js';
import { SenderCounters } from './counters.js';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FLUSH_TIMEOUT_MS,
  IDLE_WAIT_MS,
  MAX_TIMEOUT_MS,
  NS_PER_MS,
  POLL_INTERVAL_MS,
} from './defaults.js';
import { nowNs, resolveSenderTuning, type SenderTuning } from './options.js';
import { ReliableSender, type SenderState } from './sender.js';

/** Destination, stream, session, MTU and ring are @flux/udp's ring-fed options (resolved by the same code, with the same defaults). */
export interface ReliablePublicationOptions<T = Uint8Array | string> extends RingFedOptions<T> {
  /** Aborting it while open() runs rejects open() with a FluxAbortError; the socket is closed. */
  signal?: AbortSignal;
  /**
   * The kernel interface: 'auto' (default: io_uring where @flux/uring says it is usable,
   * else node:dgram, and `backendReason` says why), 'io_uring' (throws where it is not) or
   * 'dgram'. Both run the same protocol and pass the same tests.
   */
  backend?: BackendOption;
  /** io_uring: send runs of full datagrams as one UDP GSO send where the kernel offers it (default true). */
  segmentOffload?: boolean;
  /** Datagrams kept for retransmission (default 4,096: 6 MB at the default MTU). */
  retransmitBufferDatagrams?: number;
  /**
   * 'back-pressure' (default): a datagram the receiver has not consumed is never dropped from
   * the retransmit buffer; a full buffer stops the sender. 'overwrite': the oldest gives way,
   * the sender never waits for the buffer, and a receiver that NAKs it sees a gap.
   */
  retransmitPolicy?: 'back-pressure' | 'overwrite';
  /**
   * Forward error correction: one PARITY datagram after every `fecGroupDatagrams` DATA
   * datagrams (1 to 32), from which the subscription rebuilds one lost datagram of the group
   * without a round trip. Costs 1/k more datagrams and 16 bytes less payload per datagram.
   * Default 0: off (a NAK repairs every loss).
   */
  fecGroupDatagrams?: number;
  /**
   * 'cubic' (default): CUBIC congestion control (RFC 9438) with pacing: the stream backs off
   * on loss as TCP does, so on a path it shares it takes about its fair share. 'static': no
   * congestion window, only the receiver's: the stream sends as fast as the receiver takes,
   * whatever is lost. Only for a link it has to itself; on a shared path it takes bandwidth
   * from every other flow, and under congestion keeps the path congested.
   */
  congestionControl?: 'cubic' | 'static';
  /**
   * Under 'cubic', which losses are congestion: a loss rate (resent / sent bytes, over at
   * least the last 1,000 datagrams) above this fraction shrinks the window; at or under it
   * the loss is repaired and the window kept, as on a lossy link nobody else shares (BBRv2's
   * rule). Default 0.02. 0: every loss shrinks it, as TCP CUBIC does (on a link with random
   * loss it then runs at a fraction of the link; see the README's 1% loss row). 0 to 0.5.
   */
  congestionLossThreshold?: number;
  /** Retransmission rate limit (default 64 MiB/s). */
  maxRetransmitBytesPerSecond?: number;
  /** SETUP repeated this often until the subscription answers (default 100 ms). */
  setupIntervalMs?: number;
  /** First heartbeat this long after the last datagram (default 1 ms); doubling while idle up to heartbeatMaxMs (default 100 ms, at least heartbeatMinMs). */
  heartbeatMinMs?: number;
  heartbeatMaxMs?: number;
  /** No STATUS from the subscription for this long ends the session (default 5,000 ms). */
  livenessTimeoutMs?: number;
}

/** The session token: 64 bits from the system's CSPRNG (an off-path attacker must not guess it). */
function drawToken(): { low: number; high: number } {
  const bytes = randomBytes(8);
  return { low: bytes.readUInt32LE(0), high: bytes.readUInt32LE(4) };
}

/** A publication's options, checked and with their defaults (defaults.ts). */
type ResolvedPublication = ResolvedRingFed & { sender: SenderTuning };

/** A reliable publication whose offer() takes `T`: bytes or a string, or with a `codec` option the codec's values. */
export class ReliablePublication<T = Uint8Array | string> {
  readonly ring: Ring;
  readonly counters = new SenderCounters();
  /** Takes it out of the process's counter sources (counter-sources.ts in @flux/ring): at close. */
  private unregisterCounters: () => void = () => {};
  readonly sessionId: number;
  readonly streamId: number;
  readonly datagramBytes: number;
  private readonly sender: ReliableSender;
  private readonly consumerId: number;
  private link!: SenderLink;
  private choice: BackendChoice = { backend: 'dgram', reason: '' };
  private readonly wait = new AsyncWaitStrategy();
  private readonly errors = new ErrorChannel();
  private readonly local: LocalOffer;
  private wakeSender: (() => void) | undefined;
  /**
   * Something the sender may act on (a STATUS, a completion) came while no wait was set:
   * on io_uring the flush after doWork reaps control frames, after doWork decided to stall.
   * The next wait is then skipped.
   */
  private woken = false;
  private senderDone: Promise<void> = Promise.resolve();
  private stopping = false;
  /** False after unref(): the sender's idle timer then lets the process exit too. */
  private refed = true;
  private closed: Promise<void> | undefined;
  /** Driven by turn() on a thread of its own (hot.ts), not by runSender on the event loop. */
  private busyPoll = false;

  private constructor(ring: Ring, options: ResolvedPublication, datagramBytes: number) {
    this.ring = ring;
    this.sessionId = options.sessionId;
    this.streamId = options.streamId;
    this.datagramBytes = datagramBytes;
    this.local = new LocalOffer(ring, this.counters, options.codec);
    this.consumerId = ring.addConsumer();
    const consumer = ring.openConsumer(this.consumerId);
    this.sender = new ReliableSender(
      ring,
      consumer,
      {
        sessionId: options.sessionId,
        streamId: options.streamId,
        initialSequence: Math.floor(Math.random() * 0x1_0000_0000),
        token: drawToken(),
        datagramBytes,
        ...options.sender,
      },
      {
        sendData: (slot, _bytes, lengthBytes) => this.link.sendData(slot, lengthBytes),
        sendControl: (bytes, lengthBytes) => this.link.sendControl(bytes, lengthBytes),
      },
      this.counters,
    );
  }

  /** What the link tells the publication. */
  private readonly linkEvents: SenderLinkEvents = {
    onControl: (bytes, offsetBytes, lengthBytes) => this.sender.onControl(bytes, offsetBytes, lengthBytes, nowNs()),
    onControlBatchEnd: () => this.wake(),
    onSent: (slot, error) => {
      if (error) this.sendFailed(error);
      this.sender.sendCompleted(slot);
      this.wake();
    },
    onError: (error) => this.sendFailed(error),
  };

  /**
   * Socket errors (an ECONNREFUSED while the subscription is not up, an ENOBUFS), as Node
   * reports them (`code`, `errno`, `syscall`): counted in sendErrors, then to `listener`.
   * Without a listener they are only counted; no message is lost to one (the subscription
   * NAKs what did not arrive). A listener that throws is rethrown on a later turn of the
   * event loop, as a FluxHandlerError. Returns a function that removes the listener.
   */
  onError(listener: ErrorListener): () => void {
    return this.errors.add(listener);
  }

  private sendFailed(error: Error): void {
    this.counters.sendErrors++;
    this.errors.socketError(error);
  }

  /** Opens a socket connected to `host:port` and starts the session (SETUP until the subscription answers). */
  static async open<T = Uint8Array | string>(options: ReliablePublicationOptions<T>): Promise<ReliablePublication<T>> {
    return ReliablePublication.openWith(options, { busyPoll: false });
  }

  /**
   * @internal The hot worker's open (hot.ts): on `ring` (made by the thread that owns the
   * publication), and with `busyPoll` the session is driven by turn() in a loop, on io_uring
   * only, not by the event loop.
   */
  static async openWith<T>(options: ReliablePublicationOptions<T>, how: { ring?: Ring; busyPoll: boolean }): Promise<ReliablePublication<T>> {
    const resolved: ResolvedPublication = { ...resolveRingFedOptions(options as ReliablePublicationOptions<unknown>), sender: resolveSenderTuning(options) };
    const ring =
      how.ring ??
      Ring.create({
        capacity: resolved.ringCapacity,
        maxMessageBytes: resolved.maxMessageBytes,
        producerMode: resolved.producerMode,
        maxConsumers: 1,
      });
    const o = options as Partial<ReliablePublicationOptions<T>>;
    const signal = optionalSignal('signal', o.signal);
    throwIfAborted(signal, 'ReliablePublication.open()');
    const backend = how.busyPoll ? 'io_uring' : optionalChoice('backend', o.backend, ['auto', 'io_uring', 'dgram'] as const, 'auto');
    const segmentOffload = optionalBoolean('segmentOffload', o.segmentOffload, true);
    const { host, port, family, receiveBufferBytes, sendBufferBytes } = resolved;
    const target = { host, port, family, receiveBufferBytes, sendBufferBytes };
    const publication = new ReliablePublication<T>(ring, resolved, resolved.datagramBytes);
    const buffer = publication.sender.buffer;
    const { path, choice } = await openOnBackend<SenderLink>(
      backend,
      () => openUringSenderLink(target, buffer, publication.linkEvents, segmentOffload),
      () => openDgramSenderLink(target, buffer, publication.linkEvents),
    );
    publication.link = path;
    publication.choice = choice;
    if (how.busyPoll) {
      path.startBusyPoll();
      publication.busyPoll = true;
    } else publication.senderDone = publication.runSender();
    publication.errors.source = `reliable publication to ${host}:${port} stream ${resolved.streamId}`;
    publication.unregisterCounters = registerCounterSource(publication.errors.source, () => publication.counters.snapshot());
    if (signal?.aborted) {
      await publication.close(0);
      throwIfAborted(signal, 'ReliablePublication.open()');
    }
    return publication;
  }

  /**
   * Lets the process exit while this publication is open (Node's unref()): neither its socket
   * nor its sender's timers hold the event loop. What is not yet delivered may then never be:
   * close() first where that matters. Returns this.
   */
  unref(): this {
    this.refed = false;
    this.link.setRef(false);
    return this;
  }

  /** Undoes unref(): the open publication keeps the process alive again (the default). Returns this. */
  ref(): this {
    this.refed = true;
    this.link.setRef(true);
    return this;
  }

  /** `await using publication = await ReliablePublication.open(...)`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Busy-poll mode: one turn (send what is due, hand it over, reap completions and control frames). */
  turn(): void {
    this.sender.doWork(nowNs());
    this.link.flush();
    this.link.poll();
  }

  /** @internal Whether ring sequence `target` was packed and everything packed was consumed (flush's condition). */
  drainedThrough(target: number): boolean {
    return this.drained(target);
  }

  /** @internal Busy-poll mode's close(): the same steps, each turned in a loop until done or the deadline. */
  spinClose(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const spin = (done: () => boolean) => {
      while (!done() && Date.now() <= deadline) this.turn();
    };
    const target = this.ring.cursor();
    spin(() => this.drained(target) || this.sender.state === 'timedOut');
    this.sender.end(nowNs());
    spin(() => this.sender.state === 'ended' || this.sender.state === 'timedOut');
    this.sender.abandon();
    this.stopping = true;
    this.ring.removeConsumer(this.consumerId);
    return (this.closed ??= this.link.close());
  }

  /** The kernel interface the datagrams go through: 'io_uring' or 'dgram' (links.ts). */
  get backend(): Backend {
    return this.choice.backend;
  }

  /** Why node:dgram is used ('' on io_uring, 'asked for' when the option said 'dgram'). */
  get backendReason(): string {
    return this.choice.reason;
  }

  /** 'setup' | 'connected' | 'ending' | 'ended' | 'timedOut' | 'closed' (see sender.ts). */
  get state(): SenderState {
    return this.sender.state;
  }

  /** The congestion window (bytes; Infinity under congestionControl 'static'). */
  get congestionWindowBytes(): number {
    return this.sender.congestionWindowBytes;
  }

  /** The pacing rate (bytes per second; Infinity: unpaced, as under 'static' and before an RTT sample). */
  get pacingBytesPerSecond(): number {
    return this.sender.pacingBytesPerSecond;
  }

  /** The subscription's smoothed round trip (ns; 0 before the first sample). */
  get rttNs(): number {
    return this.sender.rttNs;
  }

  /**
   * Resolves true once the subscription answered the SETUP; false if `timeoutMs` passes first
   * or the session ended. `{ timeoutMs, signal }` may be given instead: an aborted signal
   * rejects with a FluxAbortError (name 'AbortError').
   */
  async connected(timeoutMs: number | WaitOptions = DEFAULT_CONNECT_TIMEOUT_MS): Promise<boolean> {
    const wait = waitOptions('timeoutMs', timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
    await this.until(() => this.sender.state !== 'setup', wait.timeoutMs, wait.signal, 'connected()');
    return this.sender.state === 'connected';
  }

  /**
   * Copies one message into the ring from this thread. Returns its ring sequence,
   * BACK_PRESSURED or NOT_CONNECTED (also once closed); a message longer than maxMessageBytes
   * throws a RangeError. A string is sent as its UTF-8 bytes.
   * Producers in other threads attach `publication.ring.handle` and claim/publish in place.
   * With a `codec`, `message` is a value it encodes (what encode throws reaches the caller).
   */
  offer(message: T): number {
    return this.local.offer(message);
  }

  /**
   * Resolves true once every message published before the call has been consumed by the
   * subscription (reported by its STATUS); false if `timeoutMs` passes first or the session
   * timed out. With `{ timeoutMs, signal }`, an aborted signal rejects with a FluxAbortError;
   * what was queued stays queued and is still delivered.
   */
  async flush(timeoutMs: number | WaitOptions = DEFAULT_FLUSH_TIMEOUT_MS): Promise<boolean> {
    const wait = waitOptions('timeoutMs', timeoutMs, DEFAULT_FLUSH_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
    const target = this.ring.cursor();
    await this.until(() => this.drained(target) || this.sender.state === 'timedOut', wait.timeoutMs, wait.signal, 'flush()');
    return this.drained(target);
  }

  /**
   * Sends what is queued, ends the stream (the subscription sees 'end'), and closes the
   * socket, within `timeoutMs`: it always settles. `state` then says how it went: 'ended'
   * (the subscription consumed everything), 'timedOut', or 'closed' (not confirmed in time).
   * With `{ timeoutMs, signal }`, an abort cuts the waiting short as the timeout would: the
   * socket is still closed ('closed' unless already ended), then the call rejects with a
   * FluxAbortError.
   */
  async close(timeoutMs: number | WaitOptions = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    const { timeoutMs: timeout, signal } = waitOptions('timeoutMs', timeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
    this.unregisterCounters();
    this.local.close();
    if (this.busyPoll) return this.spinClose(timeout);
    if (!this.stopping) {
      const deadline = Date.now() + timeout;
      // An abort ends each wait early, as the deadline does; close() rejects once closed.
      const stopOnAbort = () => signal?.aborted === true;
      const target = this.ring.cursor();
      await this.until(() => stopOnAbort() || this.drained(target) || this.sender.state === 'timedOut', timeout);
      this.sender.end(nowNs());
      this.link.flush();
      await this.until(() => stopOnAbort() || this.sender.state === 'ended' || this.sender.state === 'timedOut', Math.max(0, deadline - Date.now()));
      this.sender.abandon(); // not confirmed in time: 'closed', and nothing more goes out
      this.stopping = true;
      this.ring.removeConsumer(this.consumerId);
      this.wake();
      await this.senderDone;
    }
    await (this.closed ??= this.link.close());
    throwIfAborted(signal, 'close()');
  }

  private drained(target: number): boolean {
    return this.sender.packedThrough(target) && this.sender.caughtUp;
  }

  private wake(): void {
    this.woken = true;
    const wake = this.wakeSender;
    if (wake !== undefined) {
      this.wakeSender = undefined;
      wake();
    }
  }

  /**
   * Polls `done` every POLL_INTERVAL_MS until it holds or `timeoutMs` passes; with a `signal`,
   * its abort rejects with a FluxAbortError naming `what` (seen within one interval).
   */
  private async until(done: () => boolean, timeoutMs: number, signal?: AbortSignal, what = ''): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    throwIfAborted(signal, what);
    while (!done() && Date.now() <= deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      throwIfAborted(signal, what);
    }
  }

  private async runSender(): Promise<void> {
    const sender = this.sender;
    while (!this.stopping) {
      const now = nowNs();
      this.woken = false;
      const sent = sender.doWork(now);
      this.link.flush(); // on io_uring this also reaps: completions and control frames that came meanwhile
      // Sent, or the window or a slot may have opened after doWork looked: the loop's other
      // callbacks (STATUS, completions) get a turn, then doWork again.
      if (sent > 0 || this.woken) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const untilDeadlineMs = Math.min(IDLE_WAIT_MS, Math.max(0, (sender.nextDeadlineNs() - now) / NS_PER_MS));
      if (sender.waitsForData) {
        try {
          await this.wait.waitForAsync(sender.unpacked, this.ring.int32, untilDeadlineMs, { unref: true });
        } catch {
          return; // the consumer was removed by close()
        }
      } else {
        // Stalled on the window, the buffer or a send under way, or not connected: STATUS,
        // a send completion or the deadline wakes it.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, untilDeadlineMs);
          if (!this.refed) timer.unref(); // unref(): the socket and this timer both let go
          this.wakeSender = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeSender = undefined;
      }
    }
  }
}
