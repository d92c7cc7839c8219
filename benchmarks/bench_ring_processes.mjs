// bench_ring_processes: a ring between two processes (a file under /dev/shm, mapped by
// @flux/uring's addon) against what processes on one host use instead, a Unix domain
// socket, and against the same ring between two threads, in the same run.
//
//   throughput, 64 B messages, one producer -> one consumer, both busy-spinning (one core each):
//   processes       [process: producer] --claim 256 / copy / stamp / publish--> ring file --> [process: consumer]
//   threadsMapped   the same ring file, opened by two worker threads of one process
//   threadsShared   the thread ring (a SharedArrayBuffer) between two worker threads: today's ring
//   unixSocket      [process] --node:net over a socket path, 1,024 length-prefixed 64 B messages
//                   per write, waiting for 'drain'--> [process] (reassembles and checks each)
//   The consumer checks every message's stamp (its index) and length; rate = messages /
//   consumer elapsed, first message to last.
//
//   round trip (ping-pong, one 8-byte message each way; p50 of 200,000 round trips after 20,000
//   warm-up when spinning, of 20,000 after 2,000 when waiting):
//   spinProcesses   two processes, busy-spin on the ring file                    (one core each)
//   spinThreads     two threads, busy-spin on a SharedArrayBuffer ring           (the same, threads)
//   futexProcesses  two processes, BlockingWaitStrategy: a futex on the file     vs
//   waitThreads     two threads, BlockingWaitStrategy: Atomics.wait
//   asyncProcesses  two processes, AsyncWaitStrategy: an io_uring FUTEX_WAIT whose completion
//                   wakes the event loop (Linux 6.7; else a futex wait on a libuv pool thread:
//                   the conditions line says which)                               vs
//   asyncThreads    two threads, AsyncWaitStrategy: Atomics.waitAsync
//
// Run: node bench_ring_processes.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import net from 'node:net';
import { rmSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { AsyncWaitStrategy, BlockingWaitStrategy, BusySpinWaitStrategy, Ring } from '@flux/ring';
import { asyncFutexMechanism } from '@flux/uring'; // and, importing it, the shared-memory provider for ring files
import { median, parseArgs, reporter, runInterleaved, runWorker, scaleOf, verify } from './lib/harness.mjs';
import { LengthPrefixedReader } from './lib/length-prefixed.mjs';
import { encodeBatch } from './lib/stream-endpoints.mjs';
import { runChild, startChild } from './lib/two-process.mjs';

const MESSAGE_BYTES = 64;
const RING_BATCH = 256;
const SOCKET_BATCH = 1024;
const RING_CAPACITY = 1 << 14;
const DEADLINE_MS = 120_000;
const scriptPath = new URL(import.meta.url).pathname;

// ---- roles (a process child or a worker thread runs one) ------------------------------------

function ringProducer({ handle, count }) {
  const ring = Ring.attach(handle);
  const producer = ring.createProducer();
  const { int32, bytes } = ring;
  const template = new Uint8Array(RING_BATCH * MESSAGE_BYTES).map((_, i) => i & 0xff);
  const spin = new BusySpinWaitStrategy();
  const deadline = Date.now() + DEADLINE_MS;
  for (let sent = 0; sent < count; ) {
    const first = producer.tryClaim(RING_BATCH, MESSAGE_BYTES);
    if (first < 0) {
      verify(producer.waitForCapacity(RING_BATCH, spin, deadline - Date.now()), 'ring producer: deadline');
      continue;
    }
    const offset = ring.offsetOf(first);
    bytes.set(template, offset);
    for (let i = 0, word = offset >> 2; i < RING_BATCH; i++, word += MESSAGE_BYTES >> 2) int32[word] = sent + i;
    producer.publish(first, RING_BATCH);
    sent += RING_BATCH;
  }
  return {};
}

function ringConsumer({ handle, consumerId, count }) {
  const ring = Ring.attach(handle);
  const consumer = ring.openConsumer(consumerId);
  const { int32, lengths, indexMask } = ring;
  const spin = new BusySpinWaitStrategy();
  const deadline = Date.now() + DEADLINE_MS;
  let expected = 0;
  let bad = 0;
  let start = 0;
  while (expected < count) {
    const n = consumer.waitFor(spin, deadline - Date.now());
    verify(n > 0, 'ring consumer: deadline');
    if (expected === 0) start = performance.now();
    let sequence = consumer.nextSequence;
    for (let i = 0; i < n; i++) {
      if (int32[ring.offsetOf(sequence) >> 2] !== expected || lengths[sequence & indexMask] !== MESSAGE_BYTES) bad++;
      expected++;
      sequence = (sequence + 1) & 0x7fffffff;
    }
    consumer.release(n);
  }
  // The first batch's arrival starts the clock: the rate counts the messages after it.
  return { elapsedMs: performance.now() - start, timed: expected - RING_BATCH, received: expected, bad };
}

async function socketProducer({ socketPath, count }) {
  const socket = net.connect(socketPath);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let index = 0;
  const fill = (buffer, offset) => {
    buffer.writeUInt32LE(index++, offset);
    buffer.fill(0x5a, offset + 4, offset + MESSAGE_BYTES);
  };
  for (let sent = 0; sent < count; sent += SOCKET_BATCH) {
    if (!socket.write(encodeBatch(SOCKET_BATCH, MESSAGE_BYTES, fill))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await new Promise((resolve) => socket.end(resolve));
  return {};
}

async function socketConsumer({ socketPath, count }, ready) {
  let expected = 0;
  let bad = 0;
  let start = 0;
  let end = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const reader = new LengthPrefixedReader(MESSAGE_BYTES, (bytes, offset, length) => {
    const stamp = bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24); // a Buffer, or the reader's Uint8Array for a cut frame
    if (stamp !== expected || length !== MESSAGE_BYTES) bad++;
    expected++;
    if (expected === SOCKET_BATCH) start = performance.now();
    if (expected === count) {
      end = performance.now();
      done();
    }
  });
  rmSync(socketPath, { force: true });
  const server = net.createServer((socket) => socket.on('data', (chunk) => reader.push(chunk)));
  await new Promise((resolve) => server.listen(socketPath, resolve));
  ready();
  const timer = setTimeout(() => done(), DEADLINE_MS);
  await finished;
  clearTimeout(timer);
  server.close();
  rmSync(socketPath, { force: true });
  return { elapsedMs: end - start, timed: expected - SOCKET_BATCH, received: expected, bad };
}

/** Round trips per run, after a warm-up that lets V8 optimise the loop: spinning ones are ~1 µs, waking ones tens. */
const PINGS = { spin: [20_000, 200_000], blocking: [2_000, 20_000], async: [2_000, 20_000] };

/**
 * Ping-pong: `ping` publishes one 8-byte message on ring A and waits for the answer on ring B;
 * `pong` echoes. A round trip is the time between consecutive pings' answers (one clock read
 * per round trip, as bench_ring_ping_pong_latency); returns them (ns) for p50.
 */
async function pingPong({ handles, consumerIds, side: role, strategy, scale }) {
  const [outRing, inRing] = role === 'ping' ? [Ring.attach(handles[0]), Ring.attach(handles[1])] : [Ring.attach(handles[1]), Ring.attach(handles[0])];
  const producer = outRing.createProducer();
  const consumer = inRing.openConsumer(role === 'ping' ? consumerIds[1] : consumerIds[0]);
  const wait = strategy === 'spin' ? new BusySpinWaitStrategy() : strategy === 'blocking' ? new BlockingWaitStrategy() : new AsyncWaitStrategy();
  const isAsync = strategy === 'async';
  const [warmup, samples] = PINGS[strategy].map((n) => Math.max(10, Math.round(n * scale)));
  const rtts = new Float64Array(samples);
  const send = (stamp) => {
    const first = producer.tryClaim(1, 8);
    verify(first >= 0, `${role}: ring full or unconnected (${first})`);
    outRing.int32[outRing.offsetOf(first) >> 2] = stamp;
    producer.publish(first, 1);
  };
  let bad = 0;
  let previous = performance.now();
  for (let i = 0; i < warmup + samples; i++) {
    if (role === 'ping') send(i);
    const ready = isAsync ? await consumer.waitForAsync(wait, 10_000) : consumer.waitFor(wait, 10_000);
    verify(ready > 0, `${role}: no message within 10 s`);
    if (inRing.int32[inRing.offsetOf(consumer.nextSequence) >> 2] !== i) bad++;
    consumer.release(1);
    if (role === 'pong') send(i);
    else {
      const now = performance.now();
      if (i >= warmup) rtts[i - warmup] = (now - previous) * 1e6;
      previous = now;
    }
  }
  verify(bad === 0, `${role}: ${bad} answers out of order`);
  return { p50: role === 'ping' ? median(rtts) : 0 }; // one number back over IPC, not the samples
}

const roles = { ringProducer, ringConsumer, socketProducer, socketConsumer, pingPong };

if (!isMainThread) {
  parentPort.postMessage(await roles[workerData.role](workerData));
} else if (process.argv.includes('--role')) {
  const role = process.argv[process.argv.indexOf('--role') + 1];
  await runChild(
    role,
    {
      [role]: async (start) => {
        if (role !== 'socketConsumer') return roles[start.fn](start);
        return socketConsumer(start, () => process.send({ type: 'listening' }));
      },
    },
    DEADLINE_MS,
  );
}

// ---- main ---------------------------------------------------------------------------------

let serial = 0;
let roundTripScale = 1;
const uniqueName = () => `bench-${process.pid}-${serial++}`;

/** Runs two roles in two child processes; `first` starts first (and may announce 'listening'). */
async function inProcesses(first, second, waitForListening = false) {
  const a = startChild(scriptPath, first.role);
  const b = startChild(scriptPath, second.role);
  const deadline = Date.now() + DEADLINE_MS;
  try {
    a.send({ type: 'start', fn: first.role, ...first.data });
    if (waitForListening) await a.next('listening', deadline);
    b.send({ type: 'start', fn: second.role, ...second.data });
    const [ra, rb] = await Promise.all([a.next('result', deadline), b.next('result', deadline)]);
    return [ra, rb];
  } finally {
    a.stop();
    b.stop();
  }
}

async function inThreads(first, second) {
  return Promise.all([
    runWorker(new URL(import.meta.url), { ...first.data, role: first.role }),
    runWorker(new URL(import.meta.url), { ...second.data, role: second.role }),
  ]);
}

function rateOf(result, count) {
  verify(result.bad === 0, `${result.bad} messages failed their check`);
  verify(result.received === count, `received ${result.received} of ${count}`);
  return (result.timed / result.elapsedMs) * 1000;
}

async function throughputRing(count, where) {
  const mapped = where !== 'threadsShared';
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES, ...(mapped ? { name: uniqueName() } : {}) });
  try {
    const consumerId = ring.addConsumer();
    const data = { handle: ring.handle, consumerId, count };
    const run = where === 'processes' ? inProcesses : inThreads;
    const [, consumer] = await run({ role: 'ringProducer', data }, { role: 'ringConsumer', data });
    return rateOf(consumer, count);
  } finally {
    if (mapped) rmSync(ring.path, { force: true });
  }
}

