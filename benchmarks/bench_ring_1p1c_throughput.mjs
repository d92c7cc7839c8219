// bench_ring_1p1c_throughput: peak throughput, one producer thread to one consumer thread,
// 64-byte messages in batches, against MessagePort and ringbuf.js at the same batch, in the
// same run: every variant at 1, 16, 256 and 1,024 messages per claim / post / push.
//
//   [worker: producer] --claim B / copy B x 64 B / stamp / publish--> (ring) --> [worker: consumer]
//                                                                     verifies every stamp and length
//   baselines, at the same B:
//   [worker] --postMessage(B x 64 B in one Uint8Array)--> [worker]   (one structured-clone copy per post)
//   [worker] --postMessage(a new B x 64 B buffer, transferred)--> [worker]  (no clone copy; one
//            allocation and one copy into it per post: transfer moves the buffer away); the
//            faster of the two MessagePort uses at each B is the ratio's base
//   [worker] --BroadcastChannel.postMessage(B x 64 B)--> [worker]    (one clone copy per post)
//   [worker] --ringbuf.js push(B x 16 int32)-->           [worker]   (SPSC ring over an Int32Array:
//            ringbuf.js copies element by element, so int32 elements move 4 bytes per step, not 1)
//   and the limit, at the same B (lib/sab-handoff.mjs):
//   [worker] --copy B x 64 B / stamp / Atomics.store(head)--> [worker]  (the least a JS ring can
//            do: two counters and fixed slots; Flux against it is "how close to the limit")
//
// Variants (for --only): flux@B, port@B, transfer@B, channel@B, ringbuf@B, sab@B for B in 1, 16, 256, 1024; a whole name
// selects that variant alone (--only flux@1), a part selects all that contain it (--only @256).
// Waits: the ring's, ringbuf.js's and the handoff's sides busy-spin (one core each); MessagePort's consumer
// (and BroadcastChannel's) is on the event loop, its producer sleeps in Atomics.wait when 256
// posts are in flight.
//
// Run: node bench_ring_1p1c_throughput.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { Ring } from '@flux/ring';
import { RingBuffer } from 'ringbuf.js';
import { arriveAndWait } from './lib/barrier.mjs';
import { parseArgs, reporter, runInterleaved, scaleOf } from './lib/harness.mjs';
import { batchTemplate, runPair, stampCheckingRingConsumer, stampingRingProducer } from './lib/pairs.mjs';
import { postingRoles } from './lib/post-batches.mjs';
import { createSabHandoff, sabHandoffConsumer, sabHandoffProducer } from './lib/sab-handoff.mjs';

const MESSAGE_BYTES = 64;
const MESSAGE_INT32S = MESSAGE_BYTES / 4;
const BATCHES = [1, 16, 256, 1024];
const RING_CAPACITY = 1 << 14;
const DEADLINE_MS = 120_000;

const template = (messages) => batchTemplate(messages, MESSAGE_BYTES);

// ---- workers ------------------------------------------------------------------------------

function fluxProducer(data) {
  return stampingRingProducer({ ...data, messageBytes: MESSAGE_BYTES, deadlineMs: DEADLINE_MS });
}

function fluxConsumer(data) {
  return stampCheckingRingConsumer({ ...data, messageBytes: MESSAGE_BYTES, deadlineMs: DEADLINE_MS });
}

function ringbufProducer({ storage, count, batch, barrier }) {
  const ring = new RingBuffer(storage, Int32Array);
  const source = new Int32Array(template(batch).buffer);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 2);
  for (let sent = 0; sent < count; sent += batch) {
    for (let i = 0; i < batch; i++) source[i * MESSAGE_INT32S] = sent + i;
    let written = 0;
    while (written < source.length) {
      written += ring.push(source, source.length - written, written);
      if (Date.now() > deadline) throw new Error('ringbuf.js producer: deadline');
    }
  }
  return {};
}

function ringbufConsumer({ storage, count, batch, barrier }) {
  const ring = new RingBuffer(storage, Int32Array);
  const target = new Int32Array(batch * MESSAGE_INT32S);
  const deadline = Date.now() + DEADLINE_MS;
  let expected = 0;
  let bad = 0;
  arriveAndWait(barrier, 2);
  const start = performance.now();
  while (expected < count) {
    let read = 0;
    while (read < target.length) {
      read += ring.pop(target, target.length - read, read);
      if (Date.now() > deadline) throw new Error('ringbuf.js consumer: deadline');
    }
    for (let i = 0; i < batch; i++) if (target[i * MESSAGE_INT32S] !== expected++) bad++;
  }
  return { elapsedMs: performance.now() - start, received: expected, bad };
}

const sabProducer = (data) => sabHandoffProducer({ ...data, deadlineMs: DEADLINE_MS });
const sabConsumer = (data) => sabHandoffConsumer({ ...data, deadlineMs: DEADLINE_MS });

// MessagePort and BroadcastChannel (lib/post-batches.mjs), at 64 B per message.
const posting = (role) => (data) => postingRoles[role]({ ...data, messageBytes: MESSAGE_BYTES, deadlineMs: DEADLINE_MS });

const roles = {
  fluxProducer,
  fluxConsumer,
  portProducer: posting('portProducer'),
  portConsumer: posting('portConsumer'),
  channelProducer: posting('channelProducer'),
  channelConsumer: posting('channelConsumer'),
  ringbufProducer,
  ringbufConsumer,
  sabProducer,
  sabConsumer,
};

