// bench_ring_pipeline_latency: a realistic workload. Three worker threads in a pipeline, a
// source at a fixed offered rate with mixed message sizes, a stage that transforms each
// message, a sink that checks each one and measures its latency with coordinated omission
// corrected; against the same pipeline over MessagePort.
//
//   [worker: source] --ring A--> [worker: stage] --ring B--> [worker: sink]     (flux, blocking waits)
//   baseline:
//   [worker: source] --MessagePort--> [worker: stage] --MessagePort--> [worker: sink]
//
// Sizes: message i is 4,096 B when i % 20 == 0, else 512 B when i % 4 == 0, else 64 B
// (lib/pipeline-messages.mjs: the layout, and the sink's checker).
// Offered rate: the source wakes every 100 µs (Atomics.wait), works out from the schedule
// (rate x time since start) how many messages are due, and sends them. Each message carries
// the time at which it became due, not the time it was sent: time the source spends
// back-pressured or behind counts as latency (coordinated omission corrected), while a
// late wake-up of the source's own timer does not (it would add up to 100 µs to every
// message and hide the transport). The sink records (now - due time) in an HDR histogram,
// skipping the first 10% (warm-up); every message's index, length, stage mark and last
// byte are checked, so a fast wrong pipeline cannot report.
//
// Waits: the stage and the sink use BlockingWaitStrategy (a futex sleep when idle): three
// threads on a two-core machine cannot all spin, and MessagePort's receivers sleep too.
// Run: node bench_ring_pipeline_latency.mjs [--json] [--runs N] [--quick]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { BACK_PRESSURED, BlockingWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait, createBarrier } from './lib/barrier.mjs';
import { parseArgs, reporter, runWorker, verify } from './lib/harness.mjs';
import { clockSince } from './lib/one-way-latency.mjs';
import { fill, mark, MAX_MESSAGE_BYTES, PipelineChecker, sizeOf } from './lib/pipeline-messages.mjs';

const RING_CAPACITY = 4096;
const WAKE_MS = 0.1;
const DEADLINE_MS = 120_000;

/**
 * The source's loop: waits at the barrier, then calls send(index, dueNs) for each message on
 * the offered-rate schedule, sleeping WAKE_MS whenever none is due; send returns false when refused.
 */
function offerAtRate({ total, rate, epochNs, barrier }, send) {
  const clockNs = clockSince(epochNs);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 3);
  const startNs = clockNs();
  let due = 0;
  let dueNs = 0;
  for (let sent = 0; sent < total; ) {
    if (Date.now() > deadline) throw new Error(`source: deadline with ${sent} of ${total} sent`);
    const nowNs = clockNs();
    const dueNow = Math.min(total, Math.floor(((nowNs - startNs) * rate) / 1e9));
    if (dueNow > due) {
      due = dueNow;
      dueNs = nowNs; // messages that became due since the last look became due now (see above)
    }
    while (sent < due && send(sent, dueNs)) sent++;
    if (sent === due) Atomics.wait(cell, 0, 0, WAKE_MS);
  }
  return {};
}

// ---- flux: rings with blocking waits ----

function fluxSource(data) {
  const ring = Ring.attach(data.out);
  const producer = ring.createProducer();
  const bytes = ring.bytes;
  const wait = new BlockingWaitStrategy();
  return offerAtRate(data, (index, dueNs) => {
    const sequence = producer.tryClaim(1, sizeOf(index));
    if (sequence === BACK_PRESSURED) {
      if (!producer.waitForCapacity(1, wait, 1000)) throw new Error('source: the stage stopped for 1 s');
      return false;
    }
    fill(bytes, ring.offsetOf(sequence), index, dueNs);
    producer.publish(sequence, 1);
    return true;
  });
}

function fluxStage({ input, consumerId, out, total, barrier }) {
  const from = Ring.attach(input);
  const consumer = from.openConsumer(consumerId);
  const to = Ring.attach(out);
  const producer = to.createProducer();
  const wait = new BlockingWaitStrategy();
  const target = to.bytes;
  let index = 0;
  let refused = 0;
  const forward = (bytes, offset, length) => {
    let sequence = producer.tryClaim(1, length);
    while (sequence === BACK_PRESSURED) {
      if (!producer.waitForCapacity(1, wait, 1000)) throw new Error('stage: the sink stopped for 1 s');
      refused++;
      sequence = producer.tryClaim(1, length);
    }
    const at = to.offsetOf(sequence);
    target.set(bytes.subarray(offset, offset + length), at); // the transform: copy, then mark
    mark(target, at, index++);
    producer.publish(sequence, 1);
  };
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 3);
  while (index < total) {
    if (consumer.waitFor(wait, Math.max(1, deadline - Date.now())) === 0) throw new Error(`stage: deadline at ${index}`);
    consumer.poll(forward);
  }
  return { refused };
}