async function throughputSocket(count) {
  const socketPath = `/tmp/flux-bench-${process.pid}-${serial++}.sock`;
  const data = { socketPath, count };
  const [consumer] = await inProcesses({ role: 'socketConsumer', data }, { role: 'socketProducer', data }, true);
  return rateOf(consumer, count);
}

async function roundTrip(where, strategy) {
  const mapped = where === 'processes';
  const rings = [0, 1].map(() => Ring.create({ capacity: 64, maxMessageBytes: 8, ...(mapped ? { name: uniqueName() } : {}) }));
  try {
    const consumerIds = rings.map((ring) => ring.addConsumer());
    const data = { handles: rings.map((ring) => ring.handle), consumerIds, strategy, scale: roundTripScale };
    const run = mapped ? inProcesses : inThreads;
    const [ping] = await run({ role: 'pingPong', data: { ...data, side: 'ping' } }, { role: 'pingPong', data: { ...data, side: 'pong' } });
    return ping.p50;
  } finally {
    if (mapped) for (const ring of rings) rmSync(ring.path, { force: true });
  }
}

/** Asked in the parent only: asking makes this thread's io_uring futex waiter. */
const mainAsyncMechanism = isMainThread && !process.argv.includes('--role') ? asyncFutexMechanism() : '';

