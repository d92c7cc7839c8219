// bench_ring_1p1c_per_message: one claim and one publish per message, 64 bytes written in
// place, one producer thread to one consumer thread, against MessagePort posting each message.
//
//   [worker: producer] --claim 1 / 16 x int32 store in place / publish--> (ring) --> [worker: consumer]
//   [worker: producer] --offer(64 B Uint8Array): claim / copy / publish--> (ring) --> [worker: consumer]
//   baselines:
//   [worker] --MessagePort.postMessage(64 B Uint8Array) per message--> [worker]
//   [worker] --BroadcastChannel.postMessage(64 B Uint8Array) per message--> [worker]
//   the limit (lib/sab-handoff.mjs):
//   [worker] --16 x int32 store in place / Atomics.store(head) per message--> [worker]
//            (the least a JS ring can do per message: Flux against it is "how close to the limit")
//
// The consumer reads in place, in whatever batches are ready, and verifies every message.
// Variants (for --only): inPlace, offer, port, channel, sab.
// Run: node bench_ring_1p1c_per_message.mjs [--json] [--runs N] [--quick] [--only NAMES] [--help]
import { BroadcastChannel, isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { BusySpinWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait } from './lib/barrier.mjs';
import { parseArgs, reporter, runInterleaved, scaleOf } from './lib/harness.mjs';
import { runPair, stampCheckingRingConsumer } from './lib/pairs.mjs';
import { createSabHandoff, sabHandoffConsumer, sabHandoffProducer } from './lib/sab-handoff.mjs';

const MESSAGE_BYTES = 64;
const MESSAGE_INT32S = MESSAGE_BYTES / 4;
const RING_CAPACITY = 1 << 14;
const DEADLINE_MS = 120_000;

function fluxProducer({ handle, count, barrier, copy }) {
  const ring = Ring.attach(handle);
  const producer = ring.createProducer();
  const int32 = ring.int32;
  const spin = new BusySpinWaitStrategy();
  const message = new Uint8Array(MESSAGE_BYTES);
  const messageWords = new Int32Array(message.buffer);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 2);
  for (let sent = 0; sent < count; ) {
    if (copy) {
      messageWords[0] = sent;
      if (producer.offer(message) >= 0) sent++;
      else if (!producer.waitForCapacity(1, spin, deadline - Date.now())) throw new Error('producer: deadline');
      continue;
    }
    const sequence = producer.tryClaim(1, MESSAGE_BYTES);
    if (sequence < 0) {
      if (!producer.waitForCapacity(1, spin, deadline - Date.now())) throw new Error('producer: deadline');
      continue;
    }
    const word = ring.offsetOf(sequence) >> 2;
    int32[word] = sent; // the stamp the consumer checks
    for (let i = 1; i < MESSAGE_INT32S; i++) int32[word + i] = sent ^ i; // the rest of the 64 bytes
    producer.publish(sequence, 1);
    sent++;
  }
  return {};
}

function fluxConsumer(data) {
  return stampCheckingRingConsumer({ ...data, messageBytes: MESSAGE_BYTES, deadlineMs: DEADLINE_MS });
}

// The baselines post each message through `endpoint` (a MessagePort or a BroadcastChannel),
// at most RING_CAPACITY ahead of the consumer's credits, so memory stays bounded.
function postEach(endpoint, { credits, count, barrier }) {
  const message = new Uint8Array(MESSAGE_BYTES);
  const stamp = new Int32Array(message.buffer);
  const deadline = Date.now() + DEADLINE_MS;
  arriveAndWait(barrier, 2);
  for (let sent = 0; sent < count; sent++) {
    while (sent - Atomics.load(credits, 0) >= RING_CAPACITY) {
      if (Date.now() > deadline) throw new Error('posting producer: deadline');
      Atomics.wait(credits, 0, Atomics.load(credits, 0), 1);
    }
    stamp[0] = sent;
    endpoint.postMessage(message);
  }
  return {};
}

/** Checks each posted message's stamp, returning credits every 256; `listen(onMessage)` subscribes. */
function checkEach(listen, close, { credits, count, barrier }) {
  return new Promise((resolve) => {
    let expected = 0;
    let bad = 0;
    let start = 0;
    listen((message) => {
      if (message.length !== MESSAGE_BYTES || new Int32Array(message.buffer, message.byteOffset, 1)[0] !== expected) bad++;
      expected++;
      if ((expected & 255) === 0) {
        Atomics.store(credits, 0, expected);
        Atomics.notify(credits, 0);
      }
      if (expected >= count) {
        close();
        resolve({ elapsedMs: performance.now() - start, received: expected, bad });
      }
    });
    arriveAndWait(barrier, 2);
    start = performance.now();
  });
}

