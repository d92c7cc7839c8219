/**
 * Encoding and decoding of control frames (control-layout.ts) without allocation: writers
 * fill a caller's buffer and return the frame's length; readers take any bytes and an
 * offset, and `checkControl` says whether a frame is whole before any field is read.
 */
import {
  ControlFlag,
  CONTROL_VERSION,
  COOKIE_HIGH_OFFSET,
  COOKIE_LOW_OFFSET,
  COUNT_OFFSET,
  ControlType,
  FLAGS_OFFSET,
  CONTROL_HEADER_BYTES,
  HEARTBEAT_BYTES,
  MAX_NAK_RANGES,
  NAK_RANGE_LENGTH_OFFSET,
  NAK_RANGE_START_OFFSET,
  MAX_PARITY_GROUP_DATAGRAMS,
  nakBytes,
  nakRangeOffset,
  PARITY_PAYLOAD_OFFSET,
  RTT_ECHO_BYTES,
  RTT_ECHO_TIMESTAMP_OFFSET,
  SEQUENCE_OFFSET,
  SESSION_ID_OFFSET,
  SETUP_BYTES,
  STATUS_BYTES,
  STATUS_ECHO_OFFSET,
  STATUS_RTT_NS_OFFSET,
  STATUS_WINDOW_BYTES_OFFSET,
  STREAM_ID_OFFSET,
  TOKEN_HIGH_OFFSET,
  TOKEN_LOW_OFFSET,
  TYPE_OFFSET,
  UNAVAILABLE_BYTES,
  UNAVAILABLE_LENGTH_FRAMES_OFFSET,
  VERSION_OFFSET,
} from './control-layout.js';

export function readUint32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

export function writeUint32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value >>> 16;
  bytes[offset + 3] = value >>> 24;
}

