/**
 * ReliablePublication and ReliableSubscription over real sockets on 127.0.0.1, directly and
 * through a seeded ChaosRelay (loss, duplication, reordering, corruption in both
 * directions), once on each backend (io_uring where @flux/uring is usable, and node:dgram).
 * Every wait has a deadline; nothing asserts on time.
 *
 *   [ReliablePublication] --UDP--> [ChaosRelay] --UDP--> [ReliableSubscription]
 *            ^------------------------ STATUS / NAK <-----------+
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capability } from '@flux/uring';
import type { Backend } from '@flux/udp';
import { BACK_PRESSURED, FluxHandlerError } from '@flux/ring';
import { ChaosRelay } from '../src/chaos/index.js';
import { ReliablePublication, type ReliablePublicationOptions } from '../src/publication.js';
import type { ReliableEvent } from '../src/receiver.js';
import { ReliableSubscription } from '../src/subscription.js';

const HOST = '127.0.0.1';
const STREAM_ID = 5;
const DEADLINE_MS = 20_000;
const backends: Backend[] = ['io_uring', 'dgram'];
const uring = capability();
/** The backend of the describe block running (the tests of a file run one after another). */
let backend: Backend = 'dgram';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function until(condition: () => boolean, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function message(index: number, lengthBytes: number): Uint8Array {
  const bytes = new Uint8Array(lengthBytes);
  new DataView(bytes.buffer).setUint32(0, index, true);
  for (let i = 4; i < lengthBytes; i++) bytes[i] = (index * 7 + i) & 0xff;
  return bytes;
}

interface Received {
  indexes: number[];
  wrong: number;
  events: ReliableEvent[];
}

async function subscribe(
  lengthOf: (index: number) => number,
  options: { onGap?: 'fail' | 'skip' } = {},
): Promise<{ subscription: ReliableSubscription; received: Received }> {
  const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend, ...options });
  expect(subscription.backend).toBe(backend);
  closers.push(() => subscription.close());
  const received: Received = { indexes: [], wrong: 0, events: [] };
  subscription.onMessage(STREAM_ID, (bytes, offset, length) => {
    const index = new DataView(bytes.buffer, bytes.byteOffset + offset, length).getUint32(0, true);
    received.indexes.push(index);
    const expected = message(index, lengthOf(index));
    if (length !== expected.length || !expected.every((value, i) => bytes[offset + i] === value)) received.wrong++;
  });
  subscription.onEvent((event) => received.events.push(event));
  return { subscription, received };
}

async function publish(port: number, options: Partial<ReliablePublicationOptions> = {}): Promise<ReliablePublication> {
  const publication = await ReliablePublication.open({ host: HOST, port, streamId: STREAM_ID, backend, ...options });
  expect(publication.backend).toBe(backend);
  closers.push(() => publication.close(1000));
  return publication;
}

/** Offers messages 0..count-1, waiting (bounded) whenever the ring pushes back. */
async function offerAll(publication: ReliablePublication, count: number, lengthOf: (index: number) => number): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  for (let index = 0; index < count; ) {
    if (publication.offer(message(index, lengthOf(index))) === BACK_PRESSURED) {
      if (Date.now() > deadline) throw new Error(`back-pressured at ${index} past the deadline`);
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    index++;
  }
}

function inOrder(indexes: number[], count: number): boolean {
  return indexes.length === count && indexes.every((value, i) => value === i);
}

