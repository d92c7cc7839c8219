// bench_ring_mpsc: 1-4 producer threads into one consumer thread, 64-byte messages in
// batches of 256, a multi-producer ring against a MessagePort per producer into the same
// consumer, at the same batch, in the same run.
//
//   [worker: producer 1..P] --claim 256 (CAS) / copy / stamp / publish--> (multi-producer ring)
//                                                                 --> [worker: consumer]
//   baseline, at the same 256 x 64 B per post:
//   [worker: producer 1..P] --postMessage on its own MessagePort--> [worker: consumer]
//
// Each message carries its producer's number and its index among that producer's messages;
// the consumer checks that every producer's messages arrive in order, each exactly once.
// Variants (for --only): flux@P, port@P for P in 1, 2, 3, 4 producers.
// Waits: every side sleeps when it cannot go on (the ring: BlockingWaitStrategy; the
// baseline: the event loop, its producers Atomics.wait on credits): with up to five threads
// on this machine's two cores, spinning would measure the scheduler. The figure is messages
// per second into the consumer (all producers together, its start line to its last message).
//
// Run: node bench_ring_mpsc.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { BlockingWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait, createBarrier } from './lib/barrier.mjs';
import { ProducerOrderChecker } from './lib/batch-stamps.mjs';
import { parseArgs, reporter, runInterleaved, runWorker, scaleOf, verify } from './lib/harness.mjs';
import { batchTemplate } from './lib/pairs.mjs';

const MESSAGE_BYTES = 64;
const MESSAGE_INT32S = MESSAGE_BYTES / 4;
const BATCH = 256;
const PRODUCERS = [1, 2, 3, 4];
const RING_CAPACITY = 1 << 14;
const POSTS_IN_FLIGHT = 64; // baseline: posts per producer ahead of the consumer
const DEADLINE_MS = 120_000;
const FULL_MESSAGES = { flux: 40e6, port: 4e6 }; // all producers together; about a second each here

// ---- workers ------------------------------------------------------------------------------

function fluxProducer({ handle, id, perProducer, barrier, parties }) {
  const ring = Ring.attach(handle);
  const producer = ring.createProducer();
  const int32 = ring.int32;
  const source = batchTemplate(BATCH, MESSAGE_BYTES);
  const wait = new BlockingWaitStrategy();
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, parties);
  for (let sent = 0; sent < perProducer; ) {
    const first = producer.tryClaim(BATCH, MESSAGE_BYTES);
    if (first < 0) {
      if (!producer.waitForCapacity(BATCH, wait, deadline - Date.now())) throw new Error('flux producer: deadline');
      continue;
    }
    const offset = ring.offsetOf(first);
    ring.bytes.set(source, offset);
    let word = offset >> 2;
    for (let i = 0; i < BATCH; i++, word += MESSAGE_INT32S) {
      int32[word] = id;
      int32[word + 1] = sent + i;
    }
    producer.publish(first, BATCH);
    sent += BATCH;
  }
  return {};
}

function fluxConsumer({ handle, consumerId, count, producers, barrier, parties }) {
  const ring = Ring.attach(handle);
  const consumer = ring.openConsumer(consumerId);
  const { int32, lengths, indexMask } = ring;
  const wait = new BlockingWaitStrategy();
  const checker = new ProducerOrderChecker(producers);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, parties);
  const start = performance.now();
  while (checker.received < count) {
    const n = consumer.waitFor(wait, deadline - Date.now());
    if (n === 0) throw new Error('flux consumer: deadline');
    let sequence = consumer.nextSequence;
    for (let i = 0; i < n; i++) {
      const word = ring.offsetOf(sequence) >> 2;
      if (lengths[sequence & indexMask] !== MESSAGE_BYTES) checker.bad++;
      checker.check(int32[word], int32[word + 1]);
      sequence = (sequence + 1) & 0x7fffffff;
    }
    consumer.release(n);
  }
  return { elapsedMs: performance.now() - start, received: checker.received, bad: checker.bad };
}

function portProducer({ port, credits, id, perProducer, barrier, parties }) {
  const source = batchTemplate(BATCH, MESSAGE_BYTES);
  const words = new Int32Array(source.buffer);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, parties);
  for (let sent = 0; sent < perProducer; sent += BATCH) {
    while (sent / BATCH - Atomics.load(credits, id) >= POSTS_IN_FLIGHT) {
      if (Date.now() > deadline) throw new Error('posting producer: deadline');
      Atomics.wait(credits, id, Atomics.load(credits, id), 1);
    }
    for (let i = 0; i < BATCH; i++) {
      words[i * MESSAGE_INT32S] = id;
      words[i * MESSAGE_INT32S + 1] = sent + i;
    }
    port.postMessage(source); // structured clone: one copy of 256 x 64 B
  }
  return {};
}

