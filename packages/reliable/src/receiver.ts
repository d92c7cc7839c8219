/**
 * The receiving half of reliable sessions (no I/O; time is a parameter, `nowNs`): every
 * datagram of a subscription's socket comes here, the dispatcher of Aeron's
 * DataPacketDispatcher (or quinn's Endpoint): it holds the session table, answers SETUP
 * (cookies first, setup-cookies.ts), finds the session a datagram belongs to, checks that
 * it came from the session's sender (its address, and for control frames its token), and
 * hands it to that session (session-image.ts), which delivers DATA in sequence order,
 * exactly once, through a @flux/udp DatagramReader (which parses frames, reassembles
 * fragments and calls the stream's handler); control frames go back through `transport`.
 *
 *   SETUP                     CHALLENGE (no valid cookie), a session (a valid one), or STATUS again (a repeat)
 *   DATA, control frames      to their session (SessionImage), else counted and dropped
 *   doWork(nowNs)             liveness of every session, then each session's timers
 *   pause(), resume()         delivery of every session stops and goes on
 *
 * A session begins with the sender's SETUP (answered with STATUS) and lives until its end
 * of stream is consumed (event 'end'), its sender is silent for livenessTimeoutNs ('timeout'),
 * or a gap is unavailable under onGap 'fail' ('failed'). Under onGap 'skip', an unavailable
 * gap is passed over with a 'gap' event and delivery goes on. Sessions are bounded
 * (maxSessions); each holds a window of bounded memory.
 */
import { type DatagramReader, FrameLayout } from '@flux/udp';
import {
  ControlType,
  COOKIE_HIGH_OFFSET,
  COOKIE_LOW_OFFSET,
  DATA_VERSION,
  FLAGS_OFFSET,
  HEADER_BYTES,
  RTT_ECHO_TIMESTAMP_OFFSET,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  STREAM_ID_OFFSET,
  TOKEN_HIGH_OFFSET,
  TOKEN_LOW_OFFSET,
  TYPE_OFFSET,
  UNAVAILABLE_LENGTH_FRAMES_OFFSET,
  VERSION_OFFSET,
} from './control-layout.js';
import { checkControl, hasToken, readFloat64LE, readUint32LE, writeChallenge } from './control-frames.js';
import { SetupCookies } from './setup-cookies.js';
import type { ReceiverCounters } from './counters.js';
import { ImageContext, SessionImage } from './session-image.js';

export { maxAheadFramesFor } from './session-image.js';
export { type SessionMemory, sessionMemoryFor } from './session-memory.js';

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