describe.each(backends)('reliable delivery over loopback, %s backend', (which) => {
  if (which === 'io_uring' && !uring.usable) {
    it.skip(`needs io_uring (${uring.reason})`, () => {});
    return;
  }
  beforeAll(() => {
    backend = which;
  });

  it('connects, delivers every message once in order, flushes, and ends the stream on close', async () => {
    const lengthOf = (index: number) => [64, 200, 3000, 64][index % 4];
    const { subscription, received } = await subscribe(lengthOf);
    const publication = await publish(subscription.port, { maxMessageBytes: 4096 });
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    await offerAll(publication, 20_000, lengthOf);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    expect(inOrder(received.indexes, 20_000)).toBe(true);
    expect(received.wrong).toBe(0);
    await publication.close(DEADLINE_MS);
    expect(publication.state).toBe('ended');
    await until(() => received.events.some((event) => event.type === 'end'), "the 'end' event");
    expect(received.events.map((event) => event.type)).toEqual(['begin', 'end']);
  });

  it('goes on past a handler that throws: every other message once, in order; the errors reach onError', async () => {
    const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend });
    closers.push(() => subscription.close());
    const indexes: number[] = [];
    subscription.onMessage(STREAM_ID, (bytes, offset, length) => {
      const index = new DataView(bytes.buffer, bytes.byteOffset + offset, length).getUint32(0, true);
      if (index % 1000 === 999) throw new Error(`refused ${index}`);
      indexes.push(index);
    });
    subscription.onEvent(() => {
      throw new Error('a listener that throws');
    });
    const errors: Error[] = [];
    subscription.onError((error) => errors.push(error));
    const publication = await publish(subscription.port);
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    await offerAll(publication, 10_000, () => 64);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    expect(indexes).toEqual([...Array(10_000).keys()].filter((index) => index % 1000 !== 999));
    expect(subscription.messageCounters.handlerErrors).toBe(10);
    const handlerErrors = errors.filter((error) => error instanceof FluxHandlerError);
    expect(handlerErrors.length).toBe(11); // ten messages, and the 'begin' listener
    expect((handlerErrors[0] as FluxHandlerError).where).toMatch(/onEvent listener \('begin'\)/);
    expect(handlerErrors.slice(1).map((error) => ((error as FluxHandlerError).cause as Error).message)).toEqual(
      [...Array(10).keys()].map((k) => `refused ${k * 1000 + 999}`),
    );
  });

  it('reports a send error to onError, Node-style, and counts it', async () => {
    const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend });
    const port = subscription.port;
    await subscription.close(); // nothing listens there now: the kernel answers ECONNREFUSED
    const publication = await publish(port, { setupIntervalMs: 5 });
    const errors: NodeJS.ErrnoException[] = [];
    const remove = publication.onError((error) => errors.push(error));
    await until(() => errors.length > 0, 'a send error');
    expect(errors[0].code).toBe('ECONNREFUSED');
    expect(publication.counters.sendErrors).toBeGreaterThan(0);
    remove();
    const seen = errors.length;
    const sendErrors = publication.counters.sendErrors;
    await until(() => publication.counters.sendErrors > sendErrors, 'another send error');
    expect(errors.length).toBe(seen); // removed: counted only
  });

  it("settles close() in 'closed' when the subscription is gone before it confirmed the end", async () => {
    const { subscription, received } = await subscribe(() => 64);
    const publication = await publish(subscription.port);
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    expect(publication.counters.challengesReceived).toBe(1); // the cookie round trip came first
    expect(subscription.counters.challengesSent).toBe(1);
    await offerAll(publication, 100, () => 64);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    expect(inOrder(received.indexes, 100)).toBe(true);
    await subscription.close();
    publication.offer(message(100, 64)); // never consumed
    await publication.close(300);
    expect(publication.state).toBe('closed');
  });

  it('delivers every message once in order through a relay that loses, duplicates, reorders and corrupts both ways', async () => {
    const lengthOf = (index: number) => (index % 10 === 0 ? 2000 : 64);
    const { subscription, received } = await subscribe(lengthOf);
    const impairments = { lossPercent: 5, duplicatePercent: 3, reorderPercent: 3, reorderDelayNs: 300_000, corruptPercent: 1 };
    const relay = await ChaosRelay.open({ target: { host: HOST, port: subscription.port }, forward: impairments, backward: impairments, seed: 11 });
    closers.push(() => relay.close());
    const publication = await publish(relay.port, { maxMessageBytes: 4096 });
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    await offerAll(publication, 20_000, lengthOf);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    expect(inOrder(received.indexes, 20_000)).toBe(true);
    expect(received.wrong).toBe(0);
    expect(relay.forwardCounters.lost).toBeGreaterThan(0);
    expect(publication.counters.retransmits).toBeGreaterThan(0);
    expect(subscription.counters.naksSent).toBeGreaterThan(0);
    expect(subscription.counters.duplicates).toBeGreaterThan(0);
  });

  it('rebuilds lost datagrams from parity (FEC) through a relay that loses 5% each way', async () => {
    const lengthOf = () => 1000; // one message per datagram: every loss is one datagram of a group
    const { subscription, received } = await subscribe(lengthOf);
    const relay = await ChaosRelay.open({
      target: { host: HOST, port: subscription.port },
      forward: { lossPercent: 5 },
      backward: { lossPercent: 5 },
      seed: 12,
    });
    closers.push(() => relay.close());
    const publication = await publish(relay.port, { fecGroupDatagrams: 4 });
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    await offerAll(publication, 5_000, lengthOf);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    expect(inOrder(received.indexes, 5_000)).toBe(true);
    expect(received.wrong).toBe(0);
    expect(publication.counters.paritySent).toBeGreaterThanOrEqual(5_000 / 4);
    expect(subscription.counters.parityReceived).toBeGreaterThan(0);
    expect(subscription.counters.fecRecoveries).toBeGreaterThan(0);
  });

  it('ignores datagrams from an address that is not the session’s sender, and counts them', async () => {
    const { subscription, received } = await subscribe(() => 64);
    const publication = await publish(subscription.port);
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    await offerAll(publication, 10, () => 64);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    // A second socket replays a copy of a DATA header with the same session: foreign.
    const { createSocket } = await import('node:dgram');
    const intruder = createSocket('udp4');
    closers.push(() => new Promise((resolve) => intruder.close(() => resolve())));
    const forged = new Uint8Array(16 + 4 + 64);
    forged.set([1, 1, 0, 1]);
    new DataView(forged.buffer).setUint32(4, publication.sessionId, true);
    new DataView(forged.buffer).setUint32(8, STREAM_ID, true);
    new DataView(forged.buffer).setUint16(16, 64, true);
    forged[18] = 0xc0;
    await new Promise<void>((resolve, reject) => intruder.send(forged, subscription.port, HOST, (error) => (error ? reject(error) : resolve())));
    await until(() => subscription.counters.foreign > 0, 'the forged datagram to be counted');
    expect(received.indexes).toEqual([...Array(10).keys()]);
  });

  it('iterates with for await: a loop body that falls behind holds the sender back (nothing dropped), then gets every message once, in order', async () => {
    const COUNT = 20_000;
    const MAX_QUEUED = 100;
    const subscription = await ReliableSubscription.open({ port: 0, address: HOST, windowBytes: 64 * 1024, backend });
    closers.push(() => subscription.close());
    const iterator = subscription.messages(STREAM_ID, { maxQueuedMessages: MAX_QUEUED, idleTimeoutMs: DEADLINE_MS });
    const publication = await publish(subscription.port);
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    const offering = offerAll(publication, COUNT, () => 64); // 1.3 MB against a 64 KiB window
    // Nobody reads yet: the FIFO fills, delivery pauses, arrivals are held in the window.
    await until(() => subscription.counters.heldWhilePaused > 0, 'delivery to pause');
    const perDatagram = Math.ceil(1500 / 64);
    expect(subscription.messageCounters.messagesReceived).toBeLessThanOrEqual(MAX_QUEUED + perDatagram); // the FIFO stayed bounded
    let next = 0;
    let wrong = 0;
    for await (const { bytes, sessionId, streamId } of iterator) {
      const expected = message(next, 64);
      if (sessionId !== publication.sessionId || streamId !== STREAM_ID || bytes.length !== 64 || !expected.every((value, i) => bytes[i] === value)) wrong++;
      if (++next === COUNT) break;
    }
    await offering;
    expect(next).toBe(COUNT);
    expect(wrong).toBe(0);
    expect(subscription.messageCounters.dropped).toBe(0);
    expect(subscription.counters.heldWhilePaused).toBeGreaterThan(0);
  });

  it('ends the iteration when the subscription closes, after the messages already queued', async () => {
    const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend });
    const iterator = subscription.messages(STREAM_ID, { idleTimeoutMs: DEADLINE_MS });
    const publication = await publish(subscription.port);
    expect(await publication.connected(DEADLINE_MS)).toBe(true);
    await offerAll(publication, 10, () => 64);
    expect(await publication.flush(DEADLINE_MS)).toBe(true);
    await subscription.close();
    const indexes: number[] = [];
    for await (const { bytes } of iterator) indexes.push(new DataView(bytes.buffer).getUint32(0, true));
    expect(indexes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects bad options with errors naming the value', async () => {
    await expect(ReliableSubscription.open({ port: 70_000 })).rejects.toThrow(/port.*70000/);
    await expect(ReliableSubscription.open({ port: 0, windowBytes: 100 })).rejects.toThrow(/windowBytes.*100/);
    await expect(ReliableSubscription.open({ port: 0, onGap: 'ignore' as 'skip' })).rejects.toThrow(TypeError);
    await expect(ReliablePublication.open({ host: HOST, port: 9, streamId: -1 })).rejects.toThrow(/streamId.*-1/);
    await expect(ReliablePublication.open({ host: HOST, port: 9, streamId: 1, retransmitPolicy: 'drop' as 'overwrite' })).rejects.toThrow(TypeError);
    await expect(ReliablePublication.open({ host: HOST, port: 9, streamId: 1, heartbeatMinMs: 0 })).rejects.toThrow(/heartbeatMinMs.*0/);
    await expect(ReliablePublication.open({ host: HOST, port: 9, streamId: 1, fecGroupDatagrams: 33 })).rejects.toThrow(/fecGroupDatagrams.*33/);
  });
});
