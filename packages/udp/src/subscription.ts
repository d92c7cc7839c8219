/**
 * A subscription: a bound socket whose datagrams are parsed and whose messages are handed,
 * per stream, to a handler on this thread or into a @flux/ring for consumers on other
 * threads. Messages of a session arrive in the order sent: late (reordered or duplicated)
 * datagrams are dropped and counted, gaps are counted as lost frames (UDP does not
 * retransmit; @flux/reliable does). Every bad datagram is counted and dropped; none throws
 * out of the receive path.
 */
import type { RemoteInfo } from 'node:dgram';
import { BACK_PRESSURED, NOT_CONNECTED, type Producer, type Ring } from '@flux/ring';
import { DropReason, SubscriptionCounters } from './counters.js';
import { DatagramReader, type MessageSink } from './datagram-reader.js';
import { type OpenedSocket, openSocket, type SocketOptions } from './socket.js';

export interface SubscriptionOptions extends SocketOptions {
  /** Port to bind; 0 picks a free one (read it back from `subscription.port`). */
  port: number;
  /** Address to bind (default '0.0.0.0', or '::' with family 'IPv6'). */
  address?: string;
  /** Largest message reassembled (default 65,536); longer ones are dropped as oversize. */
  maxMessageBytes?: number;
  /** Sessions (publishers x streams) tracked at once (default 64); more are dropped and counted. */
  maxSessions?: number;
}

export class Subscription {
  readonly counters = new SubscriptionCounters();
  readonly port: number;
  readonly address: string;
  private readonly opened: OpenedSocket;
  private readonly sinks = new Map<number, MessageSink>();
  private readonly reader: DatagramReader;
  private readonly onDatagram: (message: Buffer, remote: RemoteInfo) => void;

  private constructor(opened: OpenedSocket, maxMessageBytes: number, maxSessions: number) {
    this.opened = opened;
    const bound = opened.socket.address();
    this.port = bound.port;
    this.address = bound.address;
    this.reader = new DatagramReader({
      maxMessageBytes,
      maxSessions,
      sinkFor: (streamId) => this.sinks.get(streamId),
      counters: this.counters,
    });
    this.onDatagram = (message) => this.reader.read(message, message.length);
    opened.socket.on('message', this.onDatagram);
  }

  static async open(options: SubscriptionOptions): Promise<Subscription> {
    const maxMessageBytes = options.maxMessageBytes ?? 65_536;
    const maxSessions = options.maxSessions ?? 64;
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 0 || maxMessageBytes > 2 ** 30) {
      throw new RangeError(`maxMessageBytes must be an integer from 0 to 2^30, got ${String(maxMessageBytes)}`);
    }
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new RangeError(`maxSessions must be a positive integer, got ${String(maxSessions)}`);
    }
    const address = options.address ?? (options.family === 'IPv6' ? '::' : '0.0.0.0');
    const opened = await openSocket(address, options.port, options);
    return new Subscription(opened, maxMessageBytes, maxSessions);
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

  async close(): Promise<void> {
    this.opened.socket.off('message', this.onDatagram);
    await this.opened.close();
  }

  private checkStream(streamId: number): void {
    if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff_ffff) {
      throw new RangeError(`streamId must be an integer from 0 to 2^32-1, got ${String(streamId)}`);
    }
  }
}
