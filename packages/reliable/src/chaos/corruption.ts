/**
 * How a ChaosLink corrupts a datagram, and why it does it this way.
 *
 * A real UDP datagram whose payload bits flip in transit almost never reaches the
 * application: the UDP checksum (and the link layer's CRC) fail and the kernel drops it,
 * which the protocol sees as plain loss. What does get through is damage the checksums
 * cannot see, or that happened before them: a datagram cut short, a foreign or garbled
 * sender, a buggy middlebox. So a corrupted copy here is always *structurally detectable*
 * by a receiver that checks the Flux wire format (@flux/udp frame-layout.ts), whose byte 0
 * is the version: VALID_VERSION_BYTE (1) for DATA, CONTROL_VERSION_BYTE (2) for
 * @flux/reliable's control frames (control-layout.ts):
 *
 * ```
 *   original  | 01 | type | ...... lengthBytes ...... |
 *
 *   TRUNCATE  | 01 | type | ... |                        length U[0, lengthBytes-1]
 *   VERSION   | vv | type | ...... lengthBytes ...... |  vv U{0, 3..255}   (never 01, 02)
 *   GARBAGE   | vv | random bytes ... |                  length U[0, lengthBytes],
 *                                                       vv never 01, 02 (when length > 0)
 * ```
 *
 * Every corrupted copy is therefore shorter than its original or has no valid version byte, and a
 * receiver that validates lengths and the version must drop it and count it. Flipping bits
 * inside a datagram that still parses would model a failure UDP checksums already catch,
 * and would only test that the protocol trusts its transport. An empty datagram cannot be
 * corrupted detectably, so it is left alone (and not counted).
 */
import type { Sfc32 } from './prng.js';
import type { Slot } from './due-queue.js';

/** Byte 0 of every valid DATA datagram: PROTOCOL_VERSION in @flux/udp's frame-layout.ts. */
export const VALID_VERSION_BYTE = 1;
/** Byte 0 of every valid control frame: CONTROL_VERSION in control-layout.ts. */
export const CONTROL_VERSION_BYTE = 2;

export const CorruptionKind = {
  TRUNCATE: 0,
  VERSION: 1,
  GARBAGE: 2,
} as const;
const CORRUPTION_KINDS = 3;
const BYTE_VALUES = 256;
const BYTES_PER_UINT32 = 4;
const BITS_PER_BYTE = 8;
const BYTE_MASK = 0xff;

/** A random byte value other than VALID_VERSION_BYTE and CONTROL_VERSION_BYTE (which follows it). */
function invalidVersionByte(random: Sfc32): number {
  const value = random.nextInt(BYTE_VALUES - 2);
  return value >= VALID_VERSION_BYTE ? value + 2 : value;
}

/**
 * Corrupts the copy in `slot` (its first lengthBytes bytes) in place, choosing the kind with
 * `random`. Returns false, drawing nothing, when the copy is empty.
 */
export function corrupt(slot: Slot, random: Sfc32): boolean {
  const lengthBytes = slot.lengthBytes;
  if (lengthBytes === 0) return false;
  const bytes = slot.bytes;
  switch (random.nextInt(CORRUPTION_KINDS)) {
    case CorruptionKind.TRUNCATE:
      slot.lengthBytes = random.nextInt(lengthBytes);
      break;
    case CorruptionKind.VERSION:
      bytes[0] = invalidVersionByte(random);
      break;
    default: {
      const garbageBytes = random.nextInt(lengthBytes + 1);
      for (let index = 0; index < garbageBytes; index += BYTES_PER_UINT32) {
        let word = random.nextUint32();
        const end = Math.min(index + BYTES_PER_UINT32, garbageBytes);
        for (let byteIndex = index; byteIndex < end; byteIndex++) {
          bytes[byteIndex] = word & BYTE_MASK;
          word >>>= BITS_PER_BYTE;
        }
      }
      if (garbageBytes > 0) bytes[0] = invalidVersionByte(random);
      slot.lengthBytes = garbageBytes;
    }
  }
  return true;
}
