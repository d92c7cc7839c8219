/**
 * Wire layout of @flux/reliable's control frames: constants and offset helpers only. DATA
 * datagrams are @flux/udp's, unchanged (packages/udp/src/frame-layout.ts, version 1); a
 * retransmission is the original datagram, byte for byte. Every control frame starts with
 * the same 16-byte header, which is @flux/udp's datagram header (its offsets are taken from
 * frame-layout.ts, not defined again here), then the session token, so one parser tells
 * them apart by `type`; all fields are little-endian.
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |  version (2)  |     type      |     flags     |     count     |  0
 *  +---------------+---------------+---------------+---------------+
 *  |                          session id                           |  4
 *  +---------------------------------------------------------------+
 *  |                          stream id                            |  8
 *  +---------------------------------------------------------------+
 *  |                 sequence (meaning by type, below)             |  12
 *  +---------------------------------------------------------------+
 *  |                 session token, low word                       |  16
 *  +---------------------------------------------------------------+
 *  |                 session token, high word                      |  20
 *  +===============================================================+
 *  |                 body (length fixed by type)                  ...  24
 * ```
 *
 *  type          direction           sequence                     body
 *  SETUP      2  sender -> receiver  first sequence of the stream cookie u64 (0 until CHALLENGE gave one)
 *  STATUS     3  receiver -> sender  consumed: next to deliver    window bytes u32 | RTT ns u32 | echo f64;
 *                                                                 flag STREAM_ENDED: it saw the end and consumed all before it
 *  NAK        4  receiver -> sender  0                            count x (start u32 | length frames u32)
 *  HEARTBEAT  5  sender -> receiver  next sequence to be sent     none; flag END_OF_STREAM: the stream ends there
 *  RTT_ECHO   6  sender -> receiver  0                            echoed timestamp f64
 *  UNAVAILABLE 7 sender -> receiver  first frame no longer held   length frames u32
 *  PARITY     8  sender -> receiver  first frame of the group     end sequence u32 | payload length XOR u32 | parity
 *  CHALLENGE  9  receiver -> sender  first sequence (SETUP's)     cookie u64
 *
 * The session token is 64 random bits the sender draws for the session and sends in its
 * SETUP; every control frame of the session, in both directions, carries it, and a frame
 * whose token differs is counted (`forgedControl`) and dropped. A sender off the path
 * between the two peers never sees a token, so it cannot forge a NAK (to turn the publication
 * into an amplifier), a STATUS, an UNAVAILABLE or an end of stream. DATA carries no token:
 * the receiver takes DATA only from the session's address and port, within its window.
 *
 * The setup handshake allocates nothing until the sender proved it receives at its address:
 *
 * ```
 *   sender                                      receiver
 *     SETUP(token, cookie 0)      ------------>   no state: answers with a cookie,
 *                                 <------------   CHALLENGE(token, cookie)  HMAC(key, epoch, ids, token, address, port)
 *     SETUP(token, cookie)        ------------>   cookie valid (this epoch or the last):
 *                                 <------------   STATUS   the session begins (memory allocated here)
 * ```
 *
 * CHALLENGE is exactly as long as SETUP, so a SETUP spoofed with someone else's address is
 * answered with no more bytes than it carried (amplification 1x), and with nothing else.
 *
 * PARITY (forward error correction, optional): `count` DATA datagrams in a row, frames
 * [sequence, end sequence), followed by one parity datagram whose parity is the XOR of their
 * payloads (each datagram's bytes after its 16-byte header, zero-padded to the longest):
 *
 * ```
 *  +===============================================================+
 *  |            end sequence (one past the group's last frame)     |  24
 *  +---------------------------------------------------------------+
 *  |              XOR of the group's payload lengths (bytes)       |  28
 *  +---------------------------------------------------------------+
 *  |    parity: XOR of the payloads, as long as the longest       ...  32
 * ```
 *
 * A receiver holding all but one datagram of a group rebuilds the missing one: its frames
 * are the hole in [sequence, end), its payload the parity XOR the others, its length the
 * length XOR the others'. A parity datagram is PARITY_OVERHEAD_BYTES longer than the
 * longest DATA datagram it covers, so with FEC on, DATA datagrams are that much shorter.
 *
 * Sequences are u32 frame numbers and wrap; every comparison is `frameSequenceDelta(a, b)`,
 * `(a - b) | 0` (not @flux/ring's `sequenceDiff`: ring sequences are 31-bit). STATUS's
 * echo is the receiver's own clock reading (ns, float64) when it asks for a round-trip
 * sample (flag ECHO_REQUEST), else 0; the sender sends it straight back in RTT_ECHO.
 */
import { FrameLayout } from '@flux/udp';

export { PROTOCOL_VERSION as DATA_VERSION } from '@flux/udp';

/** Byte 0 of every control frame (DATA datagrams are @flux/udp's version 1). */
export const CONTROL_VERSION = 2;

export const ControlType = {
  SETUP: 2,
  STATUS: 3,
  NAK: 4,
  HEARTBEAT: 5,
  RTT_ECHO: 6,
  UNAVAILABLE: 7,
  PARITY: 8,
  CHALLENGE: 9,
} as const;

