import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosRelay } from './chaos-relay.js';

const HOST = '127.0.0.1';
const DEADLINE_MS = 10_000;
const POLL_INTERVAL_MS = 2;
/** Datagrams in flight at once: well under a loopback socket's receive buffer, so the kernel drops none. */
const BATCH = 20;
const ID_OFFSET = 0;
const ID_BYTES = 4;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

/** Waits until `condition` holds, checking every POLL_INTERVAL_MS; fails after DEADLINE_MS. */
async function waitUntil(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function message(id: number): Buffer {
  const bytes = Buffer.alloc(ID_BYTES + (id % 17));
  bytes.writeUInt32LE(id, ID_OFFSET);
  return bytes;
}

/** A target that echoes every datagram, a client, and a relay between them. */
async function setup(options: Omit<Parameters<typeof ChaosRelay.open>[0], 'target'>) {
  const target = await bound();
  const atTarget: number[] = [];
  target.on('message', (bytes, sender) => {
    atTarget.push(bytes.readUInt32LE(ID_OFFSET));
    target.send(bytes, sender.port, sender.address);
  });
  const relay = await ChaosRelay.open({ ...options, target: { host: HOST, port: target.address().port } });
  cleanups.push(() => relay.close());
  const client = await bound();
  const atClient: number[] = [];
  client.on('message', (bytes) => atClient.push(bytes.readUInt32LE(ID_OFFSET)));
  const send = (id: number) => client.send(message(id), relay.port, HOST);
  return { relay, atTarget, atClient, send };
}

const sorted = (ids: number[]) => [...ids].sort((left, right) => left - right);
const range = (count: number) => Array.from({ length: count }, (_, id) => id);

describe('ChaosRelay', () => {
  it('relays every datagram both ways when there are no impairments', async () => {
    const count = 200;
    const { relay, atTarget, atClient, send } = await setup({ seed: 1, forward: {} });
    for (let first = 0; first < count; first += BATCH) {
      for (let id = first; id < first + BATCH; id++) send(id);
      await waitUntil(`echoes of ${first + BATCH} datagrams`, () => atClient.length >= first + BATCH);
    }
    expect(sorted(atTarget)).toEqual(range(count));
    expect(sorted(atClient)).toEqual(range(count));
    expect(relay.forwardCounters).toMatchObject({ pushed: count, delivered: count, lost: 0 });
    expect(relay.backwardCounters).toMatchObject({ pushed: count, delivered: count, lost: 0 });
    expect(relay.relayCounters.snapshot()).toEqual({
      forwardSendErrors: 0,
      backwardSendErrors: 0,
      forwardRefused: 0,
      backwardRefused: 0,
      backwardWithoutClient: 0,
      socketErrors: 0,
    });
  });

  it('with 50% forward loss, lost plus arrivals equals the datagrams sent', async () => {
    const count = 400;
    const { relay, atTarget, atClient, send } = await setup({ seed: 2, forward: { lossPercent: 50 } });
    for (let first = 0; first < count; first += BATCH) {
      for (let id = first; id < first + BATCH; id++) send(id);
      const sent = first + BATCH;
      await waitUntil(`${sent} datagrams accounted for`, () => relay.forwardCounters.lost + atTarget.length === sent);
      await waitUntil(`echoes of ${atTarget.length} arrivals`, () => atClient.length === atTarget.length);
    }
    expect(relay.forwardCounters.pushed).toBe(count);
    expect(relay.forwardCounters.lost).toBeGreaterThan(count / 4);
    expect(atTarget.length).toBeGreaterThan(count / 4);
    expect(relay.forwardCounters.lost + atTarget.length).toBe(count);
    expect(new Set(atTarget).size).toBe(atTarget.length);
    expect(sorted(atClient)).toEqual(sorted(atTarget));
  });

  it('delivers everything through timer-driven delay, jitter, reordering and duplication', async () => {
    const count = 100;
    const { relay, atTarget, atClient, send } = await setup({
      seed: 3,
      forward: { delayNs: 2_000_000, jitterNs: 3_000_000, reorderPercent: 20, reorderDelayNs: 5_000_000 },
      backward: { duplicatePercent: 20, delayNs: 1_000_000 },
    });
    for (let first = 0; first < count; first += BATCH) {
      for (let id = first; id < first + BATCH; id++) send(id);
      const sent = first + BATCH;
      await waitUntil(`${sent} arrivals`, () => atTarget.length === sent);
      await waitUntil(
        `echoes of ${sent}, duplicates included`,
        () => relay.backwardCounters.pushed === sent && atClient.length === sent + relay.backwardCounters.duplicated,
      );
    }
    expect(sorted(atTarget)).toEqual(range(count));
    expect(relay.forwardCounters.reordered).toBeGreaterThan(0);
    expect(relay.backwardCounters.duplicated).toBeGreaterThan(0);
    expect(new Set(atClient)).toEqual(new Set(range(count)));
  });

  it('closes idempotently and rejects bad options before opening anything', async () => {
    const target = await bound();
    const relay = await ChaosRelay.open({ seed: 1, forward: {}, target: { host: HOST, port: target.address().port } });
    await relay.close();
    await relay.close();
    await expect(ChaosRelay.open({ seed: 1, forward: { lossPercent: 150 }, target: { host: HOST, port: 9 } })).rejects.toThrow(/lossPercent.*150/);
    await expect(ChaosRelay.open({ seed: 1, forward: {}, target: { host: HOST, port: 70_000 } })).rejects.toThrow(/target.port.*70000/);
  });
});
