/**
 * The sending half of a reliable session (no I/O; time is a parameter, `nowNs`): it packs
 * messages from the publication's ring into the retransmit buffer, within the receiver's
 * window, and answers the receiver's control frames. The publication (publication.ts)
 * moves its datagrams; the tests drive it on a virtual clock.
 *
 *   ring --pack--> retransmit buffer slot --sendData--> network
 *                        ^   resend (NAK)               |
 *   STATUS (consumed, window, RTT) / NAK <---------------+ from the receiver
 *
 * Life: 'setup' (SETUP every setupIntervalNs until a STATUS answers; a CHALLENGE's cookie
 * is echoed in the next SETUP at once) -> 'connected' -> 'ending' (end(): HEARTBEAT with
 * END_OF_STREAM until a STATUS says STREAM_ENDED: the receiver saw the end and consumed
 * everything before it) -> 'ended'; or 'timedOut' when no STATUS
 * came for livenessTimeoutNs; or 'closed' when the publication closed before either.
 *
 * Every control frame carries the session token (control-layout.ts); STATUS, NAK and
 * CHALLENGE without it are counted (forgedControl) and change nothing.
 *
 * Flow control: no datagram goes out while those not yet consumed (held for retransmission
 * or, under 'overwrite', dropped from the buffer unconsumed) fill the receiver's window
 * (bytes), and under the 'back-pressure' policy no datagram the receiver has not consumed
 * is overwritten; either limit stops packing, the ring fills, and producers' claims return
 * BACK_PRESSURED. Under 'overwrite', the oldest datagram gives way and a NAK for it is
 * answered UNAVAILABLE. So DATA never runs more than a window (and one datagram) past what
 * the receiver consumed, which is what lets the receiver drop anything further as forged.
 *
 * Forward error correction (fecGroupDatagrams > 0): after every fecGroupDatagrams new DATA
 * datagrams, and before an idle heartbeat, a PARITY datagram (parity-encoder.ts) lets the
 * receiver rebuild one lost datagram of the group without a NAK. DATA datagrams are then
 * PARITY_OVERHEAD_BYTES shorter, so the parity fits the same MTU.
 *
 * Heartbeats: when no DATA went out for heartbeatMinNs, HEARTBEAT(next sequence) tells the
 * receiver where the stream's end is (a lost last datagram is then NAKed); the interval
 * doubles while idle, up to heartbeatMaxNs. *
 * Two sequence spaces meet here: ring sequences (31-bit, @flux/ring's slot numbers,
 * compared with its sequenceDiff) and frame sequences (32-bit, on the wire, compared with
 * frameSequenceDelta). `ringSequence` names the former; every other sequence is a frame's.
 */
import { type Consumer, FluxInternalError, type Ring, SEQUENCE_MASK as RING_SEQUENCE_MASK, sequenceDiff as ringSequenceDiff } from '@flux/ring';
import { DatagramWriter, maxFramePayloadBytes, type PackedDatagram, RingPacker } from '@flux/udp';
import {
  COUNT_OFFSET,
  ControlFlag,
  ControlType,
  FLAGS_OFFSET,
  frameSequenceDelta,
  MAX_CONTROL_BYTES,
  NAK_RANGE_LENGTH_OFFSET,
  NAK_RANGE_START_OFFSET,
  nakRangeOffset,
  PARITY_OVERHEAD_BYTES,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  STATUS_ECHO_OFFSET,
  STATUS_RTT_NS_OFFSET,
  STATUS_WINDOW_BYTES_OFFSET,
  STREAM_ID_OFFSET,
  TYPE_OFFSET,
  COOKIE_LOW_OFFSET,
  COOKIE_HIGH_OFFSET,
} from './control-layout.js';
import {
  checkControl,
  hasToken,
  readFloat64LE,
  readUint32LE,
  type SessionToken,
  writeHeartbeat,
  writeRttEcho,
  writeSetup,
  writeUnavailable,
} from './control-frames.js';
import type { SenderCounters } from './counters.js';
import { DEFAULT_CONGESTION_LOSS_THRESHOLD, INITIAL_WINDOW_BYTES, LOSS_SAMPLE_MIN_DATAGRAMS, MAX_DATAGRAMS_PER_WORK } from './defaults.js';
import { type CongestionController, StaticWindow } from './congestion-controller.js';
import { Cubic } from './cubic.js';
import { LossRate } from './loss-rate.js';
import { Pacer } from './pacer.js';
import { ParityEncoder } from './parity-encoder.js';
import { RetransmitBuffer } from './retransmit-buffer.js';
import { RetransmitHandler } from './retransmit-handler.js';

