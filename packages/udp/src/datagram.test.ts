import { describe, expect, it } from 'vitest';
import { SubscriptionCounters } from './counters.js';
import { DatagramReader } from './datagram-reader.js';
import { DatagramWriter } from './datagram-writer.js';
import {
  DATAGRAM_HEADER_BYTES,
  FRAME_COUNT_OFFSET,
  FRAME_FLAGS_OFFSET,
  FRAME_HEADER_BYTES,
  FrameFlag,
  SEQUENCE_OFFSET,
  STREAM_ID_OFFSET,
  TYPE_OFFSET,
  VERSION_OFFSET,
} from './frame-layout.js';

const DATAGRAM_BYTES = 200;

function setup(maxMessageBytes = 1000, maxSessions = 4) {
  const counters = new SubscriptionCounters();
  const received: { bytes: number[]; sessionId: number; streamId: number }[] = [];
  const reader = new DatagramReader({
    maxMessageBytes,
    maxSessions,
    counters,
    sinkFor: (streamId) =>
      streamId === 404
        ? undefined
        : (bytes, offset, length, sessionId, stream) => received.push({ bytes: [...bytes.subarray(offset, offset + length)], sessionId, streamId: stream }),
  });
  return { counters, received, reader };
}

/** A datagram of whole messages from `writer`. */
function datagram(writer: DatagramWriter, messages: number[][], flags: number = FrameFlag.UNFRAGMENTED): Uint8Array {
  const buffer = new Uint8Array(DATAGRAM_BYTES);
  writer.begin(buffer);
  for (const message of messages) writer.addFrame(Uint8Array.from(message), 0, message.length, flags);
  return buffer.slice(0, writer.finish());
}

