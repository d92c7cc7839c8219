/**
 * A publication: messages published into a @flux/ring by any thread are drained by a
 * sender on this thread's event loop, packed many to a datagram, and sent to one
 * destination on one stream.
 *
 *   producers (any thread) --claim/publish--> ring --sender: pack--> datagram --> socket
 *
 * Back-pressure chains: at most `maxDatagramsInFlight` datagrams are handed to the socket
 * at once; while that many are pending the sender stops draining, the ring fills, and
 * producers' claims return BACK_PRESSURED. Memory is the ring plus the datagram pool,
 * whatever the send rate.
 *
 * The datagrams leave through a backend (backend.ts): io_uring, one system call per batch,
 * where usable; node:dgram otherwise. Slots are released in send order whatever order the
 * backend reports completions in (see `completed`).
 *
 * A message longer than one datagram's frame room is sent as fragments (BEGIN ... END),
 * one datagram each; the largest message is the ring's maxMessageBytes (longer claims
 * throw a RangeError naming the length).
 *
 * Send errors (errors.ts): every datagram the socket failed to send is counted
 * (sendErrors, messagesLostToSendErrors) and its error, Node-style (code, errno, syscall,
 * address, port), goes to the onError listeners; with none it is only counted (a UDP
 * ECONNREFUSED is routine while the peer is not up yet). flush() then resolves false.
 */
import { AsyncWaitStrategy, type Consumer, FluxInternalError, Ring, registerCounterSource, SEQUENCE_MASK, sequenceDiff } from '@flux/ring';
import { type Backend, type BackendChoice, type BackendOption, openOnBackend } from './backend.js';
import { PublicationCounters } from './counters.js';
import { DatagramPool, type PooledDatagram } from './datagram-pool.js';
import { DatagramWriter } from './datagram-writer.js';
import { openDgramSendPath, type SendTarget } from './dgram-backend.js';
import { maxFramePayloadBytes } from './frame-layout.js';
import type { SendPath } from './paths.js';
import { RingPacker } from './ring-packer.js';
import { LocalOffer, type ResolvedRingFed, resolveRingFedOptions, type RingFedOptions } from './ring-fed.js';
import { openUringSendPath } from './uring-backend.js';
import { optionalBoolean, optionalChoice, optionalInteger, optionalSignal, throwIfAborted, type WaitOptions, waitOptions } from '@flux/ring/validate';
import { DEFAULT_CLOSE_FLUSH_TIMEOUT_MS, DEFAULT_FLUSH_TIMEOUT_MS, DEFAULT_MAX_DATAGRAMS_IN_FLIGHT } from './defaults.js';
import { ErrorChannel, type ErrorListener } from './errors.js';

const BACKENDS = ['auto', 'io_uring', 'dgram'] as const;

/** A publication's options: the ring-fed ones every publication takes (ring-fed.ts), and its own. */
export interface PublicationOptions<T = Uint8Array | string> extends RingFedOptions<T> {
  /** Datagrams handed to the socket and not yet sent (default 256: libuv batches queued sends). */
  maxDatagramsInFlight?: number;
  /** 'auto' (default): io_uring where @flux/uring says it is usable, else node:dgram. */
  backend?: BackendOption;
  /** Aborting it while open() runs rejects open() with a FluxAbortError; the socket is closed. */
  signal?: AbortSignal;
  /**
   * io_uring backend: send runs of equal-length datagrams as one UDP GSO send where the
   * kernel offers it (default true). Every datagram must then fit the path's MTU (mtuBytes
   * at most the real link MTU); turn it off for a path that fragments IP.
   */
  segmentOffload?: boolean;
}

/** How long the sender sleeps between checks when idle; producers wake it sooner. */
const IDLE_WAIT_MS = 1000;
/** Pack-and-submit passes per drain: io_uring returns entries inside submit(), so one drain
 * can go round again; the bound keeps a drain fed by other threads from holding the loop. */
const MAX_DRAIN_PASSES = 8;