const portProducer = (data) => postEach(data.port, data);
const portConsumer = (data) =>
  checkEach(
    (onMessage) => data.port.on('message', onMessage),
    () => data.port.close(),
    data,
  );
// BroadcastChannel: one channel name per run, one sender, one listener.
function channelProducer(data) {
  const channel = new BroadcastChannel(data.channelName);
  postEach(channel, data);
  channel.close(); // what it posted is delivered: the full suite checks every message
  return {};
}
function channelConsumer(data) {
  const channel = new BroadcastChannel(data.channelName);
  return checkEach(
    (onMessage) => (channel.onmessage = (event) => onMessage(event.data)),
    () => channel.close(),
    data,
  );
}

const sabProducer = (data) => sabHandoffProducer({ ...data, batch: 1, inPlace: true, deadlineMs: DEADLINE_MS });
const sabConsumer = (data) => sabHandoffConsumer({ ...data, deadlineMs: DEADLINE_MS });

const roles = { fluxProducer, fluxConsumer, portProducer, portConsumer, channelProducer, channelConsumer, sabProducer, sabConsumer };
if (!isMainThread) parentPort.postMessage(await roles[workerData.role](workerData));

const pair = (...args) => runPair(new URL(import.meta.url), ...args);

async function runFlux(count, copy) {
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES });
  return pair('fluxProducer', 'fluxConsumer', { handle: ring.handle, consumerId: ring.addConsumer(), count, copy });
}

async function runPort(count) {
  const { port1, port2 } = new MessageChannel();
  return pair('portProducer', 'portConsumer', { credits: new Int32Array(new SharedArrayBuffer(64)), count }, [port1, port2]);
}

let channels = 0;
async function runChannel(count) {
  const channelName = `flux-bench-${process.pid}-${channels++}`;
  return pair('channelProducer', 'channelConsumer', { channelName, credits: new Int32Array(new SharedArrayBuffer(64)), count });
}

async function runSab(count) {
  return pair('sabProducer', 'sabConsumer', { handoff: createSabHandoff(RING_CAPACITY, MESSAGE_BYTES), count });
}

// name: [label, run, messages per full-length run]
const VARIANTS = {
  inPlace: ['flux ring, claim/publish 1, written in place', (count) => runFlux(count, false), 40_000_000],
  offer: ['flux ring, offer() (one copy per message)', (count) => runFlux(count, true), 20_000_000],
  port: ['MessagePort, postMessage per 64 B message', runPort, 1_000_000],
  channel: ['BroadcastChannel, postMessage per 64 B message', runChannel, 1_000_000],
  sab: ['minimal SAB handoff, 1 per publish, written in place (the JS limit)', runSab, 40_000_000],
};

if (isMainThread) {
  const args = parseArgs({ variants: Object.keys(VARIANTS) });
  const scale = scaleOf(args);
  const report = reporter(
    'ring_1p1c_per_message',
    args,
    '  producer worker -> ring -> consumer worker; one claim/publish per 64 B message; consumer verifies every message',
    {
      messageBytes: MESSAGE_BYTES,
      ringCapacity: RING_CAPACITY,
      waitStrategy: 'ring and SAB handoff: busy spin; MessagePort and BroadcastChannel: the event loop',
      runs: args.runs,
    },
  );
  const { measured, method } = await runInterleaved(args, Object.keys(VARIANTS), (name) => {
    const [, run, count] = VARIANTS[name];
    return run(Math.max(1, Math.round(count * scale)));
  });
  const row = (name, baseline = null, suffix = '') =>
    report.record({ variant: `${VARIANTS[name][0]}${suffix}`, metric: 'throughput', unit: 'msg/s', values: measured[name], baseline });
  const port = row('port');
  const channel = row('channel');
  const limit = row('sab');
  row('inPlace', port);
  row('offer', port);
  row('offer', channel, ' (vs BroadcastChannel)');
  row('inPlace', limit, ' (of the limit)');
  report.method(method);
}
