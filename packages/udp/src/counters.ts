/**
 * Counters users can read. Plain numbers, updated on the thread that owns the socket;
 * `snapshot()` copies them. Every dropped datagram or message increments exactly one
 * drop reason, so nothing is lost without a count.
 */

/** A counter set as a plain object: each of `T`'s numeric fields by name, so a misspelt counter does not compile. */
export type CounterSnapshot<T> = { readonly [K in keyof T as T[K] extends number ? K : never]: number };

/** Plain numeric fields; `snapshot()` copies them into a plain object. Every counter set extends it. */
export class Counters {
  /**
   * The counters of this set that are gauges (a level now, that goes up and down), not counts
   * that only grow: one set per class, what exporters (@flux/sdk's prometheusText) type by.
   * Empty here: every counter of a set that does not override it is a count.
   */
  static readonly GAUGES: ReadonlySet<string> = new Set();

  snapshot(): CounterSnapshot<this> {
    return { ...this } as unknown as CounterSnapshot<this>;
  }
}

export class PublicationCounters extends Counters {
  messagesSent = 0;
  fragmentsSent = 0;
  datagramsSent = 0;
  bytesSent = 0;
  /** Claims or offers refused because the ring was full (the caller was told). */
  backPressured = 0;
  /**
   * Datagrams the socket failed to send, each counted with its messages (see onError):
   * a send the kernel refused, or, on node:dgram, a refusal the kernel reported on the
   * socket afterwards (ICMP port unreachable), counted against the datagram sent last.
   */
  sendErrors = 0;
  messagesLostToSendErrors = 0;
}

export const DropReason = {
  /** Shorter than a header, or a frame that runs past the datagram's end. */
  TRUNCATED: 'truncated',
  BAD_VERSION: 'badVersion',
  UNKNOWN_STREAM: 'unknownStream',
  /** A reassembled message longer than the subscription's maxMessageBytes. */
  OVERSIZE: 'oversize',
  /** Unknown type or flags, zero frames, trailing bytes, fragments out of order. */
  MALFORMED: 'malformed',
  /** Frames behind the expected sequence: reordered or duplicated by the network. */
  LATE: 'late',
  /** More sessions than maxSessions sent to this subscription (none idle past sessionIdleTimeoutMs). */
  TOO_MANY_SESSIONS: 'tooManySessions',
  /**
   * A sequence outside a live session's window: more than sequenceWindowFrames ahead of the
   * expected sequence, or more than that behind it. A forged or corrupted datagram with a
   * live session's id cannot move the session (it would end that session's delivery).
   */
  OUT_OF_WINDOW: 'outOfWindow',
  /** The ring a stream delivers into was full. */
  RING_FULL: 'ringFull',
  /** The FIFO of a stream's `messages()` iterator was full: the loop body is slower than the network. */
  QUEUE_FULL: 'queueFull',
  /** A `messages(streamId, { codec })` iterator's codec could not decode the message (its error went to onError). */
  UNDECODABLE: 'undecodable',
} as const;
export type DropReasonName = (typeof DropReason)[keyof typeof DropReason];

export class SubscriptionCounters extends Counters {
  datagramsReceived = 0;
  messagesReceived = 0;
  bytesReceived = 0;
  /** Frames that never arrived (sequence gaps); UDP does not retransmit. */
  framesLost = 0;
  /** Partly reassembled messages abandoned because a fragment was lost. */
  messagesLostInReassembly = 0;
  /** Errors the socket reported instead of a datagram (receiving goes on; each goes to onError). */
  receiveErrors = 0;
  /**
   * Calls of an application handler (onMessage) that threw. The message counts as
   * delivered (messagesReceived), it is not repeated, and the datagram's other messages are
   * still delivered; the error goes to onError listeners as a FluxHandlerError.
   */
  handlerErrors = 0;
  /** Sessions forgotten after sessionIdleTimeoutMs of silence (their place freed, or restarted when heard again). */
  sessionsExpired = 0;
  truncated = 0;
  badVersion = 0;
  unknownStream = 0;
  oversize = 0;
  malformed = 0;
  late = 0;
  tooManySessions = 0;
  outOfWindow = 0;
  ringFull = 0;
  queueFull = 0;
  undecodable = 0;

  drop(reason: DropReasonName): void {
    this[reason]++;
  }

  /** Datagrams and messages dropped, summed over every reason. */
  get dropped(): number {
    return (
      this.truncated +
      this.badVersion +
      this.unknownStream +
      this.oversize +
      this.malformed +
      this.late +
      this.tooManySessions +
      this.outOfWindow +
      this.ringFull +
      this.queueFull +
      this.undecodable
    );
  }

  override snapshot(): CounterSnapshot<this> {
    return { ...super.snapshot(), dropped: this.dropped } as CounterSnapshot<this>;
  }
}
