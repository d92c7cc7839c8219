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
import { type DatagramTarget, DatagramWriter } from './datagram-writer.js';
import {
  DATAGRAM_HEADER_BYTES,
  DEFAULT_MTU_BYTES,
  FRAME_HEADER_BYTES,
  FrameFlag,
  maxDatagramBytes,
  maxFramePayloadBytes,
} from './frame-layout.js';
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
  /** The buffer's views, made once (starting a datagram allocates nothing). */
  readonly target: DatagramTarget;
  /** The header part of `buffer` (datagram and frame header), for scatter/gather sends. */
  readonly head: Uint8Array;
  /** [head, payload view into the ring] when the payload is sent in place; else unused. */
  readonly parts: Uint8Array[];
  messages: number;
  /** Ring slots this datagram finishes with: released when its send completes. */
  slots: number;
  lengthBytes: number;
  /** True when the payload is sent from the ring slot (parts), false when copied into buffer. */
  inPlace: boolean;
  readonly onSent: (error: Error | null) => void;
}

/** Frames at least this long are sent from the ring slot instead of copied (measured: a
 * copy of 1,380 bytes cost ~10% of the datagram rate; below a few hundred bytes the copy
 * is cheaper than a second iovec). */
const IN_PLACE_MIN_BYTES = 512;

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
  /** In-flight count at or below which completions trigger a refill. */
  private readonly refillBelow: number;
  private refillScheduled = false;
  private readonly maxFramePayloadBytes: number;
  private readonly wait = new AsyncWaitStrategy();
  private inFlight = 0;
  /** Bytes of the first message not yet fully in a datagram that earlier fragments carried. */
  private fragmentOffsetBytes = 0;
  /** Slots packed into datagrams whose sends have not completed (released on completion). */
  private pendingSlots = 0;
  /** The datagram sent last, while its send is pending. */
  private newestInFlight: PooledDatagram | undefined;
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
    this.refillBelow = this.maxInFlight >>> 1;
    this.ring = Ring.create({
      capacity: options.ringCapacity,
      maxMessageBytes: options.maxMessageBytes,
      producerMode: options.producerMode,
      maxConsumers: 1,
    });
    this.consumer = this.ring.openConsumer(this.ring.addConsumer());
    this.writer = new DatagramWriter(options.sessionId, options.streamId, this.datagramBytes);
    for (let i = 0; i < this.maxInFlight; i++) {
      const buffer = new Uint8Array(this.datagramBytes);
      const head = buffer.subarray(0, DATAGRAM_HEADER_BYTES + FRAME_HEADER_BYTES);
      const entry: PooledDatagram = {
        buffer,
        target: DatagramWriter.target(buffer),
        head,
        parts: [head, head],
        messages: 0,
        slots: 0,
        lengthBytes: 0,
        inPlace: false,
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
  private readonly unpacked = (): number => {
    const ready = this.consumer.available() - this.pendingSlots;
    return ready > 0 ? ready : 0;
  };

  /** Packs and sends datagrams until the ring is empty or the in-flight limit is reached; returns datagrams sent. */
  private drain(): number {
    let sent = 0;
    while (this.inFlight < this.maxInFlight && this.pool.length > 0) {
      const available = this.unpacked();
      if (available === 0) break;
      const entry = this.pool.pop()!;
      const progress = this.pack(entry, available);
      if (entry.lengthBytes === 0) {
        this.pool.push(entry);
        if (progress === 0) throw new Error('@flux/udp: a readable slot could not be packed (a bug: please report it)');
        // Only aborted slots. Releases count from the oldest pending slot, so these go out
        // with the newest datagram still in flight (after every slot before them), or now.
        if (this.newestInFlight !== undefined) this.newestInFlight.slots += entry.slots;
        else this.releaseSlots(entry.slots);
        continue;
      }
      this.inFlight++;
      this.newestInFlight = entry;
      sent++;
      if (entry.inPlace) this.opened.socket.send(entry.parts, entry.onSent);
      else this.opened.socket.send(entry.buffer, 0, entry.lengthBytes, entry.onSent);
    }
    return sent;
  }

  /**
   * Fills `entry` from the ring, from the first slot not yet in a datagram; returns slots
   * consumed plus frames written (0: no progress). Slots are released when the datagram's
   * send completes, not here: a payload sent in place is read by the kernel from the slot.
   */
  private pack(entry: PooledDatagram, available: number): number {
    const ring = this.ring;
    const bytes = ring.bytes;
    const writer = this.writer;
    writer.begin(entry.target);
    entry.inPlace = false;
    let sequence = (this.consumer.nextSequence + this.pendingSlots) & SEQUENCE_MASK;
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
      const room = writer.roomBytes;
      if (this.fragmentOffsetBytes === 0 && lengthBytes <= room && (lengthBytes < IN_PLACE_MIN_BYTES || writer.frameCount > 0)) {
        writer.addFrame(bytes, offset, lengthBytes, FrameFlag.UNFRAGMENTED);
        consumed++;
        messages++;
        sequence = (sequence + 1) & SEQUENCE_MASK;
        continue;
      }
      // A long message, or one that does not fit here. One that fits a datagram waits for
      // the next; otherwise it goes alone, in place, whole or as fragments.
      if (writer.frameCount > 0) break;
      const chunkBytes = Math.min(lengthBytes - this.fragmentOffsetBytes, this.maxFramePayloadBytes);
      const isFirst = this.fragmentOffsetBytes === 0;
      const isLast = this.fragmentOffsetBytes + chunkBytes === lengthBytes;
      const flags = (isFirst ? FrameFlag.BEGIN : 0) | (isLast ? FrameFlag.END : 0);
      const start = offset + this.fragmentOffsetBytes;
      if (chunkBytes >= IN_PLACE_MIN_BYTES) {
        writer.addFrameHeader(chunkBytes, flags);
        entry.parts[1] = bytes.subarray(start, start + chunkBytes);
        entry.inPlace = true;
      } else {
        writer.addFrame(bytes, start, chunkBytes, flags);
      }
      if (!(isFirst && isLast)) this.counters.fragmentsSent++;
      if (isLast) {
        this.fragmentOffsetBytes = 0;
        consumed++;
        messages++;
      } else {
        this.fragmentOffsetBytes += chunkBytes;
      }
      break; // an in-place frame or a fragment is its datagram's only frame
    }
    this.pendingSlots += consumed;
    entry.slots = consumed;
    entry.messages = messages;
    const frames = writer.frameCount;
    entry.lengthBytes = frames > 0 ? writer.finish() : 0;
    return consumed + frames;
  }

  /** Releases the oldest `count` pending slots (see pack). */
  private releaseSlots(count: number): void {
    if (count === 0) return;
    this.pendingSlots -= count;
    if (!this.closing) this.consumer.release(count); // after close() the consumer is gone
  }

  private sent(entry: PooledDatagram, error: Error | null): void {
    this.inFlight--;
    if (entry === this.newestInFlight) this.newestInFlight = undefined;
    // Completions can arrive out of order (libuv reports a send it made at once before
    // earlier queued ones), but only when every earlier datagram has already been handed to
    // the kernel, which copied it; so releasing a count from the oldest pending slot never
    // frees a slot a pending send still reads. See SAFETY.md.
    this.releaseSlots(entry.slots);
    entry.parts[1] = entry.head; // drop the view into the ring
    if (error) {
      this.counters.sendErrors++;
      this.counters.messagesLostToSendErrors += entry.messages;
    } else {
      this.counters.datagramsSent++;
      this.counters.messagesSent += entry.messages;
      this.counters.bytesSent += entry.lengthBytes;
    }
    this.pool.push(entry);
    // Refill in bursts, from one drain scheduled after the completions that are ready have
    // all run: sending from inside each completion trickles one datagram at a time, and
    // each then costs ~1 µs more in the kernel (measured: 152k vs 205k datagrams/s).
    if (this.inFlight > this.refillBelow || this.refillScheduled) return;
    this.refillScheduled = true;
    setImmediate(this.refill);
  }

  private readonly refill = (): void => {
    this.refillScheduled = false;
    if (this.wakeSender) this.wakeSender();
    else if (!this.closing) this.drain();
  };
}
