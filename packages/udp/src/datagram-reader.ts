/**
 * Parses received datagrams (no I/O): the receiver's half of frame-layout.ts. Validates
 * every field, tracks each session's expected sequence, reassembles fragments, and hands
 * each complete message to a sink. Bad input increments exactly one counter and is
 * dropped; nothing here throws on any byte sequence, and state is bounded (one reassembly
 * buffer of maxMessageBytes per session, at most maxSessions sessions).
 *
 * Sessions (one per session id x stream id) are:
 *   windowed  a datagram whose sequence is more than sequenceWindowFrames ahead of the
 *             expected one, or more than that behind, is dropped (`outOfWindow`) and moves
 *             nothing: a forged datagram carrying a live session's id and a sequence far
 *             ahead cannot end that session's delivery. Within the window, ahead is a gap
 *             (frames lost, skipped: UDP does not retransmit) and behind is `late`.
 *   expired   by a clock the caller passes in (`nowNs` of read(); never read here, so tests
 *             drive it): a session not heard (no datagram accepted) for sessionIdleTimeoutNs
 *             is forgotten (`sessionsExpired`) when a new session needs its place, or
 *             started over at the sequence it carries when it is heard again. So a restarted
 *             publisher, a publisher whose loss outran the window, and a session a forger
 *             moved are all taken up again once the timeout has passed.
 *
 * Handlers: with `onHandlerError`, a sink that throws is caught per call and counted
 * (`handlerErrors`); the message counts as delivered, the datagram's other messages are
 * still delivered, and the error goes to onHandlerError. Without it (older owners), a
 * throw propagates out of read() as it always did.
 */
import type { DropReasonName, SubscriptionCounters } from './counters.js';
import { DropReason } from './counters.js';
import { DEFAULT_SEQUENCE_WINDOW_FRAMES } from './defaults.js';
import {
  DATAGRAM_FLAGS_OFFSET,
  DATAGRAM_HEADER_BYTES,
  FRAME_COUNT_OFFSET,
  FRAME_FLAGS_OFFSET,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_OFFSET,
  FrameFlag,
  FrameType,
  KNOWN_FRAME_FLAGS,
  PROTOCOL_VERSION,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  STREAM_ID_OFFSET,
  TYPE_OFFSET,
  VERSION_OFFSET,
} from './frame-layout.js';

/** Receives each complete message; `bytes` is valid only during the call. */
export type MessageSink = (bytes: Uint8Array, offsetBytes: number, lengthBytes: number, sessionId: number, streamId: number) => void;

const EMPTY = new Uint8Array(0);