export class ReliableReceiver {
  private readonly options: ReceiverOptions;
  private readonly timing: ReceiverTiming;
  private readonly reader: DatagramReader;
  private readonly hasStream: (streamId: number) => boolean;
  private readonly transport: ReceiverTransport;
  private readonly counters: ReceiverCounters;
  private readonly onEvent: (event: ReliableEvent) => void;
  /** Every session, in the order they began (doWork's order). */
  private readonly sessions = new Set<SessionImage>();
  /** The same sessions by session id, then stream id: no key is built per datagram. */
  private readonly sessionsById = new Map<number, Map<number, SessionImage>>();
  private last: SessionImage | undefined;
  /** What the sessions share: options, outputs, the control scratch buffer, the pending and paused flags. */
  private readonly context: ImageContext;
  private readonly cookies: SetupCookies;
  /** SETUP's token, read into this reused object (no allocation per SETUP). */
  private readonly setupToken = { low: 0, high: 0 };

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
    this.context = new ImageContext(options, reader, transport, counters, onEvent, (session) => this.remove(session));
  }

  /** Sessions live now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Typed-array bytes the live sessions hold (their reassembly buffers, in the reader, not included). */
  get allocatedBytes(): number {
    let bytes = 0;
    for (const session of this.sessions) bytes += session.allocatedBytes;
    return bytes;
  }

  /**
   * Stops delivery (an iterator's FIFO is full). Datagrams keep arriving and are held in
   * each session's window, so STATUS stops advancing and flow control holds the senders
   * back after windowBytes; what does not fit is refused (windowFull) and NAKed later.
   */
  pause(): void {
    this.context.paused = true;
  }

  /** Delivers what was held while paused (until paused again) and lets STATUS advance. */
  resume(): void {
    const context = this.context;
    if (!context.paused) return;
    context.paused = false;
    for (const session of this.sessions) {
      if (context.paused) return; // a handler paused again: the rest stays held
      session.resume();
    }
  }

  get isPaused(): boolean {
    return this.context.paused;
  }

  /** Whether doWork should run before the next timer (a gap to rescan or a STATUS owed). */
  get hasPendingWork(): boolean {
    return this.context.pending;
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
      if (session !== undefined) session.onData(bytes, offsetBytes, lengthBytes, nowNs);
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
        session.onHeartbeat(readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET), bytes[offsetBytes + FLAGS_OFFSET]);
        break;
      case ControlType.RTT_ECHO:
        session.onRttEcho(readFloat64LE(bytes, offsetBytes + RTT_ECHO_TIMESTAMP_OFFSET), nowNs);
        break;
      case ControlType.PARITY:
        session.onParity(bytes, offsetBytes, lengthBytes, nowNs);
        break;
      case ControlType.UNAVAILABLE:
        session.onUnavailable(readUint32LE(bytes, offsetBytes + SEQUENCE_OFFSET), readUint32LE(bytes, offsetBytes + UNAVAILABLE_LENGTH_FRAMES_OFFSET));
        break;
      default:
        this.counters.malformed++; // a receiver-to-sender type sent to the receiver
    }
  }

  /** Timers: liveness here; gap scans and NAKs, STATUS, round-trip samples, ends of stream in each session. */
  doWork(nowNs: number): void {
    this.context.pending = false;
    for (const session of this.sessions) {
      if (nowNs - session.lastHeardNs > this.timing.livenessTimeoutNs) {
        this.remove(session);
        if (session.state === 'active') {
          this.counters.sessionsTimedOut++;
          this.onEvent({ type: 'timeout', sessionId: session.sessionId, streamId: session.streamId });
        }
        continue;
      }
      session.doWork(nowNs);
    }
  }

  /** When doWork next has something to do by the clock alone (ns). */
  nextDeadlineNs(): number {
    let earliest = Infinity;
    for (const session of this.sessions) earliest = Math.min(earliest, session.nextDeadlineNs());
    return earliest;
  }

  private find(sessionId: number, streamId: number): SessionImage | undefined {
    return this.sessionsById.get(sessionId)?.get(streamId);
  }

  private sessionFor(sessionId: number, streamId: number, address: string, port: number): SessionImage | undefined {
    let session = this.last;
    if (session === undefined || session.sessionId !== sessionId || session.streamId !== streamId) {
      session = this.find(sessionId, streamId);
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
    const existing = this.find(sessionId, streamId);
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
      this.context.pending = true;
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
      const control = this.context.control;
      const length = writeChallenge(control, sessionId, streamId, initialSequence, token, cookies.low, cookies.high);
      this.transport.sendControl(control, length, address, port);
      return;
    }
    if (this.sessions.size >= this.options.maxSessions) {
      this.counters.tooManySessions++;
      return;
    }
    const session = new SessionImage(this.context, sessionId, streamId, address, port, initialSequence, token.low, token.high, nowNs);
    this.sessions.add(session);
    let streams = this.sessionsById.get(sessionId);
    if (streams === undefined) this.sessionsById.set(sessionId, (streams = new Map()));
    streams.set(streamId, session);
    this.counters.sessionsBegun++;
    this.context.pending = true;
    this.onEvent({ type: 'begin', sessionId, streamId, address, port });
  }

  private remove(session: SessionImage): void {
    this.sessions.delete(session);
    const streams = this.sessionsById.get(session.sessionId);
    if (streams !== undefined && streams.get(session.streamId) === session) {
      streams.delete(session.streamId);
      if (streams.size === 0) this.sessionsById.delete(session.sessionId);
    }
    if (this.last === session) this.last = undefined;
    this.reader.endSession(session.sessionId, session.streamId);
  }
}
