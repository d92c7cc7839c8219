/**
 * A reliable session on a virtual clock: a ReliableSender and a ReliableReceiver joined by
 * two ChaosLinks (sender -> receiver and back), no sockets, no timers. Each step moves the
 * clock to the next thing due (a datagram, a sender or receiver deadline) and runs it, so a
 * run is deterministic for a seed and takes no real time.
 *
 *   producer --ring--> ReliableSender --forward ChaosLink--> ReliableReceiver --> delivered[]
 *                            ^------------backward ChaosLink------------+  STATUS, NAK
 *
 * Both ends run with what a ReliablePublication and a ReliableSubscription get by default:
 * their options are resolved by the same functions (options.ts, defaults.ts). A test that
 * wants other values passes them (`sender`, `receiver`, `ringCapacity`) and says why.
 */
import { BACK_PRESSURED, Ring } from '@flux/ring';
import { DatagramReader, SubscriptionCounters } from '@flux/udp';
import { ChaosLink, type ChaosOptions } from '../src/chaos/index.js';
import { ReceiverCounters, SenderCounters } from '../src/counters.js';
import { DEFAULT_DATAGRAM_BYTES, DEFAULT_RING_CAPACITY, NS_PER_MS, READER_SEQUENCE_WINDOW_FRAMES } from '../src/defaults.js';
import { resolveReceiverOptions, resolveSenderTuning } from '../src/options.js';
import { type ReceiverOptions, type ReliableEvent, ReliableReceiver } from '../src/receiver.js';
import { ReliableSender, type SenderOptions } from '../src/sender.js';

export const MS = NS_PER_MS;
export const US = NS_PER_MS / 1000;
export const PEER = '10.0.0.1';
export const PEER_PORT = 4000;
const STREAM_ID = 9;
/** The sender's session token and the receiver's cookie key: fixed, so a run depends on its seed alone. */
export const SESSION_TOKEN = { low: 0x5e55_1017, high: 0x70ce_0001 };
const COOKIE_KEY = new Uint8Array(32).fill(7);
/** The smallest step the clock takes when something is due "now" again (a busy sender). */
const TICK_NS = 10 * US;

export interface SimulationOptions {
  messageBytes?: number;
  /** Message lengths cycle through these (overrides messageBytes). */
  messageLengths?: number[];
  ringCapacity?: number;
  /** Overrides of the publication's defaults (the ring-fed options in their own names, timing in ns). */
  sender?: Partial<Omit<SenderOptions, 'timing'>> & { timing?: Partial<SenderOptions['timing']> };
  /** Overrides of the subscription's defaults (maxFarDatagrams follows windowDatagrams unless given; timing in ns). */
  receiver?: Partial<Omit<ReceiverOptions, 'timing'>> & { timing?: Partial<ReceiverOptions['timing']> };
  forward?: Omit<ChaosOptions, 'seed'>;
  backward?: Omit<ChaosOptions, 'seed'>;
  seed?: number;
  /** Drops the n-th new DATA datagram (0-based; retransmissions pass) when this returns true. */
  dropNewData?: (n: number) => boolean;
  /** Drops any DATA datagram, new or resent, whose first sequence makes this return true. */
  dropData?: (firstSequence: number) => boolean;
}

export class Simulation {
  nowNs = 0;
  readonly ring: Ring;
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;
  readonly forward: ChaosLink;
  readonly backward: ChaosLink;
  readonly senderCounters = new SenderCounters();
  readonly receiverCounters = new ReceiverCounters();
  readonly messageCounters = new SubscriptionCounters();
  readonly events: ReliableEvent[] = [];
  /** Index (the u32 at offset 0) of every message delivered, in delivery order. */
  readonly delivered: number[] = [];
  /** Control frames the receiver sent to an address other than the sender's (CHALLENGEs to SETUPs from elsewhere). */
  readonly controlToOthers: { lengthBytes: number; address: string; port: number }[] = [];
  /** Messages delivered whose bytes were not what was sent. */
  corrupted = 0;
  published = 0;
  /** Steps at which more bytes were unconsumed than the receiver's window allows (flow control broken if > 0). */
  windowOverruns = 0;
  private readonly producer;
  private readonly lengths: number[];
  private readonly windowBytes: number;
  /** Cut the forward link: every datagram to the receiver is lost (a vanished sender, seen from the receiver). */
  forwardCut = false;
  backwardCut = false;

