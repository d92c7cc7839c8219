/**
 * The receiving half of reliable sessions (no I/O; time is a parameter, `nowNs`): every
 * datagram of a subscription's socket comes here; DATA is delivered in sequence order,
 * exactly once, through a @flux/udp DatagramReader (which parses frames, reassembles
 * fragments and calls the stream's handler); control frames come back through `transport`.
 *
 *   DATA seq == expected      deliver now, then every held datagram that follows it
 *   DATA seq >  expected      hold it in the session's ReceiveWindow (counted outOfOrder)
 *   DATA seq <  expected      duplicate: dropped and counted
 *   PARITY                    rebuild the group's one missing datagram, if only one is (parity-decoder.ts)
 *   doWork(nowNs)             rescan gaps, NAK the due ones, STATUS, liveness, end of stream
 *
 * A session begins with the sender's SETUP (answered with STATUS) and lives until its end
 * of stream is consumed (event 'end'), its sender is silent for livenessTimeoutNs ('timeout'),
 * or a gap is unavailable under onGap 'fail' ('failed'). Under onGap 'skip', an unavailable
 * gap is passed over with a 'gap' event and delivery goes on. Sessions are bounded
 * (maxSessions); each holds a window of bounded memory.
 */
import { checkFrameList, type DatagramReader, FrameLayout } from '@flux/udp';
import {
  ControlFlag,
  ControlType,
  COOKIE_HIGH_OFFSET,
  COOKIE_LOW_OFFSET,
  COUNT_OFFSET,
  DATA_VERSION,
  FLAGS_OFFSET,
  HEADER_BYTES,
  MAX_CONTROL_BYTES,
  MAX_PARITY_GROUP_DATAGRAMS,
  RTT_ECHO_TIMESTAMP_OFFSET,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  STREAM_ID_OFFSET,
  sequenceDelta,
  TOKEN_HIGH_OFFSET,
  TOKEN_LOW_OFFSET,
  TYPE_OFFSET,
  UNAVAILABLE_LENGTH_FRAMES_OFFSET,
  VERSION_OFFSET,
} from './control-layout.js';
import {
  checkControl,
  hasToken,
  readFloat64LE,
  readUint32LE,
  type SessionToken,
  writeChallenge,
  writeNakHeader,
  writeNakRange,
  writeStatus,
} from './control-frames.js';
import { trimFramesBefore } from './trim.js';
import { SetupCookies } from './setup-cookies.js';
import type { ReceiverCounters } from './counters.js';
import { LOSS_DETECTOR_BYTES, LossDetector, type NakSink } from './loss-detector.js';
import { ParityDecoder } from './parity-decoder.js';
import { ReceiveWindow, StoreResult } from './receive-window.js';

export interface ReceiverTiming {
  nakDelayNs: number;
  minNakRetryNs: number;
  maxNakRetryNs: number;
  /** A STATUS at least this often while a session lives (the sender's liveness). */
  statusIntervalNs: number;
  /** A round-trip sample (STATUS with an echo request) this often. */
  rttIntervalNs: number;
  livenessTimeoutNs: number;
}

export interface ReceiverOptions {
  /** Bytes of DATA the sender may have beyond what was delivered (flow control). */
  windowBytes: number;
  /** Out-of-order datagrams held per session. */
  windowDatagrams: number;
  /** Of those, held beyond the near ring (windowBytes / 4 frames, a power of two) ahead. */
  maxFarDatagrams: number;
  /** Longest datagram held out of order (longer ones are delivered only in order). */
  maxDatagramBytes: number;
  maxSessions: number;
  onGap: 'fail' | 'skip';
  /**
   * NAK rounds a gap at the next expected sequence may go unanswered before it is given up
   * under the onGap policy, as if the sender had said it no longer holds the data: a gap
   * that never fills ends in 'gap' or 'failed', never in a hang.
   */
  maxNakRounds: number;
  /** The setup cookies' HMAC key (setup-cookies.ts); random when omitted. */
  cookieKey?: Uint8Array;
  timing: ReceiverTiming;
}