// One float64 and its bytes, for the echo timestamp (little-endian on every platform Node runs).
const float = new Float64Array(1);
const floatBytes = new Uint8Array(float.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readFloat64LE(bytes: Uint8Array, offset: number): number {
  for (let i = 0; i < 8; i++) floatBytes[LITTLE_ENDIAN ? i : 7 - i] = bytes[offset + i];
  return float[0];
}

export function writeFloat64LE(bytes: Uint8Array, offset: number, value: number): void {
  float[0] = value;
  for (let i = 0; i < 8; i++) bytes[offset + i] = floatBytes[LITTLE_ENDIAN ? i : 7 - i];
}

/**
 * A session's token: 64 random bits the sender draws, sent in SETUP, carried by every control
 * frame of the session (control-layout.ts). Two u32 words, compared without allocation.
 */
export interface SessionToken {
  readonly low: number;
  readonly high: number;
}

/** Whether the control frame at `base` carries `token`. */
export function hasToken(bytes: Uint8Array, base: number, token: SessionToken): boolean {
  return readUint32LE(bytes, base + TOKEN_LOW_OFFSET) === token.low >>> 0 && readUint32LE(bytes, base + TOKEN_HIGH_OFFSET) === token.high >>> 0;
}

/** Writes the common header and the token at bytes[0..24). */
export function writeHeader(
  bytes: Uint8Array,
  type: number,
  flags: number,
  count: number,
  sessionId: number,
  streamId: number,
  sequence: number,
  token: SessionToken,
): void {
  bytes[VERSION_OFFSET] = CONTROL_VERSION;
  bytes[TYPE_OFFSET] = type;
  bytes[FLAGS_OFFSET] = flags;
  bytes[COUNT_OFFSET] = count;
  writeUint32LE(bytes, SESSION_ID_OFFSET, sessionId);
  writeUint32LE(bytes, STREAM_ID_OFFSET, streamId);
  writeUint32LE(bytes, SEQUENCE_OFFSET, sequence);
  writeUint32LE(bytes, TOKEN_LOW_OFFSET, token.low);
  writeUint32LE(bytes, TOKEN_HIGH_OFFSET, token.high);
}

/** SETUP: `cookieLow`/`cookieHigh` 0 until a CHALLENGE gave a cookie. */
export function writeSetup(
  bytes: Uint8Array,
  sessionId: number,
  streamId: number,
  initialSequence: number,
  token: SessionToken,
  cookieLow: number,
  cookieHigh: number,
): number {
  return writeCookieFrame(bytes, ControlType.SETUP, sessionId, streamId, initialSequence, token, cookieLow, cookieHigh);
}

/** CHALLENGE: the receiver's answer to a SETUP without a valid cookie (it echoes SETUP's token and sequence). */
export function writeChallenge(
  bytes: Uint8Array,
  sessionId: number,
  streamId: number,
  initialSequence: number,
  token: SessionToken,
  cookieLow: number,
  cookieHigh: number,
): number {
  return writeCookieFrame(bytes, ControlType.CHALLENGE, sessionId, streamId, initialSequence, token, cookieLow, cookieHigh);
}

/** SETUP and CHALLENGE share one layout: the header, the token, a cookie. */
function writeCookieFrame(
  bytes: Uint8Array,
  type: number,
  sessionId: number,
  streamId: number,
  initialSequence: number,
  token: SessionToken,
  cookieLow: number,
  cookieHigh: number,
): number {
  writeHeader(bytes, type, 0, 0, sessionId, streamId, initialSequence, token);
  writeUint32LE(bytes, COOKIE_LOW_OFFSET, cookieLow);
  writeUint32LE(bytes, COOKIE_HIGH_OFFSET, cookieHigh);
  return SETUP_BYTES; // = CHALLENGE_BYTES
}

export function writeHeartbeat(bytes: Uint8Array, sessionId: number, streamId: number, nextSequence: number, flags: number, token: SessionToken): number {
  writeHeader(bytes, ControlType.HEARTBEAT, flags, 0, sessionId, streamId, nextSequence, token);
  return HEARTBEAT_BYTES;
}

export function writeStatus(
  bytes: Uint8Array,
  sessionId: number,
  streamId: number,
  consumedSequence: number,
  windowBytes: number,
  rttNs: number,
  flags: number,
  echoTimestamp: number,
  token: SessionToken,
): number {
  writeHeader(bytes, ControlType.STATUS, flags, 0, sessionId, streamId, consumedSequence, token);
  writeUint32LE(bytes, STATUS_WINDOW_BYTES_OFFSET, windowBytes);
  writeUint32LE(bytes, STATUS_RTT_NS_OFFSET, Math.min(Math.max(0, Math.round(rttNs)), 0xffff_ffff));
  writeFloat64LE(bytes, STATUS_ECHO_OFFSET, echoTimestamp);
  return STATUS_BYTES;
}

/** Writes a NAK header for `ranges` ranges; fill them with writeNakRange. */
export function writeNakHeader(bytes: Uint8Array, sessionId: number, streamId: number, ranges: number, token: SessionToken): number {
  writeHeader(bytes, ControlType.NAK, 0, ranges, sessionId, streamId, 0, token);
  return nakBytes(ranges);
}

export function writeNakRange(bytes: Uint8Array, index: number, startSequence: number, lengthFrames: number): void {
  const at = nakRangeOffset(index);
  writeUint32LE(bytes, at + NAK_RANGE_START_OFFSET, startSequence);
  writeUint32LE(bytes, at + NAK_RANGE_LENGTH_OFFSET, lengthFrames);
}

export function writeRttEcho(bytes: Uint8Array, sessionId: number, streamId: number, echoTimestamp: number, token: SessionToken): number {
  writeHeader(bytes, ControlType.RTT_ECHO, 0, 0, sessionId, streamId, 0, token);
  writeFloat64LE(bytes, RTT_ECHO_TIMESTAMP_OFFSET, echoTimestamp);
  return RTT_ECHO_BYTES;
}

export function writeUnavailable(
  bytes: Uint8Array,
  sessionId: number,
  streamId: number,
  startSequence: number,
  lengthFrames: number,
  token: SessionToken,
): number {
  writeHeader(bytes, ControlType.UNAVAILABLE, 0, 0, sessionId, streamId, startSequence, token);
  writeUint32LE(bytes, UNAVAILABLE_LENGTH_FRAMES_OFFSET, lengthFrames);
  return UNAVAILABLE_BYTES;
}

/**
 * Whether bytes[base, base + lengthBytes) is a whole control frame of a known type, with
 * exactly its type's length and no unknown flag: control frames are few, so a wrong
 * length is malformed rather than tolerated. PARITY's length is checked against its group
 * when it is used (parity-decoder.ts).
 */
export function checkControl(bytes: Uint8Array, base: number, lengthBytes: number): boolean {
  if (lengthBytes < CONTROL_HEADER_BYTES || bytes[base + VERSION_OFFSET] !== CONTROL_VERSION) return false;
  const flags = bytes[base + FLAGS_OFFSET];
  const count = bytes[base + COUNT_OFFSET];
  switch (bytes[base + TYPE_OFFSET]) {
    case ControlType.SETUP:
    case ControlType.CHALLENGE:
      return lengthBytes === SETUP_BYTES && flags === 0 && count === 0;
    case ControlType.STATUS:
      return lengthBytes === STATUS_BYTES && (flags & ~(ControlFlag.ECHO_REQUEST | ControlFlag.STREAM_ENDED)) === 0 && count === 0;
    case ControlType.NAK:
      return count >= 1 && count <= MAX_NAK_RANGES && lengthBytes === nakBytes(count) && flags === 0;
    case ControlType.HEARTBEAT:
      return lengthBytes === HEARTBEAT_BYTES && (flags & ~ControlFlag.END_OF_STREAM) === 0 && count === 0;
    case ControlType.RTT_ECHO:
      return lengthBytes === RTT_ECHO_BYTES && flags === 0 && count === 0;
    case ControlType.UNAVAILABLE:
      return lengthBytes === UNAVAILABLE_BYTES && flags === 0 && count === 0;
    case ControlType.PARITY: // variable length: at least a payload frame header's worth of parity
      return lengthBytes >= PARITY_PAYLOAD_OFFSET + 4 && flags === 0 && count >= 1 && count <= MAX_PARITY_GROUP_DATAGRAMS;
    default:
      return false;
  }
}
