/**
 * One session of a receiver (no I/O; time is a parameter, `nowNs`): the image of one
 * sender's stream, as Aeron's PublicationImage is. receiver.ts finds the session a datagram
 * belongs to and checks who sent it; everything after that acts on this one session:
 *
 *   DATA seq == expected      deliver now, then every held datagram that follows it
 *   DATA seq >  expected      hold it in the session's ReceiveWindow (counted outOfOrder)
 *   DATA seq <  expected      duplicate: dropped and counted (or trimmed to its new frames)
 *   PARITY                    rebuild the group's one missing datagram, if only one is (parity-decoder.ts)
 *   HEARTBEAT                 where the stream ends (a gap to NAK, END_OF_STREAM)
 *   RTT_ECHO                  a round-trip sample
 *   UNAVAILABLE               the gap at the expected sequence is given up under onGap
 *   doWork(nowNs)             rescan gaps, NAK the due ones, give up a stuck gap, STATUS
 *
 * A session ends when its end of stream is consumed ('end', it lingers as 'ended' until its
 * sender goes quiet), or when a gap is given up under onGap 'fail' ('failed': removed at
 * once); its timeout is the receiver's. Memory: see SessionMemory.
 */
import { checkFrameList, type DatagramReader, FrameLayout } from '@flux/udp';
import { ControlFlag, COUNT_OFFSET, FLAGS_OFFSET, frameSequenceDelta, MAX_CONTROL_BYTES, SEQUENCE_OFFSET } from './control-layout.js';
import { readUint32LE, type SessionToken, writeNakHeader, writeNakRange, writeStatus } from './control-frames.js';
import type { ReceiverCounters } from './counters.js';
import { END_STATUS_COPIES, RTT_SMOOTHING_DIVISOR, STATUS_CONSUMED_WINDOW_SHIFT } from './defaults.js';
import { LOSS_DETECTOR_BYTES, LossDetector, type NakSink } from './loss-detector.js';
import { ParityDecoder } from './parity-decoder.js';
import { ReceiveWindow, StoreResult } from './receive-window.js';
import type { ReceiverOptions, ReceiverTiming, ReceiverTransport, ReliableEvent } from './receiver.js';
import { PARITY_HISTORY_DATAGRAMS, ringFramesFor } from './session-memory.js';
import { trimFramesBefore } from './trim.js';

/** The largest UDP payload (IPv4): no datagram of a sender is longer, whatever its MTU. */
const MAX_UDP_PAYLOAD_BYTES = 65_507;

/**
 * How far past the next expected sequence a DATA datagram may end: the sender never has more
 * than the window's bytes unconsumed, plus the datagram that crossed it, and a frame is at
 * least FRAME_HEADER_BYTES long. DATA further ahead cannot come from the session's sender
 * (a spoofer, a corrupted sequence): it is dropped and counted, never adopted.
 */
export function maxAheadFramesFor(windowBytes: number): number {
  return Math.ceil((windowBytes + MAX_UDP_PAYLOAD_BYTES) / FrameLayout.FRAME_HEADER_BYTES);
}

/** What the sessions of one receiver share: its options and outputs, its scratch buffers, and two flags (receiver.ts makes one). */
export class ImageContext {
  readonly control = new Uint8Array(MAX_CONTROL_BYTES);
  /** A DATA datagram with its frames before the expected sequence cut off (trim.ts). */
  readonly trimmed = new Uint8Array(MAX_UDP_PAYLOAD_BYTES);
  readonly maxAheadFrames: number;
  /** A session may need doWork before its timers say so (a gap to scan, a STATUS to send). */
  pending = false;
  /** While true nothing is delivered: in-order data is held in the window as if a gap lay before it. */
  paused = false;

  constructor(
    readonly options: ReceiverOptions,
    readonly reader: DatagramReader,
    readonly transport: ReceiverTransport,
    readonly counters: ReceiverCounters,
    readonly onEvent: (event: ReliableEvent) => void,
    /** Takes a session out of the receiver's table (it failed). */
    readonly remove: (image: SessionImage) => void,
  ) {
    this.maxAheadFrames = maxAheadFramesFor(options.windowBytes);
  }
}

type SessionState = 'active' | 'ended';