  constructor(options: SimulationOptions = {}) {
    const seed = options.seed ?? 1;
    this.lengths = options.messageLengths ?? [options.messageBytes ?? 64];
    const maxMessageBytes = Math.max(...this.lengths);
    this.ring = Ring.create({ capacity: options.ringCapacity ?? DEFAULT_RING_CAPACITY, maxMessageBytes, producerMode: 'single', maxConsumers: 1 });
    this.producer = this.ring.createProducer();
    this.forward = new ChaosLink({ seed, ...options.forward });
    this.backward = new ChaosLink({ seed: seed + 1, ...options.backward });
    // The publication's resolution, with the test's overrides checked by it too.
    const senderOverrides = options.sender ?? {};
    const senderTuning = resolveSenderTuning({
      retransmitBufferDatagrams: senderOverrides.retransmitBufferDatagrams,
      retransmitPolicy: senderOverrides.retransmitPolicy,
      fecGroupDatagrams: senderOverrides.fecGroupDatagrams,
      maxRetransmitBytesPerSecond: senderOverrides.maxRetransmitBytesPerSecond,
      congestionControl: senderOverrides.congestionControl,
    });
    const senderOptions: SenderOptions = {
      sessionId: 77,
      streamId: STREAM_ID,
      initialSequence: 0xffff_ff00, // wraps early in every run
      token: SESSION_TOKEN,
      datagramBytes: DEFAULT_DATAGRAM_BYTES,
      ...senderTuning,
      ...senderOverrides,
      timing: { ...senderTuning.timing, ...senderOverrides.timing },
    };
    // The subscription's resolution, likewise.
    const receiverOverrides = options.receiver ?? {};
    const resolved = resolveReceiverOptions({
      maxSessions: receiverOverrides.maxSessions,
      windowBytes: receiverOverrides.windowBytes,
      windowDatagrams: receiverOverrides.windowDatagrams,
      maxDatagramBytes: receiverOverrides.maxDatagramBytes,
      onGap: receiverOverrides.onGap,
      maxNakRounds: receiverOverrides.maxNakRounds,
    });
    const receiverOptions: ReceiverOptions = {
      ...resolved.receiver,
      cookieKey: COOKIE_KEY,
      ...receiverOverrides,
      timing: { ...resolved.receiver.timing, ...receiverOverrides.timing },
    };
    this.windowBytes = receiverOptions.windowBytes;
    const consumer = this.ring.openConsumer(this.ring.addConsumer());
    const dropNewData = options.dropNewData;
    const dropData = options.dropData;
    let newData = 0;
    let lastFirstSequence = -1;
    this.sender = new ReliableSender(
      this.ring,
      consumer,
      senderOptions,
      {
        sendData: (slot, bytes, lengthBytes) => {
          const first = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
          // New: it ends where the sender's next sequence begins, and was not seen before.
          const isNew = (first + bytes[3]) >>> 0 === this.sender.nextSequence && first !== lastFirstSequence;
          if (isNew) lastFirstSequence = first;
          const dropped = (isNew && dropNewData?.(newData++)) || dropData?.(first);
          if (!this.forwardCut && !dropped) this.forward.push(bytes, 0, lengthBytes, this.nowNs);
          this.sender.sendCompleted(slot); // the link copied it
        },
        sendControl: (bytes, lengthBytes) => {
          if (!this.forwardCut) this.forward.push(bytes, 0, lengthBytes, this.nowNs);
        },
      },
      this.senderCounters,
    );
    const reader = new DatagramReader({
      maxMessageBytes: resolved.maxMessageBytes,
      maxSessions: receiverOptions.maxSessions,
      sequenceWindowFrames: READER_SEQUENCE_WINDOW_FRAMES,
      sinkFor: (streamId) => (streamId === STREAM_ID ? this.sink : undefined),
      counters: this.messageCounters,
    });
    this.receiver = new ReliableReceiver(
      receiverOptions,
      reader,
      (streamId) => streamId === STREAM_ID,
      {
        sendControl: (bytes, lengthBytes, address, port) => {
          if (address !== PEER || port !== PEER_PORT) {
            // Only a CHALLENGE (to a SETUP from elsewhere) may go anywhere but the session's peer.
            if (bytes[1] !== 9) throw new Error(`control type ${bytes[1]} sent to ${address}:${port}`);
            this.controlToOthers.push({ lengthBytes, address, port });
            return;
          }
          if (!this.backwardCut) this.backward.push(bytes, 0, lengthBytes, this.nowNs);
        },
      },
      this.receiverCounters,
      (event) => this.events.push(event),
    );
  }