// Little-endian reads straight from the bytes: no DataView per datagram.
function readUint16LE(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/**
 * Checks the frame list of a DATA datagram at bytes[base, end) whose header says
 * `frameCount` frames: each frame header and payload lies inside the datagram, only known
 * frame flags are set, and the frames fill it exactly. Returns the drop reason, or null.
 */
export function checkFrameList(bytes: Uint8Array, base: number, end: number, frameCount: number): DropReasonName | null {
  let position = base + DATAGRAM_HEADER_BYTES;
  for (let frame = 0; frame < frameCount; frame++) {
    if (position + FRAME_HEADER_BYTES > end) return DropReason.TRUNCATED;
    const frameBytes = readUint16LE(bytes, position + FRAME_LENGTH_OFFSET);
    if ((bytes[position + FRAME_FLAGS_OFFSET] & ~KNOWN_FRAME_FLAGS) !== 0) return DropReason.MALFORMED;
    position += FRAME_HEADER_BYTES + frameBytes;
    if (position > end) return DropReason.TRUNCATED;
  }
  return position === end ? null : DropReason.MALFORMED;
}

interface Session {
  readonly sessionId: number;
  readonly streamId: number;
  expectedSequence: number;
  reassembly: Uint8Array;
  reassemblyBytes: number;
  /** Between a BEGIN and its END. */
  reassembling: boolean;
  /** A fragment was dropped (oversize): skip until the next BEGIN. */
  discarding: boolean;
  /** The `nowNs` of the last datagram accepted (NaN when the caller passes no clock: never idle). */
  lastHeardNs: number;
}

export interface DatagramReaderOptions {
  maxMessageBytes: number;
  maxSessions: number;
  /** The sink for a stream id, or undefined for a stream nobody subscribed to. */
  sinkFor: (streamId: number) => MessageSink | undefined;
  counters: SubscriptionCounters;
  /**
   * A session not heard for this long (by read()'s nowNs) is forgotten (default Infinity:
   * never; the Subscription passes sessionIdleTimeoutMs, @flux/reliable ends sessions itself).
   */
  sessionIdleTimeoutNs?: number;
  /** The window around a session's expected sequence, in frames (default 2^24; see defaults.ts). */
  sequenceWindowFrames?: number;
  /**
   * Called when a sink threw (after counting handlerErrors): `error` is what it threw. It
   * must not throw. Without it, a sink's throw propagates out of read().
   */
  onHandlerError?: (error: unknown, sessionId: number, streamId: number) => void;
}

export class DatagramReader {
  private readonly sessions = new Map<string, Session>();
  private readonly idleTimeoutNs: number;
  private readonly windowFrames: number;
  /** No session can be idle past the timeout before this (a scan found none): spares a scan per refused datagram. */
  private nextExpiryScanNs = -Infinity;
  /** The session of the previous datagram: almost every datagram repeats it, so no key is built. */
  private lastSession: Session | undefined;
  private readonly options: DatagramReaderOptions;
  private readonly counters: SubscriptionCounters;

  constructor(options: DatagramReaderOptions) {
    this.options = options;
    this.counters = options.counters;
    this.idleTimeoutNs = options.sessionIdleTimeoutNs ?? Infinity;
    this.windowFrames = options.sequenceWindowFrames ?? DEFAULT_SEQUENCE_WINDOW_FRAMES;
  }

  /**
   * Handles one datagram, bytes[offsetBytes, offsetBytes + lengthBytes); reads nothing
   * outside it, never throws on its content. Returns false when it was dropped whole
   * (counted), true when its frames were taken (delivered, or counted where dropped).
   * `nowNs` is the clock sessions expire by (monotonic, ns; omitted: no session expires).
   */
  read(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, nowNs: number = Number.NaN): boolean {
    const counters = this.counters;
    counters.datagramsReceived++;
    counters.bytesReceived += lengthBytes;
    const base = offsetBytes;
    const end = base + lengthBytes;
    if (lengthBytes < DATAGRAM_HEADER_BYTES) return this.drop(DropReason.TRUNCATED);
    if (bytes[base + VERSION_OFFSET] !== PROTOCOL_VERSION) return this.drop(DropReason.BAD_VERSION);
    if (bytes[base + TYPE_OFFSET] !== FrameType.DATA || bytes[base + DATAGRAM_FLAGS_OFFSET] !== 0) {
      return this.drop(DropReason.MALFORMED);
    }
    const frameCount = bytes[base + FRAME_COUNT_OFFSET];
    if (frameCount === 0) return this.drop(DropReason.MALFORMED);
    const streamId = readUint32LE(bytes, base + STREAM_ID_OFFSET);
    const sink = this.options.sinkFor(streamId);
    if (sink === undefined) return this.drop(DropReason.UNKNOWN_STREAM);
    // Validate the whole frame list before touching session state: a truncated or
    // malformed datagram is dropped whole and moves no sequence.
    const frameListError = checkFrameList(bytes, base, end, frameCount);
    if (frameListError !== null) return this.drop(frameListError);

    const sessionId = readUint32LE(bytes, base + SESSION_ID_OFFSET);
    const sequence = readUint32LE(bytes, base + SEQUENCE_OFFSET);
    const session = this.sessionFor(sessionId, streamId, sequence, nowNs);
    if (session === undefined) return this.drop(DropReason.TOO_MANY_SESSIONS);
    const ahead = (sequence - session.expectedSequence) | 0;
    if (ahead < 0) return this.drop(ahead < -this.windowFrames ? DropReason.OUT_OF_WINDOW : DropReason.LATE);
    if (ahead > this.windowFrames) return this.drop(DropReason.OUT_OF_WINDOW);
    if (ahead > 0) {
      counters.framesLost += ahead;
      this.abandonReassembly(session);
    }
    session.expectedSequence = (sequence + frameCount) >>> 0;
    session.lastHeardNs = nowNs;

    let position = base + DATAGRAM_HEADER_BYTES;
    for (let frame = 0; frame < frameCount; frame++) {
      const frameBytes = readUint16LE(bytes, position + FRAME_LENGTH_OFFSET);
      const flags = bytes[position + FRAME_FLAGS_OFFSET];
      const payload = position + FRAME_HEADER_BYTES;
      this.frame(session, sink, bytes, payload, frameBytes, flags);
      position = payload + frameBytes;
    }
    return true;
  }

  /** Forgets a session (its publisher is gone): its slot counts against maxSessions no more. */
  endSession(sessionId: number, streamId: number): void {
    const last = this.lastSession;
    if (last !== undefined && last.sessionId === sessionId >>> 0 && last.streamId === streamId >>> 0) this.lastSession = undefined;
    this.sessions.delete(`${sessionId >>> 0}:${streamId >>> 0}`);
  }

  /**
   * Forgets every session not heard for sessionIdleTimeoutNs at `nowNs` (counted as
   * sessionsExpired); returns how many. read() does this itself when a new session needs a
   * place; an owner may call it on a timer to free reassembly buffers sooner.
   */
  expireIdleSessions(nowNs: number): number {
    if (!(nowNs >= this.nextExpiryScanNs)) return 0; // NaN too
    let expired = 0;
    let oldestHeardNs = Infinity;
    for (const [key, session] of this.sessions) {
      if (nowNs - session.lastHeardNs > this.idleTimeoutNs) {
        this.sessions.delete(key);
        if (this.lastSession === session) this.lastSession = undefined;
        expired++;
      } else if (session.lastHeardNs < oldestHeardNs) {
        oldestHeardNs = session.lastHeardNs;
      }
    }
    this.counters.sessionsExpired += expired;
    // Sessions only get heard later, so none can expire before the oldest one left does.
    this.nextExpiryScanNs = oldestHeardNs + this.idleTimeoutNs;
    return expired;
  }

  /** Sessions tracked now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A datagram the socket cut short (longer than the receive buffer): counted and dropped. */
  readTruncated(lengthBytes: number): void {
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += lengthBytes;
    this.drop(DropReason.TRUNCATED);
  }

  /** The socket reported an error instead of a datagram: counted; receiving goes on. */
  receiveError(): void {
    this.counters.receiveErrors++;
  }

  private frame(session: Session, sink: MessageSink, bytes: Uint8Array, offset: number, length: number, flags: number): void {
    const counters = this.counters;
    if (flags === FrameFlag.UNFRAGMENTED) {
      if (session.reassembling) this.abandonReassembly(session, DropReason.MALFORMED);
      if (length > this.options.maxMessageBytes) {
        this.drop(DropReason.OVERSIZE);
        return;
      }
      counters.messagesReceived++;
      this.deliver(sink, bytes, offset, length, session);
      return;
    }
    if (flags & FrameFlag.BEGIN) {
      if (session.reassembling) this.abandonReassembly(session, DropReason.MALFORMED);
      session.reassembling = true;
      session.discarding = false;
      session.reassemblyBytes = 0;
      if (session.reassembly === EMPTY) session.reassembly = new Uint8Array(this.options.maxMessageBytes);
    } else if (!session.reassembling) {
      this.drop(DropReason.MALFORMED); // a middle or end fragment with no beginning
      return;
    }
    if (!session.discarding) {
      if (session.reassemblyBytes + length > this.options.maxMessageBytes) {
        session.discarding = true;
        this.drop(DropReason.OVERSIZE);
      } else {
        session.reassembly.set(bytes.subarray(offset, offset + length), session.reassemblyBytes);
        session.reassemblyBytes += length;
      }
    }
    if (flags & FrameFlag.END) {
      session.reassembling = false;
      if (!session.discarding) {
        counters.messagesReceived++;
        this.deliver(sink, session.reassembly, 0, session.reassemblyBytes, session);
      }
      session.discarding = false;
    }
  }

  /** One handler call: a throw is caught, counted and handed on (see the class comment). */
  private deliver(sink: MessageSink, bytes: Uint8Array, offset: number, length: number, session: Session): void {
    const onHandlerError = this.options.onHandlerError;
    if (onHandlerError === undefined) {
      sink(bytes, offset, length, session.sessionId, session.streamId);
      return;
    }
    try {
      sink(bytes, offset, length, session.sessionId, session.streamId);
    } catch (error) {
      this.counters.handlerErrors++;
      onHandlerError(error, session.sessionId, session.streamId);
    }
  }

  private abandonReassembly(session: Session, reason?: DropReasonName): void {
    if (!session.reassembling) return;
    session.reassembling = false;
    session.discarding = false;
    if (reason) this.drop(reason);
    else this.counters.messagesLostInReassembly++;
  }

  private sessionFor(sessionId: number, streamId: number, sequence: number, nowNs: number): Session | undefined {
    const last = this.lastSession;
    let session: Session | undefined;
    if (last !== undefined && last.sessionId === sessionId && last.streamId === streamId) session = last;
    else session = this.sessions.get(`${sessionId}:${streamId}`);
    if (session !== undefined) {
      if (nowNs - session.lastHeardNs > this.idleTimeoutNs) {
        // Heard again after the idle timeout: a new start (a restart with the same id, or a
        // loss that outran the window); what it was reassembling is lost.
        this.counters.sessionsExpired++;
        this.abandonReassembly(session);
        session.expectedSequence = sequence;
      }
      this.lastSession = session;
      return session;
    }
    // A new session: when the table is full, sessions idle past the timeout make room.
    if (this.sessions.size >= this.options.maxSessions && this.expireIdleSessions(nowNs) === 0) return undefined;
    session = {
      sessionId,
      streamId,
      expectedSequence: sequence, // a new session starts where it is first heard
      reassembly: EMPTY, // allocated at the session's first fragmented message
      reassemblyBytes: 0,
      reassembling: false,
      discarding: false,
      lastHeardNs: nowNs,
    };
    this.sessions.set(`${sessionId}:${streamId}`, session);
    // The scan bound covers this session too (a scan that emptied the table left it at Infinity).
    if (nowNs + this.idleTimeoutNs < this.nextExpiryScanNs) this.nextExpiryScanNs = nowNs + this.idleTimeoutNs;
    this.lastSession = session;
    return session;
  }

  private drop(reason: DropReasonName): false {
    this.counters.drop(reason);
    return false;
  }
}