export class SessionImage {
  readonly window: ReceiveWindow;
  /** Every control frame of the session carries it (control-layout.ts). */
  readonly token: SessionToken;
  readonly loss: LossDetector;
  expected: number;
  /** One past the highest sequence heard of (DATA or HEARTBEAT). */
  highest: number;
  state: SessionState = 'active';
  /** A gap may have opened or closed since the last scan. */
  dirty = false;
  lastHeardNs: number;
  lastStatusNs = -Infinity;
  lastStatusConsumed: number;
  /** DATA bytes delivered since the last STATUS. */
  consumedBytes = 0;
  statusWanted = true;
  rttNs = 0;
  nextEchoNs = -Infinity;
  /** The sequence the stream ends at (HEARTBEAT with END_OF_STREAM), or -1. */
  endSequence = -1;
  /** Recent datagrams for FEC, from the session's first PARITY on. */
  parity: ParityDecoder | undefined;
  /** The expected sequence the last NAK rounds were stuck at, and how many rounds in a row. */
  stuckSequence = -1;
  stuckRounds = 0;
  private readonly context: ImageContext;
  private readonly options: ReceiverOptions;
  private readonly timing: ReceiverTiming;
  private readonly reader: DatagramReader;
  private readonly counters: ReceiverCounters;
  /** Writes this session's NAK into the context's control buffer and sends it. */
  private readonly nakSink: NakSink;

  constructor(
    context: ImageContext,
    readonly sessionId: number,
    readonly streamId: number,
    readonly address: string,
    readonly port: number,
    initialSequence: number,
    tokenLow: number,
    tokenHigh: number,
    nowNs: number,
  ) {
    const options = context.options;
    this.context = context;
    this.options = options;
    this.timing = options.timing;
    this.reader = context.reader;
    this.counters = context.counters;
    this.token = { low: tokenLow, high: tokenHigh };
    this.window = new ReceiveWindow(ringFramesFor(options.windowBytes), options.windowDatagrams, options.maxDatagramBytes, options.maxFarDatagrams);
    this.loss = new LossDetector(
      { nakDelayNs: options.timing.nakDelayNs, minRetryNs: options.timing.minNakRetryNs, maxRetryNs: options.timing.maxNakRetryNs },
      ringFramesFor(options.windowBytes),
    );
    this.expected = initialSequence;
    this.highest = initialSequence;
    this.lastStatusConsumed = initialSequence;
    this.lastHeardNs = nowNs;
    const control = context.control;
    this.nakSink = {
      range: (index: number, start: number, length: number) => writeNakRange(control, index, start, length),
      end: (count: number) => {
        this.counters.naksSent++;
        this.counters.nakRanges += count;
        context.transport.sendControl(control, writeNakHeader(control, this.sessionId, this.streamId, count, this.token), this.address, this.port);
      },
    };
  }

  /** Typed-array bytes this session holds (its reassembly buffer, in the reader, not included). */
  get allocatedBytes(): number {
    return LOSS_DETECTOR_BYTES + this.window.allocatedBytes + (this.parity?.allocatedBytes ?? 0);
  }

