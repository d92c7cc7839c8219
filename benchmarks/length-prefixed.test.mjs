// The TCP/udx baselines' framing (lib/length-prefixed.mjs): whatever the chunk boundaries,
// the reader returns every message once, in order, byte for byte.
import { describe, expect, it } from 'vitest';
import { LENGTH_PREFIX_BYTES, LengthPrefixedReader, writeLengthPrefix } from './lib/length-prefixed.mjs';

const MAX_MESSAGE_BYTES = 64;

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function encode(messages) {
  const stream = new Uint8Array(messages.reduce((sum, m) => sum + LENGTH_PREFIX_BYTES + m.length, 0));
  let offset = 0;
  for (const message of messages) {
    writeLengthPrefix(stream, offset, message.length);
    stream.set(message, offset + LENGTH_PREFIX_BYTES);
    offset += LENGTH_PREFIX_BYTES + message.length;
  }
  return stream;
}

function messagesOf(next, count) {
  return Array.from({ length: count }, (_, i) => Uint8Array.from({ length: Math.floor(next() * (MAX_MESSAGE_BYTES + 1)) }, (_, j) => (i + j) & 0xff));
}

function readAll(stream, cuts) {
  const read = [];
  const reader = new LengthPrefixedReader(MAX_MESSAGE_BYTES, (bytes, offset, lengthBytes) => read.push(bytes.slice(offset, offset + lengthBytes)));
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    reader.push(stream.subarray(start, cut));
    start = cut;
  }
  return { read, pendingBytes: reader.pendingBytes };
}

describe('LengthPrefixedReader', () => {
  it('returns every message in order when the stream is cut at any one point', () => {
    const messages = messagesOf(random(1), 6);
    messages.push(new Uint8Array(0)); // an empty message too
    const stream = encode(messages);
    for (let cut = 0; cut <= stream.length; cut++) {
      const { read, pendingBytes } = readAll(stream, [cut]);
      expect(read).toEqual(messages);
      expect(pendingBytes).toBe(0);
    }
  });

  it('returns every message in order across random chunk sizes, including one-byte chunks', () => {
    for (const seed of [2, 3, 4]) {
      const next = random(seed);
      const messages = messagesOf(next, 2_000);
      const stream = encode(messages);
      const cuts = [];
      for (let at = 0; at < stream.length; ) {
        at += 1 + Math.floor(next() * (seed === 2 ? 1 : 300));
        if (at < stream.length) cuts.push(at);
      }
      expect(readAll(stream, cuts).read).toEqual(messages);
    }
  });

  it('holds back a frame that has not fully arrived', () => {
    const stream = encode(messagesOf(random(5), 2));
    const { read, pendingBytes } = readAll(stream.subarray(0, stream.length - 1), []);
    expect(read.length).toBe(1);
    expect(pendingBytes).toBeGreaterThan(0);
  });

  it('throws RangeError on a length above maxMessageBytes', () => {
    const stream = new Uint8Array(LENGTH_PREFIX_BYTES + MAX_MESSAGE_BYTES + 1);
    writeLengthPrefix(stream, 0, MAX_MESSAGE_BYTES + 1);
    const reader = new LengthPrefixedReader(MAX_MESSAGE_BYTES, () => {});
    expect(() => reader.push(stream)).toThrow(RangeError);
    expect(() => reader.push(stream)).toThrow(String(MAX_MESSAGE_BYTES + 1));
  });
});
