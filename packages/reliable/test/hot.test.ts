/**
 * The hot mode (hot.ts, hot-worker.ts) over loopback: a worker thread busy-polls each
 * socket. Runs against the built package (the worker is dist/hot-worker.js, as users get
 * it). Every wait has a deadline; nothing asserts on time. Needs io_uring; skipped, saying
 * why, where it is not usable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACK_PRESSURED } from '@flux/ring';
import { capability } from '@flux/uring';
import type * as Reliable from '../src/index.js';

// The built package, as users get it (its hot worker is dist/hot-worker.js); typed from the
// sources, loaded from dist/ (a path in a variable: typecheck runs before this package's build).
const DIST = '../dist/index.js';
const { counterSources } = (await import(new URL('../../ring/dist/index.js', import.meta.url).href)) as typeof import('@flux/ring'); // the instance the built package registers with
const { HotReliablePublication, HotReliableSubscription, ReliablePublication, ReliableSubscription } = (await import(DIST)) as typeof Reliable;

const HOST = '127.0.0.1';
const STREAM_ID = 9;
const DEADLINE_MS = 20_000;
const uring = capability();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function message(index: number): Uint8Array {
  const bytes = new Uint8Array(32);
  new DataView(bytes.buffer).setUint32(0, index, true);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (index + i) & 0xff;
  return bytes;
}

function indexOf(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
}

async function offerAll(offer: (m: Uint8Array) => number, count: number): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  for (let index = 0; index < count; ) {
    if (offer(message(index)) === BACK_PRESSURED) {
      if (Date.now() > deadline) throw new Error(`back-pressured at ${index} past the deadline`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    index++;
  }
}

/** Reads the hot subscription's ring until `count` messages came (bounded); returns their indexes. */
async function readRing(subscription: Reliable.HotReliableSubscription, count: number): Promise<number[]> {
  const indexes: number[] = [];
  const deadline = Date.now() + DEADLINE_MS;
  while (indexes.length < count) {
    if (Date.now() > deadline) throw new Error(`read ${indexes.length} of ${count} before the deadline`);
    if (subscription.consumer.poll((bytes: Uint8Array, offset: number) => indexes.push(indexOf(bytes, offset))) === 0)
      await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return indexes;
}

describe('the hot mode (a worker busy-polling io_uring)', () => {
  if (!uring.usable) {
    it.skip(`needs io_uring (${uring.reason})`, () => {});
    return;
  }

  it('a hot publication with a codec encodes on the offering thread (the codec never crosses to the worker)', async () => {
    const { jsonCodec } = (await import(new URL('../../ring/dist/index.js', import.meta.url).href)) as typeof import('@flux/ring');
    const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend: 'io_uring' });
    closers.push(() => subscription.close());
    const values = subscription.messages(STREAM_ID, { codec: jsonCodec<{ n: number }>(), idleTimeoutMs: DEADLINE_MS });
    const publication = await HotReliablePublication.open({ host: HOST, port: subscription.port, streamId: STREAM_ID, codec: jsonCodec<{ n: number }>() });
    closers.push(() => publication.close());
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    for (let n = 0; n < 100; n++) expect(publication.offer({ n })).toBeGreaterThanOrEqual(0);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    const got: number[] = [];
    for await (const { value } of values) {
      got.push(value.n);
      if (got.length === 100) break;
    }
    expect(got).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });

  it('a hot publication delivers every message once in order to an event-loop subscription, flushes and ends the stream', async () => {
    const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend: 'io_uring' });
    closers.push(() => subscription.close());
    const indexes: number[] = [];
    const events: string[] = [];
    subscription.onMessage(STREAM_ID, (bytes, offset) => indexes.push(indexOf(bytes, offset)));
    subscription.onEvent((event) => events.push(event.type));
    const publication = await HotReliablePublication.open({ host: HOST, port: subscription.port, streamId: STREAM_ID });
    closers.push(() => publication.close(1000));
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    expect(publication.state).toBe('connected');
    await offerAll((m) => publication.offer(m), 50_000);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    expect(indexes.length).toBe(50_000);
    expect(indexes.every((index, i) => index === i)).toBe(true);
    const counters = publication.counters();
    await publication.close(DEADLINE_MS);
    expect(publication.state).toBe('ended');
    expect(events).toEqual(['begin', 'end']);
    expect(counters.congestionWindowBytes).toBeGreaterThan(0); // CUBIC, as the event-loop publication
  });

  it('a hot subscription fills its ring in order, read in place on this thread, from an event-loop publication', async () => {
    const subscription = await HotReliableSubscription.open({ port: 0, address: HOST, streamId: STREAM_ID, ringCapacity: 4096 });
    closers.push(() => subscription.close());
    const publication = await ReliablePublication.open({ host: HOST, port: subscription.port, streamId: STREAM_ID, backend: 'io_uring' });
    closers.push(() => publication.close(1000));
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    const count = 30_000; // several times the ring: delivery pauses on a full ring and resumes as it is read
    const [indexes] = await Promise.all([readRing(subscription, count), offerAll((m) => publication.offer(m), count)]);
    expect(indexes.every((index, i) => index === i)).toBe(true);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    await publication.close(DEADLINE_MS);
    expect(publication.state).toBe('ended');
    const counters = subscription.counters();
    expect(counters.sessionsBegun).toBe(1);
    expect(counters.ringOverruns).toBe(0);
    expect(counters['message.messagesReceived']).toBeGreaterThan(0);
  });

  it('hot to hot: every message once, in order', async () => {
    const subscription = await HotReliableSubscription.open({ port: 0, address: HOST, streamId: STREAM_ID });
    closers.push(() => subscription.close());
    const publication = await HotReliablePublication.open({ host: HOST, port: subscription.port, streamId: STREAM_ID });
    closers.push(() => publication.close(1000));
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    const [indexes] = await Promise.all([readRing(subscription, 20_000), offerAll((m) => publication.offer(m), 20_000)]);
    expect(indexes.every((index, i) => index === i)).toBe(true);
    // Both are counter sources while open (flux stat sees them), and neither after close.
    const hotSources = () => counterSources().filter((source) => source.name.startsWith('hot reliable'));
    expect(hotSources().map((source) => source.name.replace(/\d+/g, 'N'))).toEqual([
      'hot reliable subscription on port N stream N #N',
      'hot reliable publication to N.N.N.N:N stream N #N',
    ]);
    expect(hotSources()[1].read().datagramsSent).toBeGreaterThan(0);
    await publication.close(1000);
    await subscription.close();
    expect(hotSources()).toEqual([]);
  });

  it('says false when nobody answers, and closes in bounded time, ending as the event-loop publication does', async () => {
    const publication = await HotReliablePublication.open({ host: HOST, port: 9, streamId: STREAM_ID, setupIntervalMs: 5 });
    expect(await publication.connected(50)).toBe(false);
    expect(publication.state).toBe('setup');
    await publication.close(100);
    const plain = await ReliablePublication.open({ host: HOST, port: 9, streamId: STREAM_ID, setupIntervalMs: 5, backend: 'io_uring' });
    expect(await plain.connected(50)).toBe(false);
    await plain.close(100);
    expect(publication.state).toBe(plain.state);
  });

  it('rejects bad options with errors naming the value, before a thread starts', async () => {
    await expect(HotReliablePublication.open({ host: HOST, port: 0, streamId: 1 })).rejects.toThrow(/port/);
    await expect(HotReliableSubscription.open({ port: 0, streamId: -1 })).rejects.toThrow(/streamId/);
    await expect(HotReliableSubscription.open({ port: 0, streamId: 1, ringCapacity: 1024 })).rejects.toThrow(/ringCapacity/);
    await expect(HotReliableSubscription.open({ port: 0, streamId: 1, ringCapacity: 5000 })).rejects.toThrow(/ringCapacity must be a power of two/);
  });
});
