/**
 * Producers in worker threads feed one publication: each worker attaches the publication's
 * ring by its handle and claims/publishes in place; the sender on this thread's event loop
 * is woken by their publishes. The subscriber checks every (producerId, sequence) arrives
 * once, in per-producer order. The ring is small, so producers are back-pressured and wait.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { capability } from '@flux/uring';
import type { Backend } from '../src/backend.js';
import { Publication } from '../src/publication.js';
import { Subscription } from '../src/subscription.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const backends: Backend[] = capability().usable ? ['io_uring', 'dgram'] : ['dgram'];

describe.each(backends)('producers in worker threads, %s backend', (backend) => {
  it('deliver every message once, in per-producer order, through one publication', async () => {
    const producers = 3;
    const perProducer = 20_000;
    const messageBytes = 24;
    const sub = await Subscription.open({ port: 0, address: '127.0.0.1', receiveBufferBytes: 4 << 20, backend });
    open.push(sub);
    const next = new Array(producers).fill(0);
    let bad = 0;
    sub.onMessage(3, (bytes, offset, length) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
      const producerId = view.getUint32(0, true);
      if (length !== messageBytes || producerId >= producers || view.getUint32(4, true) !== next[producerId]) bad++;
      else next[producerId]++;
    });
    // The subscriber reads on this event loop between the sender's bursts; 32 datagrams in
    // flight (~74 KB of socket memory) fit even a default 208 KB receive buffer.
    const pub = await Publication.open({
      host: '127.0.0.1',
      port: sub.port,
      streamId: 3,
      ringCapacity: 256,
      maxMessageBytes: messageBytes,
      maxDatagramsInFlight: 32,
      backend,
    });
    open.push(pub);
    const deadlineMs = Date.now() + 30_000;
    const workers = Array.from({ length: producers }, (_, producerId) => {
      const worker = new Worker(new URL('./workers/ring-producer.mjs', import.meta.url), {
        workerData: { handle: pub.ring.handle, producerId, count: perProducer, messageBytes, deadlineMs },
      });
      return new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => code !== 0 && reject(new Error(`producer ${producerId} exited ${code}`)));
      });
    });
    await Promise.all(workers);
    expect(await pub.flush(10_000)).toBe(true);
    const total = producers * perProducer;
    while (sub.counters.messagesReceived + sub.counters.dropped < total && sub.counters.framesLost === 0 && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(bad).toBe(0);
    expect(next).toEqual(new Array(producers).fill(perProducer));
    expect(sub.counters.snapshot()).toMatchObject({ messagesReceived: total, framesLost: 0, dropped: 0 });
    expect(pub.counters.messagesSent).toBe(total);
  });
});