function fluxSink({ input, consumerId, total, epochNs, barrier }) {
  const ring = Ring.attach(input);
  const consumer = ring.openConsumer(consumerId);
  const wait = new BlockingWaitStrategy();
  const checker = new PipelineChecker(clockSince(epochNs), total);
  const check = (bytes, offset, length) => checker.check(bytes, offset, length);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 3);
  while (checker.expected < total) {
    if (consumer.waitFor(wait, Math.max(1, deadline - Date.now())) === 0) throw new Error(`sink: deadline at ${checker.expected}`);
    consumer.poll(check);
  }
  return checker.result();
}

// ---- baseline: MessagePort, one postMessage per message per hop ----

function portSource(data) {
  return offerAtRate(data, (index, dueNs) => {
    const message = new Uint8Array(sizeOf(index));
    fill(message, 0, index, dueNs);
    data.port.postMessage(message);
    return true;
  });
}

function portStage({ port, next, total, barrier }) {
  return new Promise((resolve) => {
    let index = 0;
    port.on('message', (message) => {
      mark(message, 0, index++);
      next.postMessage(message);
      if (index === total) {
        port.close();
        resolve({});
      }
    });
    arriveAndWait(barrier, 3);
  });
}

function portSink({ port, total, epochNs, barrier }) {
  return new Promise((resolve) => {
    const checker = new PipelineChecker(clockSince(epochNs), total);
    port.on('message', (message) => {
      checker.check(message, 0, message.length);
      if (checker.expected === total) {
        port.close();
        resolve(checker.result());
      }
    });
    arriveAndWait(barrier, 3);
  });
}

const roles = { fluxSource, fluxStage, fluxSink, portSource, portStage, portSink };
if (!isMainThread) parentPort.postMessage(await roles[workerData.role](workerData));

async function runPipeline(kind, total, rate) {
  const url = new URL(import.meta.url);
  const shared = { total, rate, epochNs: process.hrtime.bigint().toString(), barrier: createBarrier() };
  let workers;
  if (kind === 'flux') {
    const a = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MAX_MESSAGE_BYTES });
    const b = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MAX_MESSAGE_BYTES });
    workers = [
      runWorker(url, { ...shared, role: 'fluxSource', out: a.handle }),
      runWorker(url, { ...shared, role: 'fluxStage', input: a.handle, consumerId: a.addConsumer(), out: b.handle }),
      runWorker(url, { ...shared, role: 'fluxSink', input: b.handle, consumerId: b.addConsumer() }),
    ];
  } else {
    const first = new MessageChannel();
    const second = new MessageChannel();
    workers = [
      runWorker(url, { ...shared, role: 'portSource', port: first.port1 }, [first.port1]),
      runWorker(url, { ...shared, role: 'portStage', port: first.port2, next: second.port1 }, [first.port2, second.port1]),
      runWorker(url, { ...shared, role: 'portSink', port: second.port2 }, [second.port2]),
    ];
  }
  const [, , sink] = await Promise.all(workers);
  verify(sink.bad === 0, `${kind} sink: ${sink.bad} messages failed their check`);
  verify(sink.received === total, `${kind} sink: received ${sink.received} of ${total}`);
  return sink;
}

if (isMainThread) {
  const args = parseArgs();
  const rates = args.quick || args.smoke ? [50_000] : [50_000, 200_000];
  const seconds = args.smoke ? 0.2 : args.quick ? 1 : 2;
  const report = reporter(
    'ring_pipeline_latency',
    args,
    '  source worker -> ring -> stage worker -> ring -> sink worker, fixed offered rate, mixed sizes; latency from due time (coordinated omission corrected)',
    { messageBytes: '64 (75%) / 512 (20%) / 4096 (5%)', ringCapacity: RING_CAPACITY, waitStrategy: 'blocking (futex)', runs: args.runs },
  );
  for (const rate of rates) {
    const total = Math.round(rate * seconds);
    const flux = [];
    const port = [];
    for (let run = 0; run < args.runs; run++) {
      flux.push(await runPipeline('flux', total, rate));
      port.push(await runPipeline('port', total, rate));
    }
    const rateText = `${rate / 1000}k msg/s`;
    for (const [metric, key] of [
      ['lat_p50', 'p50'],
      ['lat_p99', 'p99'],
      ['lat_p99.9', 'p999'],
    ]) {
      const baseline = report.record({ variant: `MessagePort pipeline, ${rateText}`, metric, unit: 'µs', values: port.map((r) => r[key]) });
      report.record({ variant: `flux ring pipeline, ${rateText}`, metric, unit: 'µs', values: flux.map((r) => r[key]), baseline, better: 'lower' });
    }
  }
}