export type ReliableEvent =
  | { type: 'begin'; sessionId: number; streamId: number; address: string; port: number }
  | { type: 'gap'; sessionId: number; streamId: number; fromSequence: number; toSequence: number }
  | { type: 'end'; sessionId: number; streamId: number }
  | { type: 'timeout'; sessionId: number; streamId: number }
  | { type: 'failed'; sessionId: number; streamId: number; fromSequence: number; toSequence: number; reason: string };

export interface ReceiverTransport {
  /** Send a control frame to a sender; the bytes are reused after the call. */
  sendControl(bytes: Uint8Array, lengthBytes: number, address: string, port: number): void;
}

type SessionState = 'active' | 'ended';

class Session {
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

  constructor(
    readonly sessionId: number,
    readonly streamId: number,
    readonly address: string,
    readonly port: number,
    initialSequence: number,
    tokenLow: number,
    tokenHigh: number,
    options: ReceiverOptions,
    nowNs: number,
  ) {
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
  }
}

/** Near ring size: a frame is at least FRAME_HEADER_BYTES, so a window holds at most windowBytes / 4 frames. */
function ringFramesFor(windowBytes: number): number {
  let frames = 64;
  while (frames < windowBytes / FrameLayout.FRAME_HEADER_BYTES && frames < 1 << 22) frames *= 2;
  return frames;
}

/** FEC history a session keeps, in datagrams: two of the largest groups. */
const PARITY_HISTORY_DATAGRAMS = 2 * MAX_PARITY_GROUP_DATAGRAMS;

/**
 * What one session allocates, in typed-array bytes, and when. Nothing is allocated for a
 * SETUP until its cookie came back (setup-cookies.ts), and the large parts only when the
 * session needs them; each stays for the session's life. Objects (the Session, its maps)
 * add a few hundred bytes on top.
 */
export interface SessionMemory {
  /** When the session begins: its loss detector. */
  readonly beginBytes: number;
  /** At its first datagram held out of order (or while paused): the receive window. */
  readonly windowBytes: number;
  /** At its first PARITY datagram: the FEC history. */
  readonly fecBytes: number;
  /** At its first fragmented message: the reassembly buffer (in @flux/udp's DatagramReader). */
  readonly reassemblyBytes: number;
  /** All of them: the most one session holds. */
  readonly maxBytes: number;
}

export function sessionMemoryFor(options: Pick<ReceiverOptions, 'windowBytes' | 'windowDatagrams' | 'maxDatagramBytes'>, maxMessageBytes: number): SessionMemory {
  const beginBytes = LOSS_DETECTOR_BYTES;
  const windowBytes = ReceiveWindow.bytesFor(ringFramesFor(options.windowBytes), options.windowDatagrams, options.maxDatagramBytes);
  const fecBytes = ParityDecoder.bytesFor(PARITY_HISTORY_DATAGRAMS, options.maxDatagramBytes);
  return { beginBytes, windowBytes, fecBytes, reassemblyBytes: maxMessageBytes, maxBytes: beginBytes + windowBytes + fecBytes + maxMessageBytes };
}

/** STATUS copies sent when a stream has ended (each may be lost on its own). */
const END_STATUS_COPIES = 3;
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

function sessionKey(sessionId: number, streamId: number): string {
  return `${sessionId}:${streamId}`;
}

export class ReliableReceiver {
  private readonly options: ReceiverOptions;
  private readonly timing: ReceiverTiming;
  private readonly reader: DatagramReader;
  private readonly hasStream: (streamId: number) => boolean;
  private readonly transport: ReceiverTransport;
  private readonly counters: ReceiverCounters;
  private readonly onEvent: (event: ReliableEvent) => void;
  private readonly sessions = new Map<string, Session>();
  private last: Session | undefined;
  private readonly control = new Uint8Array(MAX_CONTROL_BYTES);
  /** A DATA datagram with its frames before the expected sequence cut off (trim.ts). */
  private readonly trimmed = new Uint8Array(MAX_UDP_PAYLOAD_BYTES);
  private readonly cookies: SetupCookies;
  private readonly maxAheadFrames: number;
  /** SETUP's token, read into this reused object (no allocation per SETUP). */
  private readonly setupToken = { low: 0, high: 0 };
  /** A session may need doWork before its timers say so (a gap to scan, a STATUS to send). */
  private pending = false;
  /** While true nothing is delivered: in-order data is held in the window as if a gap lay before it. */
  private paused = false;
  private readonly nakSink: NakSink & { session: Session | undefined };

