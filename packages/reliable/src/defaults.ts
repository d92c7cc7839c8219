/**
 * Every default and tuning number of @flux/reliable, in one place, each with its unit in
 * its name and the reason it is what it is. The publication and the subscription resolve
 * their options from here (options.ts), and so does the virtual-clock simulation
 * (test/simulation.ts), so the deterministic tests run with what users get.
 */
import { DEFAULT_MAX_MESSAGE_BYTES as UDP_DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MTU_BYTES, MAX_SEQUENCE_WINDOW_FRAMES, maxDatagramBytes } from '@flux/udp';

// ---- units ----------------------------------------------------------------------------------
/** Nanoseconds per millisecond: options are in ms, protocol logic in ns. */
export const NS_PER_MS = 1e6;

// ---- bounds of every interval and timeout option -------------------------------------------
/** The longest interval or timeout an option takes (a day: setTimeout's limit is ~24.8 days). */
export const MAX_INTERVAL_MS = 86_400_000;
/** The longest a flush(), connected() or close() waits (setTimeout's limit). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

// ---- publication: option defaults ----------------------------------------------------------
/** Ring slots, and the other ring-fed defaults: @flux/udp's (resolveRingFedOptions), re-exported for the simulation. */
export { DEFAULT_RING_CAPACITY } from '@flux/udp';
/** Datagrams kept for retransmission: 6 MB at the default MTU, several windows of history. */
export const DEFAULT_RETRANSMIT_BUFFER_DATAGRAMS = 4096;
/** An unconsumed datagram is never dropped: no gap can happen while the session lives. */
export const DEFAULT_RETRANSMIT_POLICY = 'back-pressure';
/** FEC off: a NAK repairs every loss, and no datagram pays the parity's bytes. */
export const DEFAULT_FEC_GROUP_DATAGRAMS = 0;
/** Retransmission rate limit: far above what a window per round trip needs on a LAN, a bound against a NAK flood. */
export const DEFAULT_MAX_RETRANSMIT_BYTES_PER_SECOND = 64 * 1024 * 1024;
/** SETUP repeated this often until the subscription answers: a lost SETUP costs 0.1 s, a missing subscription 10 datagrams/s. */
export const DEFAULT_SETUP_INTERVAL_MS = 100;
/** First heartbeat this long after the last datagram: a lost last datagram is NAKed within about a millisecond. */
export const DEFAULT_HEARTBEAT_MIN_MS = 1;
/** Heartbeats double while idle up to this: an idle session costs 10 datagrams/s. */
export const DEFAULT_HEARTBEAT_MAX_MS = 100;
/** No STATUS for this long ends the publication's session: far above any round trip, 100 missed STATUS intervals. */
export const DEFAULT_PUBLICATION_LIVENESS_TIMEOUT_MS = 5000;
/** connected() and flush() wait this long by default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;
/** close() settles within this by default (flush, end of stream, the receiver's last STATUS). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
/** The datagram length at the default MTU over IPv4 (1,472 bytes): the publication's default, and the longest the subscription holds out of order. */
export const DEFAULT_DATAGRAM_BYTES = maxDatagramBytes(DEFAULT_MTU_BYTES, 'IPv4');

// ---- publication: tuning ---------------------------------------------------------------------
/** A datagram resent is not resent again for max(this, RTT): one resend in flight at a time, even before an RTT sample. */
export const MIN_LINGER_MS = 0.1;
/** Datagrams packed per sender doWork at most: the event loop gets a turn (STATUS, send completions) between batches. */
export const MAX_DATAGRAMS_PER_WORK = 256;
/** Receiver window assumed before the first STATUS: nothing is sent before the receiver said how much it takes. */
export const INITIAL_WINDOW_BYTES = 0;
/** Longest a sender wait lasts without a deadline (producers and STATUS wake it sooner). */
export const IDLE_WAIT_MS = 100;
/** connected(), flush() and close() re-check their condition this often (one timer tick). */
export const POLL_INTERVAL_MS = 1;
/**
 * The round trip the retransmission window budget assumes before a sample and at least:
 * below a few tens of microseconds (loopback) a per-RTT budget would refill faster than
 * any NAK could ask.
 */
export const MIN_BUDGET_RTT_NS = 1_000_000;

