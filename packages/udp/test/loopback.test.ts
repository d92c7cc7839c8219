/**
 * @flux/udp over loopback, in one process, on each backend: every test runs once with
 * io_uring on both ends (where @flux/uring reports it usable; here it is) and once with
 * node:dgram on both ends. Sends are paced by waiting (with a deadline) for the subscriber
 * to have received each chunk, so the kernel's socket buffer never overflows and any loss
 * is a defect.
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { BACK_PRESSURED, Ring } from '@flux/ring';
import { capability } from '@flux/uring';
import type { Backend } from '../src/backend.js';
import { maxDatagramBytes, maxFramePayloadBytes } from '../src/frame-layout.js';
import { Publication, type PublicationOptions } from '../src/publication.js';
import { Subscription } from '../src/subscription.js';
import { closedAfterEach, until } from './support.js';

const open = closedAfterEach();

const uringUsable = capability().usable;
const backends: Backend[] = ['io_uring', 'dgram'];

/** Offers every message (yielding to the sender on back-pressure), in chunks the receiver confirms. */
async function sendAll(pub: Publication, messages: Uint8Array[], received: () => number, chunk = 500) {
  const start = received();
  for (let i = 0; i < messages.length; i++) {
    while (pub.offer(messages[i]) < 0) await new Promise((resolve) => setImmediate(resolve));
    if ((i + 1) % chunk === 0 || i === messages.length - 1) {
      expect(await pub.flush()).toBe(true);
      await until(() => received() - start >= i + 1, `message ${i} at the subscriber`);
    }
  }
}

const numbered = (count: number, length: number) =>
  Array.from({ length: count }, (_, i) => {
    const message = new Uint8Array(length);
    for (let b = 0; b < length; b++) message[b] = (i * 31 + b) & 0xff;
    if (length >= 4) new DataView(message.buffer).setUint32(0, i, true);
    return message;
  });

function collector(sub: Subscription, streamId: number) {
  const messages: number[][] = [];
  sub.onMessage(streamId, (bytes, offset, length) => messages.push([...bytes.subarray(offset, offset + length)]));
  return messages;
}