  constructor(
    options: ReceiverOptions,
    reader: DatagramReader,
    hasStream: (streamId: number) => boolean,
    transport: ReceiverTransport,
    counters: ReceiverCounters,
    onEvent: (event: ReliableEvent) => void,
  ) {
    this.options = options;
    this.timing = options.timing;
    this.reader = reader;
    this.hasStream = hasStream;
    this.transport = transport;
    this.counters = counters;
    this.onEvent = onEvent;
    this.cookies = new SetupCookies(options.cookieKey);
    this.maxAheadFrames = maxAheadFramesFor(options.windowBytes);
    const control = this.control;
    const nakSink = {
      session: undefined as Session | undefined,
      range: (index: number, start: number, length: number) => writeNakRange(control, index, start, length),
      end: (count: number) => {
        const session = nakSink.session!;
        this.counters.naksSent++;
        this.counters.nakRanges += count;
        this.transport.sendControl(control, writeNakHeader(control, session.sessionId, session.streamId, count, session.token), session.address, session.port);
      },
    };
    this.nakSink = nakSink;
  }

  /** Sessions live now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Typed-array bytes the live sessions hold (their reassembly buffers, in the reader, not included). */
  get allocatedBytes(): number {
    let bytes = 0;
    for (const session of this.sessions.values()) bytes += LOSS_DETECTOR_BYTES + session.window.allocatedBytes + (session.parity?.allocatedBytes ?? 0);
    return bytes;
  }

  /**
   * Stops delivery (an iterator's FIFO is full). Datagrams keep arriving and are held in
   * each session's window, so STATUS stops advancing and flow control holds the senders
   * back after windowBytes; what does not fit is refused (windowFull) and NAKed later.
   */
  pause(): void {
    this.paused = true;
  }

  /** Delivers what was held while paused (until paused again) and lets STATUS advance. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const session of this.sessions.values()) {
      if (this.paused) return; // a handler paused again: the rest stays held
      if (session.state !== 'active' || session.window.size === 0) continue;
      this.deliverHeld(session);
      session.dirty = true; // rescan: what was held is delivered; STATUS reports it
      this.pending = true;
      this.checkEnd(session);
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Whether doWork should run before the next timer (a gap to rescan or a STATUS owed). */
  get hasPendingWork(): boolean {
    return this.pending;
  }