describe('DatagramWriter and DatagramReader', () => {
  it('round-trips several messages in one datagram, in order, with their session and stream', () => {
    const { reader, received, counters } = setup();
    const writer = new DatagramWriter(11, 22, DATAGRAM_BYTES, 5);
    const bytes = datagram(writer, [[1, 2], [], [3]]);
    expect(bytes.length).toBe(DATAGRAM_HEADER_BYTES + 3 * FRAME_HEADER_BYTES + 3);
    reader.read(bytes, 0, bytes.length);
    expect(received).toEqual([
      { bytes: [1, 2], sessionId: 11, streamId: 22 },
      { bytes: [], sessionId: 11, streamId: 22 },
      { bytes: [3], sessionId: 11, streamId: 22 },
    ]);
    expect(counters.messagesReceived).toBe(3);
    expect(writer.nextSequence).toBe(8);
  });

  it('stops offering room at the datagram size', () => {
    const writer = new DatagramWriter(1, 1, DATAGRAM_BYTES);
    writer.begin(new Uint8Array(DATAGRAM_BYTES));
    expect(writer.roomBytes).toBe(DATAGRAM_BYTES - DATAGRAM_HEADER_BYTES - FRAME_HEADER_BYTES);
    writer.addFrame(new Uint8Array(writer.roomBytes), 0, writer.roomBytes, FrameFlag.UNFRAGMENTED);
    expect(writer.lengthBytes).toBe(DATAGRAM_BYTES);
    expect(writer.roomBytes).toBe(0);
  });

  it('reassembles a fragmented message', () => {
    const { reader, received } = setup();
    const writer = new DatagramWriter(1, 2, DATAGRAM_BYTES);
    for (const [part, flags] of [
      [[1, 2], FrameFlag.BEGIN],
      [[3], 0],
      [[4, 5], FrameFlag.END],
    ] as const) {
      const bytes = datagram(writer, [[...part]], flags);
      reader.read(bytes, 0, bytes.length);
    }
    expect(received.map((r) => r.bytes)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('counts a gap as lost frames and abandons the message it cut', () => {
    const { reader, received, counters } = setup();
    const writer = new DatagramWriter(1, 2, DATAGRAM_BYTES);
    const begin = datagram(writer, [[1]], FrameFlag.BEGIN);
    datagram(writer, [[2]], 0); // lost in the network
    const next = datagram(writer, [[9]]);
    reader.read(begin, 0, begin.length);
    reader.read(next, 0, next.length);
    expect(received.map((r) => r.bytes)).toEqual([[9]]);
    expect(counters.framesLost).toBe(1);
    expect(counters.messagesLostInReassembly).toBe(1);
  });

  it('drops a late or duplicated datagram and counts it', () => {
    const { reader, received, counters } = setup();
    const writer = new DatagramWriter(1, 2, DATAGRAM_BYTES);
    const first = datagram(writer, [[1]]);
    const second = datagram(writer, [[2]]);
    reader.read(second, 0, second.length);
    reader.read(first, 0, first.length);
    reader.read(second, 0, second.length);
    expect(received.map((r) => r.bytes)).toEqual([[2]]);
    expect(counters.late).toBe(2);
  });

  it('drops and counts every kind of bad datagram without moving the session', () => {
    const { reader, received, counters } = setup(4, 1);
    const writer = new DatagramWriter(1, 2, DATAGRAM_BYTES);
    const good = datagram(writer, [[7, 7]]);
    const mutate = (change: (bytes: Uint8Array, view: DataView) => void, length = good.length) => {
      const bytes = good.slice();
      change(bytes, new DataView(bytes.buffer));
      reader.read(bytes, 0, length);
    };
    mutate(() => {}, DATAGRAM_HEADER_BYTES - 1); // truncated header
    mutate(() => {}, good.length - 1); // truncated frame
    mutate((b) => (b[VERSION_OFFSET] = 2)); // bad version
    mutate((b) => (b[TYPE_OFFSET] = 9)); // malformed: type
    mutate((b) => (b[FRAME_COUNT_OFFSET] = 0)); // malformed: no frames
    mutate((b) => (b[DATAGRAM_HEADER_BYTES + FRAME_FLAGS_OFFSET] = 0x01)); // malformed: unknown flag
    mutate((_, v) => v.setUint32(STREAM_ID_OFFSET, 404, true)); // unknown stream
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    reader.read(trailing, 0, trailing.length); // malformed: trailing bytes
    expect(counters.snapshot()).toMatchObject({ truncated: 2, badVersion: 1, malformed: 4, unknownStream: 1, dropped: 8 });
    expect(received).toEqual([]);
    reader.read(good, 0, good.length); // the session was not moved by any of them
    expect(received.map((r) => r.bytes)).toEqual([[7, 7]]);
    expect(counters.framesLost).toBe(0);
  });

  it('drops an oversize message, whole or reassembled, and counts it once', () => {
    const { reader, received, counters } = setup(3);
    const writer = new DatagramWriter(1, 2, DATAGRAM_BYTES);
    for (const [part, flags] of [
      [[1, 2, 3, 4], FrameFlag.UNFRAGMENTED],
      [[1, 2], FrameFlag.BEGIN],
      [[3, 4], FrameFlag.END],
      [[5, 6, 7], FrameFlag.UNFRAGMENTED],
    ] as const) {
      const bytes = datagram(writer, [[...part]], flags);
      reader.read(bytes, 0, bytes.length);
    }
    expect(counters.oversize).toBe(2);
    expect(received.map((r) => r.bytes)).toEqual([[5, 6, 7]]);
  });

  it('bounds sessions: a new session beyond maxSessions is dropped and counted', () => {
    const { reader, received, counters } = setup(10, 2);
    for (const sessionId of [1, 2, 3]) {
      const bytes = datagram(new DatagramWriter(sessionId, 2, DATAGRAM_BYTES), [[sessionId]]);
      reader.read(bytes, 0, bytes.length);
    }
    expect(received.map((r) => r.sessionId)).toEqual([1, 2]);
    expect(counters.tooManySessions).toBe(1);
  });

  it('keeps sequences per session: two publishers on one stream do not disturb each other', () => {
    const { reader, received, counters } = setup();
    const a = new DatagramWriter(1, 2, DATAGRAM_BYTES, 100);
    const b = new DatagramWriter(9, 2, DATAGRAM_BYTES, 0xffff_fffe); // wraps
    for (let i = 0; i < 4; i++) {
      for (const writer of [a, b]) {
        const bytes = datagram(writer, [[i]]);
        reader.read(bytes, 0, bytes.length);
      }
    }
    expect(received.filter((r) => r.sessionId === 9).map((r) => r.bytes[0])).toEqual([0, 1, 2, 3]);
    expect(counters.framesLost + counters.late).toBe(0);
  });

  it('survives random and mutated datagrams: never throws, counts every one (fuzz)', () => {
    const { reader, counters } = setup(64, 8);
    let seed = 20261122;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const writers = [new DatagramWriter(1, 2, DATAGRAM_BYTES), new DatagramWriter(3, 2, DATAGRAM_BYTES)];
    const flagChoices = [FrameFlag.UNFRAGMENTED, FrameFlag.BEGIN, 0, FrameFlag.END];
    const iterations = 20_000;
    for (let i = 0; i < iterations; i++) {
      let bytes: Uint8Array;
      if (random() < 0.3) {
        bytes = Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256));
      } else {
        const writer = writers[Math.floor(random() * writers.length)];
        const frames = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
          Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)),
        );
        bytes = datagram(writer, frames, flagChoices[Math.floor(random() * flagChoices.length)]);
        const mutations = Math.floor(random() * 3);
        for (let m = 0; m < mutations; m++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        if (random() < 0.1) new DataView(bytes.buffer).setUint32(SEQUENCE_OFFSET, Math.floor(random() * 2 ** 32), true);
      }
      const length = random() < 0.1 ? Math.floor(random() * (bytes.length + 1)) : bytes.length;
      expect(() => reader.read(bytes, 0, length)).not.toThrow();
    }
    expect(counters.datagramsReceived).toBe(iterations);
    expect(counters.dropped).toBeGreaterThan(0);
    expect(counters.messagesReceived).toBeGreaterThan(0);
  });
});