describe.each(backends)('@flux/udp over loopback, %s backend', (backend) => {
  if (backend === 'io_uring' && !uringUsable) {
    it.skip(`io_uring is not usable here: ${capability().reason}`, () => {});
    return;
  }

  async function subscription(address = '127.0.0.1') {
    const sub = await Subscription.open({ port: 0, address, receiveBufferBytes: 4 << 20, backend });
    open.push(sub);
    expect(sub.backend).toBe(backend);
    return sub;
  }

  async function publication(options: PublicationOptions) {
    const pub = await Publication.open({ backend, ...options });
    open.push(pub);
    expect(pub.backend).toBe(backend);
    return pub;
  }

  it('delivers every message in order, many to a datagram', async () => {
    const sub = await subscription();
    const got = collector(sub, 1);
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 1 });
    const sent = numbered(10_000, 64);
    await sendAll(pub, sent, () => got.length);
    expect(got).toEqual(sent.map((m) => [...m]));
    expect(pub.counters.messagesSent).toBe(10_000);
    expect(pub.counters.datagramsSent).toBeLessThan(10_000 / 15);
    expect(sub.counters.snapshot()).toMatchObject({ messagesReceived: 10_000, framesLost: 0, dropped: 0 });
  });

  it('keeps streams apart on one socket, and counts a stream nobody subscribed to', async () => {
    const sub = await subscription();
    const one = collector(sub, 1);
    const two = collector(sub, 2);
    const a = await publication({ host: '127.0.0.1', port: sub.port, streamId: 1 });
    const b = await publication({ host: '127.0.0.1', port: sub.port, streamId: 2 });
    const stray = await publication({ host: '127.0.0.1', port: sub.port, streamId: 3 });
    await sendAll(a, numbered(300, 10), () => one.length);
    await sendAll(b, numbered(200, 20), () => two.length);
    stray.offer(new Uint8Array(5));
    await stray.flush();
    await until(() => sub.counters.unknownStream === 1, 'the stray datagram to be counted');
    expect(one.map((m) => m.length)).toEqual(new Array(300).fill(10));
    expect(two.map((m) => m.length)).toEqual(new Array(200).fill(20));
  });

  it('keeps each session in order when two publishers share a stream', async () => {
    const sub = await subscription();
    const bySession = new Map<number, number[]>();
    sub.onMessage(5, (bytes, offset, _length, sessionId) => {
      const list = bySession.get(sessionId) ?? [];
      list.push(new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true));
      bySession.set(sessionId, list);
    });
    const a = await publication({ host: '127.0.0.1', port: sub.port, streamId: 5, sessionId: 1 });
    const b = await publication({ host: '127.0.0.1', port: sub.port, streamId: 5, sessionId: 2 });
    const total = () => [...bySession.values()].reduce((n, l) => n + l.length, 0);
    await Promise.all([sendAll(a, numbered(2000, 8), total), sendAll(b, numbered(2000, 8), total)]);
    await until(() => total() === 4000, 'both sessions');
    const expected = Array.from({ length: 2000 }, (_, i) => i);
    expect(bySession.get(1)).toEqual(expected);
    expect(bySession.get(2)).toEqual(expected);
  });

  it('fragments at the edges: exactly one frame, one byte over, and the maximum size', async () => {
    const framePayload = maxFramePayloadBytes(maxDatagramBytes(1500, 'IPv4'));
    const maxMessageBytes = 64 * 1024;
    const sub = await subscription();
    const got = collector(sub, 9);
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 9, maxMessageBytes, ringCapacity: 64 });
    const sizes = [framePayload, framePayload + 1, maxMessageBytes, 0, 1, framePayload - 1];
    const sent = sizes.map((size, i) => numbered(i + 1, size)[i]);
    await sendAll(pub, sent, () => got.length, 1);
    expect(got.map((m) => m.length)).toEqual(sizes);
    expect(got).toEqual(sent.map((m) => [...m]));
    const fragments = 2 + Math.ceil(maxMessageBytes / framePayload);
    expect(pub.counters.fragmentsSent).toBe(fragments);
    expect(() => pub.offer(new Uint8Array(maxMessageBytes + 1))).toThrow(new RegExp(`${maxMessageBytes + 1}`));
  });

  it('resolves a host name', async () => {
    const sub = await subscription();
    const got = collector(sub, 1);
    const pub = await publication({ host: 'localhost', family: 'IPv4', port: sub.port, streamId: 1 });
    await sendAll(pub, numbered(100, 16), () => got.length);
    expect(got.length).toBe(100);
  });

  it('works over IPv6', async () => {
    const sub = await Subscription.open({ port: 0, address: '::1', family: 'IPv6', backend });
    open.push(sub);
    const got = collector(sub, 1);
    const pub = await publication({ host: '::1', port: sub.port, streamId: 1 });
    await sendAll(pub, numbered(1000, 32), () => got.length);
    expect(got.length).toBe(1000);
    expect(pub.datagramBytes).toBe(1500 - 40 - 8);
  });

  it('delivers into a ring for consumers on other threads', async () => {
    const sub = await subscription();
    const ring = Ring.create({ capacity: 1024, maxMessageBytes: 64 });
    const consumer = ring.openConsumer(ring.addConsumer());
    sub.deliverToRing(4, ring);
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 4 });
    const sent = numbered(500, 64);
    const got: number[][] = [];
    const drain = () => consumer.poll((bytes, offset, length) => got.push([...bytes.subarray(offset, offset + length)]));
    await sendAll(pub, sent, () => {
      drain();
      return got.length;
    });
    expect(got).toEqual(sent.map((m) => [...m]));
  });

  it('counts a full subscriber ring as a drop instead of losing silently', async () => {
    const sub = await subscription();
    const ring = Ring.create({ capacity: 4, maxMessageBytes: 8 });
    ring.addConsumer(); // never reads
    sub.deliverToRing(4, ring);
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 4 });
    for (let i = 0; i < 10; i++) pub.offer(new Uint8Array(8));
    await pub.flush();
    await until(() => sub.counters.messagesReceived === 10, 'all ten at the subscriber');
    expect(sub.counters.ringFull).toBe(6);
  });

  it('iterates with for await: copies in order with their session and stream, until the loop breaks', async () => {
    const sub = await subscription();
    const iterator = sub.messages(4, { idleTimeoutMs: 10_000 });
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 4, sessionId: 77 });
    const sent = numbered(1_000, 40);
    const got: number[][] = [];
    const sending = sendAll(pub, sent, () => sub.counters.messagesReceived);
    for await (const { bytes, sessionId, streamId } of iterator) {
      expect([sessionId, streamId]).toEqual([77, 4]);
      got.push([...bytes]);
      if (got.length === 1_000) break;
    }
    await sending;
    expect(got).toEqual(sent.map((m) => [...m]));
    // After the break the stream has no handler: its messages are counted, not queued.
    pub.offer(new Uint8Array(8));
    await pub.flush();
    await until(() => sub.counters.unknownStream === 1, 'the message after the break to be counted');
  });

  it('counts a full iterator FIFO as a drop (queueFull), and ends on close after what was queued', async () => {
    const sub = await subscription();
    const iterator = sub.messages(4, { maxQueuedMessages: 4 }); // not read until all ten are in
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 4 });
    for (let i = 0; i < 10; i++) pub.offer(numbered(10, 8)[i]);
    await pub.flush();
    await until(() => sub.counters.messagesReceived === 10, 'all ten at the subscriber');
    expect(sub.counters.queueFull).toBe(6);
    expect(sub.counters.dropped).toBe(6);
    await sub.close();
    const got: number[] = [];
    for await (const { bytes } of iterator) got.push(new DataView(bytes.buffer).getUint32(0, true));
    expect(got).toEqual([0, 1, 2, 3]);
  });

  it('ends the iteration on abort and on the idle timeout', async () => {
    const sub = await subscription();
    const controller = new AbortController();
    const aborted = sub.messages(1, { signal: controller.signal });
    const pending = aborted.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    const idle = sub.messages(2, { idleTimeoutMs: 1 });
    expect(await idle.next()).toEqual({ done: true, value: undefined });
    const already = sub.messages(3, { signal: AbortSignal.abort() });
    expect(await already.next()).toEqual({ done: true, value: undefined });
    expect(() => sub.messages(1, { maxQueuedMessages: 0 })).toThrow(/maxQueuedMessages must be an integer from 1 to \d+, got 0/);
    expect(() => sub.messages(1, { idleTimeoutMs: -1 })).toThrow(RangeError);
  });

  it('reports back-pressure as a return value when the ring is full, and bounds memory', async () => {
    const sub = await subscription();
    const got = collector(sub, 1);
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 1, ringCapacity: 16, maxDatagramsInFlight: 1 });
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      const result = pub.offer(new Uint8Array(16)); // no yielding: the sender cannot run
      if (result === BACK_PRESSURED) refused++;
      else accepted++;
    }
    expect(accepted).toBe(16);
    expect(refused).toBe(84);
    expect(pub.counters.backPressured).toBe(84);
    await pub.flush();
    await until(() => got.length === 16, 'the accepted sixteen');
  });

  it('counts and drops garbage from the network, and keeps delivering', async () => {
    const sub = await subscription();
    const got = collector(sub, 1);
    const raw = createSocket('udp4');
    open.push({ close: () => new Promise<void>((resolve) => raw.close(() => resolve())) });
    const garbage = [new Uint8Array(3), new Uint8Array(40).fill(0xff), Uint8Array.of(1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0xc0, 0)];
    for (const bytes of garbage) await new Promise<void>((resolve, reject) => raw.send(bytes, sub.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await until(() => sub.counters.datagramsReceived === 3, 'the garbage to arrive');
    expect(sub.counters.snapshot()).toMatchObject({ truncated: 2, badVersion: 1, dropped: 3 });
    const pub = await publication({ host: '127.0.0.1', port: sub.port, streamId: 1 });
    await sendAll(pub, numbered(10, 8), () => got.length);
    expect(got.length).toBe(10);
  });

  it('rejects bad options with the value in the message', async () => {
    await expect(Publication.open({ host: '127.0.0.1', port: 0, streamId: 1 })).rejects.toThrow(/port .* got 0/);
    await expect(Publication.open({ host: '127.0.0.1', port: 9, streamId: -1 })).rejects.toThrow(/streamId .* got -1/);
    await expect(Publication.open({ host: '127.0.0.1', port: 9, streamId: 1, mtuBytes: 100 })).rejects.toThrow(/mtuBytes .* got 100/);
    await expect(Publication.open({ host: 7 as never, port: 9, streamId: 1 })).rejects.toThrow(TypeError);
    await expect(Subscription.open({ port: 70000 })).rejects.toThrow(/got 70000/);
    await expect(Subscription.open({ port: 0, receiveBufferBytes: -5 })).rejects.toThrow(/receiveBufferBytes .* got -5/);
    await expect(Subscription.open({ port: 0, maxDatagramBytes: 5 })).rejects.toThrow(/maxDatagramBytes .* got 5/);
    await expect(Subscription.open({ port: 0, backend: 'uring' as never })).rejects.toThrow(/backend .* got "uring"/);
    await expect(Publication.open({ host: '127.0.0.1', port: 9, streamId: 1, backend: 'kqueue' as never })).rejects.toThrow(TypeError);
    await expect(Publication.open({ host: '127.0.0.1', port: 9, streamId: 1, segmentOffload: 1 as never })).rejects.toThrow(/segmentOffload .* got 1/);
    const sub = await subscription();
    expect(() => sub.onMessage(-1, () => {})).toThrow(/streamId .* got -1/);
  });
});