  /** One datagram from `address:port`; never throws on its content. */
  onDatagram(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, address: string, port: number, nowNs: number): void {
    if (lengthBytes < HEADER_BYTES) {
      this.counters.malformed++;
      return;
    }
    const type = bytes[offsetBytes + TYPE_OFFSET];
    const sessionId = readUint32LE(bytes, offsetBytes + SESSION_ID_OFFSET);
    const streamId = readUint32LE(bytes, offsetBytes + STREAM_ID_OFFSET);
    if (type === FrameLayout.FrameType.DATA && bytes[offsetBytes + VERSION_OFFSET] === DATA_VERSION) {
      const session = this.sessionFor(sessionId, streamId, address, port);
      if (session !== undefined) this.onData(session, bytes, offsetBytes, lengthBytes, nowNs);
      return;
    }
    if (!checkControl(bytes, offsetBytes, lengthBytes)) {
      this.counters.malformed++;
      return;
    }
    if (type === ControlType.SETUP) {
      this.onSetup(bytes, offsetBytes, sessionId, streamId, address, port, nowNs);
      return;
    }
    const session = this.sessionFor(sessionId, streamId, address, port);
    if (session === undefined) return;
    if (!hasToken(bytes, offsetBytes, session.token)) {
      this.counters.forgedControl++; // not from the session's sender: it never changes the session
      return;
    }
    session.lastHeardNs = nowNs;
    switch (type) {
      case ControlType.HEARTBEAT:
        this.onHeartbeat(session, readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET), bytes[offsetBytes + FLAGS_OFFSET]);
        break;
      case ControlType.RTT_ECHO:
        this.onRttEcho(session, readFloat64LE(bytes, offsetBytes + RTT_ECHO_TIMESTAMP_OFFSET), nowNs);
        break;
      case ControlType.PARITY:
        this.onParity(session, bytes, offsetBytes, lengthBytes, nowNs);
        break;
      case ControlType.UNAVAILABLE:
        this.onUnavailable(session, readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET), readUint32LE(bytes, offsetBytes + UNAVAILABLE_LENGTH_FRAMES_OFFSET));
        break;
      default:
        this.counters.malformed++; // a receiver-to-sender type sent to the receiver
    }
  }

  /** Timers: gap scans and NAKs, STATUS, round-trip samples, liveness, ends of stream. */
  doWork(nowNs: number): void {
    this.pending = false;
    for (const session of this.sessions.values()) {
      if (nowNs - session.lastHeardNs > this.timing.livenessTimeoutNs) {
        this.remove(session);
        if (session.state === 'active') {
          this.counters.sessionsTimedOut++;
          this.onEvent({ type: 'timeout', sessionId: session.sessionId, streamId: session.streamId });
        }
        continue;
      }
      if (session.state !== 'active') {
        // Ended: the sender waits for this STATUS to close; copies make its loss unlikely.
        if (session.statusWanted) for (let copy = 0; copy < END_STATUS_COPIES; copy++) this.sendStatus(session, nowNs);
        continue;
      }
      if (session.dirty) {
        session.dirty = false;
        session.loss.scan(session.expected, session.highest, session.window, nowNs);
      }
      if (session.loss.gaps > 0) {
        const loss = session.loss;
        const firstGapDue = loss.startOf(0) === session.expected && loss.deadlineOf(0) <= nowNs;
        this.nakSink.session = session;
        loss.nakDue(nowNs, session.rttNs, this.nakSink);
        if (firstGapDue && this.stuck(session)) continue;
      }
      const consumedFrames = sequenceDelta(session.expected, session.lastStatusConsumed);
      if (
        session.statusWanted ||
        session.consumedBytes >= this.options.windowBytes >>> 2 ||
        nowNs - session.lastStatusNs >= this.timing.statusIntervalNs ||
        (consumedFrames > 0 && session.expected === session.highest) // caught up: let the sender know at once
      ) {
        this.sendStatus(session, nowNs);
      }
    }
  }

  /** When doWork next has something to do by the clock alone (ns). */
  nextDeadlineNs(): number {
    let earliest = Infinity;
    for (const session of this.sessions.values()) {
      earliest = Math.min(earliest, session.lastHeardNs + this.timing.livenessTimeoutNs + 1, session.lastStatusNs + this.timing.statusIntervalNs);
      if (session.loss.gaps > 0) earliest = Math.min(earliest, session.loss.nextDeadlineNs());
    }
    return earliest;
  }

  private sessionFor(sessionId: number, streamId: number, address: string, port: number): Session | undefined {
    let session = this.last;
    if (session === undefined || session.sessionId !== sessionId || session.streamId !== streamId) {
      session = this.sessions.get(sessionKey(sessionId, streamId));
      if (session === undefined) {
        this.counters.noSession++;
        return undefined;
      }
      this.last = session;
    }
    if (session.port !== port || session.address !== address) {
      this.counters.foreign++;
      return undefined;
    }
    return session;
  }

  /**
   * A SETUP: for a live session of the same sender, a repeat (our STATUS was lost); for a new
   * one, a CHALLENGE unless it echoes a valid cookie, and only then a session (setup-cookies.ts).
   */
  private onSetup(bytes: Uint8Array, base: number, sessionId: number, streamId: number, address: string, port: number, nowNs: number): void {
    const token = this.setupToken;
    token.low = readUint32LE(bytes, base + TOKEN_LOW_OFFSET);
    token.high = readUint32LE(bytes, base + TOKEN_HIGH_OFFSET);
    const existing = this.sessions.get(sessionKey(sessionId, streamId));
    if (existing !== undefined) {
      if (existing.port !== port || existing.address !== address) {
        this.counters.foreign++;
        return;
      }
      if (!hasToken(bytes, base, existing.token)) {
        this.counters.forgedControl++;
        return;
      }
      existing.lastHeardNs = nowNs;
      existing.statusWanted = true; // our STATUS was lost: the sender repeats SETUP until one arrives
      this.pending = true;
      return;
    }
    if (!this.hasStream(streamId)) {
      this.counters.unknownStream++;
      return;
    }
    const initialSequence = readUint32LE(bytes, base + SEQUENCE_OFFSET);
    const cookies = this.cookies;
    const cookieLow = readUint32LE(bytes, base + COOKIE_LOW_OFFSET);
    const cookieHigh = readUint32LE(bytes, base + COOKIE_HIGH_OFFSET);
    if (!cookies.verify(cookieLow, cookieHigh, nowNs, sessionId, streamId, initialSequence, token, address, port)) {
      if (cookieLow !== 0 || cookieHigh !== 0) this.counters.badCookies++; // stale, forged, or from a restarted receiver: a new one
      cookies.issue(nowNs, sessionId, streamId, initialSequence, token, address, port);
      this.counters.challengesSent++;
      const length = writeChallenge(this.control, sessionId, streamId, initialSequence, token, cookies.low, cookies.high);
      this.transport.sendControl(this.control, length, address, port);
      return;
    }
    if (this.sessions.size >= this.options.maxSessions) {
      this.counters.tooManySessions++;
      return;
    }
    const session = new Session(sessionId, streamId, address, port, initialSequence, token.low, token.high, this.options, nowNs);
    this.sessions.set(sessionKey(sessionId, streamId), session);
    this.counters.sessionsBegun++;
    this.pending = true;
    this.onEvent({ type: 'begin', sessionId, streamId, address, port });
  }

  /** Takes one DATA datagram; returns whether it was new and well formed (delivered or held). */
  private onData(session: Session, bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): boolean {
    const counters = this.counters;
    let frameCount = bytes[offsetBytes + COUNT_OFFSET];
    let first = readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET);
    let ahead = sequenceDelta(first, session.expected);
    const aheadOfEnd = sequenceDelta((first + frameCount) >>> 0, session.expected);
    if (session.state !== 'active' || aheadOfEnd <= 0) {
      session.lastHeardNs = nowNs;
      counters.duplicates++;
      return false;
    }
    if (aheadOfEnd > this.maxAheadFrames) {
      counters.outOfWindow++; // further than flow control lets the sender go: not the session's sender
      return false;
    }
    session.lastHeardNs = nowNs;
    let trimmed = false;
    if (ahead < 0) {
      // Overlaps the expected sequence at another frame boundary than what was delivered (a
      // re-framing middlebox, a spoofed datagram delivered first): its frames from the
      // expected one on are new. Without this the retransmission, byte for byte the same,
      // would be dropped for ever and the gap never fill.
      const length = trimFramesBefore(bytes, offsetBytes, lengthBytes, -ahead, this.trimmed);
      if (length < 0) {
        counters.malformed++;
        return false;
      }
      counters.overlapsTrimmed++;
      bytes = this.trimmed;
      offsetBytes = 0;
      lengthBytes = length;
      frameCount += ahead;
      first = session.expected;
      ahead = 0;
      trimmed = true;
    }
    if (ahead === 0 && !this.paused) {
      // In order: the reader validates and delivers; a datagram it drops moves nothing.
      if (!this.reader.read(bytes, offsetBytes, lengthBytes)) {
        counters.malformed++;
        return false;
      }
      counters.datagramsAccepted++;
      session.consumedBytes += lengthBytes;
      session.expected = (first + frameCount) >>> 0;
      if (!trimmed) session.parity?.record(first, session.expected, bytes, offsetBytes, lengthBytes); // FEC covers whole originals only
      if (sequenceDelta(session.expected, session.highest) > 0) session.highest = session.expected;
      if (session.window.size > 0) this.deliverHeld(session);
      if (session.loss.gaps > 0) {
        session.dirty = true;
        this.pending = true;
      }
      this.checkEnd(session);
      return true;
    }
    if (frameCount === 0 || bytes[offsetBytes + FLAGS_OFFSET] !== 0 || checkFrameList(bytes, offsetBytes, offsetBytes + lengthBytes, frameCount) !== null) {
      counters.malformed++;
      return false;
    }
    const result =
      lengthBytes > this.options.maxDatagramBytes ? StoreResult.FULL : session.window.store(first, frameCount, bytes, offsetBytes, lengthBytes, ahead);
    if (result === StoreResult.DUPLICATE) {
      counters.duplicates++;
      return false;
    }
    const end = (first + frameCount) >>> 0;
    if (result === StoreResult.FULL) counters.windowFull++;
    else {
      if (ahead > 0) counters.outOfOrder++;
      else counters.heldWhilePaused++;
      if (!trimmed) session.parity?.record(first, end, bytes, offsetBytes, lengthBytes);
    }
    if (sequenceDelta(end, session.highest) > 0) session.highest = end;
    session.dirty = true;
    this.pending = true;
    return result !== StoreResult.FULL;
  }

  /** A group's PARITY: its one missing datagram, if only one is missing, is rebuilt and taken as if it had arrived. */
  private onParity(session: Session, bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number): void {
    this.counters.parityReceived++;
    if (session.state !== 'active') return;
    if (session.parity === undefined) {
      // From now on this session's datagrams are remembered; this group cannot be helped.
      session.parity = new ParityDecoder(PARITY_HISTORY_DATAGRAMS, this.options.maxDatagramBytes);
      return;
    }
    const lengthRecovered = session.parity.recover(bytes, offsetBytes, lengthBytes, session.expected);
    if (lengthRecovered > 0 && this.onData(session, session.parity.datagram, 0, lengthRecovered, nowNs)) this.counters.fecRecoveries++;
  }

  /** Delivers held datagrams from the expected sequence on, while they follow one another. */
  private deliverHeld(session: Session): void {
    const window = session.window;
    while (!this.paused) {
      const slot = window.take(session.expected);
      if (slot < 0) return;
      const frames = window.framesOf(slot);
      const lengthBytes = window.lengthOf(slot);
      this.reader.read(window.bytes, window.offsetOf(slot), lengthBytes); // validated when held (and remembered for FEC then)
      window.release(slot);
      this.counters.datagramsAccepted++;
      session.consumedBytes += lengthBytes;
      session.expected = (session.expected + frames) >>> 0;
    }
  }

  private onHeartbeat(session: Session, nextSequence: number, flags: number): void {
    this.counters.heartbeatsReceived++;
    if (session.state !== 'active') {
      session.statusWanted = true; // our last STATUS may have been lost: the sender still waits for it
      this.pending = true;
      return;
    }
    const ahead = sequenceDelta(nextSequence, session.highest);
    if (ahead > 0) {
      session.highest = nextSequence; // data was sent that never arrived: a gap to NAK
      session.dirty = true;
      this.pending = true;
    }
    if ((flags & ControlFlag.END_OF_STREAM) !== 0) {
      session.endSequence = nextSequence;
      this.checkEnd(session);
    }
    if (session.expected === nextSequence) {
      session.statusWanted = true; // caught up: the sender may be waiting to flush or close
      this.pending = true;
    }
  }

  private onRttEcho(session: Session, echo: number, nowNs: number): void {
    const sampleNs = nowNs - echo;
    if (!(echo > 0) || sampleNs < 0 || sampleNs > this.timing.livenessTimeoutNs) {
      this.counters.malformed++;
      return;
    }
    this.counters.rttSamples++;
    session.rttNs = session.rttNs === 0 ? sampleNs : session.rttNs + (sampleNs - session.rttNs) / 8;
  }

  private onUnavailable(session: Session, start: number, lengthFrames: number): void {
    const end = (start + lengthFrames) >>> 0;
    // Only a range the expected sequence lies in stops delivery; others are stale or early.
    if (session.state !== 'active' || sequenceDelta(start, session.expected) > 0 || sequenceDelta(end, session.expected) <= 0) return;
    this.giveUpGap(session, end, 'the sender no longer holds these messages');
  }

  /**
   * After a NAK round that named the gap at the expected sequence: whether that gap has now
   * gone maxNakRounds rounds with the expected sequence not moving, in which case it was
   * given up (returns true: the session may be gone).
   */
  private stuck(session: Session): boolean {
    const loss = session.loss;
    if (session.stuckSequence !== session.expected) {
      session.stuckSequence = session.expected;
      session.stuckRounds = 0;
    }
    if (++session.stuckRounds <= this.options.maxNakRounds) return false;
    this.counters.gapsGivenUp++;
    this.giveUpGap(session, loss.endOf(0), `no data for these messages after ${this.options.maxNakRounds} NAKs`);
    return true;
  }

  /** Applies the onGap policy to [expected, end): 'failed' ends the session, 'skip' reports a 'gap' and goes on. */
  private giveUpGap(session: Session, end: number, reason: string): void {
    const from = session.expected;
    this.counters.gaps++;
    session.stuckRounds = 0;
    if (this.options.onGap === 'fail') {
      this.counters.sessionsFailed++;
      this.remove(session);
      this.onEvent({ type: 'failed', sessionId: session.sessionId, streamId: session.streamId, fromSequence: from, toSequence: end, reason });
      return;
    }
    this.counters.framesSkipped += sequenceDelta(end, from);
    session.expected = end;
    if (sequenceDelta(end, session.highest) > 0) session.highest = end;
    session.window.discardBefore(end);
    session.loss.clear();
    session.dirty = true;
    this.pending = true;
    this.onEvent({ type: 'gap', sessionId: session.sessionId, streamId: session.streamId, fromSequence: from, toSequence: end });
    this.deliverHeld(session);
    this.checkEnd(session);
  }

  private checkEnd(session: Session): void {
    if (session.endSequence < 0 || session.expected !== session.endSequence || session.state !== 'active') return;
    session.state = 'ended';
    session.statusWanted = true;
    session.loss.clear();
    this.pending = true;
    this.counters.sessionsEnded++;
    this.reader.endSession(session.sessionId, session.streamId);
    this.onEvent({ type: 'end', sessionId: session.sessionId, streamId: session.streamId });
  }

  private sendStatus(session: Session, nowNs: number): void {
    const echo = nowNs >= session.nextEchoNs && session.state === 'active';
    if (echo) session.nextEchoNs = nowNs + this.timing.rttIntervalNs;
    session.statusWanted = false;
    session.lastStatusNs = nowNs;
    session.lastStatusConsumed = session.expected;
    session.consumedBytes = 0;
    this.counters.statusSent++;
    const length = writeStatus(
      this.control,
      session.sessionId,
      session.streamId,
      session.expected,
      this.options.windowBytes,
      session.rttNs,
      echo ? ControlFlag.ECHO_REQUEST : 0,
      echo ? Math.max(nowNs, 1) : 0,
      session.token,
    );
    this.transport.sendControl(this.control, length, session.address, session.port);
  }

  private remove(session: Session): void {
    this.sessions.delete(sessionKey(session.sessionId, session.streamId));
    if (this.last === session) this.last = undefined;
    this.reader.endSession(session.sessionId, session.streamId);
  }
}