export const ControlFlag = {
  /** STATUS: send my echo timestamp back. */
  ECHO_REQUEST: 0x01,
  /**
   * STATUS: the receiver saw END_OF_STREAM and consumed everything before it. Only this ends
   * the sender's session: a STATUS that says "caught up" may have left before the END arrived
   * (or the END may have been lost), and the END is sent again until this comes.
   */
  STREAM_ENDED: 0x02,
  /** HEARTBEAT: the stream ends at this sequence (a clean close). */
  END_OF_STREAM: 0x01,
} as const;

// ---- common header: @flux/udp's datagram header (frame-layout.ts), under the names used here ----
export const VERSION_OFFSET = FrameLayout.VERSION_OFFSET;
export const TYPE_OFFSET = FrameLayout.TYPE_OFFSET;
/** DATA: the datagram's flags; control frames: flags by type (ControlFlag). */
export const FLAGS_OFFSET = FrameLayout.DATAGRAM_FLAGS_OFFSET;
/** DATA: frames in the datagram; NAK: ranges; PARITY: DATA datagrams in the group. */
export const COUNT_OFFSET = FrameLayout.FRAME_COUNT_OFFSET;
export const SESSION_ID_OFFSET = FrameLayout.SESSION_ID_OFFSET;
export const STREAM_ID_OFFSET = FrameLayout.STREAM_ID_OFFSET;
export const SEQUENCE_OFFSET = FrameLayout.SEQUENCE_OFFSET;
export const HEADER_BYTES = FrameLayout.DATAGRAM_HEADER_BYTES;

// ---- session token (every control frame) ---------------------------------------------------
export const TOKEN_LOW_OFFSET = HEADER_BYTES;
export const TOKEN_HIGH_OFFSET = TOKEN_LOW_OFFSET + 4;
/** The header and the token: where every control frame's body starts. */
export const CONTROL_HEADER_BYTES = TOKEN_HIGH_OFFSET + 4;

// ---- SETUP, CHALLENGE (the same body: a cookie) -------------------------------------------
export const COOKIE_LOW_OFFSET = CONTROL_HEADER_BYTES;
export const COOKIE_HIGH_OFFSET = COOKIE_LOW_OFFSET + 4;
export const SETUP_BYTES = COOKIE_HIGH_OFFSET + 4;
export const CHALLENGE_BYTES = SETUP_BYTES;

// ---- HEARTBEAT ----------------------------------------------------------------------------
export const HEARTBEAT_BYTES = CONTROL_HEADER_BYTES;

// ---- STATUS -------------------------------------------------------------------------------
export const STATUS_WINDOW_BYTES_OFFSET = CONTROL_HEADER_BYTES;
export const STATUS_RTT_NS_OFFSET = STATUS_WINDOW_BYTES_OFFSET + 4;
export const STATUS_ECHO_OFFSET = STATUS_RTT_NS_OFFSET + 4;
export const STATUS_BYTES = STATUS_ECHO_OFFSET + 8;

// ---- NAK ----------------------------------------------------------------------------------
export const NAK_RANGE_START_OFFSET = 0;
export const NAK_RANGE_LENGTH_OFFSET = NAK_RANGE_START_OFFSET + 4;
export const NAK_RANGE_BYTES = NAK_RANGE_LENGTH_OFFSET + 4;
/** Ranges one NAK carries (the count byte allows 255; more gaps wait for the next NAK). */
export const MAX_NAK_RANGES = 64;
export function nakBytes(ranges: number): number {
  return CONTROL_HEADER_BYTES + ranges * NAK_RANGE_BYTES;
}
export function nakRangeOffset(index: number): number {
  return CONTROL_HEADER_BYTES + index * NAK_RANGE_BYTES;
}

// ---- RTT_ECHO -----------------------------------------------------------------------------
export const RTT_ECHO_TIMESTAMP_OFFSET = CONTROL_HEADER_BYTES;
export const RTT_ECHO_BYTES = RTT_ECHO_TIMESTAMP_OFFSET + 8;

// ---- UNAVAILABLE --------------------------------------------------------------------------
export const UNAVAILABLE_LENGTH_FRAMES_OFFSET = CONTROL_HEADER_BYTES;
export const UNAVAILABLE_BYTES = UNAVAILABLE_LENGTH_FRAMES_OFFSET + 4;

// ---- PARITY -------------------------------------------------------------------------------
export const PARITY_END_SEQUENCE_OFFSET = CONTROL_HEADER_BYTES;
export const PARITY_LENGTH_XOR_OFFSET = PARITY_END_SEQUENCE_OFFSET + 4;
export const PARITY_PAYLOAD_OFFSET = PARITY_LENGTH_XOR_OFFSET + 4;
/** What a parity datagram has beyond a DATA datagram of the same payload. */
export const PARITY_OVERHEAD_BYTES = PARITY_PAYLOAD_OFFSET - HEADER_BYTES;
/** Most DATA datagrams one parity datagram covers (a receiver keeps twice this many for recovery). */
export const MAX_PARITY_GROUP_DATAGRAMS = 32;

/** The largest control frame (PARITY excepted: it is as long as the datagrams it covers): a NAK with MAX_NAK_RANGES ranges. */
export const MAX_CONTROL_BYTES = nakBytes(MAX_NAK_RANGES);

/** Wrap-safe order of two u32 frame sequences (the wire's): negative when a is before b. */
export function frameSequenceDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** @deprecated The same as frameSequenceDelta (kept for users of `ControlLayout.sequenceDelta`). */
export const sequenceDelta = frameSequenceDelta;