/** A publication whose offer() takes `T`: bytes or a string, or with a `codec` option the codec's values. */
export class Publication<T = Uint8Array | string> {
  readonly ring: Ring;
  readonly counters = new PublicationCounters();
  readonly streamId: number;
  /** Takes it out of the process's counter sources (counter-sources.ts in @flux/ring): at close. */
  private unregisterCounters: () => void = () => {};
  readonly sessionId: number;
  readonly datagramBytes: number;
  /** Set by open() (the path registers the pool and the ring, made by the constructor). */
  private sendPath!: SendPath;
  private choice: BackendChoice = { backend: 'dgram', reason: '' };
  private readonly consumer: Consumer;
  private readonly pool: DatagramPool;
  private readonly maxInFlight: number;
  /**
   * Datagrams handed to the backend and not yet released, in send order: entry for send
   * number n is at n % maxInFlight. Released (slots freed, entry back to the pool) from the
   * oldest, once it and every earlier send completed.
   */
  private readonly sendOrder: (PooledDatagram | undefined)[];
  private sendsStarted = 0;
  private sendsReleased = 0;
  /** In-flight count at or below which completions trigger a refill. */
  private readonly refillBelow: number;
  private refillScheduled = false;
  private draining = false;
  private readonly wait = new AsyncWaitStrategy();
  private readonly packer: RingPacker;
  private readonly local: LocalOffer;
  private closing = false;
  private closed: Promise<void> | undefined;
  private wakeSender: (() => void) | undefined;
  private senderDone: Promise<void> = Promise.resolve();
  private readonly errors = new ErrorChannel();
  /** Send failures so far (each counted in sendErrors), and that number when flush() was last called. */
  private losses = 0;
  private lossesAtLastFlush = 0;
  /** Messages of the datagram sent last: what an ICMP refusal reported afterwards is counted against (node:dgram). */
  private lastSentMessages = 0;

  private constructor(options: ResolvedRingFed, maxDatagramsInFlight: number) {
    this.streamId = options.streamId;
    this.sessionId = options.sessionId;
    this.datagramBytes = options.datagramBytes;
    this.maxInFlight = maxDatagramsInFlight;
    this.refillBelow = this.maxInFlight >>> 1;
    this.ring = Ring.create({
      capacity: options.ringCapacity,
      maxMessageBytes: options.maxMessageBytes,
      producerMode: options.producerMode,
      maxConsumers: 1,
    });
    this.consumer = this.ring.openConsumer(this.ring.addConsumer());
    this.packer = new RingPacker(
      this.ring,
      this.consumer,
      new DatagramWriter(options.sessionId, options.streamId, this.datagramBytes),
      maxFramePayloadBytes(this.datagramBytes),
      this.counters,
    );
    this.pool = new DatagramPool(this.maxInFlight, this.datagramBytes);
    this.sendOrder = new Array(this.maxInFlight).fill(undefined);
    this.local = new LocalOffer(this.ring, this.counters, options.codec);
  }

  /** The kernel interface the datagrams go through: 'io_uring' or 'dgram' (see backend.ts). */
  get backend(): Backend {
    return this.choice.backend;
  }

  /** Why node:dgram is used ('' on io_uring). */
  get backendReason(): string {
    return this.choice.reason;
  }

  /**
   * Opens a socket connected to `host:port` and starts the sender. Bad options throw
   * (reject) a FluxTypeError or FluxRangeError naming the option; an error the system
   * raises while the socket is set up (a bind, a buffer size) rejects, as Node reports it.
   * With `codec`, the publication is typed by it: `offer(value: T)`.
   */
  static async open<T = Uint8Array | string>(options: PublicationOptions<T>): Promise<Publication<T>> {
    const resolved = resolveRingFedOptions(options as PublicationOptions<unknown>);
    const o = options as Partial<PublicationOptions<T>>;
    const signal = optionalSignal('signal', o.signal);
    throwIfAborted(signal, 'Publication.open()');
    const maxDatagramsInFlight = optionalInteger('maxDatagramsInFlight', o.maxDatagramsInFlight, DEFAULT_MAX_DATAGRAMS_IN_FLIGHT, 1, 65536);
    const segmentOffload = optionalBoolean('segmentOffload', o.segmentOffload, true);
    const backend = optionalChoice('backend', o.backend, BACKENDS, 'auto');
    const publication = new Publication<T>(resolved, maxDatagramsInFlight);
    const { host, port, family, receiveBufferBytes, sendBufferBytes } = resolved;
    await publication.openSendPath({ host, port, family, receiveBufferBytes, sendBufferBytes }, backend, segmentOffload);
    publication.senderDone = publication.runSender();
    publication.errors.source = `udp publication to ${host}:${port} stream ${publication.streamId}`;
    publication.unregisterCounters = registerCounterSource(publication.errors.source, () => publication.counters.snapshot());
    if (signal?.aborted) {
      await publication.close(0);
      throwIfAborted(signal, 'Publication.open()');
    }
    return publication;
  }

  /**
   * Lets the process exit while this publication is open (Node's unref(): its socket no
   * longer holds the event loop). Whatever is queued then may never be sent: close() first
   * where that matters. Returns this.
   */
  unref(): this {
    this.sendPath.setRef(false);
    return this;
  }

  /** Undoes unref(): the open socket keeps the process alive again (the default). Returns this. */
  ref(): this {
    this.sendPath.setRef(true);
    return this;
  }

