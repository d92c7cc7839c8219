// Messages that carry their own index, for the network benchmarks: the sender stamps index
// i (u32 LE at offset 0, its complement in the last 4 bytes); the receiver checks length,
// stamp and order, counts gaps as lost, and samples the clock for the rate.
import dgram from 'node:dgram';
import { verify } from './harness.mjs';

export const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

export function writeU32(bytes, offset, value) {
  bytes[offset] = value;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value >>> 16;
  bytes[offset + 3] = value >>> 24;
}

export function readU32(bytes, offset) {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/** Stamps message `index` at `offset`: its index in the first 4 bytes, its complement in the last 4. */
export function stamp(bytes, offset, lengthBytes, index) {
  writeU32(bytes, offset, index);
  writeU32(bytes, offset + lengthBytes - 4, ~index >>> 0);
}

/** The bytes every message starts from (before its stamp). */
export function template(lengthBytes) {
  const bytes = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) bytes[i] = i & 0xff;
  return bytes;
}

/**
 * The receiver's side: `check(bytes, offset, lengthBytes)` per message. The clock is read
 * every `sampleEvery` (a power of two) verified messages, not per message: the rate is
 * (messages after the first sample) / (time from the first sample to the last).
 */
export class IndexChecker {
  expected = 0; // next index in order
  verified = 0;
  gaps = 0; // messages skipped over by a later one: lost
  bad = 0; // wrong length or content, duplicate or reordered
  firstIndex = 0;
  firstMs = 0;
  lastMs = 0;
  verifiedAtLast = 0;

  constructor(messageBytes, sampleEvery) {
    this.messageBytes = messageBytes;
    this.sampleMask = sampleEvery - 1;
  }

  check = (bytes, offset, lengthBytes) => {
    const index = readU32(bytes, offset);
    if (lengthBytes !== this.messageBytes || readU32(bytes, offset + lengthBytes - 4) !== ~index >>> 0 || index < this.expected) {
      this.bad++;
      return;
    }
    if (this.verified === 0) this.firstIndex = index;
    this.gaps += index - this.expected;
    this.expected = index + 1;
    if ((++this.verified & this.sampleMask) === 1) {
      this.lastMs = performance.now();
      this.verifiedAtLast = this.verified;
      if (this.verified === 1) this.firstMs = this.lastMs;
    }
  };

  /** What the parent needs to check and time the run. */
  result() {
    const { verified, gaps, bad, expected, firstIndex } = this;
    return { verified, gaps, bad, expected, firstIndex, timedMessages: this.verifiedAtLast - 1, elapsedMs: this.lastMs - this.firstMs };
  }
}

/** The receiving side over raw node:dgram: binds `host`:0 and hands each datagram to `check`. */
export async function receiveWithDgram({ host, receiveBufferBytes, check }) {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: receiveBufferBytes });
  socket.on('message', (message) => check(message, 0, message.length));
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, resolve);
  });
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(resolve)) };
}

/**
 * The node:dgram baseline sender: one stamped message per datagram, at full speed for
 * `durationMs`, with `window` datagrams in flight (a buffer is reused only after its send
 * completed: node:dgram holds it until then). Returns messages sent.
 */
export async function sendWithDgram({ host, port, lengthBytes, durationMs, window, deadline }) {
  const source = template(lengthBytes);
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, resolve);
  });
  let sent = 0;
  let sendErrors = 0;
  const pool = [];
  for (let i = 0; i < window; i++) {
    const entry = {
      buffer: Buffer.from(source),
      onSent: (error) => {
        if (error) sendErrors++;
        pool.push(entry);
      },
    };
    pool.push(entry);
  }
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    if (Date.now() > deadline) throw new Error('dgram sender: deadline');
    if (pool.length === 0) {
      await yieldToEventLoop();
      continue;
    }
    while (pool.length > 0) {
      const entry = pool.pop();
      entry.buffer.set(source); // the message is written, as the flux producer writes its slot
      stamp(entry.buffer, 0, lengthBytes, sent++);
      socket.send(entry.buffer, 0, lengthBytes, entry.onSent);
    }
  }
  while (pool.length < window) {
    if (Date.now() > deadline) throw new Error('dgram sender: deadline waiting for sends');
    await yieldToEventLoop();
  }
  await new Promise((resolve) => socket.close(resolve));
  verify(sendErrors === 0, `dgram sender: ${sendErrors} send errors`);
  return sent;
}