export type SenderState = 'setup' | 'connected' | 'ending' | 'ended' | 'timedOut' | 'closed';

export interface SenderTiming {
  setupIntervalNs: number;
  heartbeatMinNs: number;
  heartbeatMaxNs: number;
  livenessTimeoutNs: number;
  /** A datagram resent is not resent again for max(this, RTT). */
  minLingerNs: number;
}

export interface SenderOptions {
  sessionId: number;
  streamId: number;
  initialSequence: number;
  /** 64 random bits every control frame of the session carries (the publication draws them from crypto). */
  token: SessionToken;
  /** Longest datagram sent (with FEC, DATA datagrams are PARITY_OVERHEAD_BYTES shorter). */
  datagramBytes: number;
  /** DATA datagrams per PARITY datagram (1..MAX_PARITY_GROUP_DATAGRAMS), or 0 (the default): no FEC. */
  fecGroupDatagrams?: number;
  retransmitBufferDatagrams: number;
  retransmitPolicy: 'back-pressure' | 'overwrite';
  maxRetransmitBytesPerSecond: number;
  /** 'cubic' (cubic.ts, with pacing) or 'static' (the receiver's window only). */
  congestionControl: 'cubic' | 'static';
  /** A loss rate above it is congestion (loss-rate.ts); default DEFAULT_CONGESTION_LOSS_THRESHOLD. */
  congestionLossThreshold?: number;
  timing: SenderTiming;
}

/** How the sender's datagrams leave. */
export interface SenderTransport {
  /** Send a DATA datagram from retransmit buffer slot `slot`; call sender.sendCompleted(slot) when the socket is done with its bytes. */
  sendData(slot: number, bytes: Uint8Array, lengthBytes: number): void;
  /** Send a control frame; the bytes are reused after the call (copy them if sending later). */
  sendControl(bytes: Uint8Array, lengthBytes: number): void;
}

export class ReliableSender {
  readonly sessionId: number;
  readonly streamId: number;
  readonly buffer: RetransmitBuffer;
  private readonly options: SenderOptions;
  private readonly timing: SenderTiming;
  private readonly transport: SenderTransport;
  private readonly counters: SenderCounters;
  private readonly packer: RingPacker;
  private readonly writer: DatagramWriter;
  private readonly consumer: Consumer;
  private readonly retransmits: RetransmitHandler;
  private readonly parity: ParityEncoder | undefined;
  private readonly control = new Uint8Array(MAX_CONTROL_BYTES);
  private readonly packed: PackedDatagram = { lengthBytes: 0, payloadBytes: 0, payloadOffsetBytes: 0, messages: 0, slots: 0 };
  private stateValue: SenderState = 'setup';
  /** First sequence the receiver has not consumed (from STATUS). */
  private consumed: number;
  /** Bytes of DATA the receiver takes beyond what it consumed (from STATUS). */
  private windowBytes = INITIAL_WINDOW_BYTES;
  private rttNsValue = 0;
  private lastSetupNs = -Infinity;
  private lastStatusNs = 0;
  private lastSendNs = 0;
  private heartbeatIntervalNs: number;
  /** The window or the buffer stopped packing (counted once per stall). */
  private stalled = false;
  private readonly token: SessionToken;
  /** The receiver's setup cookie (from CHALLENGE), echoed in SETUP; 0, 0 before one came. */
  private cookieLow = 0;
  private cookieHigh = 0;
  /**
   * Bytes of datagrams dropped from the buffer under 'overwrite' that the receiver had not
   * consumed: still in the receiver's window (flow control counts them) until STATUS
   * passes `evictedEndSequence`, the end of the newest of them.
   */
  private evictedBytes = 0;
  private evictedEndSequence = 0;
  private readonly congestion: CongestionController;
  private readonly pacer: Pacer;
  private readonly lossRate: LossRate;
  /** The congestion window limited sending since the last STATUS (it may grow only then). */
  private cwndLimited = false;
  /** The congestion window stopped packing (counted once per stall). */
  private congestionStalled = false;
  /** A loss was answered with a reduction: no other until the receiver consumed past recoveryEndSequence (once per round trip). */
  private inRecovery = false;
  private recoveryEndSequence = 0;
  /** Since when nothing has been unconsumed (ns), or -1 while something is. */
  private idleSinceNs = 0;
  /** The pacer's next send time while it holds packing back (ns), else Infinity. */
  private pacedUntilNs = Number.POSITIVE_INFINITY;

