/**
 * Sessions against restarts and hostile peers. The reader-level tests drive the clock
 * (nowNs) by hand, so expiry is deterministic; the loopback test restarts 100 real
 * publishers against one subscription.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { capability } from '@flux/uring';
import type { Backend } from '../src/backend.js';
import { SubscriptionCounters } from '../src/counters.js';
import { DatagramReader } from '../src/datagram-reader.js';
import { DatagramWriter } from '../src/datagram-writer.js';
import { DEFAULT_SEQUENCE_WINDOW_FRAMES } from '../src/defaults.js';
import { FRAME_COUNT_OFFSET, FrameFlag, SEQUENCE_OFFSET, SESSION_ID_OFFSET, STREAM_ID_OFFSET } from '../src/frame-layout.js';
import { Publication } from '../src/publication.js';
import { Subscription } from '../src/subscription.js';

const DATAGRAM_BYTES = 256;
const MS = 1e6;
const TIMEOUT_NS = 5000 * MS;

function setup(options: { maxSessions?: number; windowFrames?: number; onHandlerError?: boolean; maxMessageBytes?: number } = {}) {
  const counters = new SubscriptionCounters();
  const received: { bytes: number[]; sessionId: number }[] = [];
  const handlerErrors: unknown[] = [];
  const reader = new DatagramReader({
    maxMessageBytes: options.maxMessageBytes ?? 1000,
    maxSessions: options.maxSessions ?? 64,
    counters,
    sessionIdleTimeoutNs: TIMEOUT_NS,
    sequenceWindowFrames: options.windowFrames,
    onHandlerError: options.onHandlerError === false ? undefined : (error) => handlerErrors.push(error),
    sinkFor: (streamId) =>
      streamId === 404 ? undefined : (bytes, offset, length, sessionId) => received.push({ bytes: [...bytes.subarray(offset, offset + length)], sessionId }),
  });
  return { counters, received, reader, handlerErrors };
}

function datagram(writer: DatagramWriter, messages: number[][], flags: number = FrameFlag.UNFRAGMENTED): Uint8Array {
  const buffer = new Uint8Array(DATAGRAM_BYTES);
  writer.begin(buffer);
  for (const message of messages) writer.addFrame(Uint8Array.from(message), 0, message.length, flags);
  return buffer.slice(0, writer.finish());
}

const read = (reader: DatagramReader, bytes: Uint8Array, nowNs: number) => reader.read(bytes, 0, bytes.length, nowNs);

describe('sessions expire (clock passed in)', () => {
  it('100 publishers restarting one after another all deliver, through 64 places', () => {
    const { reader, received, counters } = setup();
    let now = 0;
    for (let p = 0; p < 100; p++) {
      const writer = new DatagramWriter(1000 + p, 1, DATAGRAM_BYTES); // a restart picks a new random session id
      for (let i = 0; i < 3; i++) expect(read(reader, datagram(writer, [[p, i]]), now)).toBe(true);
      now += TIMEOUT_NS / 10; // ten publishers per idle timeout: the table turns over
    }
    expect(received).toHaveLength(300);
    expect(new Set(received.map((r) => r.sessionId)).size).toBe(100);
    expect(counters.tooManySessions).toBe(0);
    expect(counters.sessionsExpired).toBeGreaterThanOrEqual(100 - 64);
    expect(reader.sessionCount).toBeLessThanOrEqual(64);
  });

  it('a full table refuses a new session until one has been idle past the timeout, then takes it', () => {
    const { reader, received, counters } = setup({ maxSessions: 2 });
    read(reader, datagram(new DatagramWriter(1, 1, DATAGRAM_BYTES), [[1]]), 0);
    read(reader, datagram(new DatagramWriter(2, 1, DATAGRAM_BYTES), [[2]]), 10 * MS);
    const third = new DatagramWriter(3, 1, DATAGRAM_BYTES);
    expect(read(reader, datagram(third, [[3]]), TIMEOUT_NS)).toBe(false); // nobody idle past the timeout yet
    expect(counters.tooManySessions).toBe(1);
    expect(read(reader, datagram(third, [[3]]), TIMEOUT_NS + 1)).toBe(true); // session 1 is now
    expect(counters.sessionsExpired).toBe(1);
    expect(received.map((r) => r.sessionId)).toEqual([1, 2, 3]);
    expect(reader.expireIdleSessions(TIMEOUT_NS + 10 * MS + 1)).toBe(1); // session 2; 3 was heard later
  });

  it('after every session expired at once, a table filled again still makes room once they idle', () => {
    const { reader, received, counters } = setup({ maxSessions: 2 });
    let id = 0;
    const send = (now: number) => read(reader, datagram(new DatagramWriter(++id, 1, DATAGRAM_BYTES), [[id]]), now);
    send(0);
    send(0);
    expect(send(TIMEOUT_NS + 1)).toBe(true); // both expire; the table holds 1 of 2
    expect(send(TIMEOUT_NS + 2)).toBe(true); // full again
    expect(send(TIMEOUT_NS + 3)).toBe(false); // nobody idle yet
    expect(send(2 * TIMEOUT_NS + 2)).toBe(true); // the first of the new two is idle past the timeout
    expect(counters.sessionsExpired).toBe(3);
    expect(counters.tooManySessions).toBe(1);
    expect(received).toHaveLength(5);
  });

  it('a publisher restarted with the same session id is taken up again once the old session is idle past the timeout', () => {
    const { reader, received, counters } = setup();
    const before = new DatagramWriter(7, 1, DATAGRAM_BYTES);
    for (let i = 0; i < 100; i++) read(reader, datagram(before, [[i]]), i * MS);
    const after = new DatagramWriter(7, 1, DATAGRAM_BYTES); // sequence 0 again
    expect(read(reader, datagram(after, [[0xaa]]), 200 * MS)).toBe(false); // behind: late, for now
    expect(counters.late).toBe(1);
    expect(read(reader, datagram(after, [[0xbb]]), 99 * MS + TIMEOUT_NS + 1)).toBe(true); // late ones did not keep it alive
    expect(counters.sessionsExpired).toBe(1);
    expect(received.at(-1)!.bytes).toEqual([0xbb]);
  });

  it('without a clock (nowNs omitted) no session expires, as before', () => {
    const { reader, counters } = setup({ maxSessions: 1 });
    const a = datagram(new DatagramWriter(1, 1, DATAGRAM_BYTES), [[1]]);
    const b = datagram(new DatagramWriter(2, 1, DATAGRAM_BYTES), [[2]]);
    expect(reader.read(a, 0, a.length)).toBe(true);
    expect(reader.read(b, 0, b.length)).toBe(false);
    expect(counters.tooManySessions).toBe(1);
  });
});

describe('the sequence window', () => {
  it('drops a forged datagram half the sequence space ahead (outOfWindow): the session keeps delivering', () => {
    const { reader, received, counters } = setup();
    const real = new DatagramWriter(5, 1, DATAGRAM_BYTES, 1000);
    read(reader, datagram(real, [[1]]), 0);
    const forged = datagram(new DatagramWriter(5, 1, DATAGRAM_BYTES, (1000 + 2 ** 31) >>> 0), [[0xee]]);
    expect(read(reader, forged, 1)).toBe(false);
    expect(counters.outOfWindow).toBe(1);
    for (let i = 2; i <= 5; i++) read(reader, datagram(real, [[i]]), i);
    expect(received.map((r) => r.bytes[0])).toEqual([1, 2, 3, 4, 5]);
    expect(counters.framesLost + counters.late).toBe(0);
  });

  it('edges: window frames ahead is a gap, one more is out of window; behind likewise late or out of window', () => {
    const window = 1000;
    const { reader, counters } = setup({ windowFrames: window });
    const at = (sequence: number) => datagram(new DatagramWriter(5, 1, DATAGRAM_BYTES, sequence >>> 0), [[0]]);
    read(reader, at(10_000), 0); // expected: 10,001
    expect(read(reader, at(10_001 + window + 1), 1)).toBe(false);
    expect(counters.outOfWindow).toBe(1);
    expect(read(reader, at(10_001 + window), 2)).toBe(true); // expected: 11,002
    expect(counters.framesLost).toBe(window);
    expect(read(reader, at(11_002 - window), 3)).toBe(false);
    expect(counters.late).toBe(1);
    expect(read(reader, at(11_002 - window - 1), 4)).toBe(false);
    expect(counters.outOfWindow).toBe(2);
  });

  it('a real publisher that lost more than the window is taken up again after the idle timeout', () => {
    const { reader, received, counters } = setup();
    const writer = new DatagramWriter(5, 1, DATAGRAM_BYTES, 0);
    read(reader, datagram(writer, [[1]]), 0);
    writer.nextSequence = DEFAULT_SEQUENCE_WINDOW_FRAMES + 100; // a long outage at a high rate
    expect(read(reader, datagram(writer, [[2]]), 1000 * MS)).toBe(false);
    expect(counters.outOfWindow).toBe(1);
    expect(read(reader, datagram(writer, [[3]]), TIMEOUT_NS + 1)).toBe(true);
    expect(received.map((r) => r.bytes[0])).toEqual([1, 3]);
  });
});

describe('handlers that throw (reader level)', () => {
  it('the rest of the datagram is delivered, the one that threw counts as delivered, nothing repeats', () => {
    const { reader, counters, handlerErrors } = setup();
    const calls: number[] = [];
    const throwing = new DatagramReader({
      maxMessageBytes: 1000,
      maxSessions: 4,
      counters,
      onHandlerError: (error) => handlerErrors.push(error),
      sinkFor: () => (bytes, offset) => {
        calls.push(bytes[offset]);
        if (bytes[offset] === 2) throw new Error('two');
      },
    });
    const writer = new DatagramWriter(1, 1, DATAGRAM_BYTES);
    const bytes = datagram(writer, [[1], [2], [3], [4]]);
    expect(throwing.read(bytes, 0, bytes.length, 0)).toBe(true);
    expect(throwing.read(bytes, 0, bytes.length, 1)).toBe(false); // the same datagram again: late, not repeated
    const next = datagram(writer, [[5]]);
    throwing.read(next, 0, next.length, 2);
    expect(calls).toEqual([1, 2, 3, 4, 5]);
    expect(counters.handlerErrors).toBe(1);
    expect(counters.messagesReceived).toBe(5);
    expect(handlerErrors).toEqual([new Error('two')]);
    void reader;
  });
});

describe('fuzz: mutated datagrams (fast-check)', () => {
  /** Drop reasons only a whole datagram is dropped for (malformed and oversize may also drop one frame of a datagram taken). */
  const WHOLE = ['truncated', 'badVersion', 'unknownStream', 'tooManySessions', 'late', 'outOfWindow'] as const;
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('count' as const), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('sequence' as const), value: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
    fc.record({ kind: fc.constant('nudge' as const), value: fc.integer({ min: -300, max: 300 }) }),
    fc.record({ kind: fc.constant('session' as const), value: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('stream' as const), value: fc.constantFrom(1, 404, 0xffff_ffff) }),
    fc.record({ kind: fc.constant('length' as const), frame: fc.nat(3), value: fc.integer({ min: 0, max: 0xffff }) }),
  );
  const step = fc.record({
    publisher: fc.nat(3),
    frames: fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 }),
    flags: fc.constantFrom(FrameFlag.UNFRAGMENTED, FrameFlag.BEGIN, 0, FrameFlag.END),
    mutations: fc.array(mutation, { maxLength: 3 }),
    random: fc.option(fc.uint8Array({ maxLength: 80 }), { freq: 5 }),
    /** Sends an earlier datagram again (the network duplicates and reorders). */
    replay: fc.option(fc.nat(), { freq: 3 }),
    advanceNs: fc.integer({ min: 0, max: 2 * TIMEOUT_NS }),
  });

  it('never throws, never hangs, and every datagram is taken or counted as dropped', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.boolean(), (steps, handlerThrows) => {
        const counters = new SubscriptionCounters();
        let delivered = 0;
        const reader = new DatagramReader({
          maxMessageBytes: 64,
          maxSessions: 3,
          counters,
          sessionIdleTimeoutNs: TIMEOUT_NS,
          sequenceWindowFrames: 1 << 16,
          onHandlerError: () => {},
          sinkFor: (streamId) =>
            streamId === 404
              ? undefined
              : () => {
                  delivered++;
                  if (handlerThrows) throw new Error('handler');
                },
        });
        const writers = [0, 1, 2, 3].map((p) => new DatagramWriter(p, 1, DATAGRAM_BYTES));
        let now = 0;
        const history: Uint8Array[] = [];
        for (const s of steps) {
          now += s.advanceNs;
          let bytes =
            s.replay !== null && history.length > 0
              ? history[s.replay % history.length].slice()
              : (s.random ??
                datagram(
                  writers[s.publisher],
                  s.frames.map((f) => [...f]),
                  s.flags,
                ));
          history.push(bytes.slice());
          for (const m of s.mutations) {
            if (bytes.length === 0) break;
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            if (m.kind === 'flip') bytes[m.at % bytes.length] = m.value;
            else if (m.kind === 'truncate') bytes = bytes.slice(0, m.at % bytes.length);
            else if (bytes.length >= 16) {
              if (m.kind === 'count') bytes[FRAME_COUNT_OFFSET] = m.value;
              else if (m.kind === 'sequence') view.setUint32(SEQUENCE_OFFSET, m.value, true);
              else if (m.kind === 'nudge') view.setUint32(SEQUENCE_OFFSET, (view.getUint32(SEQUENCE_OFFSET, true) + m.value) >>> 0, true);
              else if (m.kind === 'session') view.setUint32(SESSION_ID_OFFSET, m.value, true);
              else if (m.kind === 'stream') view.setUint32(STREAM_ID_OFFSET, m.value, true);
              else if (m.kind === 'length' && bytes.length >= 20) view.setUint16(16, m.value, true);
            }
          }
          const before = counters.snapshot();
          const deliveredBefore = delivered;
          const taken = reader.read(bytes, 0, bytes.length, now); // must not throw
          const after = counters.snapshot();
          expect(after.datagramsReceived).toBe(before.datagramsReceived + 1);
          const wholeDrops = WHOLE.reduce((sum, reason) => sum + after[reason] - before[reason], 0);
          if (taken) {
            expect(wholeDrops).toBe(0); // its frames were taken: delivered, in reassembly, or dropped one by one (counted)
          } else {
            expect(after.dropped - before.dropped).toBe(1); // dropped whole: exactly one reason counted
            expect(delivered).toBe(deliveredBefore);
          }
          expect(after.messagesReceived - before.messagesReceived).toBe(delivered - deliveredBefore);
          expect(reader.sessionCount).toBeLessThanOrEqual(3);
        }
        expect(counters.handlerErrors).toBe(handlerThrows ? delivered : 0);
      }),
      { numRuns: 300, seed: 20_260_613 },
    );
  });
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const backends: Backend[] = capability().usable ? ['io_uring', 'dgram'] : ['dgram'];

describe.each(backends)('100 publishers restarting against one subscription, %s backend', (backend) => {
  it('every one delivers (sessions expire; half restart with the same session id)', async () => {
    const sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend, maxSessions: 4, sessionIdleTimeoutMs: 20 });
    open.push(sub);
    const got = new Set<number>();
    sub.onMessage(1, (bytes, offset) => got.add(bytes[offset]));
    for (let p = 0; p < 100; p++) {
      const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 1, backend, ...(p % 2 === 0 ? { sessionId: 42 } : {}) });
      // Offered again until it arrives: a datagram refused while no session is idle past the
      // timeout (tooManySessions) or while the same id's old session lives (late) is dropped.
      const deadline = Date.now() + 10_000;
      while (!got.has(p)) {
        if (Date.now() > deadline) throw new Error(`publisher ${p} never delivered: ${JSON.stringify(sub.counters.snapshot())}`);
        pub.offer(new Uint8Array([p]));
        await pub.flush();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await pub.close();
    }
    expect(got.size).toBe(100);
    expect(sub.counters.sessionsExpired).toBeGreaterThan(0);
  });
});