  private readonly sink = (bytes: Uint8Array, offsetBytes: number, lengthBytes: number): void => {
    const view = new DataView(bytes.buffer, bytes.byteOffset + offsetBytes, lengthBytes);
    const index = view.getUint32(0, true);
    this.delivered.push(index);
    if (lengthBytes !== this.lengths[index % this.lengths.length] || !this.bytesMatch(bytes, offsetBytes, lengthBytes, index)) this.corrupted++;
  };

  private bytesMatch(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, index: number): boolean {
    for (let i = 4; i < lengthBytes; i++) if (bytes[offsetBytes + i] !== ((index + i) & 0xff)) return false;
    return true;
  }

  /** Publishes messages up to index `count - 1` as far as the ring takes them; returns how many are published in all. */
  publishUpTo(count: number): number {
    while (this.published < count) {
      const length = this.lengths[this.published % this.lengths.length];
      const sequence = this.producer.tryClaim(1, length);
      if (sequence === BACK_PRESSURED || sequence < 0) break;
      const offset = this.ring.offsetOf(sequence);
      const bytes = this.ring.bytes;
      new DataView(bytes.buffer, bytes.byteOffset + offset, length).setUint32(0, this.published, true);
      for (let i = 4; i < length; i++) bytes[offset + i] = (this.published + i) & 0xff;
      this.producer.publish(sequence, 1);
      this.published++;
    }
    return this.published;
  }

  /** One step: the clock moves to the next thing due, which runs. */
  step(): void {
    const candidates = [
      this.forward.nextDueNs() ?? Infinity,
      this.backward.nextDueNs() ?? Infinity,
      this.sender.nextDeadlineNs(),
      this.receiver.nextDeadlineNs(),
      this.sender.unpacked() > 0 || this.receiver.hasPendingWork ? this.nowNs + TICK_NS : Infinity,
    ];
    const next = Math.min(...candidates);
    this.nowNs = Math.max(this.nowNs + 1, next === Infinity ? this.nowNs + 10 * MS : next);
    const now = this.nowNs;
    this.forward.poll(now, (bytes, offset, length) => this.receiver.onDatagram(bytes, offset, length, PEER, PEER_PORT, now));
    this.receiver.doWork(now);
    this.backward.poll(now, (bytes, offset, length) => this.sender.onControl(bytes, offset, length, now));
    this.sender.doWork(now);
    if (this.sender.buffer.heldBytes > this.windowBytes + this.sender.buffer.datagramBytes) this.windowOverruns++;
  }

  /**
   * Publishes `count` messages and steps until `done` holds; returns the steps taken, or
   * throws past `maxSteps` (a step is at most 10 µs while data waits: 10 s of virtual time,
   * enough for a congestion window held small by delay, jitter and loss).
   */
  run(count: number, done: () => boolean, maxSteps = 1_000_000): number {
    for (let steps = 0; steps < maxSteps; steps++) {
      this.publishUpTo(count);
      if (done()) return steps;
      this.step();
    }
    throw new Error(`not done after ${maxSteps} steps: delivered ${this.delivered.length} of ${count}, sender ${this.sender.state}`);
  }

  /** Every index 0..count-1 delivered once, in order. */
  deliveredInOrder(count: number): boolean {
    if (this.delivered.length !== count) return false;
    for (let i = 0; i < count; i++) if (this.delivered[i] !== i) return false;
    return true;
  }
}