  constructor(ring: Ring, consumer: Consumer, options: SenderOptions, transport: SenderTransport, counters: SenderCounters) {
    this.options = options;
    this.timing = options.timing;
    this.sessionId = options.sessionId >>> 0;
    this.streamId = options.streamId >>> 0;
    this.transport = transport;
    this.counters = counters;
    this.consumer = consumer;
    this.consumed = options.initialSequence >>> 0;
    this.token = { low: options.token.low >>> 0, high: options.token.high >>> 0 };
    const fecGroup = options.fecGroupDatagrams ?? 0;
    const dataBytes = fecGroup > 0 ? options.datagramBytes - PARITY_OVERHEAD_BYTES : options.datagramBytes;
    this.parity = fecGroup > 0 ? new ParityEncoder(fecGroup, dataBytes) : undefined;
    this.buffer = new RetransmitBuffer(options.retransmitBufferDatagrams, dataBytes);
    this.writer = new DatagramWriter(this.sessionId, this.streamId, dataBytes, options.initialSequence);
    this.packer = new RingPacker(ring, consumer, this.writer, maxFramePayloadBytes(dataBytes), counters);
    this.retransmits = new RetransmitHandler(
      this.buffer,
      {
        resend: (slot) => {
          this.lossRate.onResent(this.buffer.lengthOf(slot));
          this.buffer.sendStarted(slot);
          this.transport.sendData(slot, this.buffer.views[slot], this.buffer.lengthOf(slot));
        },
        unavailable: (start, length) =>
          this.transport.sendControl(this.control, writeUnavailable(this.control, this.sessionId, this.streamId, start, length, this.token)),
      },
      counters,
      options.timing.minLingerNs,
      options.maxRetransmitBytesPerSecond,
    );
    this.heartbeatIntervalNs = options.timing.heartbeatMinNs;
    this.congestion = options.congestionControl === 'static' ? new StaticWindow() : new Cubic(dataBytes);
    this.lossRate = new LossRate(options.congestionLossThreshold ?? DEFAULT_CONGESTION_LOSS_THRESHOLD, LOSS_SAMPLE_MIN_DATAGRAMS * dataBytes);
    this.pacer = new Pacer(dataBytes);
    this.publishCongestion();
  }

  /** The congestion window (bytes; Infinity under 'static'). */
  get congestionWindowBytes(): number {
    return this.congestion.windowBytes;
  }

  /** The pacing rate (bytes per second; Infinity: unpaced). */
  get pacingBytesPerSecond(): number {
    return this.congestion.pacingBytesPerSecond;
  }

  get state(): SenderState {
    return this.stateValue;
  }

  /** The first sequence not yet sent. */
  get nextSequence(): number {
    return this.writer.nextSequence;
  }

  /** The first sequence the receiver has not consumed. */
  get consumedSequence(): number {
    return this.consumed;
  }

  /** Smoothed round trip the receiver reported (0 before the first sample). */
  get rttNs(): number {
    return this.rttNsValue;
  }

  /** Readable ring slots not yet packed: what the publication waits for. */
  readonly unpacked = (): number => this.packer.unpacked();

  /** Connected with nothing to pack: only new ring data (or a deadline) gives doWork work. */
  get waitsForData(): boolean {
    return (this.stateValue === 'connected' || this.stateValue === 'ending') && this.packer.unpacked() === 0;
  }

  /** Whether ring sequence `ringSequence` has been packed (and its slot released). */
  packedThrough(ringSequence: number): boolean {
    return ringSequenceDiff((this.consumer.nextSequence - 1) & RING_SEQUENCE_MASK, ringSequence) >= 0;
  }

  /** Every message packed so far has been consumed by the receiver. */
  get caughtUp(): boolean {
    return this.consumed === this.writer.nextSequence;
  }