const THROUGHPUT = {
  processes: ['flux ring between processes (a /dev/shm file), 256 x 64 B per claim, busy spin', (count) => throughputRing(count, 'processes'), 100e6],
  threadsMapped: [
    'flux ring between threads on the same mapped file, 256 x 64 B per claim, busy spin',
    (count) => throughputRing(count, 'threadsMapped'),
    100e6,
  ],
  threadsShared: [
    'flux ring between threads on a SharedArrayBuffer, 256 x 64 B per claim, busy spin',
    (count) => throughputRing(count, 'threadsShared'),
    100e6,
  ],
  unixSocket: ['Unix domain socket (node:net over a path), 1,024 x 64 B length-prefixed per write', throughputSocket, 10e6],
};
const ROUND_TRIPS = {
  spinProcesses: ['round trip between processes, busy spin (one core each)', () => roundTrip('processes', 'spin')],
  spinThreads: ['round trip between threads, busy spin (one core each)', () => roundTrip('threads', 'spin')],
  futexProcesses: ['round trip between processes, blocking wait (futex on the file)', () => roundTrip('processes', 'blocking')],
  waitThreads: ['round trip between threads, blocking wait (Atomics.wait)', () => roundTrip('threads', 'blocking')],
  asyncProcesses: [`round trip between processes, async wait (futex: ${mainAsyncMechanism}, event loop)`, () => roundTrip('processes', 'async')],
  asyncThreads: ['round trip between threads, async wait (Atomics.waitAsync, event loop)', () => roundTrip('threads', 'async')],
};
const VARIANTS = [...Object.keys(THROUGHPUT), ...Object.keys(ROUND_TRIPS)];

