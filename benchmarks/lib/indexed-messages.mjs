// Messages that carry their own index, for the network benchmarks: the sender stamps index
// i (u32 LE at offset 0, its complement in the last 4 bytes); the receiver checks length,
// stamp and order, counts gaps as lost, and samples the clock for the rate.
import dgram from 'node:dgram';
import { verify } from './harness.mjs';
import { LENGTH_PREFIX_BYTES, writeLengthPrefix } from './length-prefixed.mjs';

export const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));
const sleepMs = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An offered rate: `due()` is how many messages should have been offered by now (from the
 * first call of due()). With no rate (0 or undefined) it is unbounded: full speed. A paced
 * sender wakes once per tick (`wait()`: a 1 ms timer, no spinning), offers everything due
 * since the last tick in one go (so the messages of one tick are batched as an application
 * timer would batch them), then waits for the next tick: CPU time per message at a fixed
 * rate counts the work of sending, not of waiting or of re-checking the clock.
 */
export function pacer(ratePerSecond) {
  if (!ratePerSecond) return { due: () => Number.POSITIVE_INFINITY, wait: yieldToEventLoop, paced: false };
  let startMs = -1;
  return {
    due() {
      const nowMs = performance.now();
      if (startMs < 0) startMs = nowMs;
      return Math.floor(((nowMs - startMs) * ratePerSecond) / 1000);
    },
    wait: () => sleepMs(1),
    paced: true,
  };
}

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
export async function sendWithDgram({ host, port, lengthBytes, durationMs, window, deadline, rate = 0 }) {
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
  const pace = pacer(rate);
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    if (Date.now() > deadline) throw new Error('dgram sender: deadline');
    let allowed = pace.due() - sent;
    if (allowed <= 0) {
      await pace.wait();
      continue;
    }
    if (pool.length === 0) {
      await yieldToEventLoop();
      continue;
    }
    while (pool.length > 0 && allowed-- > 0) {
      const entry = pool.pop();
      entry.buffer.set(source); // the message is written, as the flux producer writes its slot
      stamp(entry.buffer, 0, lengthBytes, sent++);
      socket.send(entry.buffer, 0, lengthBytes, entry.onSent);
    }
    if (pace.paced && allowed <= 0) await pace.wait(); // this tick's messages are out
  }
  while (pool.length < window) {
    if (Date.now() > deadline) throw new Error('dgram sender: deadline waiting for sends');
    await yieldToEventLoop();
  }
  await new Promise((resolve) => socket.close(resolve));
  verify(sendErrors === 0, `dgram sender: ${sendErrors} send errors`);
  return sent;
}

/**
 * The packed node:dgram baseline, as a skilled user writes it with the same packing as
 * @flux/udp: `perDatagram` stamped messages per datagram, each length-prefixed
 * (length-prefixed.mjs), one socket.send per datagram, `window` datagrams in flight.
 *
 *   datagram: [len u32 | message] [len u32 | message] ...   (perDatagram frames)
 *
 * Returns { sent: messages, datagrams }.
 */
export async function sendPackedWithDgram({ host, port, lengthBytes, perDatagram, durationMs, window, deadline, rate = 0 }) {
  const source = template(lengthBytes);
  const frameBytes = LENGTH_PREFIX_BYTES + lengthBytes;
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, resolve);
  });
  let sent = 0;
  let datagrams = 0;
  let sendErrors = 0;
  const pool = [];
  for (let i = 0; i < window; i++) {
    const entry = {
      buffer: Buffer.alloc(frameBytes * perDatagram),
      onSent: (error) => {
        if (error) sendErrors++;
        pool.push(entry);
      },
    };
    pool.push(entry);
  }
  const pace = pacer(rate);
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    if (Date.now() > deadline) throw new Error('packed dgram sender: deadline');
    let allowed = pace.due() - sent;
    if (allowed <= 0) {
      await pace.wait();
      continue;
    }
    if (pool.length === 0) {
      await yieldToEventLoop();
      continue;
    }
    while (pool.length > 0 && allowed > 0) {
      const count = Math.min(perDatagram, allowed);
      const entry = pool.pop();
      const bytes = entry.buffer;
      for (let m = 0, offset = 0; m < count; m++, offset += frameBytes) {
        writeLengthPrefix(bytes, offset, lengthBytes);
        bytes.set(source, offset + LENGTH_PREFIX_BYTES);
        stamp(bytes, offset + LENGTH_PREFIX_BYTES, lengthBytes, sent++);
      }
      socket.send(bytes, 0, count * frameBytes, entry.onSent);
      datagrams++;
      allowed -= count;
    }
    if (pace.paced && allowed <= 0) await pace.wait(); // this tick's messages are out
  }
  while (pool.length < window) {
    if (Date.now() > deadline) throw new Error('packed dgram sender: deadline waiting for sends');
    await yieldToEventLoop();
  }
  await new Promise((resolve) => socket.close(resolve));
  verify(sendErrors === 0, `packed dgram sender: ${sendErrors} send errors`);
  return { sent, datagrams };
}

/**
 * Splits one packed datagram (`lengthBytes` bytes of `bytes`) into its length-prefixed
 * messages, calling check(bytes, offset, lengthBytes) for each; returns false (after
 * delivering the whole frames before it) when the datagram does not end on a frame boundary.
 */
export function forEachPacked(bytes, lengthBytes, check) {
  let offset = 0;
  while (offset < lengthBytes) {
    if (lengthBytes - offset < LENGTH_PREFIX_BYTES) return false;
    const messageBytes = (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
    offset += LENGTH_PREFIX_BYTES;
    if (lengthBytes - offset < messageBytes) return false;
    check(bytes, offset, messageBytes);
    offset += messageBytes;
  }
  return true;
}

/**
 * The packed baseline's receiver: binds `host`:0 and hands each length-prefixed message of
 * each datagram to `check`. A datagram that does not split into whole frames counts as
 * `malformed()` (it is not silently skipped).
 */
export async function receivePackedWithDgram({ host, receiveBufferBytes, check }) {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: receiveBufferBytes });
  let malformed = 0;
  socket.on('message', (message) => {
    if (!forEachPacked(message, message.length, check)) malformed++;
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, resolve);
  });
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(resolve)), malformed: () => malformed };
}