  /**
   * Sends what is due: SETUP while not connected; new DATA within the window (at most
   * MAX_DATAGRAMS_PER_WORK datagrams); a heartbeat when idle. Returns datagrams packed.
   * `nowNs` never goes backwards.
   */
  doWork(nowNs: number): number {
    const state = this.stateValue;
    if (state === 'setup') {
      if (nowNs - this.lastSetupNs >= this.timing.setupIntervalNs) {
        this.lastSetupNs = nowNs;
        this.sendSetup();
      }
      return 0;
    }
    if (state === 'ended' || state === 'timedOut' || state === 'closed') return 0;
    if (nowNs - this.lastStatusNs > this.timing.livenessTimeoutNs) {
      this.stateValue = 'timedOut';
      this.counters.livenessTimeouts++;
      return 0;
    }
    const sent = this.sendNew(nowNs);
    if (sent > 0) {
      this.lastSendNs = nowNs;
      this.heartbeatIntervalNs = this.timing.heartbeatMinNs;
    } else if (nowNs - this.lastSendNs >= this.heartbeatIntervalNs) {
      this.sendHeartbeat(nowNs);
    }
    return sent;
  }

  /** When doWork next has something to do by the clock alone (ns); new ring data also wakes it. */
  nextDeadlineNs(): number {
    switch (this.stateValue) {
      case 'setup':
        return this.lastSetupNs + this.timing.setupIntervalNs;
      case 'connected':
      case 'ending':
        return Math.min(
          this.lastSendNs + this.heartbeatIntervalNs,
          this.lastStatusNs + this.timing.livenessTimeoutNs + 1,
          this.pacedUntilNs, // the pacer lets the next datagram go
        );
      default:
        return Infinity;
    }
  }

  /** Stops taking new messages: the stream ends at the next sequence; heartbeats say so until the receiver consumed it all. */
  end(nowNs: number): void {
    if (this.stateValue !== 'connected') {
      if (this.stateValue === 'setup') this.stateValue = 'ended';
      return;
    }
    this.stateValue = 'ending';
    this.sendHeartbeat(nowNs);
  }

  /** The publication closed before the session ended or timed out: nothing more is sent. */
  abandon(): void {
    if (this.stateValue !== 'ended' && this.stateValue !== 'timedOut') this.stateValue = 'closed';
  }

  /** The socket finished with a send of retransmit buffer slot `slot`. */
  sendCompleted(slot: number): void {
    this.buffer.sendCompleted(slot);
  }

  /** A datagram from the receiver; anything not a well-formed control frame of this session is counted and dropped. */
  onControl(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): void {
    if (!checkControl(bytes, offsetBytes, lengthBytes)) {
      this.counters.malformedControl++;
      return;
    }
    if (readUint32LE(bytes, offsetBytes + SESSION_ID_OFFSET) !== this.sessionId || readUint32LE(bytes, offsetBytes + STREAM_ID_OFFSET) !== this.streamId) {
      this.counters.unknownSession++;
      return;
    }
    if (!hasToken(bytes, offsetBytes, this.token)) {
      this.counters.forgedControl++;
      return;
    }
    if (this.stateValue === 'closed') return;
    const type = bytes[offsetBytes + TYPE_OFFSET];
    if (type === ControlType.STATUS) this.onStatus(bytes, offsetBytes, nowNs);
    else if (type === ControlType.NAK) this.onNak(bytes, offsetBytes, nowNs);
    else if (type === ControlType.CHALLENGE) this.onChallenge(bytes, offsetBytes, nowNs);
    else this.counters.malformedControl++; // a sender-to-receiver type sent to the sender
  }

  private sendSetup(): void {
    this.counters.setupsSent++;
    const length = writeSetup(this.control, this.sessionId, this.streamId, this.options.initialSequence >>> 0, this.token, this.cookieLow, this.cookieHigh);
    this.transport.sendControl(this.control, length);
  }

  /** The receiver wants its cookie echoed before it sets the session up: SETUP again, now, with it. */
  private onChallenge(bytes: Uint8Array, base: number, nowNs: number): void {
    if (this.stateValue !== 'setup' || readUint32LE(bytes, base + SEQUENCE_OFFSET) !== this.options.initialSequence >>> 0) {
      this.counters.malformedControl++; // a late copy, or not an answer to our SETUP
      return;
    }
    this.counters.challengesReceived++;
    this.cookieLow = readUint32LE(bytes, base + COOKIE_LOW_OFFSET);
    this.cookieHigh = readUint32LE(bytes, base + COOKIE_HIGH_OFFSET);
    this.lastSetupNs = nowNs;
    this.sendSetup();
  }

