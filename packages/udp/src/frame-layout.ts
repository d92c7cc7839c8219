/**
 * Wire layout of a Flux UDP datagram: constants and offset helpers only. All fields are
 * little-endian, and every read and write names its byte order.
 *
 * A DATA datagram is one header followed by one or more frames; each frame carries one
 * whole message or one fragment of a message:
 *
 * ```
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |    version    |     type      |     flags     |  frame count  |  0
 *  +---------------+---------------+---------------+---------------+
 *  |                          session id                           |  4
 *  +---------------------------------------------------------------+
 *  |                          stream id                            |  8
 *  +---------------------------------------------------------------+
 *  |                 sequence of the first frame                   |  12
 *  +===============================================================+
 *  |        frame length (bytes)   |  frame flags  |   reserved    |  16: frame 0
 *  +-------------------------------+---------------+---------------+
 *  |                 payload: frame length bytes                  ...
 *  +-------------------------------+---------------+---------------+
 *  |        frame length (bytes)   |  frame flags  |   reserved    |  frame 1 ...
 *  +-------------------------------+---------------+---------------+
 * ```
 *
 * Frames in one datagram have consecutive sequences starting at the header's. Frame flags:
 * BEGIN marks a message's first fragment, END its last; an unfragmented message has both.
 * Nothing follows the last frame: a datagram's length is exactly its frames' total.
 */

export const PROTOCOL_VERSION = 1;

export const FrameType = {
  DATA: 1,
} as const;

// ---- datagram header ---------------------------------------------------------------------
export const VERSION_OFFSET = 0;
export const TYPE_OFFSET = VERSION_OFFSET + 1;
export const DATAGRAM_FLAGS_OFFSET = TYPE_OFFSET + 1;
export const FRAME_COUNT_OFFSET = DATAGRAM_FLAGS_OFFSET + 1;
export const SESSION_ID_OFFSET = FRAME_COUNT_OFFSET + 1;
export const STREAM_ID_OFFSET = SESSION_ID_OFFSET + 4;
export const SEQUENCE_OFFSET = STREAM_ID_OFFSET + 4;
export const DATAGRAM_HEADER_BYTES = SEQUENCE_OFFSET + 4;

/** Frames per datagram: the frame count is one byte. */
export const MAX_FRAMES_PER_DATAGRAM = 255;

// ---- frame header (relative to the frame's start) -----------------------------------------
export const FRAME_LENGTH_OFFSET = 0;
export const FRAME_FLAGS_OFFSET = FRAME_LENGTH_OFFSET + 2;
export const FRAME_RESERVED_OFFSET = FRAME_FLAGS_OFFSET + 1;
export const FRAME_HEADER_BYTES = FRAME_RESERVED_OFFSET + 1;

export const FrameFlag = {
  BEGIN: 0x80,
  END: 0x40,
  UNFRAGMENTED: 0x80 | 0x40,
} as const;
/** Flag bits a version-1 sender may set; any other bit makes the frame malformed. */
export const KNOWN_FRAME_FLAGS = FrameFlag.BEGIN | FrameFlag.END;

/** Largest frame payload the 16-bit length field can carry. */
export const MAX_FRAME_PAYLOAD_BYTES = 0xffff;

// ---- sizes -------------------------------------------------------------------------------
export const DEFAULT_MTU_BYTES = 1500;
export const IPV4_HEADER_BYTES = 20;
export const IPV6_HEADER_BYTES = 40;
export const UDP_HEADER_BYTES = 8;

/** UDP payload that fits one IP packet of `mtuBytes` without IP fragmentation. */
export function maxDatagramBytes(mtuBytes: number, family: 'IPv4' | 'IPv6'): number {
  return mtuBytes - (family === 'IPv6' ? IPV6_HEADER_BYTES : IPV4_HEADER_BYTES) - UDP_HEADER_BYTES;
}

/** Largest single-frame payload in a datagram of `datagramBytes`. */
export function maxFramePayloadBytes(datagramBytes: number): number {
  return Math.min(MAX_FRAME_PAYLOAD_BYTES, datagramBytes - DATAGRAM_HEADER_BYTES - FRAME_HEADER_BYTES);
}
