/**
 * Rings between processes: a ring file under /dev/shm, created here and opened by child
 * processes (the ring package's stress worker, forked with `--import` of this package so it
 * can map the file). The same stress as the thread test (packages/ring/test/stress.test.ts)
 * across processes: several producers and consumers, every wait strategy, (producerId,
 * sequence) in every message, no loss, no duplicate, per-producer order, intact bytes, a
 * dependent consumer never ahead of its dependencies. And the file's header checks.
 * Runs against the built packages (dist/), as a user's processes load them.
 */
import { fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type * as RingModule from '@flux/ring';
import { runStress, type StressReport } from '../../ring/test/stress-scenario.js';
import { loadAddon } from '../src/native.js';

// Typed from the sources, loaded from dist/ (a path in a variable: typecheck runs before the build).
const RING_DIST = '../../ring/dist/index.js';
const URING_DIST = '../dist/index.js';
const { Ring, AsyncWaitStrategy, BlockingWaitStrategy, ClaimUnblocker, ringPath } = (await import(
  new URL(RING_DIST, import.meta.url).href
)) as typeof RingModule;
// Registers the shared-memory provider with that @flux/ring.
const { asyncFutexMechanism } = (await import(new URL(URING_DIST, import.meta.url).href)) as typeof import('../src/index.js');
const stressWorker = new URL('../../ring/test/workers/stress-worker.mjs', import.meta.url);
const uringEntry = new URL(URING_DIST, import.meta.url).href;

const DEADLINE_MS = 45_000;
const strategies = ['busy-spin', 'yielding', 'sleeping', 'blocking', 'phased', 'async'] as const;
const withAddon = loadAddon().binding ? it : it.skip;
const made: string[] = [];
let serial = 0;

function uniqueName(): string {
  const name = `test-${process.pid}-${serial++}`;
  made.push(ringPath(name));
  return name;
}

afterEach(() => {
  for (const path of made.splice(0)) rmSync(path, { force: true });
});

function runChild(data: object): Promise<StressReport> {
  const child = fork(stressWorker, [JSON.stringify(data)], { execArgv: ['--import', uringEntry], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: StressReport | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS + 10_000); // bounded even if a child hangs
    child.once('message', (message) => {
      result = message as StressReport;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`child exited (code ${code}, signal ${signal}) before reporting`));
    });
  });
}

describe.each(['single', 'multi'] as const)('a ring between processes, %s producer', (producerMode) => {
  it.each(strategies)(
    '%s: every message exactly once, in per-producer order, across processes',
    async (strategyName) => {
      if (!loadAddon().binding) return; // no addon: no rings between processes (the test below says why)
      const producers = producerMode === 'single' ? 1 : 2;
      const spins = strategyName === 'busy-spin' || strategyName === 'yielding';
      const messagesPerProducer = spins ? 10_000 : 30_000;
      const ring = Ring.create({ name: uniqueName(), capacity: 256, maxMessageBytes: 40, producerMode, maxConsumers: 4 });
      expect(ring.handle).toEqual({ kind: 'flux.ring', layoutVersion: 1, path: ring.path });
      await runStress(ring, { strategyName, producers, messagesPerProducer, deadlineMs: Date.now() + DEADLINE_MS, seed: 20261203 }, runChild);
    },
    120_000,
  );
});

