// Length-prefixed message framing over a byte stream (TCP, udx-native), as users of those
// transports write it: each message is preceded by its length.
//
//   0               4                     4 + length
//   +---------------+---------------------+
//   | length u32 LE | message bytes       |  ... next frame
//   +---------------+---------------------+
//
// The stream may cut anywhere (inside the length, inside the message); the reader
// reassembles, copying only a frame that straddles a cut.
export const LENGTH_PREFIX_BYTES = 4;

/** Writes the length prefix of a `lengthBytes` message at `offset`; the message goes at offset + LENGTH_PREFIX_BYTES. */
export function writeLengthPrefix(bytes, offset, lengthBytes) {
  bytes[offset] = lengthBytes;
  bytes[offset + 1] = lengthBytes >>> 8;
  bytes[offset + 2] = lengthBytes >>> 16;
  bytes[offset + 3] = lengthBytes >>> 24;
}

function readLength(bytes, offset) {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/**
 * Reassembles frames from chunks: push(chunk) calls onMessage(bytes, offset, lengthBytes) for
 * every complete message, in order. A length above maxMessageBytes cannot be resynchronised:
 * push throws RangeError with the length.
 */
export class LengthPrefixedReader {
  constructor(maxMessageBytes, onMessage) {
    this.maxMessageBytes = maxMessageBytes;
    this.onMessage = onMessage;
    this.partial = new Uint8Array(LENGTH_PREFIX_BYTES + maxMessageBytes); // a frame cut by a chunk boundary
    this.partialBytes = 0;
  }

  /** Bytes held back: a frame begun but not complete. */
  get pendingBytes() {
    return this.partialBytes;
  }

  push(chunk) {
    let offset = 0;
    if (this.partialBytes > 0) {
      offset = this.completePartial(chunk);
      if (offset < 0) return;
    }
    const end = chunk.length;
    while (end - offset >= LENGTH_PREFIX_BYTES) {
      const lengthBytes = this.checkedLength(chunk, offset);
      if (end - offset - LENGTH_PREFIX_BYTES < lengthBytes) break;
      this.onMessage(chunk, offset + LENGTH_PREFIX_BYTES, lengthBytes);
      offset += LENGTH_PREFIX_BYTES + lengthBytes;
    }
    if (offset < end) {
      this.partial.set(chunk.subarray(offset, end), 0);
      this.partialBytes = end - offset;
    }
  }

  /** Fills the held-back frame from the front of `chunk`; returns where the chunk's own frames start, or -1 if it was used up. */
  completePartial(chunk) {
    let offset = 0;
    if (this.partialBytes < LENGTH_PREFIX_BYTES) {
      const take = Math.min(LENGTH_PREFIX_BYTES - this.partialBytes, chunk.length);
      this.partial.set(chunk.subarray(0, take), this.partialBytes);
      this.partialBytes += take;
      offset = take;
      if (this.partialBytes < LENGTH_PREFIX_BYTES) return -1;
    }
    const frameBytes = LENGTH_PREFIX_BYTES + this.checkedLength(this.partial, 0);
    const take = Math.min(frameBytes - this.partialBytes, chunk.length - offset);
    this.partial.set(chunk.subarray(offset, offset + take), this.partialBytes);
    this.partialBytes += take;
    offset += take;
    if (this.partialBytes < frameBytes) return -1;
    this.partialBytes = 0;
    this.onMessage(this.partial, LENGTH_PREFIX_BYTES, frameBytes - LENGTH_PREFIX_BYTES);
    return offset;
  }

  checkedLength(bytes, offset) {
    const lengthBytes = readLength(bytes, offset);
    if (lengthBytes > this.maxMessageBytes) throw new RangeError(`frame length ${lengthBytes} exceeds maxMessageBytes ${this.maxMessageBytes}`);
    return lengthBytes;
  }
}