  private onStatus(bytes: Uint8Array, base: number, nowNs: number): void {
    const consumed = readUint32LE(bytes, base + SEQUENCE_OFFSET);
    const next = this.writer.nextSequence;
    // Consumed cannot pass what was sent; one behind the last report was overtaken on the way.
    if (frameSequenceDelta(consumed, next) > 0) {
      this.counters.malformedControl++;
      return;
    }
    if (frameSequenceDelta(consumed, this.consumed) < 0) {
      this.counters.staleStatus++;
      return;
    }
    this.counters.statusReceived++;
    this.lastStatusNs = nowNs;
    if (this.stateValue === 'setup') {
      this.stateValue = 'connected';
      this.lastSendNs = nowNs;
    }
    this.consumed = consumed;
    this.windowBytes = readUint32LE(bytes, base + STATUS_WINDOW_BYTES_OFFSET);
    const rttNs = readUint32LE(bytes, base + STATUS_RTT_NS_OFFSET);
    if (rttNs > 0) {
      this.rttNsValue = rttNs;
      this.retransmits.lingerNs = Math.max(this.timing.minLingerNs, rttNs);
    }
    this.retransmits.setWindow(this.windowBytes, this.rttNsValue);
    const heldBytes = this.buffer.heldBytes;
    this.buffer.releaseConsumed(consumed);
    const ackedBytes = heldBytes - this.buffer.heldBytes;
    if (ackedBytes > 0) {
      this.congestion.onAck(ackedBytes, this.rttNsValue, this.cwndLimited, nowNs);
      this.cwndLimited = false;
      if (this.buffer.heldBytes === 0) this.idleSinceNs = nowNs;
    }
    if (this.inRecovery && frameSequenceDelta(consumed, this.recoveryEndSequence) >= 0) this.inRecovery = false;
    this.publishCongestion(nowNs);
    if (this.evictedBytes > 0 && frameSequenceDelta(this.evictedEndSequence, consumed) <= 0) this.evictedBytes = 0;
    if ((bytes[base + FLAGS_OFFSET] & ControlFlag.ECHO_REQUEST) !== 0) {
      const echo = readFloat64LE(bytes, base + STATUS_ECHO_OFFSET);
      this.transport.sendControl(this.control, writeRttEcho(this.control, this.sessionId, this.streamId, echo, this.token));
    }
    // Ended only when the receiver says it saw the end: "caught up" alone may predate the END.
    if (this.stateValue === 'ending' && this.caughtUp && (bytes[base + FLAGS_OFFSET] & ControlFlag.STREAM_ENDED) !== 0) this.stateValue = 'ended';
  }

  private onNak(bytes: Uint8Array, base: number, nowNs: number): void {
    this.counters.naksReceived++;
    const ranges = bytes[base + COUNT_OFFSET];
    const next = this.writer.nextSequence;
    for (let i = 0; i < ranges; i++) {
      const at = base + nakRangeOffset(i);
      let start = readUint32LE(bytes, at + NAK_RANGE_START_OFFSET);
      let length = readUint32LE(bytes, at + NAK_RANGE_LENGTH_OFFSET);
      // What the receiver already consumed it has: only the rest is answered.
      const behind = frameSequenceDelta(this.consumed, start);
      if (behind > 0) {
        if (behind >= length) continue;
        start = this.consumed;
        length -= behind;
      }
      this.retransmits.onNakRange(start, length, next, nowNs);
    }
    // Losses above the threshold (loss-rate.ts): the window shrinks, once per round trip
    // (until what was sent by now is consumed).
    if (
      this.options.congestionControl !== 'static' &&
      !this.inRecovery &&
      this.lossRate.congested &&
      frameSequenceDelta(this.writer.nextSequence, this.consumed) > 0
    ) {
      this.inRecovery = true;
      this.recoveryEndSequence = this.writer.nextSequence;
      this.lossRate.restart();
      this.congestion.onCongestionEvent(nowNs);
      this.counters.congestionEvents++;
      this.publishCongestion(nowNs);
    }
  }

