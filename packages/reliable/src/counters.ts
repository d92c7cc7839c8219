/**
 * Counters users can read: plain numbers on the thread that owns the socket. Every
 * datagram dropped increments exactly one counter, so nothing is lost without a count.
 */
import { type CounterSnapshot, Counters, type SubscriptionCounters } from '@flux/udp';

export class SenderCounters extends Counters {
  /** The gauges among these counters (see Counters.GAUGES): the congestion window and the pacing rate, as they are now. */
  static override readonly GAUGES: ReadonlySet<keyof CounterSnapshot<SenderCounters>> = new Set(['congestionWindowBytes', 'pacingBytesPerSecond'] as const);

  messagesSent = 0;
  fragmentsSent = 0;
  datagramsSent = 0;
  bytesSent = 0;
  /** Datagrams resent in answer to NAKs. */
  retransmits = 0;
  /** NAKed datagrams not resent because a resend of them was under way (lingering). */
  retransmitsLingering = 0;
  /** NAKed datagrams not resent because the retransmit rate limit was spent. */
  retransmitsRateLimited = 0;
  /** UNAVAILABLE frames sent: NAKed data no longer in the retransmit buffer. */
  unavailableSent = 0;
  naksReceived = 0;
  statusReceived = 0;
  setupsSent = 0;
  heartbeatsSent = 0;
  /** PARITY datagrams sent (forward error correction). */
  paritySent = 0;
  /** Times packing stopped on the receiver's window or a full retransmit buffer. */
  flowControlStalls = 0;
  /** Offers and claims refused because the ring was full (the caller was told). */
  backPressured = 0;
  sendErrors = 0;
  /** The receiver went silent for livenessTimeoutMs. */
  livenessTimeouts = 0;
  /** Datagrams from the receiver's address that were not a valid control frame. */
  malformedControl = 0;
  /** Control frames for another session or stream. */
  unknownSession = 0;
  /** Control frames of this session with the wrong session token (forged, or meant for an earlier session): ignored. */
  forgedControl = 0;
  /** CHALLENGEs answered (each SETUP round trip through a receiver that had no session for us yet). */
  challengesReceived = 0;
  /** STATUS frames older than one already applied (reordered on the way): ignored. */
  staleStatus = 0;
  /** NAKed datagrams not resent because a window's worth was resent within the last round trip. */
  retransmitsWindowLimited = 0;
  /** The congestion window now (bytes; 0: none, 'static'). A gauge, not a count. */
  congestionWindowBytes = 0;
  /** The pacing rate now (bytes per second; 0: unpaced). A gauge, not a count. */
  pacingBytesPerSecond = 0;
  /** Losses answered by shrinking the congestion window (at most one per round trip). */
  congestionEvents = 0;
  /** Times packing stopped on the congestion window (not the receiver's). */
  congestionStalls = 0;
  /** Times the pacer held the next datagram back (it goes at the next tick). */
  pacingDelays = 0;
}

export class ReceiverCounters extends Counters {
  /** DATA datagrams taken into the stream (in order at once, or held and delivered later). */
  datagramsAccepted = 0;
  /** Datagrams (or parts) already received: dropped. */
  duplicates = 0;
  /** Out-of-order datagrams held in the window until the gap before them filled. */
  outOfOrder = 0;
  /** Out-of-order datagrams refused because the window was full (resent when NAKed). */
  windowFull = 0;
  /** In-order datagrams held in the window because delivery was paused (an iterator's FIFO was full). */
  heldWhilePaused = 0;
  naksSent = 0;
  /** Ranges carried by those NAKs. */
  nakRanges = 0;
  statusSent = 0;
  heartbeatsReceived = 0;
  /** PARITY datagrams received (forward error correction). */
  parityReceived = 0;
  /** Lost DATA datagrams rebuilt from a PARITY datagram, without a NAK. */
  fecRecoveries = 0;
  rttSamples = 0;
  /** Gaps the sender reported unavailable (see the gap event). */
  gaps = 0;
  /** Frames skipped over those gaps (onGap: 'skip'). */
  framesSkipped = 0;
  sessionsBegun = 0;
  sessionsEnded = 0;
  sessionsTimedOut = 0;
  sessionsFailed = 0;
  /** Datagrams of a session whose SETUP has not arrived (the sender repeats SETUP). */
  noSession = 0;
  /** SETUPs refused: maxSessions sessions already. */
  tooManySessions = 0;
  /** SETUPs for a stream nobody subscribed to. */
  unknownStream = 0;
  /** Datagrams of a known session from another address. */
  foreign = 0;
  /** Datagrams that are neither valid DATA nor a valid control frame. */
  malformed = 0;
  /** Control frames of a session with the wrong session token (forged, or from an earlier session): ignored. */
  forgedControl = 0;
  /** CHALLENGEs sent: SETUPs without a valid cookie, answered without allocating anything. */
  challengesSent = 0;
  /** SETUPs whose cookie was not valid (expired, forged, or issued before this subscription restarted). */
  badCookies = 0;
  /** DATA further ahead of the next expected sequence than flow control lets a sender go: dropped. */
  outOfWindow = 0;
  /** DATA that overlapped the next expected sequence at another frame boundary: its new frames taken. */
  overlapsTrimmed = 0;
  /** Gaps at the next expected sequence given up after maxNakRounds NAKs without data (then 'gap' or 'failed'). */
  gapsGivenUp = 0;
  receiveErrors = 0;
  /**
   * Messages delivered in order that a `messages(streamId, { codec })` iterator's codec could
   * not decode: dropped there (the protocol delivered them; they are not sent again), each
   * error to onError as a FluxHandlerError.
   */
  undecodable = 0;
  /**
   * Hot mode only: messages the worker could not put in the owner's ring within
   * HOT_DELIVERY_WAIT_MS. Delivery pauses while fewer slots than a datagram's most
   * messages are free, so this stays 0; it exists so nothing could be lost uncounted.
   */
  ringOverruns = 0;
}

/**
 * A reliable subscription's counters as one flat snapshot (its counter source, and a hot
 * subscription's counters()): the receiver's counters, and the message counters (a
 * SubscriptionCounters: reassembly, handler errors, drops) prefixed 'message.'.
 */
export type ReliableSubscriptionSnapshot = CounterSnapshot<ReceiverCounters> & {
  readonly [K in keyof CounterSnapshot<SubscriptionCounters> as `message.${K & string}`]: number;
};