describe('ring files', () => {
  withAddon('are created page-aligned under /dev/shm, opened by name or path, and refuse to be created twice', () => {
    const name = uniqueName();
    const ring = Ring.create({ name, capacity: 8, maxMessageBytes: 16 });
    expect(ring.path).toBe(`/dev/shm/flux-ring.${name}`);
    expect(ring.creatorPid).toBe(process.pid);
    const byName = Ring.open(name);
    const byPath = Ring.open({ path: ring.path as string });
    const attached = Ring.attach(ring.handle);
    const producer = ring.createProducer();
    const consumer = byName.openConsumer(byName.addConsumer());
    expect(producer.offer(new Uint8Array([1, 2, 3]))).toBeGreaterThanOrEqual(0);
    const seen: number[][] = [];
    consumer.poll((bytes, offset, length) => seen.push([...bytes.subarray(offset, offset + length)]));
    expect(seen).toEqual([[1, 2, 3]]);
    expect(byPath.cursor()).toBe(ring.cursor());
    expect(attached.cursor()).toBe(ring.cursor());
    expect(() => Ring.create({ name, capacity: 8, maxMessageBytes: 16 })).toThrow(/EEXIST/);
  });

  withAddon('wake a thread blocked on a mapped ring (a futex, not Atomics.wait) and time out when nothing comes', () => {
    const ring = Ring.create({ name: uniqueName(), capacity: 8, maxMessageBytes: 16 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const blocking = new BlockingWaitStrategy();
    expect(consumer.waitFor(blocking, 20)).toBe(0); // nothing published: the futex wait times out
    ring.createProducer().offer(new Uint8Array(4));
    expect(consumer.waitFor(blocking, 1_000)).toBe(1);
  });

  const loopMechanism = asyncFutexMechanism() === 'io_uring' ? 'io_uring' : 'pool thread';
  const waiters = [
    ['blocking', {}, asyncFutexMechanism()],
    ['async', {}, loopMechanism],
    ['async', { FLUX_URING: '0' }, 'pool thread'], // io_uring off: the futex wait on a libuv pool thread
  ] as const;
  for (const [strategy, env, mechanism] of waiters) {
    // The child waits 30 s; only a wake-up from this process ends it sooner, and the test's 15 s bound fails it otherwise.
    withAddon(
      `wake a ${strategy} waiter in another process (${mechanism}) when a message is published`,
      async () => {
        const ring = Ring.create({ name: uniqueName(), capacity: 8, maxMessageBytes: 16 });
        const id = ring.addConsumer();
        const child = fork(new URL('./children/ring-waiter.mjs', import.meta.url), [ring.path as string, String(id), strategy], {
          env: { ...process.env, ...env },
        });
        const messages: { waiting?: boolean; mechanism?: string; ready?: number }[] = [];
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        child.on('message', (message) => messages.push(message as { waiting?: boolean; ready?: number }));
        try {
          for (let i = 0; i < 1_000 && ring.sleepers() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10)); // bounded: 10 s
          expect(ring.sleepers()).toBe(1); // it is asleep in the futex now
          ring.createProducer().offer(new Uint8Array([7]));
          expect(await exited).toBe(0);
          expect(messages).toEqual([{ waiting: true, mechanism }, { ready: 1 }]);
          expect(ring.sleepers()).toBe(0);
        } finally {
          child.kill('SIGKILL');
        }
      },
      15_000,
    );
  }

  withAddon(
    'end an async wait on a mapped ring at its timeout (the io_uring wait is cancelled), and again after',
    async () => {
      const ring = Ring.create({ name: uniqueName(), capacity: 8, maxMessageBytes: 16 });
      const consumer = ring.openConsumer(ring.addConsumer());
      const strategy = new AsyncWaitStrategy();
      expect(await consumer.waitForAsync(strategy, 20)).toBe(0);
      expect(await consumer.waitForAsync(strategy, 20)).toBe(0);
      expect(ring.sleepers()).toBe(0);
      ring.createProducer().offer(new Uint8Array(2));
      expect(await consumer.waitForAsync(strategy, 1_000)).toBe(1);
    },
    10_000,
  );

  for (const mode of ['async', 'blocked'] as const) {
    withAddon(
      `survive terminating a worker thread with a futex waiter while it waits (${mode})`,
      async () => {
        const ring = Ring.create({ name: uniqueName(), capacity: 8, maxMessageBytes: 16 });
        const worker = new Worker(new URL('./children/futex-worker.mjs', import.meta.url), { workerData: { path: ring.path, id: ring.addConsumer(), mode } });
        await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
        expect(await worker.terminate()).toBe(1); // the environment's teardown closes its waiter: the process lives on
      },
      10_000,
    );
  }

  withAddon('are removed by Ring.removeUnheld once every process recorded in them is gone, and only then', async () => {
    const directory = mkdtempSync('/dev/shm/flux-test-');
    try {
      const [orphan, read, junk, mine] = ['orphan', 'read', 'junk', 'mine'].map((name) => `${directory}/flux-ring.${name}`);
      const child = fork(new URL('./children/ring-creator.mjs', import.meta.url), [orphan, read]);
      await new Promise((resolve) => child.once('exit', resolve));
      writeFileSync(junk, Buffer.alloc(8192)); // not a ring: never removed
      Ring.create({ path: mine, capacity: 8, maxMessageBytes: 8 }); // its creator (this process) runs
      const reader = Ring.open({ path: read });
      reader.openConsumer(0); // this process reads as consumer 0 of a ring whose creator is gone
      expect(Ring.open({ path: orphan }).holders()).toEqual([{ role: 'creator', pid: child.pid, alive: false }]);
      expect(Ring.removeUnheld(directory)).toEqual([orphan]);
      expect(readdirSync(directory).sort()).toEqual(['flux-ring.junk', 'flux-ring.mine', 'flux-ring.read']);
      expect(reader.holders()).toEqual([
        { role: 'creator', pid: child.pid, alive: false },
        { role: 'consumer', consumerId: 0, pid: process.pid, alive: true },
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  withAddon('refuse a file that is not an intact ring: not a ring, another layout version, truncated, missing', () => {
    const notRing = ringPath(uniqueName());
    writeFileSync(notRing, Buffer.alloc(8192));
    expect(() => Ring.open({ path: notRing })).toThrow(/is not a Flux ring \(magic 0x0: empty, or its creator has not finished/);

    const name = uniqueName();
    const ring = Ring.create({ name, capacity: 8, maxMessageBytes: 16 });
    const path = ring.path as string;
    const version = Buffer.alloc(4);
    version.writeInt32LE(99);
    const fd = openSync(path, 'r+');
    writeSync(fd, version, 0, 4, 4); // LAYOUT_VERSION_INDEX 1
    closeSync(fd);
    expect(() => Ring.open(name)).toThrow(/layout version 99/);

    const other = uniqueName();
    const intact = Ring.create({ name: other, capacity: 8, maxMessageBytes: 16 });
    truncateSync(intact.path as string, intact.buffer.byteLength - 64);
    expect(() => Ring.open(other)).toThrow(/does not match its header's geometry/);

    expect(() => Ring.open(uniqueName())).toThrow(/ENOENT/);
    expect(() => Ring.open({ path: '/dev/shm' })).toThrow();
  });

  withAddon('prefaultAsync maps and touches every page of a mapped file without changing a byte, for writing and for reading', async () => {
    const binding = loadAddon().binding!;
    const name = uniqueName();
    const bytes = 1 << 20;
    const buffer = binding.mapSharedFile(ringPath(name), bytes, true, 0o600);
    const words = new Int32Array(buffer);
    for (let i = 0; i < words.length; i += 7) words[i] = Math.imul(i, 2654435761); // pages 0 and not, words at every offset mod 4 KiB
    const before = Buffer.from(buffer).toString('base64');
    await binding.prefaultAsync(buffer, true);
    expect(Buffer.from(buffer).toString('base64')).toBe(before);
    await binding.prefaultAsync(buffer, false);
    expect(Buffer.from(buffer).toString('base64')).toBe(before);
    expect(() => binding.prefaultAsync(42 as unknown as ArrayBuffer, true)).toThrow(/buffer must be an ArrayBuffer/);
  });

  it('refuse bad names and options with a clear error', () => {
    expect(() => ringPath('a/b')).toThrow(/name must be/);
    expect(() => ringPath('')).toThrow(/name must be/);
    expect(() => ringPath('..')).toThrow(/name must be/);
    expect(() => Ring.create({ name: 'x', path: '/tmp/x', capacity: 8, maxMessageBytes: 8 })).toThrow(/one of path and name/);
    expect(() => Ring.create({ name: 'x', capacity: 8, maxMessageBytes: 8, mode: 0o1000 })).toThrow(/mode/);
    expect(() => Ring.open(42 as unknown as string)).toThrow(/target/);
    expect(existsSync(ringPath('x'))).toBe(false);
  });
});

describe('a process that dies holding part of a ring', () => {
  const nextMessage = <T>(child: ReturnType<typeof fork>) => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  const exitOf = (child: ReturnType<typeof fork>) =>
    new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  withAddon(
    'a SIGKILLed single producer: everything it published is read once, in order, and another process takes the producer over',
    async () => {
      const ring = Ring.create({ name: uniqueName(), capacity: 256, maxMessageBytes: 4 });
      const consumer = ring.openConsumer(ring.addConsumer());
      const child = fork(new URL('./children/ring-producer.mjs', import.meta.url), [ring.path as string]);
      const seen: number[] = [];
      const read = () => consumer.poll((_bytes, offset) => seen.push(ring.int32[offset >> 2]));
      try {
        await nextMessage(child);
        expect(ring.producerOwner()).toEqual({ pid: child.pid, alive: true });
        expect(() => ring.createProducer()).toThrow(new RegExp(`held by process ${child.pid}`));
        for (let i = 0; i < 1_000_000 && seen.length < 5_000; i++) if (read() === 0) await new Promise((resolve) => setImmediate(resolve)); // bounded
        child.kill('SIGKILL'); // mid-stream: possibly between a claim and its publish
        await exitOf(child);
        while (read() > 0) {} // what it published before it died
      } finally {
        child.kill('SIGKILL');
      }
      expect(seen.length).toBeGreaterThanOrEqual(5_000);
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i)); // no loss, no duplicate, in order
      expect(ring.producerOwner()).toEqual({ pid: child.pid, alive: false });
      const producer = ring.createProducer(); // the dead process's producer, taken over
      expect((producer as unknown as { tookOverFrom: number }).tookOverFrom).toBe(child.pid);
      expect(ring.producerOwner()).toEqual({ pid: process.pid, alive: true });
      for (let i = 0; i < 10; i++) {
        const first = producer.tryClaim(1, 4);
        ring.int32[ring.offsetOf(first) >> 2] = seen.length;
        producer.publish(first, 1);
        read();
      }
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
      expect(() => ring.createProducer()).toThrow(/held by process \d+, this one/);
    },
    30_000,
  );

  withAddon(
    'a multi-producer SIGKILLed between claim and publish: its claim is published aborted after the timeout, nothing published is lost',
    async () => {
      const ring = Ring.create({ name: uniqueName(), capacity: 64, maxMessageBytes: 4, producerMode: 'multi' });
      const consumer = ring.openConsumer(ring.addConsumer());
      const child = fork(new URL('./children/ring-claimer.mjs', import.meta.url), [ring.path as string]);
      let claimed = -1;
      try {
        claimed = (await nextMessage<{ claimed: number }>(child)).claimed;
        child.kill('SIGKILL');
        await exitOf(child);
      } finally {
        child.kill('SIGKILL');
      }
      const live = ring.createProducer();
      for (let i = 0; i < 4; i++) live.offer(new Uint8Array([2 + i, 0, 0, 0]));
      const seen: (number | 'aborted')[] = [];
      const read = () => consumer.poll((bytes, offset) => seen.push(bytes[offset])); // poll skips aborted slots
      read();
      expect(seen).toEqual([1]); // stopped at the dead claim
      const unblocker = new ClaimUnblocker(ring, 1e9);
      expect(unblocker.poll(0)).toEqual([]);
      expect(unblocker.poll(1e9)).toEqual([{ first: claimed, last: claimed + 7 }]);
      read();
      expect(seen).toEqual([1, 2, 3, 4, 5]);
    },
    30_000,
  );

  withAddon(
    'a SIGKILLed consumer process: found dead and removed, producers go on, the other consumer misses nothing',
    async () => {
      const ring = Ring.create({ name: uniqueName(), capacity: 16, maxMessageBytes: 4 });
      const live = ring.openConsumer(ring.addConsumer());
      const hung = ring.addConsumer();
      const child = fork(new URL('./children/ring-reader.mjs', import.meta.url), [ring.path as string, String(hung)]);
      const producer = ring.createProducer();
      const seen: number[] = [];
      let sent = 0;
      const offer = () => {
        const first = producer.tryClaim(1, 4);
        if (first < 0) return false;
        ring.int32[ring.offsetOf(first) >> 2] = sent++;
        producer.publish(first, 1);
        return true;
      };
      try {
        offer();
        await nextMessage(child); // it read one and hangs on to its consumer
        expect(ring.consumerOwner(hung)).toEqual({ pid: child.pid, alive: true });
        while (offer()) live.poll((_bytes, offset) => seen.push(ring.int32[offset >> 2]));
        expect(sent).toBe(17); // the hung reader holds the producer a ring behind it
        expect(ring.removeDeadConsumers()).toEqual([]); // alive: not removed
        child.kill('SIGKILL');
        await exitOf(child);
      } finally {
        child.kill('SIGKILL');
      }
      expect(ring.consumerOwner(hung)).toEqual({ pid: child.pid, alive: false });
      expect(ring.removeDeadConsumers()).toEqual([hung]);
      for (let i = 0; i < 1_000; i++) {
        expect(offer()).toBe(true); // back-pressured only by the live consumer, which keeps up
        live.poll((_bytes, offset) => seen.push(ring.int32[offset >> 2]));
      }
      live.poll((_bytes, offset) => seen.push(ring.int32[offset >> 2]));
      expect(seen).toEqual(Array.from({ length: sent }, (_, i) => i));
    },
    30_000,
  );
});