if (isMainThread && !process.argv.includes('--role')) {
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  roundTripScale = scale;
  const report = reporter(
    'ring_processes',
    args,
    '  producer -> ring file in /dev/shm -> consumer, in two processes; against a Unix socket and the thread ring; 64 B; every message checked',
    {
      messageBytes: MESSAGE_BYTES,
      ringBatch: RING_BATCH,
      socketBatch: SOCKET_BATCH,
      ringCapacity: RING_CAPACITY,
      roundTrips: `p50 of ${PINGS.spin[1] * scale} (spin) or ${PINGS.blocking[1] * scale} (waits) after a warm-up of a tenth as many`,
      asyncFutex: mainAsyncMechanism,
      runs: args.runs,
    },
  );
  const { measured, method } = await runInterleaved(args, VARIANTS, (name) => {
    if (THROUGHPUT[name]) {
      const [, run, full] = THROUGHPUT[name];
      const count = Math.max(4, Math.round((full * scale) / SOCKET_BATCH)) * SOCKET_BATCH;
      return run(count);
    }
    return ROUND_TRIPS[name][1]();
  });
  const row = (table, name, metric, unit, baseline) => report.record({ variant: table[name][0], metric, unit, values: measured[name], baseline });
  const socket = row(THROUGHPUT, 'unixSocket', 'throughput', 'msg/s');
  const shared = row(THROUGHPUT, 'threadsShared', 'throughput', 'msg/s');
  const mappedThreads = row(THROUGHPUT, 'threadsMapped', 'throughput', 'msg/s');
  if (measured.processes) {
    report.record({
      variant: `${THROUGHPUT.processes[0]} (vs a Unix socket)`,
      metric: 'throughput',
      unit: 'msg/s',
      values: measured.processes,
      baseline: socket,
    });
    report.record({
      variant: `${THROUGHPUT.processes[0]} (of threads on the same file)`,
      metric: 'throughput',
      unit: 'msg/s',
      values: measured.processes,
      baseline: mappedThreads,
    });
  }
  if (measured.threadsMapped)
    report.record({
      variant: `${THROUGHPUT.threadsMapped[0]} (of the SharedArrayBuffer ring)`,
      metric: 'throughput',
      unit: 'msg/s',
      values: measured.threadsMapped,
      baseline: shared,
    });
  const latency = (name, baseline) =>
    report.record({ variant: ROUND_TRIPS[name][0], metric: 'p50', unit: 'ns', values: measured[name], baseline, better: 'lower' });
  latency('spinProcesses', latency('spinThreads'));
  latency('futexProcesses', latency('waitThreads'));
  latency('asyncProcesses', latency('asyncThreads'));
  report.method(method);
}
