/**
 * @flux/sdk's own pieces: worker helpers and event-loop reading across a real worker,
 * the capability report and `flux info`, counters. Every wait is bounded.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  capability,
  exited,
  exportCounters,
  FluxHandlerError,
  formatInfo,
  info,
  jsonCodec,
  messages,
  readCounters,
  readMessages,
  readStats,
  Ring,
  startWorker,
  Subscription,
  utf8Codec,
  workerRings,
} from '../src/index.js';

const PRODUCER = new URL('./workers/producer.mjs', import.meta.url);
const BIN = new URL('../bin/flux.mjs', import.meta.url).pathname;

function ringWithConsumer() {
  const ring = Ring.create({ capacity: 256, maxMessageBytes: 8 });
  const consumer = ring.openConsumer(ring.addConsumer());
  return { ring, consumer };
}

describe('worker-thread IPC through the facade', () => {
  it('hands rings to a worker and reads its messages as an async iterator, in order', async () => {
    const { ring, consumer } = ringWithConsumer();
    const worker = startWorker(PRODUCER, { rings: { out: ring }, data: { count: 20_000 } });
    const done = exited(worker);
    let received = 0;
    let wrong = 0;
    for await (const message of messages(consumer, { idleTimeoutMs: 10_000 })) {
      const view = new DataView(message.buffer, message.byteOffset, message.length);
      if (message.length !== 8 || view.getUint32(0, true) !== received || view.getUint32(4, true) !== received * 3) wrong++;
      received++;
      if (received === 20_000) break;
    }
    await done;
    expect(received).toBe(20_000);
    expect(wrong).toBe(0);
  });

  it('reads in place until the signal aborts', async () => {
    const { ring, consumer } = ringWithConsumer();
    const worker = startWorker(PRODUCER, { rings: { out: ring }, data: { count: 5_000 } });
    const controller = new AbortController();
    let last = -1;
    let wrong = 0;
    const consumed = await readMessages(
      consumer,
      (bytes, offset) => {
        const index = new DataView(bytes.buffer, bytes.byteOffset + offset).getUint32(0, true);
        if (index !== last + 1) wrong++;
        last = index;
        if (index === 4_999) controller.abort();
      },
      { signal: controller.signal, idleTimeoutMs: 10_000 },
    );
    await exited(worker);
    expect(consumed).toBe(5_000);
    expect(last).toBe(4_999);
    expect(wrong).toBe(0);
  });

  it('ends reading when nothing arrives for idleTimeoutMs, or the consumer is removed', async () => {
    const { ring, consumer } = ringWithConsumer();
    const copies: Uint8Array[] = [];
    for await (const message of messages(consumer, { idleTimeoutMs: 20 })) copies.push(message);
    expect(copies).toEqual([]);
    const reading = readMessages(consumer, () => {});
    ring.removeConsumer(consumer.id);
    expect(await reading).toBe(0);
  });

  it('knows how a worker ended even when asked after it exited', async () => {
    const { ring } = ringWithConsumer();
    const quick = startWorker(PRODUCER, { rings: { out: ring }, data: { count: 0 } });
    await new Promise((resolve) => quick.once('exit', resolve));
    await expect(exited(quick)).resolves.toBeUndefined();
    const failing = startWorker(PRODUCER, { rings: { out: ring }, data: { count: 0, fail: true } });
    await new Promise((resolve) => failing.once('exit', resolve));
    await expect(exited(failing)).rejects.toThrow(/told to fail/);
  });

  it('reports a worker that throws, and refuses bad arguments with errors naming them', async () => {
    const { ring, consumer } = ringWithConsumer();
    await expect(exited(startWorker(PRODUCER, { rings: { out: ring }, data: { count: 1, fail: true } }))).rejects.toThrow(/told to fail/);
    expect(() => workerRings()).toThrow(TypeError);
    expect(() => startWorker(PRODUCER, { rings: { out: {} as Ring } })).toThrow(/rings\.out/);
    await expect(messages(consumer, { maxBatch: 0 }).next()).rejects.toThrow(/maxBatch.*0/);
    await expect(readMessages(consumer, () => {}, { idleTimeoutMs: -1 })).rejects.toThrow(/idleTimeoutMs.*-1/);
    await expect(readMessages({} as never, () => {})).rejects.toThrow(TypeError);
  });
});

describe('typed messages on rings', () => {
  const JSON_PRODUCER = new URL('./workers/json-producer.mjs', import.meta.url);

  it('carries values from a worker through a codec (offerValue), read decoded in place by messages({ codec })', async () => {
    const ring = Ring.create({ capacity: 256, maxMessageBytes: 64 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const worker = startWorker(JSON_PRODUCER, { rings: { out: ring }, data: { count: 5_000 } });
    let wrong = 0;
    let received = 0;
    for await (const value of messages(consumer, { codec: jsonCodec<{ i: number; square: number; note: string }>(), idleTimeoutMs: 10_000 })) {
      if (value.i !== received || value.square !== received * received || value.note !== 'é') wrong++;
      received++;
      if (received === 5_000) break;
    }
    await exited(worker);
    expect([received, wrong]).toEqual([5_000, 0]);
  });

  it('workerRings(names) names a ring the worker expects and was not given, at once', async () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 64 });
    ring.addConsumer();
    const worker = startWorker(JSON_PRODUCER, {
      rings: { out: ring },
      data: { count: 1 },
      workerOptions: { env: { ...process.env, FLUX_TEST_NAMES: 'out,control' } },
    });
    await expect(exited(worker)).rejects.toThrow(/^workerRings\(\) expected rings "control", which startWorker\(\) was not given \(it gave: "out"\)$/);
    await expect(exited(worker)).rejects.toBeInstanceOf(RangeError);
  });

  it('ends the iteration with a FluxHandlerError on a message the codec cannot decode, after the values before it', async () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 16 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    producer.offerValue('"one"', utf8Codec);
    producer.offer(new Uint8Array([0x7b])); // '{': not JSON
    producer.offerValue('"three"', utf8Codec);
    const got: string[] = [];
    const reading = (async () => {
      for await (const value of messages(consumer, { codec: jsonCodec<string>(), idleTimeoutMs: 0 })) got.push(value);
    })();
    const error = await reading.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(got).toEqual(['one']);
    expect(error).toBeInstanceOf(FluxHandlerError);
    expect((error as FluxHandlerError).message).toMatch(/^codec.decode of ring sequence 1 threw: /);
    expect((error as FluxHandlerError).cause).toBeInstanceOf(SyntaxError);
    // The bad message was consumed; reading again goes on after it.
    const rest: string[] = [];
    for await (const value of messages(consumer, { codec: jsonCodec<string>(), idleTimeoutMs: 0 })) rest.push(value);
    expect(rest).toEqual(['three']);
    await expect(messages(consumer, { codec: {} as never }).next()).rejects.toThrow(/codec must be a codec/);
  });
});

describe('the capability report', () => {
  it('says what io_uring can do here, or why not, and which UDP backend auto takes', () => {
    const report = info();
    expect(report.node).toBe(process.version);
    expect(report.cores).toBeGreaterThan(0);
    expect(report.ioUring).toEqual(capability());
    expect(report.udpBackend.backend).toBe(report.ioUring.usable ? 'io_uring' : 'dgram');
    if (!report.ioUring.usable) expect(report.udpBackend.reason).not.toBe('');
    expect(report.numa.nodes.length).toBeGreaterThan(0);
    expect(formatInfo(report)).toContain(report.ioUring.usable ? 'io_uring    usable' : 'io_uring    not usable');
  });

  it('is what `flux info` prints, as text and as JSON', () => {
    const json = JSON.parse(execFileSync(process.execPath, [BIN, 'info', '--json'], { encoding: 'utf8', timeout: 20_000 }));
    expect(json.ioUring).toEqual(JSON.parse(JSON.stringify(capability())));
    const text = execFileSync(process.execPath, [BIN, 'info'], { encoding: 'utf8', timeout: 20_000 });
    expect(text).toContain(`node        ${process.version}`);
    expect(() => execFileSync(process.execPath, [BIN, 'nonsense'], { stdio: 'pipe', timeout: 20_000 })).toThrow(/usage: flux info/);
  });
});

describe('flux rings', () => {
  it('lists the ring files of a directory with their geometry, consumers and holders (text and --json)', () => {
    const directory = mkdtempSync('/dev/shm/flux-sdk-test-');
    try {
      const ring = Ring.create({ path: `${directory}/flux-ring.prices`, capacity: 64, maxMessageBytes: 16 });
      ring.openConsumer(ring.addConsumer()); // this process reads as consumer 0
      ring.createProducer().offer(new Uint8Array(4));
      writeFileSync(`${directory}/flux-ring.junk`, 'not a ring');
      const json = JSON.parse(
        execFileSync(process.execPath, [BIN, 'rings', '--dir', directory, '--json', '--remove-unheld'], { encoding: 'utf8', timeout: 20_000 }),
      );
      expect(json.removed).toEqual([]); // this process holds it
      expect(json.rings.map((r: { path: string }) => r.path)).toEqual([`${directory}/flux-ring.junk`, ring.path]);
      expect(json.rings[0].error).toMatch(/of 10 bytes cannot hold a Flux ring/);
      expect(json.rings[1]).toMatchObject({
        error: '',
        capacity: 64,
        maxMessageBytes: 16,
        producerMode: 'single',
        consumers: [{ id: 0, lag: 1, pid: process.pid, alive: true }],
      });
      expect(json.rings[1].holders.map((h: { role: string }) => h.role)).toEqual(['creator', 'producer', 'consumer']);
      const text = execFileSync(process.execPath, [BIN, 'rings', '--dir', directory], { encoding: 'utf8', timeout: 20_000 });
      expect(text).toContain(`consumer 0: at ${ring.consumerSequence(0)}, 1 behind, process ${process.pid} alive`);
      expect(() => execFileSync(process.execPath, [BIN, 'rings', '--bogus'], { stdio: 'pipe', timeout: 20_000 })).toThrow(/usage: flux info/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('flux stat', () => {
  it('prints the counters other processes export, says which processes are gone, and removes their files on request', () => {
    const directory = mkdtempSync('/dev/shm/flux-sdk-test-');
    const stat = exportCounters({ directory, intervalMs: 60_000 });
    try {
      const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
      ring.openConsumer(ring.addConsumer());
      ring.createProducer().offer(new Uint8Array(2));
      stat.add('orders ring', ring);
      expect(() => stat.add('nothing', {})).toThrow(/counters/);
      expect(() => exportCounters({ directory, intervalMs: 5 })).toThrow(/intervalMs must be a number from 10/);
      stat.write();
      const gone = spawnSync('true').pid as number; // a process that has exited
      writeFileSync(`${directory}/flux-stat.${gone}.json`, JSON.stringify({ pid: gone, startTicks: 1, intervalMs: 1000, updatedAtMs: 0, objects: {} }));
      const run = (...args: string[]) => execFileSync(process.execPath, [BIN, 'stat', '--dir', directory, ...args], { encoding: 'utf8', timeout: 20_000 });
      const files = JSON.parse(run('--json'));
      expect(files.map((f: { pid: number; alive: boolean }) => [f.pid, f.alive]).sort()).toEqual(
        [
          [gone, false],
          [process.pid, true],
        ].sort(),
      );
      const mine = files.find((f: { pid: number }) => f.pid === process.pid);
      expect(mine.objects['orders ring']).toEqual({ cursor: ring.cursor(), sleepers: 0, 'consumer0.sequence': ring.consumerSequence(0), 'consumer0.lag': 1 });
      expect(run('--watch', '10', '--count', '2', '--json').trim().split('\n')).toHaveLength(2);
      expect(run('--remove-stale')).toContain(`removed ${directory}/flux-stat.${gone}.json (its process is gone)`);
      expect(run()).toContain(`process ${process.pid} alive`);
      expect(() => run('--watch', '0')).toThrow(/usage: flux info/);
      stat.close();
      expect(readdirSync(directory)).toEqual([]); // close() removes this process's file
    } finally {
      stat.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('FLUX_STAT', () => {
  it('makes every publication and subscription of a process readable by flux stat with no code change, and leaves no file when it exits', async () => {
    const child = fork(new URL('./children/stat-child.mjs', import.meta.url), { env: { ...process.env, FLUX_STAT: '20' } });
    try {
      const ready = await new Promise<{ port: number; received: number }>((resolve) =>
        child.once('message', (m) => resolve(m as { port: number; received: number })),
      );
      expect(ready.received).toBe(1);
      let mine: ReturnType<typeof readStats>[number] | undefined;
      for (
        let i = 0;
        i < 500 &&
        !(
          mine &&
          Object.keys(mine.objects).length === 2 &&
          Object.values(mine.objects).every((c: Record<string, number>) => (c.messagesSent ?? c.messagesReceived) === 1)
        );
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10)); // bounded: 5 s, while the child's exporter writes every 20 ms
        mine = readStats().find((file) => file.pid === child.pid);
      }
      expect(mine?.alive).toBe(true);
      const names = Object.keys(mine?.objects ?? {}).sort();
      expect(names).toEqual([`udp publication to 127.0.0.1:${ready.port} stream 3 #2`, `udp subscription on 127.0.0.1:${ready.port} #1`]);
      expect(mine?.objects[names[0]].messagesSent).toBe(1);
      expect(mine?.objects[names[1]].messagesReceived).toBe(1);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('close');
      await exited;
      expect(readStats().some((file) => file.pid === child.pid)).toBe(false); // removed at exit
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);
});

describe('counters', () => {
  it('reads any Flux object’s counters as one flat snapshot of numbers', async () => {
    const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'dgram' });
    try {
      const counters = readCounters(subscription);
      expect(Object.keys(counters).length).toBeGreaterThan(3);
      for (const value of Object.values(counters)) expect(typeof value).toBe('number');
    } finally {
      await subscription.close();
    }
    expect(() => readCounters({ counters: 5 })).toThrow(TypeError);
  });
});
