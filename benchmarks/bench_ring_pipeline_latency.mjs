// bench_ring_pipeline_latency: a realistic workload. Three worker threads in a pipeline, a
// source at a fixed offered rate with mixed message sizes, a stage that transforms each
// message, a sink that checks each one and measures its latency with coordinated omission
// corrected; against the same pipeline over MessagePort.
//
//   [worker: source] --ring A--> [worker: stage] --ring B--> [worker: sink]     (flux, blocking waits)
//   baselines:
//   [worker: source] --SAB queue--> [worker: stage] --SAB queue--> [worker: sink]   (hand-written, Atomics.wait)
//   [worker: source] --MessagePort--> [worker: stage] --MessagePort--> [worker: sink] (what users do today)
//
// Variants (for --only): flux@50k, sab@50k, port@50k, and @200k (full length only). A variant
// whose sink received under 90% of the offered rate is saturated: labelled so, no ratio.
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
// Run: node bench_ring_pipeline_latency.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { BACK_PRESSURED, BlockingWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait, createBarrier } from './lib/barrier.mjs';
import { parseArgs, reporter, runInterleaved, runWorker, verify } from './lib/harness.mjs';
import { clockSince } from './lib/one-way-latency.mjs';
import { fill, MAX_MESSAGE_BYTES, mark, PipelineChecker, sizeOf } from './lib/pipeline-messages.mjs';
import { createSabQueue, SabQueue } from './lib/wait-baselines.mjs';

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
  checker.begin();
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
    checker.begin();
  });
}

// ---- baseline: a hand-written SAB queue per hop (lib/wait-baselines.mjs), Atomics.wait when idle ----

function sabSource(data) {
  const queue = new SabQueue(data.out);
  return offerAtRate(data, (index, dueNs) => {
    const at = queue.claim(sizeOf(index), 1000); // sleeps while the queue is full
    fill(queue.bytes, at, index, dueNs);
    queue.publish();
    return true;
  });
}

function sabStage({ input, out, total, barrier }) {
  const from = new SabQueue(input);
  const to = new SabQueue(out);
  let index = 0;
  const forward = (bytes, offset, length) => {
    const at = to.claim(length, 1000);
    to.bytes.set(bytes.subarray(offset, offset + length), at); // the transform: copy, then mark
    mark(to.bytes, at, index++);
    to.publish();
  };
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 3);
  while (index < total) {
    if (Date.now() > deadline) throw new Error(`stage: deadline at ${index}`);
    from.drain(forward, 100);
  }
  return {};
}

function sabSink({ input, total, epochNs, barrier }) {
  const queue = new SabQueue(input);
  const checker = new PipelineChecker(clockSince(epochNs), total);
  const check = (bytes, offset, length) => checker.check(bytes, offset, length);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 3);
  checker.begin();
  while (checker.expected < total) {
    if (Date.now() > deadline) throw new Error(`sink: deadline at ${checker.expected}`);
    queue.drain(check, 100);
  }
  return checker.result();
}

const roles = { fluxSource, fluxStage, fluxSink, portSource, portStage, portSink, sabSource, sabStage, sabSink };
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
  } else if (kind === 'sab') {
    const a = createSabQueue(RING_CAPACITY, MAX_MESSAGE_BYTES);
    const b = createSabQueue(RING_CAPACITY, MAX_MESSAGE_BYTES);
    workers = [
      runWorker(url, { ...shared, role: 'sabSource', out: a }),
      runWorker(url, { ...shared, role: 'sabStage', input: a, out: b }),
      runWorker(url, { ...shared, role: 'sabSink', input: b }),
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

// A variant whose sink received under this share of the offered rate fell behind the schedule:
// its latency grows with the run's length, so it is reported as saturated, not as a ratio.
const SATURATED_SHARE = 0.9;
const KINDS = { flux: 'flux ring pipeline', sab: 'SAB queue pipeline, hand-written', port: 'MessagePort pipeline' };

if (isMainThread) {
  const args = parseArgs({ variants: ['flux@50k', 'sab@50k', 'port@50k', 'flux@200k', 'sab@200k', 'port@200k'] });
  const rates = args.quick || args.smoke ? [50_000] : [50_000, 200_000];
  const seconds = args.smoke ? 0.2 : args.quick ? 1 : 2;
  const report = reporter(
    'ring_pipeline_latency',
    args,
    '  source worker -> hop -> stage worker -> hop -> sink worker, fixed offered rate, mixed sizes; latency from due time (coordinated omission corrected)',
    {
      messageBytes: '64 (75%) / 512 (20%) / 4096 (5%)',
      ringCapacity: RING_CAPACITY,
      waitStrategy: 'flux: blocking (futex); SAB queue: Atomics.wait with a sleeping flag (no notify while busy); MessagePort: the event loop',
      saturated: `a variant whose sink received < ${SATURATED_SHARE * 100}% of the offered rate is labelled saturated and gets no ratio`,
      runs: args.runs,
    },
  );
  const names = rates.flatMap((rate) => Object.keys(KINDS).map((kind) => `${kind}@${rate / 1000}k`));
  const { measured, method } = await runInterleaved(args, names, (name) => {
    const [kind, rateText] = name.split('@');
    const rate = Number(rateText.slice(0, -1)) * 1000;
    return runPipeline(kind, Math.round(rate * seconds), rate);
  });
  for (const rate of rates) {
    const rateText = `${rate / 1000}k msg/s`;
    const runsOf = (kind) => measured[`${kind}@${rate / 1000}k`];
    const saturated = (kind) => (runsOf(kind) ?? []).some((r) => r.deliveredPerSecond < rate * SATURATED_SHARE);
    const label = (kind) => `${KINDS[kind]}, ${rateText}${saturated(kind) ? ' (saturated)' : ''}`;
    for (const [metric, key] of [
      ['lat_p50', 'p50'],
      ['lat_p99', 'p99'],
      ['lat_p99.9', 'p999'],
    ]) {
      const values = (kind) => runsOf(kind)?.map((r) => r[key]);
      const port = report.record({ variant: label('port'), metric, unit: 'µs', values: values('port') });
      const sab = report.record({ variant: label('sab'), metric, unit: 'µs', values: values('sab') });
      const comparable = (kind) => !saturated('flux') && !saturated(kind);
      report.record({ variant: label('flux'), metric, unit: 'µs', values: values('flux'), baseline: comparable('sab') ? sab : null, better: 'lower' });
      if (comparable('port')) report.record({ variant: label('flux'), metric, unit: 'µs', values: values('flux'), baseline: port, better: 'lower' });
    }
  }
  report.method(method);
  if (!args.json) {
    console.log('  delivered rate per run (msg/s at the sink):');
    for (const name of names) {
      if (measured[name]) console.log(`    ${name.padEnd(10)} ${measured[name].map((r) => Math.round(r.deliveredPerSecond)).join(', ')}`);
    }
  }
}
