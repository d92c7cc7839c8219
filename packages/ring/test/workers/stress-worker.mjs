// Stress-test worker: a producer or a consumer on a shared ring. Every message carries
// (producerId, sequence) and a payload derived from them; consumers check every byte and
// report per-producer counts. Every loop is bounded by a deadline.
//
// Runs as a worker thread (workerData, parentPort) or as a child process (the same data as
// JSON in argv[2], the result by process.send): @flux/uring's process-ring test forks it
// with `--import` of @flux/uring, which registers the shared-memory provider that opens
// the ring file the handle names.
import { parentPort, workerData as threadData } from 'node:worker_threads';
import {
  AsyncWaitStrategy,
  BlockingWaitStrategy,
  BusySpinWaitStrategy,
  PhasedWaitStrategy,
  Ring,
  SleepingWaitStrategy,
  sequenceDiff,
  YieldingWaitStrategy,
} from '../../dist/index.js';

const workerData = parentPort ? threadData : JSON.parse(process.argv[2]);
const { role, handle, strategyName, producers, messagesPerProducer, producerId, consumerId, after, deadlineMs, seed } = workerData;
const ring = Ring.attach(handle);
const strategies = {
  'busy-spin': () => new BusySpinWaitStrategy(),
  yielding: () => new YieldingWaitStrategy(),
  sleeping: () => new SleepingWaitStrategy({ maxNapMs: 0.5 }),
  blocking: () => new BlockingWaitStrategy(),
  phased: () => new PhasedWaitStrategy(),
  async: () => new BlockingWaitStrategy(), // producers wait synchronously; consumers use AsyncWaitStrategy
};
const HEADER_BYTES = 8;
const lengthFor = (sequence) => HEADER_BYTES + (sequence % (ring.maxMessageBytes - HEADER_BYTES + 1));
const fillerByte = (pid, sequence, i) => (pid * 31 + sequence * 7 + i) & 0xff;
const view = new DataView(ring.buffer);
const remainingMs = () => deadlineMs - Date.now();

function xorshift(state) {
  let x = state;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function produce() {
  const producer = ring.createProducer();
  const wait = strategies[strategyName]();
  const random = xorshift(seed + producerId * 7919 || 1);
  let sent = 0;
  while (sent < messagesPerProducer) {
    if (remainingMs() <= 0) return { error: `producer ${producerId} timed out after ${sent}` };
    const batch = Math.min(1 + Math.floor(random() * 8), messagesPerProducer - sent);
    const first = producer.tryClaim(batch, 0);
    if (first < 0) {
      producer.waitForCapacity(batch, wait, Math.min(100, Math.max(0, remainingMs())));
      continue;
    }
    if (random() < 0.02) {
      producer.abort(first, batch); // consumers must never see these
      continue;
    }
    for (let i = 0; i < batch; i++) {
      const sequence = sent + i;
      const slot = (first + i) & 0x7fffffff;
      const length = lengthFor(sequence);
      const offset = ring.offsetOf(slot);
      producer.setLength(slot, length);
      view.setUint32(offset, producerId, true);
      view.setUint32(offset + 4, sequence, true);
      for (let b = HEADER_BYTES; b < length; b++) ring.bytes[offset + b] = fillerByte(producerId, sequence, b);
    }
    producer.publish(first, batch);
    sent += batch;
  }
  return { sent };
}

function makeChecker() {
  const expected = new Array(producers).fill(0);
  let error = null;
  let received = 0;
  const handler = (bytes, offset, length, sequence) => {
    if (error) return;
    const pid = view.getUint32(offset, true);
    const seq = view.getUint32(offset + 4, true);
    if (pid >= producers) return void (error = `bad producer id ${pid}`);
    if (seq !== expected[pid]) return void (error = `producer ${pid}: expected sequence ${expected[pid]}, got ${seq}`);
    if (length !== lengthFor(seq)) return void (error = `producer ${pid} sequence ${seq}: length ${length}`);
    for (let b = HEADER_BYTES; b < length; b++) {
      if (bytes[offset + b] !== fillerByte(pid, seq, b)) return void (error = `producer ${pid} sequence ${seq}: byte ${b} corrupt`);
    }
    for (const dependency of after) {
      // a consumer that runs after others must never read past what they released
      if (sequenceDiff(ring.consumerSequence(dependency), sequence) < 0) {
        return void (error = `read sequence ${sequence} before consumer ${dependency} released it`);
      }
    }
    expected[pid]++;
    received++;
  };
  const total = producers * messagesPerProducer;
  return { handler, done: () => received === total || error !== null, result: () => ({ error, expected, received }) };
}

async function consume() {
  const consumer = ring.openConsumer(consumerId);
  const checker = makeChecker();
  const isAsync = strategyName === 'async';
  const wait = isAsync ? new AsyncWaitStrategy() : strategies[strategyName]();
  while (!checker.done()) {
    if (remainingMs() <= 0) return { ...checker.result(), error: `consumer ${consumerId} timed out`, timedOut: true };
    const timeout = Math.min(100, Math.max(0, remainingMs()));
    const ready = isAsync ? await consumer.waitForAsync(wait, timeout) : consumer.waitFor(wait, timeout);
    if (ready > 0) consumer.poll(checker.handler);
  }
  return checker.result();
}

const result = role === 'producer' ? produce() : await consume();
if (parentPort) parentPort.postMessage(result);
else process.send(result, () => process.disconnect());
