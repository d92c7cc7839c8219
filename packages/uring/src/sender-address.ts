/**
 * Who sent a received datagram, read where the kernel wrote it: in the receive part, before
 * the payload (seam-layout.ts, "receive parts"):
 *
 *   part: | io_uring_recvmsg_out | sockaddr_in / sockaddr_in6 | UDP_GRO cmsg | payload ... |
 *         ^ part start           ^ + RECEIVE_PART_NAME_OFFSET
 *   sockaddr: family (uint16, host order) | port (uint16, network order) | IPv4 at +4, IPv6 at +8
 *
 * A RECV record gives the payload's offset; its part starts at the multiple of partBytes at
 * or below it (the segments of a GRO receive share their part, and their sender). The text
 * of the address is made only when the sender changes: a stream from one peer reads two
 * words per datagram and allocates nothing.
 */
import { RECEIVE_NAME_FAMILY_IPV4, RECEIVE_NAME_FAMILY_IPV6, RECEIVE_PART_NAME_OFFSET } from './seam-layout.js';

/** Byte offsets within the sockaddr (Linux's sockaddr_in / sockaddr_in6). */
const NAME_FAMILY_OFFSET = 0;
const NAME_PORT_OFFSET = 2;
const NAME_IPV4_OFFSET = 4;
const NAME_IPV6_OFFSET = 8;
const IPV6_BYTES = 16;

/** An IPv6 address as Node prints it (RFC 5952: lower case, the longest run of zero groups as "::"). */
function formatIPv6(bytes: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < IPV6_BYTES; i += 2) groups.push((bytes[at + i] << 8) | bytes[at + i + 1]);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not shortened
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export class SenderAddressReader {
  /** The last datagram's sender (after read()). */
  address = '';
  port = 0;
  family: 'IPv4' | 'IPv6' = 'IPv4';
  /** The last IPv4 sender as one number (address x 65536 + port), to reuse its text. */
  private lastKey = -1;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly partBytes: number,
  ) {}

  /** Reads the sender of the datagram whose payload starts at `recordStart` into address/port/family. */
  read(recordStart: number): void {
    const bytes = this.bytes;
    const name = recordStart - (recordStart % this.partBytes) + RECEIVE_PART_NAME_OFFSET;
    const family = bytes[name + NAME_FAMILY_OFFSET] | (bytes[name + NAME_FAMILY_OFFSET + 1] << 8);
    const port = (bytes[name + NAME_PORT_OFFSET] << 8) | bytes[name + NAME_PORT_OFFSET + 1];
    if (family === RECEIVE_NAME_FAMILY_IPV4) {
      const a = name + NAME_IPV4_OFFSET;
      const key = (bytes[a] * 0x1000000 + ((bytes[a + 1] << 16) | (bytes[a + 2] << 8) | bytes[a + 3])) * 65536 + port;
      if (key !== this.lastKey) {
        this.lastKey = key;
        this.address = `${bytes[a]}.${bytes[a + 1]}.${bytes[a + 2]}.${bytes[a + 3]}`;
        this.port = port;
        this.family = 'IPv4';
      }
      return;
    }
    this.lastKey = -1;
    this.port = port;
    if (family === RECEIVE_NAME_FAMILY_IPV6) {
      this.family = 'IPv6';
      this.address = formatIPv6(bytes, name + NAME_IPV6_OFFSET);
    } else {
      this.address = ''; // not an IP sender (never for a UDP socket of either family)
    }
  }
}