// ---- publication: congestion control (cubic.ts, pacer.ts) -----------------------------------
/** On by default: a stream that shares a path with others backs off on loss, as TCP does. */
export const DEFAULT_CONGESTION_CONTROL = 'cubic';
/** CUBIC's C (RFC 9438 §4.1): segments per second cubed. */
export const CUBIC_C = 0.4;
/** CUBIC's multiplicative decrease factor β (RFC 9438 §4.6). */
export const CUBIC_BETA = 0.7;
/** A loss rate above this (over the sample below) is congestion; at or under it, a lossy link (BBRv2's 2%). 0: every loss is. */
export const DEFAULT_CONGESTION_LOSS_THRESHOLD = 0.02;
/** ...measured over at least this many datagrams' bytes (1% random loss is then ~10 losses, and 2% needs 21). */
export const LOSS_SAMPLE_MIN_DATAGRAMS = 1000;
/** The window a session starts with and restarts with after idling: 10 datagrams (RFC 6928's initial window). */
export const INITIAL_WINDOW_DATAGRAMS = 10;
/** The window never falls below 2 datagrams (RFC 5681's loss window floor, doubled as Linux's). */
export const MIN_CONGESTION_WINDOW_DATAGRAMS = 2;
/** Pacing rate = gain x window / RTT: twice in slow start (the window doubles per round trip), 1.25x after (as Linux's 200% / 120%, quinn's 1.25). */
export const PACING_GAIN_SLOW_START = 2;
export const PACING_GAIN_AVOIDANCE = 1.25;
/** The pacer lets out bursts of this long at its rate: an event loop's timers wake at 1 ms at best, so a shorter burst would idle the link between ticks. */
export const PACING_BURST_NS = 2 * NS_PER_MS;
/** ...and of at least this many datagrams (at low rates). */
export const PACING_MIN_BURST_DATAGRAMS = 10;
/** Idle (nothing unconsumed) this long, or 4 RTTs if longer, restarts the window at the initial one (RFC 5681 §4.1; 200 ms is Linux's minimum RTO). */
export const IDLE_RESTART_MIN_NS = 200 * NS_PER_MS;

// ---- hot mode (hot.ts, hot-worker.ts) ----------------------------------------------------------
/** The worker writes its counters into the control block every this many turns (about a millisecond idle). */
export const HOT_COUNTERS_EVERY_TURNS = 1024;
/** A hot subscription pauses delivery below this many free ring slots: more than the 255 messages one datagram can carry, so a claim always finds room. */
export const HOT_PAUSE_FREE_SLOTS = 512;
/** ...and resumes at this many. */
export const HOT_RESUME_FREE_SLOTS = 1024;
/** A hot subscription's ring: slots (at least 4 x HOT_RESUME_FREE_SLOTS) and the longest message it takes. */
export const DEFAULT_HOT_RING_CAPACITY = 16_384;
export const MIN_HOT_RING_CAPACITY = 4 * HOT_RESUME_FREE_SLOTS;
export const DEFAULT_HOT_MAX_MESSAGE_BYTES = 2048;
/** The bound on the wait for a free slot that the pause rule makes unreachable: past it a message would be counted (ringOverruns) and dropped. */
export const HOT_DELIVERY_WAIT_MS = 5000;
/** How long open() waits for the worker to start and open its socket. */
export const HOT_START_TIMEOUT_MS = 10_000;
/** How much longer than its close timeout a hot worker may take to exit before it is terminated. */
export const HOT_STOP_GRACE_MS = 5000;

// ---- io_uring links (uring-links.ts) -----------------------------------------------------
/** Control frames (SETUP, heartbeats, PARITY) a publication may have in flight on io_uring: far more than a batch sends. */
export const URING_CONTROL_FRAMES = 64;
/** Receive parts for the control frames a publication gets (STATUS, NAK): a few per round trip. */
export const URING_CONTROL_RECEIVE_PARTS = 64;
/**
 * Receive parts of a subscription on io_uring, each URING_RECEIVE_PART_BYTES: a GRO receive
 * holds up to 44 full datagrams, so 64 parts hold several default windows (4 MiB of parts);
 * when all are lent, datagrams wait in the socket buffer (counted in the socket's stats).
 */
export const URING_DATA_RECEIVE_PARTS = 64;
/** The longest UDP payload over IPv4: what one GRO receive may carry. */
export const URING_RECEIVE_PART_BYTES = 65_507;
/** Room before each part's payload (recvmsg header, sender address, GRO control message): under 256 bytes. */
export const URING_PART_HEADER_BYTES = 256;