  /** `await using publication = await Publication.open(...)`: close() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Adds a listener for this publication's socket errors: each datagram the socket failed
   * to send, as a Node-style error (`code` such as 'ECONNREFUSED', `errno`, `syscall`,
   * `address`, `port`), after it was counted in sendErrors and messagesLostToSendErrors.
   * Returns a function that removes the listener. Without listeners errors are only counted.
   * A listener that throws does not stop the sender: its error is rethrown on a later turn
   * of the event loop, as a FluxHandlerError.
   */
  onError(listener: ErrorListener): () => void {
    return this.errors.add(listener);
  }

  private async openSendPath(target: SendTarget, option: BackendOption | undefined, segmentOffload: boolean): Promise<void> {
    const { path, choice } = await openOnBackend(
      option,
      () => openUringSendPath(target, this.pool, this.ring.bytes, this.completed, segmentOffload),
      () => openDgramSendPath(target, this.pool, this.ring.bytes, this.completed, this.socketError),
    );
    this.sendPath = path;
    this.choice = choice;
  }

  /**
   * Copies one message into the ring from this thread (a producer of its own, created on
   * first use). Returns its ring sequence, BACK_PRESSURED or NOT_CONNECTED (also once closed);
   * a message longer than maxMessageBytes throws a RangeError. A Uint8Array (a Buffer is one)
   * is sent as it is; a string as its UTF-8 bytes (the subscriber decodes them: new
   * TextDecoder().decode(bytes)); anything else (an ArrayBuffer, a Uint16Array, an array)
   * throws a FluxTypeError.
   * Producers in other threads attach `publication.ring.handle` and claim/publish in place.
   * With a `codec`, `message` is a value it encodes (what encode throws reaches the caller).
   */
  offer(message: T): number {
    return this.local.offer(message);
  }

