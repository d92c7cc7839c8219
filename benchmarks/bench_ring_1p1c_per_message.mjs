// bench_ring_1p1c_per_message: one claim and one publish per message, 64 bytes written in
// place, one producer thread to one consumer thread, against MessagePort posting each message.
//
//   [worker: producer] --claim 1 / 16 x int32 store in place / publish--> (ring) --> [worker: consumer]
//   [worker: producer] --offer(64 B Uint8Array): claim / copy / publish--> (ring) --> [worker: consumer]
//   baselines:
//   [worker] --MessagePort.postMessage(64 B Uint8Array) per message--> [worker]
//   [worker] --BroadcastChannel.postMessage(64 B Uint8Array) per message--> [worker]
//
// The consumer reads in place, in whatever batches are ready, and verifies every message.
// Run: node bench_ring_1p1c_per_message.mjs [--json] [--runs N] [--quick]
import { BroadcastChannel, isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { BusySpinWaitStrategy, Ring } from '@flux/ring';
import { arriveAndWait } from './lib/barrier.mjs';
import { parseArgs, reporter, scaleOf } from './lib/harness.mjs';
import { runPair, stampCheckingRingConsumer } from './lib/pairs.mjs';

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

const roles = { fluxProducer, fluxConsumer, portProducer, portConsumer, channelProducer, channelConsumer };
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

if (isMainThread) {
  const args = parseArgs();
  const scale = scaleOf(args);
  const report = reporter(
    'ring_1p1c_per_message',
    args,
    '  producer worker -> ring -> consumer worker; one claim/publish per 64 B message; consumer verifies every message',
    { messageBytes: MESSAGE_BYTES, ringCapacity: RING_CAPACITY, waitStrategy: 'busy spin', runs: args.runs },
  );
  const inPlace = [];
  const copied = [];
  const port = [];
  const channel = [];
  for (let run = 0; run < args.runs; run++) {
    inPlace.push(await runFlux(Math.round(40_000_000 * scale), false));
    copied.push(await runFlux(Math.round(20_000_000 * scale), true));
    port.push(await runPort(Math.round(1_000_000 * scale)));
    channel.push(await runChannel(Math.round(1_000_000 * scale)));
  }
  const baseline = report.record({ variant: 'MessagePort, postMessage per 64 B message', metric: 'throughput', unit: 'msg/s', values: port });
  const channelBaseline = report.record({ variant: 'BroadcastChannel, postMessage per 64 B message', metric: 'throughput', unit: 'msg/s', values: channel });
  report.record({ variant: 'flux ring, claim/publish 1, written in place', metric: 'throughput', unit: 'msg/s', values: inPlace, baseline });
  report.record({ variant: 'flux ring, offer() (one copy per message)', metric: 'throughput', unit: 'msg/s', values: copied, baseline });
  report.record({ variant: 'flux ring, offer() (vs BroadcastChannel)', metric: 'throughput', unit: 'msg/s', values: copied, baseline: channelBaseline });
}