  private sendNew(nowNs: number): number {
    const buffer = this.buffer;
    const overwrite = this.options.retransmitPolicy === 'overwrite';
    const congestion = this.congestion;
    let sent = 0;
    this.pacedUntilNs = Number.POSITIVE_INFINITY;
    if (this.idleSinceNs >= 0 && this.packer.unpacked() > 0) {
      if (buffer.heldBytes === 0) congestion.onIdleRestart(nowNs - this.idleSinceNs, this.rttNsValue, nowNs);
      this.idleSinceNs = -1;
      this.publishCongestion(nowNs);
    }
    while (sent < MAX_DATAGRAMS_PER_WORK) {
      const unpackedSlots = this.packer.unpacked();
      if (unpackedSlots === 0) break;
      const inFlightBytes = buffer.heldBytes + this.evictedBytes;
      if (inFlightBytes >= this.windowBytes) {
        this.stall(); // the receiver's window is full of datagrams it has not consumed
        break;
      }
      if (inFlightBytes >= congestion.windowBytes) {
        this.cwndLimited = true;
        if (!this.congestionStalled) {
          this.congestionStalled = true;
          this.counters.congestionStalls++;
        }
        break;
      }
      if (!this.pacer.canSend(nowNs)) {
        this.pacedUntilNs = this.pacer.nextSendNs(nowNs);
        this.counters.pacingDelays++;
        break;
      }
      if (buffer.isFull) {
        if (!overwrite) {
          this.stall();
          break;
        }
        if (buffer.nextSlot() < 0) break; // the oldest is still being sent
        this.evictedBytes += buffer.lengthOf(buffer.oldestSlot());
        this.evictedEndSequence = buffer.endSequenceOf(buffer.oldestSlot());
        buffer.evictOldest();
      }
      const slot = buffer.nextSlot();
      if (slot < 0) break; // its previous datagram's send is under way
      const firstSequence = this.writer.nextSequence;
      const progress = this.packer.pack(buffer.targets[slot], this.packed, unpackedSlots, Infinity);
      const packed = this.packed;
      // Every frame is copied: the ring slots are free at once.
      this.packer.pendingSlots -= packed.slots;
      this.consumer.release(packed.slots);
      if (packed.lengthBytes === 0) {
        if (progress === 0) throw new FluxInternalError('@flux/reliable: a readable slot could not be packed');
        continue; // only aborted claims
      }
      buffer.append(slot, firstSequence, this.writer.nextSequence, packed.lengthBytes);
      this.retransmits.reset(slot);
      buffer.sendStarted(slot);
      this.counters.datagramsSent++;
      this.counters.messagesSent += packed.messages;
      this.counters.bytesSent += packed.lengthBytes;
      this.pacer.onSent(packed.lengthBytes);
      this.lossRate.onSent(packed.lengthBytes);
      if (buffer.heldBytes + this.evictedBytes >= congestion.windowBytes / 2) this.cwndLimited = true; // RFC 7661: in use, not app-limited
      this.congestionStalled = false;
      this.transport.sendData(slot, buffer.views[slot], packed.lengthBytes);
      if (this.parity?.add(buffer.bytes, buffer.words, slot * buffer.strideBytes, packed.lengthBytes, firstSequence, this.writer.nextSequence))
        this.sendParity();
      sent++;
      this.stalled = false;
    }
    return sent;
  }

  /** The window and rate into the counters, and the rate into the pacer. */
  private publishCongestion(nowNs = 0): void {
    const windowBytes = this.congestion.windowBytes;
    const rate = this.congestion.pacingBytesPerSecond;
    this.pacer.setRate(rate, nowNs);
    this.counters.congestionWindowBytes = windowBytes === Number.POSITIVE_INFINITY ? 0 : Math.round(windowBytes);
    this.counters.pacingBytesPerSecond = rate === Number.POSITIVE_INFINITY ? 0 : Math.round(rate);
  }

  private stall(): void {
    if (this.stalled) return;
    this.stalled = true;
    this.counters.flowControlStalls++;
  }

  /** Closes the open FEC group: its PARITY datagram goes out. */
  private sendParity(): void {
    const parity = this.parity!;
    this.counters.paritySent++;
    this.transport.sendControl(parity.frame, parity.close(this.sessionId, this.streamId, this.token));
    parity.reset();
  }

  private sendHeartbeat(nowNs: number): void {
    if (this.parity !== undefined && this.parity.pending > 0) this.sendParity(); // the group's tail is covered too
    const flags = this.stateValue === 'ending' && this.packer.unpacked() === 0 ? ControlFlag.END_OF_STREAM : 0;
    this.counters.heartbeatsSent++;
    this.transport.sendControl(this.control, writeHeartbeat(this.control, this.sessionId, this.streamId, this.writer.nextSequence, flags, this.token));
    this.lastSendNs = nowNs;
    this.heartbeatIntervalNs = Math.min(this.timing.heartbeatMaxNs, this.heartbeatIntervalNs * 2);
  }
}
