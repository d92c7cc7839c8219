// bench_ring_1p1c_throughput: peak throughput, one producer thread to one consumer thread,
// 64-byte messages in batches, against MessagePort and ringbuf.js in the same run.
//
//   [worker: producer] --claim 256 / copy 16 KiB / stamp / publish--> (ring) --> [worker: consumer]
//                                                                     verifies every stamp and length
//   baselines:
//   [worker] --postMessage(6,400 B = 100 messages)--> [worker]   (MessagePort's best: one copy per 100)
//   [worker] --ringbuf.js push(256 x 64 B)-->          [worker]   (SPSC ring, same batch)
//
// Run: node bench_ring_1p1c_throughput.mjs [--json] [--runs N] [--quick]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { Ring } from '@flux/ring';
import { RingBuffer } from 'ringbuf.js';
import { arriveAndWait } from './lib/barrier.mjs';
import { parseArgs, reporter, scaleOf } from './lib/harness.mjs';
import { batchTemplate, runPair, stampCheckingRingConsumer, stampingRingProducer } from './lib/pairs.mjs';

const MESSAGE_BYTES = 64;
const MESSAGE_INT32S = MESSAGE_BYTES / 4;
const BATCH = 256;
const MESSAGE_PORT_BATCH = 100;
const RING_CAPACITY = 1 << 14;
const DEADLINE_MS = 120_000;

const template = (messages) => batchTemplate(messages, MESSAGE_BYTES);

// ---- workers ------------------------------------------------------------------------------

function fluxProducer(data) {
  return stampingRingProducer({ ...data, messageBytes: MESSAGE_BYTES, batch: BATCH, deadlineMs: DEADLINE_MS });
}

function fluxConsumer(data) {
  return stampCheckingRingConsumer({ ...data, messageBytes: MESSAGE_BYTES, deadlineMs: DEADLINE_MS });
}

function portProducer({ port, credits, count, barrier }) {
  const source = template(MESSAGE_PORT_BATCH);
  const stamps = new Int32Array(source.buffer);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 2);
  for (let sent = 0; sent < count; sent += MESSAGE_PORT_BATCH) {
    // bounded memory: at most 256 posts in flight
    while (sent / MESSAGE_PORT_BATCH - Atomics.load(credits, 0) >= 256) {
      if (Date.now() > deadline) throw new Error('port producer: deadline');
      Atomics.wait(credits, 0, Atomics.load(credits, 0), 1);
    }
    for (let i = 0; i < MESSAGE_PORT_BATCH; i++) stamps[i * MESSAGE_INT32S] = sent + i;
    port.postMessage(source); // structured clone: one copy of 6,400 bytes
  }
  return {};
}

function portConsumer({ port, credits, count, barrier }) {
  return new Promise((resolve) => {
    let expected = 0;
    let bad = 0;
    let start = 0;
    port.on('message', (buffer) => {
      const stamps = new Int32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >> 2);
      for (let i = 0; i < MESSAGE_PORT_BATCH; i++) if (stamps[i * MESSAGE_INT32S] !== expected++) bad++;
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
      if (expected >= count) {
        port.close();
        resolve({ elapsedMs: performance.now() - start, received: expected, bad });
      }
    });
    arriveAndWait(barrier, 2);
    start = performance.now();
  });
}

function ringbufProducer({ storage, count, barrier }) {
  const ring = new RingBuffer(storage, Uint8Array);
  const source = template(BATCH);
  const stamps = new Int32Array(source.buffer);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 2);
  for (let sent = 0; sent < count; sent += BATCH) {
    for (let i = 0; i < BATCH; i++) stamps[i * MESSAGE_INT32S] = sent + i;
    let written = 0;
    while (written < source.length) {
      written += ring.push(source, source.length - written, written);
      if (Date.now() > deadline) throw new Error('ringbuf.js producer: deadline');
    }
  }
  return {};
}

function ringbufConsumer({ storage, count, barrier }) {
  const ring = new RingBuffer(storage, Uint8Array);
  const target = new Uint8Array(BATCH * MESSAGE_BYTES);
  const stamps = new Int32Array(target.buffer);
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
    for (let i = 0; i < BATCH; i++) if (stamps[i * MESSAGE_INT32S] !== expected++) bad++;
  }
  return { elapsedMs: performance.now() - start, received: expected, bad };
}

const roles = { fluxProducer, fluxConsumer, portProducer, portConsumer, ringbufProducer, ringbufConsumer };

if (!isMainThread) {
  const result = await roles[workerData.role](workerData);
  parentPort.postMessage(result);
}

// ---- main ---------------------------------------------------------------------------------

const pair = (...args) => runPair(new URL(import.meta.url), ...args);

async function runFlux(count) {
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES });
  const consumerId = ring.addConsumer();
  return pair('fluxProducer', 'fluxConsumer', { handle: ring.handle, consumerId, count });
}

async function runPort(count) {
  const { port1, port2 } = new MessageChannel();
  const credits = new Int32Array(new SharedArrayBuffer(64));
  return pair('portProducer', 'portConsumer', { credits, count }, [port1, port2]);
}

async function runRingbuf(count) {
  const storage = RingBuffer.getStorageForCapacity(RING_CAPACITY * MESSAGE_BYTES, Uint8Array);
  return pair('ringbufProducer', 'ringbufConsumer', { storage, count });
}

if (isMainThread) {
  const args = parseArgs();
  const scale = scaleOf(args);
  const report = reporter('ring_1p1c_throughput', args, '  producer worker -> ring -> consumer worker; 64 B messages; consumer verifies every message', {
    messageBytes: MESSAGE_BYTES,
    batch: BATCH,
    ringCapacity: RING_CAPACITY,
    waitStrategy: 'busy spin (poll)',
    runs: args.runs,
  });
  const flux = [];
  const port = [];
  const ringbuf = [];
  for (let run = 0; run < args.runs; run++) {
    flux.push(await runFlux(Math.round((200_000_000 * scale) / BATCH) * BATCH));
    port.push(await runPort(Math.round((20_000_000 * scale) / MESSAGE_PORT_BATCH) * MESSAGE_PORT_BATCH));
    ringbuf.push(await runRingbuf(Math.round((20_000_000 * scale) / BATCH) * BATCH));
  }
  const portResult = report.record({ variant: 'MessagePort, 6,400 B post (100 messages)', metric: 'throughput', unit: 'msg/s', values: port });
  const ringbufResult = report.record({ variant: 'ringbuf.js, push 256 x 64 B', metric: 'throughput', unit: 'msg/s', values: ringbuf });
  report.record({ variant: 'flux ring, claim/publish 256 (vs MessagePort)', metric: 'throughput', unit: 'msg/s', values: flux, baseline: portResult });
  report.record({ variant: 'flux ring, claim/publish 256 (vs ringbuf.js)', metric: 'throughput', unit: 'msg/s', values: flux, baseline: ringbufResult });
}