// ---- subscription: option defaults ---------------------------------------------------------
/** Largest message reassembled: as @flux/udp's Subscription. */
export const DEFAULT_MAX_MESSAGE_BYTES = UDP_DEFAULT_MAX_MESSAGE_BYTES;
/** Sessions at once: each may hold a window (about 1.5 MB at the defaults), so fewer than @flux/udp's 64. */
export const DEFAULT_MAX_SESSIONS = 16;
/** Largest maxSessions. */
export const MAX_SESSIONS = 65_536;
/** Flow control: bytes of DATA a sender may have beyond what was delivered (a millisecond at 8 Gb/s). */
export const DEFAULT_WINDOW_BYTES = 1024 * 1024;
/** Smallest windowBytes (and the least the socket's receive buffer cuts the default to). */
export const MIN_WINDOW_BYTES = 4096;
/** Out-of-order datagrams held per session: a default window of 1,024-byte datagrams. */
export const DEFAULT_WINDOW_DATAGRAMS = 1024;
/** Longest datagram held out of order: a 1,500-byte MTU over IPv4. */
export const DEFAULT_MAX_DATAGRAM_BYTES = DEFAULT_DATAGRAM_BYTES;
/** An unavailable gap ends the session ('failed'): a reliable stream does not skip silently. */
export const DEFAULT_ON_GAP = 'fail';
/** A gap is NAKed at the end of the event-loop turn that found it: reordering within one receive batch never causes a NAK. */
export const DEFAULT_NAK_DELAY_MS = 0;
/** Shortest interval between NAKs of one gap (the retry is also at least twice the round trip): a lost resend is asked for again soon. */
export const DEFAULT_NAK_RETRY_MS = 1;
/** NAKs a gap may go unanswered before it is given up: about 2.5 s with the default backoff. */
export const DEFAULT_MAX_NAK_ROUNDS = 32;
/** A STATUS at least this often: the sender's liveness, 100 of them per liveness timeout. */
export const DEFAULT_STATUS_INTERVAL_MS = 50;
/** No datagram from a sender for this long ends its session with 'timeout': 50 idle heartbeats missed. */
export const DEFAULT_SUBSCRIPTION_LIVENESS_TIMEOUT_MS = 5000;
/** SO_RCVBUF asked for by default; the kernel caps it at net.core.rmem_max (often 208 KiB: raise it for high rates). */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * The default window is at most the reported receive buffer shifted right by this: Linux
 * reports twice the size asked for (its bookkeeping share included), and a burst of a
 * window must fit half of what is usable.
 */
export const WINDOW_OF_RECEIVE_BUFFER_SHIFT = 2;

// ---- subscription: tuning --------------------------------------------------------------------
/** NAK retries back off up to this: a lost resend is asked for again within 0.1 s. */
export const MAX_NAK_RETRY_MS = 100;
/** NAK retries double the interval at most this many times. */
export const MAX_NAK_BACKOFF_SHIFT = 6;
/** A round-trip sample (STATUS with an echo request) this often: a path's RTT changes slowly. */
export const RTT_INTERVAL_MS = 100;
/** Each RTT sample moves the smoothed RTT by 1/this of the difference (as TCP's SRTT, RFC 6298). */
export const RTT_SMOOTHING_DIVISOR = 8;
/** Of the window's datagrams, this fraction (1 / 2^shift, at least 1) may be held beyond the near ring. */
export const FAR_DATAGRAMS_SHIFT = 3;
/** A STATUS goes out once this fraction (1 / 2^shift) of the window was consumed since the last, so the sender never waits on the window. */
export const STATUS_CONSUMED_WINDOW_SHIFT = 2;
/** STATUS copies sent when a stream has ended (each may be lost on its own). */
export const END_STATUS_COPIES = 3;
/** Gaps a session's loss detector tracks, nearest first; those beyond wait until nearer ones close. */
export const MAX_TRACKED_GAPS = 64;
/** The near ring of a session's window holds at least this many frames... */
export const MIN_RING_FRAMES = 64;
/** ...and at most this many (a power of two). */
export const MAX_RING_FRAMES = 1 << 22;
/**
 * The DatagramReader's sequence window: sessions end by the protocol's own events, never by
 * the reader's clock, and a skipped gap may move a session far: the reader follows anything
 * within a quarter of the space.
 */
export const READER_SEQUENCE_WINDOW_FRAMES = MAX_SEQUENCE_WINDOW_FRAMES;
/** The subscription's timer when no session has a deadline. */
export const IDLE_TIMER_MS = 1000;
/** Shortest timer the subscription sets: Node's timer granularity. */
export const MIN_TIMER_MS = 1;
/**
 * Setup cookies are valid for one to two of these. Long enough for any SETUP round trip (a
 * CHALLENGE answered within seconds), short enough that a cookie seen on the path does not
 * stay useful.
 */
export const COOKIE_EPOCH_NS = 10_000 * NS_PER_MS;
