// bench_ring_fanout: one producer thread, 1-4 consumer threads that each read every message
// (broadcast), 64-byte messages in batches of 256, against BroadcastChannel and a MessagePort
// per consumer at the same batch, in the same run.
//
//   [worker: producer] --claim 256 / copy / stamp / publish--> (ring) --> [worker: consumer 1..N]
//                                                     each consumer gates the producer and
//                                                     verifies every message in place
//   baselines, at the same 256 x 64 B per post:
//   [worker] --BroadcastChannel.postMessage-->          [worker x N]  (one clone per listener)
//   [worker] --postMessage on N MessagePorts, one each--> [worker x N]
//
// Variants (for --only): flux@N, channel@N, port@N for N in 1, 2, 3, 4 consumers.
// Waits: every side sleeps when it cannot go on (the ring: BlockingWaitStrategy, Atomics.wait;
// the baselines: the event loop, their producer Atomics.wait on credits): with up to five
// threads on this machine's two cores, spinning would measure the scheduler. The figure is
// messages per second per consumer: messages / the slowest consumer's time (start line to
// its last message); every consumer received every message.
//
// Run: node bench_ring_fanout.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { BroadcastChannel, isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { Ring } from '@flux/ring';
import { arriveAndWait, createBarrier } from './lib/barrier.mjs';
import { BatchStampChecker } from './lib/batch-stamps.mjs';
import { parseArgs, reporter, runInterleaved, runWorker, scaleOf, verify } from './lib/harness.mjs';
import { batchTemplate, stampCheckingRingConsumer, stampingRingProducer } from './lib/pairs.mjs';

const MESSAGE_BYTES = 64;
const MESSAGE_INT32S = MESSAGE_BYTES / 4;
const BATCH = 256;
const CONSUMERS = [1, 2, 3, 4];
const RING_CAPACITY = 1 << 14;
const POSTS_IN_FLIGHT = 64; // baselines: posts ahead of the slowest consumer
const DEADLINE_MS = 120_000;
const FULL_MESSAGES = { flux: 40e6, channel: 4e6, port: 4e6 }; // about a second each here, at N = 1

// ---- workers ------------------------------------------------------------------------------

// The ring's sides are the 1P1C benches' (lib/pairs.mjs), sleeping: more threads than cores.
const fluxProducer = (data) => stampingRingProducer({ ...data, messageBytes: MESSAGE_BYTES, batch: BATCH, deadlineMs: DEADLINE_MS, wait: 'blocking' });
const fluxConsumer = (data) => stampCheckingRingConsumer({ ...data, messageBytes: MESSAGE_BYTES, deadlineMs: DEADLINE_MS, wait: 'blocking' });

/** Posts batches to every endpoint in `endpoints`, at most POSTS_IN_FLIGHT ahead of the slowest consumer's credits. */
function postBatches(endpoints, { credits, count, barrier, parties }) {
  const source = batchTemplate(BATCH, MESSAGE_BYTES);
  const stamps = new Int32Array(source.buffer);
  const deadline = Date.now() + DEADLINE_MS;
  const slowest = () => {
    let min = Number.MAX_SAFE_INTEGER;
    for (let c = 0; c < parties - 1; c++) min = Math.min(min, Atomics.load(credits, c));
    return min;
  };
  arriveAndWait(barrier, parties);
  for (let sent = 0; sent < count; sent += BATCH) {
    for (let behind = slowest(); sent / BATCH - behind >= POSTS_IN_FLIGHT; behind = slowest()) {
      if (Date.now() > deadline) throw new Error('posting producer: deadline');
      Atomics.wait(credits, parties, Atomics.load(credits, parties), 1); // credits[parties]: bumped by every consumer
    }
    for (let i = 0; i < BATCH; i++) stamps[i * MESSAGE_INT32S] = sent + i;
    for (const endpoint of endpoints) endpoint.postMessage(source);
  }
  return {};
}

/** Checks every message of every posted batch; returns credit in credits[index]. */
function checkBatches(listen, close, { credits, index, count, barrier, parties }) {
  return new Promise((resolve) => {
    const checker = new BatchStampChecker(BATCH, MESSAGE_BYTES);
    let start = 0;
    listen((buffer) => {
      checker.check(buffer);
      Atomics.add(credits, index, 1);
      Atomics.add(credits, parties, 1);
      Atomics.notify(credits, parties);
      if (checker.expected >= count) {
        close();
        resolve({ elapsedMs: performance.now() - start, received: checker.expected, bad: checker.bad });
      }
    });
    arriveAndWait(barrier, parties);
    start = performance.now();
  });
}

function channelProducer(data) {
  const channel = new BroadcastChannel(data.channelName);
  postBatches([channel], data);
  channel.close(); // what it posted is still delivered
  return {};
}