function portConsumer({ ports, credits, count, producers, barrier, parties }) {
  return new Promise((resolve) => {
    const checker = new ProducerOrderChecker(producers);
    let start = 0;
    for (const port of ports) {
      port.on('message', (buffer) => {
        const words = new Int32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >> 2);
        if (buffer.byteLength !== BATCH * MESSAGE_BYTES) checker.bad += BATCH;
        for (let i = 0; i < BATCH; i++) checker.check(words[i * MESSAGE_INT32S], words[i * MESSAGE_INT32S + 1]);
        const id = words[0];
        if (id >= 0 && id < producers) {
          Atomics.add(credits, id, 1);
          Atomics.notify(credits, id);
        }
        if (checker.received >= count) {
          for (const p of ports) p.close();
          resolve({ elapsedMs: performance.now() - start, received: checker.received, bad: checker.bad });
        }
      });
    }
    arriveAndWait(barrier, parties);
    start = performance.now();
  });
}

const roles = { fluxProducer, fluxConsumer, portProducer, portConsumer };
if (!isMainThread) parentPort.postMessage(await roles[workerData.role](workerData));

// ---- main ---------------------------------------------------------------------------------

const url = new URL(import.meta.url);

/** Runs `producers` producers and one consumer; messages per second into the consumer. */
async function runGroup(kind, producers, perProducer, shared, producerExtra, consumerExtra, consumerTransfer = []) {
  const parties = producers + 1;
  const count = producers * perProducer;
  const data = { ...shared, producers, perProducer, count, parties, barrier: createBarrier() };
  const [consumer] = await Promise.all([
    runWorker(url, { ...data, ...consumerExtra, role: `${kind}Consumer` }, consumerTransfer),
    ...Array.from({ length: producers }, (_, id) => {
      const extra = producerExtra(id);
      return runWorker(url, { ...data, ...extra, id, role: `${kind}Producer` }, extra.port ? [extra.port] : []);
    }),
  ]);
  verify(consumer.bad === 0, `${kind} consumer: ${consumer.bad} messages failed their check`);
  verify(consumer.received === count, `${kind} consumer: received ${consumer.received} of ${count}`);
  return (count / consumer.elapsedMs) * 1000;
}

function runFlux(producers, perProducer) {
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES, producerMode: 'multi' });
  const consumerId = ring.addConsumer();
  return runGroup('flux', producers, perProducer, { handle: ring.handle }, () => ({}), { consumerId });
}

function runPort(producers, perProducer) {
  const credits = new Int32Array(new SharedArrayBuffer(64));
  const channelPairs = Array.from({ length: producers }, () => new MessageChannel());
  const ports = channelPairs.map((c) => c.port2);
  return runGroup('port', producers, perProducer, { credits }, (id) => ({ port: channelPairs[id].port1 }), { ports }, ports);
}

const KINDS = {
  flux: [(p) => `flux multi-producer ring, ${p} producer${p > 1 ? 's' : ''}, claim/publish 256`, runFlux],
  port: [(p) => `MessagePort per producer, ${p} producer${p > 1 ? 's' : ''}, 256 x 64 B per post`, runPort],
};
const nameOf = (kind, p) => `${kind}@${p}`;
const VARIANTS = PRODUCERS.flatMap((p) => Object.keys(KINDS).map((kind) => nameOf(kind, p)));

if (isMainThread) {
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  const report = reporter(
    'ring_mpsc',
    args,
    '  1-4 producer workers -> multi-producer ring -> consumer worker; 64 B messages, batches of 256; the consumer verifies every producer’s order',
    {
      messageBytes: MESSAGE_BYTES,
      batch: BATCH,
      ringCapacity: RING_CAPACITY,
      waitStrategy:
        'ring: blocking (Atomics.wait) on both sides; baseline: event loop (consumer), Atomics.wait on credits (producers); up to 5 threads on the cores here',
      figure: 'msg/s into the one consumer, all producers together',
      runs: args.runs,
    },
  );
  const { measured, method } = await runInterleaved(args, VARIANTS, (name) => {
    const [kind, producersText] = name.split('@');
    const producers = Number(producersText);
    const perProducer = Math.max(1, Math.round((FULL_MESSAGES[kind] * scale) / producers / BATCH)) * BATCH;
    return KINDS[kind][1](producers, perProducer);
  });
  for (const p of PRODUCERS) {
    const row = (kind, baseline = null) =>
      report.record({ variant: KINDS[kind][0](p), metric: 'throughput', unit: 'msg/s', values: measured[nameOf(kind, p)], baseline });
    row('flux', row('port'));
  }
  report.method(method);
}
