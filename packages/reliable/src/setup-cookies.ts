/**
 * Stateless setup cookies (no I/O; time is a parameter): the receiver answers a SETUP that
 * carries no valid cookie with a CHALLENGE holding one, and allocates a session only for a
 * SETUP that echoes it. A cookie is the first 64 bits of
 *
 *   HMAC-SHA-256(key, epoch | session id | stream id | first sequence | token | port | address)
 *
 * so it proves the sender received the CHALLENGE at the address it claims (an off-path
 * spoofer never sees it), binds every field the session is made from, and needs no table:
 * a flood of SETUPs costs the receiver one HMAC each and no memory. `epoch` is
 * nowNs / COOKIE_EPOCH_NS; a cookie of this epoch or the one before is accepted, so one
 * lives between one and two epochs.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SessionToken } from './control-frames.js';
import { COOKIE_EPOCH_NS } from './defaults.js';

/** Key bytes (HMAC-SHA-256's block is 64; 32 random bytes are its full strength). */
export const COOKIE_KEY_BYTES = 32;

export class SetupCookies {
  private readonly key: Uint8Array;
  private readonly input = Buffer.alloc(4 * 8);
  /** The last cookie computed: two u32 words. */
  low = 0;
  high = 0;

  /** `key`: COOKIE_KEY_BYTES secret bytes (a fresh random key when omitted; tests pass a fixed one). */
  constructor(key: Uint8Array = randomBytes(COOKIE_KEY_BYTES)) {
    this.key = key;
  }

  /** Computes the cookie for these fields at `epoch` into `low`/`high`. */
  private compute(epoch: number, sessionId: number, streamId: number, initialSequence: number, token: SessionToken, address: string, port: number): void {
    const input = this.input;
    input.writeUInt32LE(epoch >>> 0, 0);
    input.writeUInt32LE(sessionId >>> 0, 4);
    input.writeUInt32LE(streamId >>> 0, 8);
    input.writeUInt32LE(initialSequence >>> 0, 12);
    input.writeUInt32LE(token.low >>> 0, 16);
    input.writeUInt32LE(token.high >>> 0, 20);
    input.writeUInt32LE(port >>> 0, 24);
    input.writeUInt32LE(0, 28);
    const digest = createHmac('sha256', this.key).update(input).update(address).digest();
    // 0 means "no cookie yet" on the wire: a digest that starts with 64 zero bits is moved off it.
    this.low = digest.readUInt32LE(0);
    this.high = digest.readUInt32LE(4);
    if (this.low === 0 && this.high === 0) this.low = 1;
  }

  /** The cookie to send in a CHALLENGE now, left in `low`/`high`. */
  issue(nowNs: number, sessionId: number, streamId: number, initialSequence: number, token: SessionToken, address: string, port: number): void {
    this.compute(epochOf(nowNs), sessionId, streamId, initialSequence, token, address, port);
  }

  /** Whether (`low`, `high`) is a cookie issued for these fields in this epoch or the last. */
  verify(
    cookieLow: number,
    cookieHigh: number,
    nowNs: number,
    sessionId: number,
    streamId: number,
    initialSequence: number,
    token: SessionToken,
    address: string,
    port: number,
  ): boolean {
    if (cookieLow === 0 && cookieHigh === 0) return false;
    const epoch = epochOf(nowNs);
    for (const candidate of [epoch, epoch - 1]) {
      this.compute(candidate, sessionId, streamId, initialSequence, token, address, port);
      if (this.low === cookieLow >>> 0 && this.high === cookieHigh >>> 0) return true;
    }
    return false;
  }
}

function epochOf(nowNs: number): number {
  return Math.floor(nowNs / COOKIE_EPOCH_NS);
}