describe.skipIf(!uringUsable)('@flux/udp backends together', () => {
  it('picks io_uring by default where @flux/uring reports it usable', async () => {
    const sub = await Subscription.open({ port: 0, address: '127.0.0.1' });
    open.push(sub);
    const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 1 });
    open.push(pub);
    expect([sub.backend, sub.backendReason, pub.backend, pub.backendReason]).toEqual(['io_uring', '', 'io_uring', '']);
  });

  it('speaks the same wire format: io_uring to node:dgram and back', async () => {
    for (const [from, to] of [
      ['io_uring', 'dgram'],
      ['dgram', 'io_uring'],
    ] as const) {
      const sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend: to });
      open.push(sub);
      const got = collector(sub, 2);
      const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 2, backend: from, maxMessageBytes: 4000 });
      open.push(pub);
      const sent = [...numbered(300, 40), ...numbered(2, 4000)]; // packed, then fragmented in place
      for (const message of sent) while (pub.offer(message) < 0) await new Promise((resolve) => setImmediate(resolve));
      expect(await pub.flush()).toBe(true);
      await until(() => got.length === sent.length, `${from} -> ${to}`);
      expect(got).toEqual(sent.map((m) => [...m]));
    }
  });

  it('sends runs of equal datagrams as one GSO send on io_uring, and none with segmentOffload off', async () => {
    for (const segmentOffload of [true, false]) {
      const sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'io_uring', receiveBufferBytes: 4 << 20 });
      open.push(sub);
      const got = collector(sub, 1);
      const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 1, backend: 'io_uring', segmentOffload });
      open.push(pub);
      const sent = numbered(5000, 64);
      for (const message of sent) while (pub.offer(message) < 0) await new Promise((resolve) => setImmediate(resolve));
      expect(await pub.flush()).toBe(true);
      await until(() => got.length === sent.length, 'every message');
      expect(got).toEqual(sent.map((m) => [...m]));
      const socket = (pub as unknown as { sendPath: { socket: { stats(): { coalescedSends: number; coalescedDatagrams: number } } } }).sendPath.socket;
      const { coalescedSends, coalescedDatagrams } = socket.stats();
      if (segmentOffload && capability().operations.udpSegmentation) {
        expect(coalescedSends).toBeGreaterThan(0);
        expect(coalescedDatagrams).toBeGreaterThan(coalescedSends);
      } else {
        expect(coalescedSends).toBe(0);
      }
      expect(sub.counters.snapshot()).toMatchObject({ framesLost: 0, dropped: 0 });
    }
  });

  it('counts a datagram longer than maxDatagramBytes as truncated on io_uring', async () => {
    const sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'io_uring', maxDatagramBytes: 64 });
    open.push(sub);
    const raw = createSocket('udp4');
    open.push({ close: () => new Promise<void>((resolve) => raw.close(() => resolve())) });
    await new Promise<void>((resolve, reject) => raw.send(new Uint8Array(1000), sub.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await until(() => sub.counters.datagramsReceived === 1, 'the long datagram');
    expect(sub.counters.snapshot()).toMatchObject({ truncated: 1, dropped: 1, messagesReceived: 0 });
  });
});