  /**
   * Waits until every message published before the call has been handed to the socket and
   * every send has completed. Resolves true when they all went out; false when `timeoutMs`
   * (default 10,000; 0 to Infinity) passed first, or when a send failed after the previous
   * flush() call was made (for the first flush, after open()) and before this one resolved:
   * false = timed out or lost. The error itself went to onError and to the counters
   * (sendErrors, messagesLostToSendErrors).
   *
   * A peer's refusal (ECONNREFUSED: nothing listens on its port) comes back from the
   * network after the datagram left: io_uring reports it as the failure of the next send,
   * node:dgram as an error on the socket; either way a later flush() says false.
   *
   * `{ timeoutMs, signal }` may be given instead of the number: an aborted signal rejects
   * with a FluxAbortError (name 'AbortError'); what was queued stays queued.
   */
  async flush(timeoutMs?: number | WaitOptions): Promise<boolean> {
    const { timeoutMs: timeout, signal } = waitOptions('timeoutMs', timeoutMs, DEFAULT_FLUSH_TIMEOUT_MS);
    throwIfAborted(signal, 'flush()');
    const lossesBefore = this.lossesAtLastFlush;
    this.lossesAtLastFlush = this.losses;
    const deadline = Date.now() + timeout;
    const target = this.ring.cursor(); // newest published (single) or claimed (multi) sequence
    for (;;) {
      const released = (this.consumer.nextSequence - 1) & SEQUENCE_MASK;
      if (sequenceDiff(released, target) >= 0 && this.inFlight === 0) return this.losses === lossesBefore;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setImmediate(resolve));
      throwIfAborted(signal, 'flush()');
    }
  }

  /**
   * Sends what is queued (waiting up to `flushTimeoutMs`, default 1,000; 0 to Infinity), then
   * closes the socket. With `{ timeoutMs, signal }`, an abort cuts the flush short: the socket
   * is still closed, and then the call rejects with a FluxAbortError.
   */
  async close(flushTimeoutMs?: number | WaitOptions): Promise<void> {
    const { timeoutMs: timeout, signal } = waitOptions('flushTimeoutMs', flushTimeoutMs, DEFAULT_CLOSE_FLUSH_TIMEOUT_MS);
    this.unregisterCounters();
    this.local.close();
    let aborted = false;
    if (!this.closing) {
      await this.flush({ timeoutMs: timeout, signal }).catch((error: unknown) => {
        if (!signal?.aborted) throw error;
        aborted = true;
      });
      this.closing = true;
      this.wakeSender?.();
      this.ring.removeConsumer(this.consumer.id); // wakes the sender's wait; producers see NOT_CONNECTED
      await this.senderDone;
    }
    await (this.closed ??= this.sendPath.close());
    if (aborted) throwIfAborted(signal, 'close()');
  }

  /** Datagrams handed to the backend and not yet released. */
  private get inFlight(): number {
    return this.sendsStarted - this.sendsReleased;
  }

  private async runSender(): Promise<void> {
    while (!this.closing) {
      if (this.inFlight >= this.maxInFlight) {
        await new Promise<void>((resolve) => (this.wakeSender = resolve));
        this.wakeSender = undefined;
        continue;
      }
      let ready = 0;
      try {
        ready = await this.wait.waitForAsync(this.unpacked, this.ring.int32, IDLE_WAIT_MS, { unref: true });
      } catch {
        return; // the consumer was removed by close()
      }
      if (ready > 0 && !this.closing && this.drain() === 0) {
        // Nothing could go out (the pool is empty): give completions a turn of the loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Readable slots not yet packed into a datagram: what the sender waits for. */
  private readonly unpacked = (): number => this.packer.unpacked();

  /**
   * Packs datagrams until the ring is empty or the pool is (every entry in flight), hands
   * them to the backend, and goes round again while submitting returned entries (io_uring
   * completes sends inline); returns datagrams sent. Never re-entered: completions reported
   * during submit() only release.
   */
  private drain(): number {
    if (this.draining) return 0;
    this.draining = true;
    let sent = 0;
    try {
      for (let pass = 0; pass < MAX_DRAIN_PASSES; pass++) {
        const batch = this.packBatch();
        if (batch === 0) break;
        sent += batch;
        this.sendPath.submit();
      }
    } finally {
      this.draining = false;
    }
    return sent;
  }

  /** Packs datagrams into free pool entries and hands them to the send path; returns how many. */
  private packBatch(): number {
    const pool = this.pool;
    let batch = 0;
    while (pool.freeEntries > 0) {
      const unpackedSlots = this.unpacked();
      if (unpackedSlots === 0) break;
      const entry = pool.take();
      const progress = this.packer.pack(entry.target, entry, unpackedSlots, this.sendPath.inPlaceMinBytes);
      if (entry.lengthBytes === 0) {
        pool.give(entry);
        if (progress === 0) throw new FluxInternalError('@flux/udp: a readable slot could not be packed');
        // Only aborted slots. They are released with the newest datagram not yet released
        // (after every slot before them), or now when there is none.
        if (this.inFlight > 0) this.sendOrder[(this.sendsStarted - 1) % this.maxInFlight]!.slots += entry.slots;
        else this.releaseSlots(entry.slots);
        continue;
      }
      entry.completed = false;
      this.sendOrder[this.sendsStarted % this.maxInFlight] = entry;
      this.sendsStarted++;
      this.sendPath.send(entry);
      batch++;
    }
    return batch;
  }

  /** Releases the oldest `count` pending slots (see pack). */
  private releaseSlots(count: number): void {
    if (count === 0) return;
    this.packer.pendingSlots -= count;
    if (!this.closing) this.consumer.release(count); // after close() the consumer is gone
  }

  /**
   * A send completed (the backend reports each once, in any order: libuv reports a send it
   * made at once before earlier queued ones, io_uring in completion order). Slots are
   * released strictly in send order, from the oldest datagram whose send and every earlier
   * one completed, so a slot a pending send still reads in place is never freed (SAFETY.md).
   */
  private readonly completed = (entry: PooledDatagram, ok: boolean, error?: Error): void => {
    entry.completed = true;
    const counters = this.counters;
    if (ok) {
      counters.datagramsSent++;
      counters.messagesSent += entry.messages;
      counters.bytesSent += entry.lengthBytes;
      this.lastSentMessages = entry.messages;
    } else {
      counters.sendErrors++;
      counters.messagesLostToSendErrors += entry.messages;
      this.losses++;
      if (error !== undefined) this.errors.socketError(error);
    }
    const order = this.sendOrder;
    while (this.sendsReleased < this.sendsStarted) {
      const at = this.sendsReleased % this.maxInFlight;
      const oldest = order[at]!;
      if (!oldest.completed) break;
      order[at] = undefined;
      this.sendsReleased++;
      this.releaseSlots(oldest.slots);
      this.pool.give(oldest);
    }
    // Refill in bursts, from one drain scheduled after the completions that are ready have
    // all run: sending from inside each completion trickles one datagram at a time, and
    // each then costs ~1 µs more in the kernel (measured: 152k vs 205k datagrams/s). A drain
    // under way (completions inside submit) goes round again by itself.
    if (this.draining || this.inFlight > this.refillBelow || this.refillScheduled) return;
    this.refillScheduled = true;
    setImmediate(this.refill);
  };

  /**
   * An error the socket reported apart from a send (node:dgram: an ICMP refusal of a datagram
   * already sent, surfacing at recvmsg): counted as one send error, with the messages of the
   * datagram sent last (the refused one is among the latest), and reported.
   */
  private readonly socketError = (error: Error): void => {
    this.counters.sendErrors++;
    this.counters.messagesLostToSendErrors += this.lastSentMessages;
    this.losses++;
    this.errors.socketError(error);
  };

  private readonly refill = (): void => {
    this.refillScheduled = false;
    if (this.wakeSender) this.wakeSender();
    else if (!this.closing) this.drain();
  };
}