if (!isMainThread) {
  const result = await roles[workerData.role](workerData);
  parentPort.postMessage(result);
}

// ---- main ---------------------------------------------------------------------------------

const pair = (...args) => runPair(new URL(import.meta.url), ...args);

async function runFlux(count, batch) {
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES });
  const consumerId = ring.addConsumer();
  return pair('fluxProducer', 'fluxConsumer', { handle: ring.handle, consumerId, count, batch });
}

async function runPort(count, batch, transfer = false) {
  const { port1, port2 } = new MessageChannel();
  const credits = new Int32Array(new SharedArrayBuffer(64));
  return pair('portProducer', 'portConsumer', { credits, count, batch, transfer }, [port1, port2]);
}

let channels = 0;
async function runChannel(count, batch) {
  const channelName = `flux-bench-${process.pid}-${channels++}`;
  return pair('channelProducer', 'channelConsumer', { channelName, credits: new Int32Array(new SharedArrayBuffer(64)), count, batch });
}

async function runRingbuf(count, batch) {
  const storage = RingBuffer.getStorageForCapacity(RING_CAPACITY * MESSAGE_INT32S, Int32Array);
  return pair('ringbufProducer', 'ringbufConsumer', { storage, count, batch });
}

async function runSab(count, batch) {
  return pair('sabProducer', 'sabConsumer', { handoff: createSabHandoff(RING_CAPACITY, MESSAGE_BYTES), count, batch });
}

// kind: [label, run, messages per full-length run at batch 1, 16, 256, 1024] (about a second each here).
const KINDS = {
  flux: [(b) => `flux ring, claim/publish ${b}`, runFlux, [5e6, 40e6, 200e6, 200e6]],
  port: [(b) => `MessagePort, ${b} x 64 B per post`, runPort, [500e3, 5e6, 20e6, 40e6]],
  transfer: [(b) => `MessagePort, ${b} x 64 B per post, transferred`, (count, batch) => runPort(count, batch, true), [500e3, 5e6, 20e6, 40e6]],
  channel: [(b) => `BroadcastChannel, ${b} x 64 B per post`, runChannel, [500e3, 5e6, 20e6, 40e6]],
  ringbuf: [(b) => `ringbuf.js (Int32Array), push ${b} x 64 B`, runRingbuf, [1e6, 10e6, 20e6, 20e6]],
  sab: [(b) => `minimal SAB handoff, ${b} per publish (the JS limit)`, runSab, [5e6, 40e6, 200e6, 200e6]],
};
const nameOf = (kind, batch) => `${kind}@${batch}`;
const VARIANTS = BATCHES.flatMap((batch) => Object.keys(KINDS).map((kind) => nameOf(kind, batch)));

if (isMainThread) {
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  const report = reporter('ring_1p1c_throughput', args, '  producer worker -> ring -> consumer worker; 64 B messages; consumer verifies every message', {
    messageBytes: MESSAGE_BYTES,
    batches: BATCHES.join(', '),
    ringCapacity: RING_CAPACITY,
    waitStrategy:
      'ring, ringbuf.js and the SAB handoff: busy spin, one core each; MessagePort and BroadcastChannel: the event loop (consumer), Atomics.wait (producer, 256 posts in flight)',
    runs: args.runs,
  });
  const { measured, method } = await runInterleaved(args, VARIANTS, (name) => {
    const [kind, batchText] = name.split('@');
    const batch = Number(batchText);
    const [, run, counts] = KINDS[kind];
    const count = Math.max(1, Math.round((counts[BATCHES.indexOf(batch)] * scale) / batch)) * batch;
    return run(count, batch);
  });
  for (const batch of BATCHES) {
    const row = (kind) => report.record({ variant: KINDS[kind][0](batch), metric: 'throughput', unit: 'msg/s', values: measured[nameOf(kind, batch)] });
    const cloned = row('port');
    const transferred = row('transfer');
    const channel = row('channel');
    // A skilled user keeps whichever MessagePort use is faster at this batch: the ratio's base.
    const port = cloned && transferred ? (transferred.value > cloned.value ? transferred : cloned) : (cloned ?? transferred);
    const ringbuf = report.record({ variant: KINDS.ringbuf[0](batch), metric: 'throughput', unit: 'msg/s', values: measured[nameOf('ringbuf', batch)] });
    const limit = report.record({ variant: KINDS.sab[0](batch), metric: 'throughput', unit: 'msg/s', values: measured[nameOf('sab', batch)] });
    const flux = measured[nameOf('flux', batch)];
    report.record({ variant: `${KINDS.flux[0](batch)} (vs MessagePort)`, metric: 'throughput', unit: 'msg/s', values: flux, baseline: port });
    report.record({ variant: `${KINDS.flux[0](batch)} (vs BroadcastChannel)`, metric: 'throughput', unit: 'msg/s', values: flux, baseline: channel });
    report.record({ variant: `${KINDS.flux[0](batch)} (vs ringbuf.js)`, metric: 'throughput', unit: 'msg/s', values: flux, baseline: ringbuf });
    report.record({ variant: `${KINDS.flux[0](batch)} (of the limit)`, metric: 'throughput', unit: 'msg/s', values: flux, baseline: limit });
  }
  report.method(method);
}
