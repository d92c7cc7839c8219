import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SLEEPERS_INDEX } from '../layout.js';
import { Ring } from '../ring.js';
import { AsyncWaitStrategy } from './async.js';
import { BlockingWaitStrategy } from './blocking.js';
import { BusySpinWaitStrategy } from './busy-spin.js';
import { PhasedWaitStrategy } from './phased.js';
import { SleepingWaitStrategy } from './sleeping.js';
import type { WaitStrategy } from './wait-strategy.js';
import { YieldingWaitStrategy } from './yielding.js';

const publisherUrl = new URL('../../test/workers/publisher.mjs', import.meta.url);
const distUrl = new URL('../../dist/index.js', import.meta.url);

const strategies: [string, () => WaitStrategy][] = [
  ['busy-spin', () => new BusySpinWaitStrategy()],
  ['yielding', () => new YieldingWaitStrategy()],
  ['sleeping', () => new SleepingWaitStrategy()],
  ['blocking', () => new BlockingWaitStrategy()],
  ['phased', () => new PhasedWaitStrategy()],
];
/** Strategies that sleep until woken: their publisher waits until they are asleep. */
const sleepers = new Set(['blocking', 'phased']);

function setup() {
  const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
  const consumer = ring.openConsumer(ring.addConsumer());
  return { ring, consumer };
}

function startPublisher(ring: Ring, awaitSleeper: boolean): Promise<void> {
  const worker = new Worker(publisherUrl, { workerData: { handle: ring.handle, awaitSleeper } });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
}

describe.each(strategies)('%s wait strategy', (name, make) => {
  it('returns the readable count at once when messages are there', () => {
    const { ring, consumer } = setup();
    ring.createProducer().offer(Uint8Array.of(1));
    expect(consumer.waitFor(make(), 0)).toBe(1);
  });

  it('returns 0 when its timeout passes with nothing published', () => {
    const { consumer } = setup();
    expect(consumer.waitFor(make(), 2)).toBe(0);
  });

  it('returns when a producer in another thread publishes', async () => {
    const { ring, consumer } = setup();
    const published = startPublisher(ring, sleepers.has(name));
    expect(consumer.waitFor(make(), 10_000)).toBe(1);
    await published;
    expect(Atomics.load(ring.int32, SLEEPERS_INDEX)).toBe(0);
  });

  it('lets a producer wait for capacity, and gives up at its timeout', () => {
    const { ring, consumer } = setup();
    const producer = ring.createProducer();
    for (let i = 0; i < 8; i++) producer.offer(Uint8Array.of(i));
    expect(producer.waitForCapacity(1, make(), 1)).toBe(false);
    consumer.poll(() => {}, 1);
    expect(producer.waitForCapacity(1, make(), 1)).toBe(true);
  });

  it('rejects a bad timeout, naming it', () => {
    const { consumer } = setup();
    expect(() => consumer.waitFor(make(), -1)).toThrow(/got -1/);
    expect(() => consumer.waitFor(make(), Number.NaN)).toThrow(RangeError);
  });
});

describe('async wait strategy', () => {
  it('resolves when a producer in another thread publishes', async () => {
    const { ring, consumer } = setup();
    const published = startPublisher(ring, true);
    expect(await consumer.waitForAsync(new AsyncWaitStrategy(), 10_000)).toBe(1);
    await published;
    expect(Atomics.load(ring.int32, SLEEPERS_INDEX)).toBe(0);
  });

  it('resolves 0 at its timeout', async () => {
    const { consumer } = setup();
    expect(await consumer.waitForAsync(new AsyncWaitStrategy(), 5)).toBe(0);
  });

  const script = (unref: boolean) => `
    import { Ring, AsyncWaitStrategy } from ${JSON.stringify(distUrl.href)};
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    const consumer = ring.openConsumer(ring.addConsumer());
    consumer.waitForAsync(new AsyncWaitStrategy(), 200, { unref: ${unref} }).then((n) => console.log('resolved ' + n));
  `;
  const run = (unref: boolean) => execFileSync(process.execPath, ['--input-type=module', '-e', script(unref)], { encoding: 'utf8', timeout: 20_000 });

  it('keeps the process alive while it waits', () => {
    expect(run(false).trim()).toBe('resolved 0');
  });

  it('lets the process exit while it waits when unref is set', () => {
    expect(run(true).trim()).toBe('');
  });
});
