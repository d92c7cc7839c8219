/**
 * Every default of @flux/udp's options, in one place: the option checks, the docs and
 * @flux/reliable read them from here.
 */

/** Subscription: largest message reassembled. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_536;
/** Subscription: sessions (publishers x streams) tracked at once. */
export const DEFAULT_MAX_SESSIONS = 64;
/** Subscription: largest `maxSessions` (each session may hold one reassembly buffer of maxMessageBytes). */
export const MAX_SESSIONS = 65_536;
/**
 * Subscription: a session not heard for this long is forgotten (`sessionsExpired`): its
 * place goes to a new session when the table is full, and when it is heard again it starts
 * over at the sequence it then carries.
 *
 * 5 seconds: far longer than any reordering or duplication the network does (milliseconds),
 * so nothing late is mistaken for a new start; short enough that a publisher restarted with
 * the same sessionId, or one whose sequence jumped outside the window (a long outage, a
 * forged datagram), is taken up again within seconds, and that 64 places turn over
 * quickly when publishers come and go. A quiet but live publisher loses nothing by expiring:
 * it sent nothing meanwhile, and its next datagram starts the session again.
 */
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 5000;
/** Largest sessionIdleTimeoutMs: about 24.8 days (a setTimeout's bound; Infinity disables expiry). */
export const MAX_SESSION_IDLE_TIMEOUT_MS = 2 ** 31 - 1;
/**
 * Subscription: the sequence window of a live session, in frames. A datagram whose first
 * sequence is more than this far ahead of the expected one, or more than this far behind
 * it, is dropped as `outOfWindow` and does not move the session (nor keep it alive).
 *
 * 2^24 (16,777,216) frames: a publisher at a million frames a second may lose 16 seconds of
 * datagrams, longer than the idle timeout, and still be followed without a restart; a
 * larger loss (or a restart with the same sessionId) is taken up again once the session
 * expires. A forged datagram can move a session at most this far (those frames count as
 * lost), never end its delivery: a sequence half the 2^32 space away is refused.
 */
export const DEFAULT_SEQUENCE_WINDOW_FRAMES = 1 << 24;
/** Largest sequenceWindowFrames: a quarter of the sequence space, so ahead and behind never meet. */
export const MAX_SEQUENCE_WINDOW_FRAMES = 2 ** 30;
/** Subscription and publication: SO_RCVBUF / SO_SNDBUF bound both backends honour (1 GiB; node:dgram takes < 2^31, @flux/uring 2^30). */
export const MAX_SOCKET_BUFFER_BYTES = 2 ** 30;

/** Publication: ring slots. */
export const DEFAULT_RING_CAPACITY = 4096;
/** Publication: datagrams handed to the socket and not yet sent. */
export const DEFAULT_MAX_DATAGRAMS_IN_FLIGHT = 256;
/** Publication: flush() timeout. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;
/** Publication: the flush close() does first. */
export const DEFAULT_CLOSE_FLUSH_TIMEOUT_MS = 1000;
