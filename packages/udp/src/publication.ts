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
 * A message longer than one datagram's frame room is sent as fragments (BEGIN ... END),
 * one datagram each; the largest message is the ring's maxMessageBytes (longer claims
 * throw a RangeError naming the length).
 */
import { ABORTED_LENGTH, AsyncWaitStrategy, BACK_PRESSURED, type Consumer, type Producer, Ring, sequenceDiff } from '@flux/ring';
import { PublicationCounters } from './counters.js';
import { DatagramWriter } from './datagram-writer.js';
import { DEFAULT_MTU_BYTES, FrameFlag, maxDatagramBytes, maxFramePayloadBytes } from './frame-layout.js';
import { familyOf, type OpenedSocket, openSocket, type SocketOptions } from './socket.js';

export interface PublicationOptions extends SocketOptions {
  host: string;
  port: number;
  streamId: number;
  /** Random by default. */
  sessionId?: number;
  /** Link MTU the datagrams must fit (default 1500, Ethernet). */
  mtuBytes?: number;
  /** Largest message; also the ring's slot size (default: one datagram's frame payload, 1,452 bytes over IPv4). */
  maxMessageBytes?: number;
  /** Ring slots (default 4,096). Memory: ringCapacity x maxMessageBytes. */
  ringCapacity?: number;
  /** Ring producer mode (default 'multi': producers in any threads). */
  producerMode?: 'single' | 'multi';
  /** Datagrams handed to the socket and not yet sent (default 256: libuv batches queued sends). */
  maxDatagramsInFlight?: number;
}

interface PooledDatagram {
  readonly buffer: Uint8Array;
  messages: number;
  lengthBytes: number;
  readonly onSent: (error: Error | null) => void;
}

/** How long the sender sleeps between checks when idle; producers wake it sooner. */
const IDLE_WAIT_MS = 1000;
const SEQUENCE_MASK = 0x7fff_ffff;

function requireInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export class Publication {
  readonly ring: Ring;
  readonly counters = new PublicationCounters();
  readonly streamId: number;
  readonly sessionId: number;
  readonly datagramBytes: number;
  private readonly opened: OpenedSocket;
  private readonly consumer: Consumer;
  private readonly writer: DatagramWriter;
  private readonly pool: PooledDatagram[] = [];
  private readonly maxInFlight: number;
  private readonly maxFramePayloadBytes: number;
  private readonly wait = new AsyncWaitStrategy();
  private inFlight = 0;
  /** Bytes of the message at the consumer's next sequence already sent as fragments. */
  private fragmentOffsetBytes = 0;
  private localProducer: Producer | undefined;
  private closing = false;
  private wakeSender: (() => void) | undefined;
  private readonly senderDone: Promise<void>;

  private constructor(opened: OpenedSocket, options: Required<Omit<PublicationOptions, keyof SocketOptions>>) {
    this.opened = opened;
    this.streamId = options.streamId;
    this.sessionId = options.sessionId;
    this.datagramBytes = maxDatagramBytes(options.mtuBytes, opened.family);
    this.maxFramePayloadBytes = maxFramePayloadBytes(this.datagramBytes);
    this.maxInFlight = options.maxDatagramsInFlight;
    this.ring = Ring.create({
      capacity: options.ringCapacity,
      maxMessageBytes: options.maxMessageBytes,
      producerMode: options.producerMode,
      maxConsumers: 1,
    });
    this.consumer = this.ring.openConsumer(this.ring.addConsumer());
    this.writer = new DatagramWriter(options.sessionId, options.streamId, this.datagramBytes);
    for (let i = 0; i < this.maxInFlight; i++) {
      const entry: PooledDatagram = {
        buffer: new Uint8Array(this.datagramBytes),
        messages: 0,
        lengthBytes: 0,
        onSent: (error) => this.sent(entry, error),
      };
      this.pool.push(entry);
    }
    this.senderDone = this.runSender();
  }

  /** Opens a socket connected to `host:port` and starts the sender. */
  static async open(options: PublicationOptions): Promise<Publication> {
    if (typeof options?.host !== 'string') throw new TypeError(`host must be a string, got ${String(options?.host)}`);
    requireInteger('port', options.port, 1, 65535);
    requireInteger('streamId', options.streamId, 0, 0xffff_ffff);
    const sessionId = options.sessionId ?? Math.floor(Math.random() * 0x1_0000_0000);
    requireInteger('sessionId', sessionId, 0, 0xffff_ffff);
    const mtuBytes = requireInteger('mtuBytes', options.mtuBytes ?? DEFAULT_MTU_BYTES, 576, 65535);
    const family = familyOf(options.host, options.family);
    const defaultMaxMessageBytes = maxFramePayloadBytes(maxDatagramBytes(mtuBytes, family));
    const resolved = {
      host: options.host,
      port: options.port,
      streamId: options.streamId,
      sessionId,
      mtuBytes,
      maxMessageBytes: requireInteger('maxMessageBytes', options.maxMessageBytes ?? defaultMaxMessageBytes, 0, 2 ** 30),
      ringCapacity: options.ringCapacity ?? 4096,
      producerMode: options.producerMode ?? 'multi',
      maxDatagramsInFlight: requireInteger('maxDatagramsInFlight', options.maxDatagramsInFlight ?? 256, 1, 65536),
    };
    const opened = await openSocket(family === 'IPv6' ? '::' : '0.0.0.0', 0, { ...options, family });
    try {
      await new Promise<void>((resolve, reject) => {
        opened.socket.once('error', reject);
        opened.socket.connect(options.port, options.host, () => {
          opened.socket.off('error', reject);
          resolve();
        });
      });
      return new Publication(opened, resolved);
    } catch (error) {
      await opened.close();
      throw error;
    }
  }

  /**
   * Copies one message into the ring from this thread (a producer of its own, created on
   * first use). Returns its ring sequence, BACK_PRESSURED or NOT_CONNECTED; a message longer
   * than maxMessageBytes throws a RangeError. Producers in other threads attach
   * `publication.ring.handle` and claim/publish in place.
   */
  offer(message: Uint8Array): number {
    this.localProducer ??= this.ring.createProducer();
    const result = this.localProducer.offer(message);
    if (result === BACK_PRESSURED) this.counters.backPressured++;
    return result;
  }

  /**
   * Resolves true once every message published before the call has been handed to the
   * socket and every send has completed; false if `timeoutMs` passes first.
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const target = this.ring.cursor(); // newest published (single) or claimed (multi) sequence
    for (;;) {
      const released = (this.consumer.nextSequence - 1) & SEQUENCE_MASK;
      if (sequenceDiff(released, target) >= 0 && this.inFlight === 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Sends what is queued (waiting up to `flushTimeoutMs`), then closes the socket. */
  async close(flushTimeoutMs = 1000): Promise<void> {
    if (!this.closing) {
      await this.flush(flushTimeoutMs);
      this.closing = true;
      this.wakeSender?.();
      this.ring.removeConsumer(this.consumer.id); // wakes the sender's wait; producers see NOT_CONNECTED
      await this.senderDone;
    }
    await this.opened.close();
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
        ready = await this.consumer.waitForAsync(this.wait, IDLE_WAIT_MS, { unref: true });
      } catch {
        return; // the consumer was removed by close()
      }
      if (ready > 0 && !this.closing) this.drain();
    }
  }

  /** Packs and sends datagrams until the ring is empty or the in-flight limit is reached. */
  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.pool.length > 0) {
      const available = this.consumer.available();
      if (available === 0) return;
      const entry = this.pool.pop()!;
      const progress = this.pack(entry, available);
      if (entry.lengthBytes === 0) {
        this.pool.push(entry);
        if (progress === 0) throw new Error('@flux/udp: a readable slot could not be packed (a bug: please report it)');
        continue; // only aborted slots
      }
      this.inFlight++;
      this.opened.socket.send(entry.buffer, 0, entry.lengthBytes, entry.onSent);
    }
  }

  /** Fills `entry` from the ring; returns slots consumed plus frames written (0: no progress). */
  private pack(entry: PooledDatagram, available: number): number {
    const ring = this.ring;
    const bytes = ring.bytes;
    const writer = this.writer;
    writer.begin(entry.buffer);
    let sequence = this.consumer.nextSequence;
    let consumed = 0;
    let messages = 0;
    while (consumed < available) {
      const lengthBytes = ring.lengthOf(sequence);
      if (lengthBytes === ABORTED_LENGTH) {
        consumed++;
        sequence = (sequence + 1) & SEQUENCE_MASK;
        continue;
      }
      const offset = ring.offsetOf(sequence);
      if (this.fragmentOffsetBytes === 0 && lengthBytes <= writer.roomBytes) {
        writer.addFrame(bytes, offset, lengthBytes, FrameFlag.UNFRAGMENTED);
        consumed++;
        messages++;
        sequence = (sequence + 1) & SEQUENCE_MASK;
        continue;
      }
      // It does not fit here: a message that fits a datagram waits for the next one, and a
      // longer one is sent as fragments, each in a datagram of its own.
      if (writer.frameCount > 0 || lengthBytes <= this.maxFramePayloadBytes) break;
      const chunkBytes = Math.min(lengthBytes - this.fragmentOffsetBytes, writer.roomBytes);
      const isFirst = this.fragmentOffsetBytes === 0;
      const isLast = this.fragmentOffsetBytes + chunkBytes === lengthBytes;
      writer.addFrame(bytes, offset + this.fragmentOffsetBytes, chunkBytes, (isFirst ? FrameFlag.BEGIN : 0) | (isLast ? FrameFlag.END : 0));
      this.counters.fragmentsSent++;
      if (isLast) {
        this.fragmentOffsetBytes = 0;
        consumed++;
        messages++;
      } else {
        this.fragmentOffsetBytes += chunkBytes;
      }
      break; // a fragment fills its datagram
    }
    this.consumer.release(consumed); // copied into the datagram: producers may reuse the slots
    entry.messages = messages;
    const frames = writer.frameCount;
    entry.lengthBytes = frames > 0 ? writer.finish() : 0;
    return consumed + frames;
  }

  private sent(entry: PooledDatagram, error: Error | null): void {
    this.inFlight--;
    if (error) {
      this.counters.sendErrors++;
      this.counters.messagesLostToSendErrors += entry.messages;
    } else {
      this.counters.datagramsSent++;
      this.counters.messagesSent += entry.messages;
      this.counters.bytesSent += entry.lengthBytes;
    }
    this.pool.push(entry);
    if (this.wakeSender) this.wakeSender();
    else if (!this.closing) this.drain();
  }
}
