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
import { BACK_PRESSURED, FluxRangeError, NOT_CONNECTED, type Producer, type Ring } from '@flux/ring';
import { type Backend, type BackendChoice, type BackendOption, openOnBackend } from './backend.js';
import { DropReason, SubscriptionCounters } from './counters.js';
import { DatagramReader, type MessageSink } from './datagram-reader.js';
import { openDgramReceivePath } from './dgram-backend.js';
import { type MessageIteratorOptions, type ReceivedMessage, StreamIterators } from './message-queue.js';
import type { ReceivePath } from './paths.js';
import { checkBufferBytes, familyOf, type SocketOptions } from './socket.js';
import { openUringReceivePath } from './uring-backend.js';

/** Largest UDP payload over IPv6 (65,535 - the 8-byte UDP header); IPv4's is 20 bytes less. */
const MAX_UDP_PAYLOAD_BYTES = 65_527;
/** Receive parts lent to the kernel on io_uring (each holds one datagram). */
const RECEIVE_PARTS = 256;

export interface SubscriptionOptions extends SocketOptions {
  /** Port to bind; 0 picks a free one (read it back from `subscription.port`). */
  port: number;
  /** Address to bind (default '0.0.0.0', or '::' with family 'IPv6'). */
  address?: string;
  /** Largest message reassembled (default 65,536); longer ones are dropped as oversize. */
  maxMessageBytes?: number;
  /** Sessions (publishers x streams) tracked at once (default 64); more are dropped and counted. */
  maxSessions?: number;
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
  readonly port: number;
  readonly address: string;
  private readonly path: ReceivePath;
  private readonly choice: BackendChoice;
  private readonly sinks: Map<number, MessageSink>;
  private readonly iterators: StreamIterators;
  private closed: Promise<void> | undefined;

  private constructor(path: ReceivePath, choice: BackendChoice, sinks: Map<number, MessageSink>, counters: SubscriptionCounters) {
    this.path = path;
    this.choice = choice;
    this.sinks = sinks;
    this.iterators = new StreamIterators(sinks);
    this.counters = counters;
    this.port = path.port;
    this.address = path.address;
  }

  static async open(options: SubscriptionOptions): Promise<Subscription> {
    const maxMessageBytes = options.maxMessageBytes ?? 65_536;
    const maxSessions = options.maxSessions ?? 64;
    const maxDatagramBytes = options.maxDatagramBytes ?? MAX_UDP_PAYLOAD_BYTES;
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 0 || maxMessageBytes > 2 ** 30) {
      throw new FluxRangeError(`maxMessageBytes must be an integer from 0 to 2^30, got ${String(maxMessageBytes)}`);
    }
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new FluxRangeError(`maxSessions must be a positive integer, got ${String(maxSessions)}`);
    }
    if (!Number.isInteger(maxDatagramBytes) || maxDatagramBytes < 16 || maxDatagramBytes > MAX_UDP_PAYLOAD_BYTES) {
      throw new FluxRangeError(`maxDatagramBytes must be an integer from 16 to ${MAX_UDP_PAYLOAD_BYTES}, got ${String(maxDatagramBytes)}`);
    }
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new FluxRangeError(`port must be 0..65535, got ${String(options.port)}`);
    }
    checkBufferBytes('receiveBufferBytes', options.receiveBufferBytes);
    checkBufferBytes('sendBufferBytes', options.sendBufferBytes);
    const address = options.address ?? (options.family === 'IPv6' ? '::' : '0.0.0.0');
    const family = familyOf(address, options.family);
    const counters = new SubscriptionCounters();
    const sinks = new Map<number, MessageSink>();
    const reader = new DatagramReader({ maxMessageBytes, maxSessions, sinkFor: (streamId) => sinks.get(streamId), counters });
    const binding = { ...options, address, port: options.port, family };
    const { path, choice } = await openOnBackend<ReceivePath>(
      options.backend,
      () => openUringReceivePath(binding, { family, maxDatagramBytes, parts: RECEIVE_PARTS }, reader),
      () => openDgramReceivePath(binding, reader),
    );
    return new Subscription(path, choice, sinks, counters);
  }

  /** The kernel interface datagrams arrive through: 'io_uring' or 'dgram' (see backend.ts). */
  get backend(): Backend {
    return this.choice.backend;
  }

  /** Why node:dgram is used ('' on io_uring). */
  get backendReason(): string {
    return this.choice.reason;
  }

  /** Delivers stream `streamId`'s messages to `handler` on this thread. */
  onMessage(streamId: number, handler: MessageSink): this {
    this.checkStream(streamId);
    this.sinks.set(streamId, handler);
    return this;
  }

  /**
   * Delivers stream `streamId`'s messages into `ring` (one claim, copy and publish each),
   * for consumers on any thread. When the ring is full or has no consumer the message is
   * dropped and counted (`ringFull`): the network cannot wait.
   */
  deliverToRing(streamId: number, ring: Ring): this {
    this.checkStream(streamId);
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
   * the messages already queued.
   */
  messages(streamId: number, options: MessageIteratorOptions = {}): AsyncIterableIterator<ReceivedMessage> {
    this.checkStream(streamId);
    const counters = this.counters;
    const queue = this.iterators.open(streamId, options, (queue) => (bytes, offset, length, sessionId, stream) => {
      if (queue.full) counters.drop(DropReason.QUEUE_FULL);
      else queue.push(bytes, offset, length, sessionId, stream);
    });
    if (this.closed !== undefined) queue.end();
    return queue;
  }

  async close(): Promise<void> {
    await (this.closed ??= this.path.close());
    this.iterators.endAll();
  }

  private checkStream(streamId: number): void {
    if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff_ffff) {
      throw new FluxRangeError(`streamId must be an integer from 0 to 2^32-1, got ${String(streamId)}`);
    }
  }
}