  /** Takes one DATA datagram; returns whether it was new and well formed (delivered or held). */
  onData(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): boolean {
    const counters = this.counters;
    const context = this.context;
    let frameCount = bytes[offsetBytes + COUNT_OFFSET];
    let first = readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET);
    let ahead = frameSequenceDelta(first, this.expected);
    const aheadOfEnd = frameSequenceDelta((first + frameCount) >>> 0, this.expected);
    if (this.state !== 'active' || aheadOfEnd <= 0) {
      this.lastHeardNs = nowNs;
      counters.duplicates++;
      return false;
    }
    if (aheadOfEnd > context.maxAheadFrames) {
      counters.outOfWindow++; // further than flow control lets the sender go: not the session's sender
      return false;
    }
    this.lastHeardNs = nowNs;
    let trimmed = false;
    if (ahead < 0) {
      // Overlaps the expected sequence at another frame boundary than what was delivered (a
      // re-framing middlebox, a spoofed datagram delivered first): its frames from the
      // expected one on are new. Without this the retransmission, byte for byte the same,
      // would be dropped for ever and the gap never fill.
      const length = trimFramesBefore(bytes, offsetBytes, lengthBytes, -ahead, context.trimmed);
      if (length < 0) {
        counters.malformed++;
        return false;
      }
      counters.overlapsTrimmed++;
      bytes = context.trimmed;
      offsetBytes = 0;
      lengthBytes = length;
      frameCount += ahead;
      first = this.expected;
      ahead = 0;
      trimmed = true;
    }
    if (ahead === 0 && !context.paused) {
      // In order: the reader validates and delivers; a datagram it drops moves nothing.
      if (!this.reader.read(bytes, offsetBytes, lengthBytes)) {
        counters.malformed++;
        return false;
      }
      counters.datagramsAccepted++;
      this.consumedBytes += lengthBytes;
      this.expected = (first + frameCount) >>> 0;
      if (!trimmed) this.parity?.record(first, this.expected, bytes, offsetBytes, lengthBytes); // FEC covers whole originals only
      if (frameSequenceDelta(this.expected, this.highest) > 0) this.highest = this.expected;
      if (this.window.size > 0) this.deliverHeld();
      if (this.loss.gaps > 0) {
        this.dirty = true;
        context.pending = true;
      }
      // A quarter window consumed: STATUS now, not at the end of the receive batch (one
      // io_uring poll may hand over a whole window), so the sender never waits on it.
      if (this.consumedBytes >= this.options.windowBytes >>> STATUS_CONSUMED_WINDOW_SHIFT) this.sendStatus(nowNs);
      this.checkEnd();
      return true;
    }
    if (frameCount === 0 || bytes[offsetBytes + FLAGS_OFFSET] !== 0 || checkFrameList(bytes, offsetBytes, offsetBytes + lengthBytes, frameCount) !== null) {
      counters.malformed++;
      return false;
    }
    const result =
      lengthBytes > this.options.maxDatagramBytes ? StoreResult.FULL : this.window.store(first, frameCount, bytes, offsetBytes, lengthBytes, ahead);
    if (result === StoreResult.DUPLICATE) {
      counters.duplicates++;
      return false;
    }
    const end = (first + frameCount) >>> 0;
    if (result === StoreResult.FULL) counters.windowFull++;
    else {
      if (ahead > 0) counters.outOfOrder++;
      else counters.heldWhilePaused++;
      if (!trimmed) this.parity?.record(first, end, bytes, offsetBytes, lengthBytes);
    }
    if (frameSequenceDelta(end, this.highest) > 0) this.highest = end;
    this.dirty = true;
    context.pending = true;
    return result !== StoreResult.FULL;
  }

  /** A group's PARITY: its one missing datagram, if only one is missing, is rebuilt and taken as if it had arrived. */
  onParity(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): void {
    this.counters.parityReceived++;
    if (this.state !== 'active') return;
    if (this.parity === undefined) {
      // From now on this session's datagrams are remembered; this group cannot be helped.
      this.parity = new ParityDecoder(PARITY_HISTORY_DATAGRAMS, this.options.maxDatagramBytes);
      return;
    }
    const lengthRecovered = this.parity.recover(bytes, offsetBytes, lengthBytes, this.expected);
    if (lengthRecovered > 0 && this.onData(this.parity.datagram, 0, lengthRecovered, nowNs)) this.counters.fecRecoveries++;
  }

  /** Delivers held datagrams from the expected sequence on, while they follow one another. */
  deliverHeld(): void {
    const window = this.window;
    const context = this.context;
    while (!context.paused) {
      const slot = window.take(this.expected);
      if (slot < 0) return;
      const frames = window.framesOf(slot);
      const lengthBytes = window.lengthOf(slot);
      this.reader.read(window.bytes, window.offsetOf(slot), lengthBytes); // validated when held (and remembered for FEC then)
      window.release(slot);
      this.counters.datagramsAccepted++;
      this.consumedBytes += lengthBytes;
      this.expected = (this.expected + frames) >>> 0;
    }
  }

  /** After resume(): delivers what was held while paused, and has STATUS report it. */
  resume(): void {
    if (this.state !== 'active' || this.window.size === 0) return;
    this.deliverHeld();
    this.dirty = true; // rescan: what was held is delivered; STATUS reports it
    this.context.pending = true;
    this.checkEnd();
  }

  onHeartbeat(nextSequence: number, flags: number): void {
    this.counters.heartbeatsReceived++;
    if (this.state !== 'active') {
      this.statusWanted = true; // our last STATUS may have been lost: the sender still waits for it
      this.context.pending = true;
      return;
    }
    const ahead = frameSequenceDelta(nextSequence, this.highest);
    if (ahead > 0) {
      this.highest = nextSequence; // data was sent that never arrived: a gap to NAK
      this.dirty = true;
      this.context.pending = true;
    }
    if ((flags & ControlFlag.END_OF_STREAM) !== 0) {
      this.endSequence = nextSequence;
      this.checkEnd();
    }
    if (this.expected === nextSequence) {
      this.statusWanted = true; // caught up: the sender may be waiting to flush or close
      this.context.pending = true;
    }
  }

  onRttEcho(echo: number, nowNs: number): void {
    const sampleNs = nowNs - echo;
    if (!(echo > 0) || sampleNs < 0 || sampleNs > this.timing.livenessTimeoutNs) {
      this.counters.malformed++;
      return;
    }
    this.counters.rttSamples++;
    this.rttNs = this.rttNs === 0 ? sampleNs : this.rttNs + (sampleNs - this.rttNs) / RTT_SMOOTHING_DIVISOR;
  }

  onUnavailable(start: number, lengthFrames: number): void {
    const end = (start + lengthFrames) >>> 0;
    // Only a range the expected sequence lies in stops delivery; others are stale or early.
    if (this.state !== 'active' || frameSequenceDelta(start, this.expected) > 0 || frameSequenceDelta(end, this.expected) <= 0) return;
    this.giveUpGap(end, 'the sender no longer holds these messages');
  }

  /** Timers of a live session (the receiver checks its liveness first): gap scans and NAKs, STATUS, round-trip samples. */
  doWork(nowNs: number): void {
    if (this.state !== 'active') {
      // Ended: the sender waits for this STATUS to close; copies make its loss unlikely.
      if (this.statusWanted) for (let copy = 0; copy < END_STATUS_COPIES; copy++) this.sendStatus(nowNs);
      return;
    }
    if (this.dirty) {
      this.dirty = false;
      this.loss.scan(this.expected, this.highest, this.window, nowNs);
    }
    if (this.loss.gaps > 0) {
      const loss = this.loss;
      const firstGapDue = loss.startOf(0) === this.expected && loss.deadlineOf(0) <= nowNs;
      loss.nakDue(nowNs, this.rttNs, this.nakSink);
      if (firstGapDue && this.stuck()) return;
    }
    const consumedFrames = frameSequenceDelta(this.expected, this.lastStatusConsumed);
    if (
      this.statusWanted ||
      this.consumedBytes >= this.options.windowBytes >>> STATUS_CONSUMED_WINDOW_SHIFT ||
      nowNs - this.lastStatusNs >= this.timing.statusIntervalNs ||
      (consumedFrames > 0 && this.expected === this.highest) // caught up: let the sender know at once
    ) {
      this.sendStatus(nowNs);
    }
  }

  /** When doWork next has something to do for this session by the clock alone (ns). */
  nextDeadlineNs(): number {
    const earliest = Math.min(this.lastHeardNs + this.timing.livenessTimeoutNs + 1, this.lastStatusNs + this.timing.statusIntervalNs);
    return this.loss.gaps > 0 ? Math.min(earliest, this.loss.nextDeadlineNs()) : earliest;
  }

  /**
   * After a NAK round that named the gap at the expected sequence: whether that gap has now
   * gone maxNakRounds rounds with the expected sequence not moving, in which case it was
   * given up (returns true: the session may be gone).
   */
  private stuck(): boolean {
    const loss = this.loss;
    if (this.stuckSequence !== this.expected) {
      this.stuckSequence = this.expected;
      this.stuckRounds = 0;
    }
    if (++this.stuckRounds <= this.options.maxNakRounds) return false;
    this.counters.gapsGivenUp++;
    this.giveUpGap(loss.endOf(0), `no data for these messages after ${this.options.maxNakRounds} NAKs`);
    return true;
  }

  /** Applies the onGap policy to [expected, end): 'failed' ends the session, 'skip' reports a 'gap' and goes on. */
  private giveUpGap(end: number, reason: string): void {
    const context = this.context;
    const from = this.expected;
    this.counters.gaps++;
    this.stuckRounds = 0;
    if (this.options.onGap === 'fail') {
      this.counters.sessionsFailed++;
      context.remove(this);
      context.onEvent({ type: 'failed', sessionId: this.sessionId, streamId: this.streamId, fromSequence: from, toSequence: end, reason });
      return;
    }
    this.counters.framesSkipped += frameSequenceDelta(end, from);
    this.expected = end;
    if (frameSequenceDelta(end, this.highest) > 0) this.highest = end;
    this.window.discardBefore(end);
    this.loss.clear();
    this.dirty = true;
    context.pending = true;
    context.onEvent({ type: 'gap', sessionId: this.sessionId, streamId: this.streamId, fromSequence: from, toSequence: end });
    this.deliverHeld();
    this.checkEnd();
  }

  private checkEnd(): void {
    if (this.endSequence < 0 || this.expected !== this.endSequence || this.state !== 'active') return;
    this.state = 'ended';
    this.statusWanted = true;
    this.loss.clear();
    this.context.pending = true;
    this.counters.sessionsEnded++;
    this.reader.endSession(this.sessionId, this.streamId);
    this.context.onEvent({ type: 'end', sessionId: this.sessionId, streamId: this.streamId });
  }

  private sendStatus(nowNs: number): void {
    const echo = nowNs >= this.nextEchoNs && this.state === 'active';
    if (echo) this.nextEchoNs = nowNs + this.timing.rttIntervalNs;
    this.statusWanted = false;
    this.lastStatusNs = nowNs;
    this.lastStatusConsumed = this.expected;
    this.consumedBytes = 0;
    this.counters.statusSent++;
    const control = this.context.control;
    const length = writeStatus(
      control,
      this.sessionId,
      this.streamId,
      this.expected,
      this.options.windowBytes,
      this.rttNs,
      (echo ? ControlFlag.ECHO_REQUEST : 0) | (this.state === 'ended' ? ControlFlag.STREAM_ENDED : 0),
      echo ? Math.max(nowNs, 1) : 0,
      this.token,
    );
    this.context.transport.sendControl(control, length, this.address, this.port);
  }
}