function channelConsumer(data) {
  const channel = new BroadcastChannel(data.channelName);
  return checkBatches(
    (onBatch) => (channel.onmessage = (event) => onBatch(event.data)),
    () => channel.close(),
    data,
  );
}

const portProducer = (data) => postBatches(data.ports, data);
const portConsumer = (data) =>
  checkBatches(
    (onBatch) => data.port.on('message', onBatch),
    () => data.port.close(),
    data,
  );

const roles = { fluxProducer, fluxConsumer, channelProducer, channelConsumer, portProducer, portConsumer };
if (!isMainThread) parentPort.postMessage(await roles[workerData.role](workerData));

// ---- main ---------------------------------------------------------------------------------

const url = new URL(import.meta.url);

/** Runs one producer and `consumers` consumers; messages per second per consumer (the slowest one's). */
async function runGroup(kind, consumers, count, perConsumer, shared = {}, producerExtra = {}, transfer = []) {
  const parties = consumers + 1;
  const data = { ...shared, count, parties, barrier: createBarrier() };
  const reports = await Promise.all([
    runWorker(url, { ...data, ...producerExtra, role: `${kind}Producer` }, transfer),
    ...perConsumer.map((extra, index) => runWorker(url, { ...data, ...extra, index, role: `${kind}Consumer` }, extra.port ? [extra.port] : [])),
  ]);
  const results = reports.slice(1);
  for (const [i, r] of results.entries()) {
    verify(r.bad === 0, `${kind} consumer ${i}: ${r.bad} messages failed their check`);
    verify(r.received === count, `${kind} consumer ${i}: received ${r.received} of ${count}`);
  }
  return (count / Math.max(...results.map((r) => r.elapsedMs))) * 1000;
}

function runFlux(consumers, count) {
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES, maxConsumers: consumers });
  const ids = Array.from({ length: consumers }, () => ring.addConsumer());
  return runGroup(
    'flux',
    consumers,
    count,
    ids.map((consumerId) => ({ consumerId })),
    { handle: ring.handle },
  );
}

let channels = 0;
function runChannel(consumers, count) {
  const credits = new Int32Array(new SharedArrayBuffer(64));
  const channelName = `flux-fanout-${process.pid}-${channels++}`;
  return runGroup(
    'channel',
    consumers,
    count,
    Array.from({ length: consumers }, () => ({})),
    { credits, channelName },
  );
}

function runPort(consumers, count) {
  const credits = new Int32Array(new SharedArrayBuffer(64));
  const channelPairs = Array.from({ length: consumers }, () => new MessageChannel());
  const ports = channelPairs.map((c) => c.port1);
  return runGroup(
    'port',
    consumers,
    count,
    channelPairs.map((c) => ({ port: c.port2 })),
    { credits },
    { ports },
    ports,
  );
}

const KINDS = {
  flux: [(n) => `flux ring, ${n} consumer${n > 1 ? 's' : ''}, claim/publish 256`, runFlux],
  channel: [(n) => `BroadcastChannel, ${n} listener${n > 1 ? 's' : ''}, 256 x 64 B per post`, runChannel],
  port: [(n) => `MessagePort per consumer, ${n} consumer${n > 1 ? 's' : ''}, 256 x 64 B per post`, runPort],
};
const nameOf = (kind, n) => `${kind}@${n}`;
const VARIANTS = CONSUMERS.flatMap((n) => Object.keys(KINDS).map((kind) => nameOf(kind, n)));

if (isMainThread) {
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  const report = reporter(
    'ring_fanout',
    args,
    '  producer worker -> ring -> 1-4 consumer workers, each reading every message; 64 B messages, batches of 256; every consumer verifies every message',
    {
      messageBytes: MESSAGE_BYTES,
      batch: BATCH,
      ringCapacity: RING_CAPACITY,
      waitStrategy:
        'ring: blocking (Atomics.wait) on both sides; baselines: event loop (consumers), Atomics.wait on credits (producer); up to 5 threads on the cores here',
      figure: 'msg/s per consumer = messages / the slowest consumer’s time',
      runs: args.runs,
    },
  );
  const { measured, method } = await runInterleaved(args, VARIANTS, (name) => {
    const [kind, consumersText] = name.split('@');
    const consumers = Number(consumersText);
    const count = Math.max(1, Math.round((FULL_MESSAGES[kind] * scale) / consumers / BATCH)) * BATCH;
    return KINDS[kind][1](consumers, count);
  });
  for (const n of CONSUMERS) {
    const row = (kind, baseline = null, suffix = '') =>
      report.record({ variant: `${KINDS[kind][0](n)}${suffix}`, metric: 'throughput', unit: 'msg/s', values: measured[nameOf(kind, n)], baseline });
    const channel = row('channel');
    const port = row('port');
    row('flux', channel, ' (vs BroadcastChannel)');
    row('flux', port, ' (vs MessagePorts)');
  }
  report.method(method);
}
