// bench_ring_ping_pong_latency: round-trip time between two worker threads, one 64-byte
// message each way, per @flux/ring wait strategy, each against a hand-written
// SharedArrayBuffer ping-pong that waits the same way, and MessagePort (what users do today)
// as the common context row.
//
//   [worker: pinger] --ring A (claim/write/publish)--> [worker: ponger]
//          ^                                                 |
//          +-------------- ring B (claim/write/publish) <----+
//   pinger times each round trip (one clock read per iteration) into an HDR histogram;
//   both sides verify every stamp.
//
//   variants (for --only), and what each ratio is against:
//   port          MessagePort postMessage(64 B) each way, both sides on the event loop (context)
//   sabAtomicsWait SAB + Atomics.wait/notify ping-pong, hand-written (lib/wait-baselines.mjs)
//   blocking      flux ring, BlockingWaitStrategy (futex via Atomics.wait)      vs sabAtomicsWait
//   sabWaitAsync  SAB + Atomics.waitAsync/notify ping-pong, on the event loop
//   async         flux ring, AsyncWaitStrategy (Atomics.waitAsync)             vs sabWaitAsync,
//                 and again vs MessagePort (event loop against event loop)
//   sabSpin       SAB ping-pong spinning on Atomics.load: the physical limit, one core per side
//   busySpin      flux ring, BusySpinWaitStrategy, one core per side           vs sabSpin
//   A spinning side never sleeps, so spinning rows are not compared with MessagePort (a busy
//   core against event-loop wake-ups). The SAB baselines check each message (stamp, and its
//   complement in the last word; in order) as the Flux sides check their stamps.
//   figures: p50 and p99 of the round trips of each run; ratio = baseline / variant.
//
// Run: node bench_ring_ping_pong_latency.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { AsyncWaitStrategy, BlockingWaitStrategy, BusySpinWaitStrategy, Ring } from '@flux/ring';
import hdr from 'hdr-histogram-js';
import { arriveAndWait, createBarrier } from './lib/barrier.mjs';
import { parseArgs, reporter, runInterleaved, runWorker, scaleOf, verify } from './lib/harness.mjs';
import { createPingPongBuffer, sabPingPongSide } from './lib/wait-baselines.mjs';

const MESSAGE_BYTES = 64;
const WAIT_TIMEOUT_MS = 10_000;

function summarize(samplesNs, count) {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  for (let i = 0; i < count; i++) histogram.recordValue(Math.max(1, Math.round(samplesNs[i])));
  return {
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
  };
}

const strategies = {
  'busy-spin': () => new BusySpinWaitStrategy(),
  blocking: () => new BlockingWaitStrategy(),
  async: () => new AsyncWaitStrategy(),
};

function send(ring, producer, stamp) {
  const sequence = producer.tryClaim(1, MESSAGE_BYTES);
  if (sequence < 0) throw new Error(`ping-pong ring full or unconnected (${sequence})`);
  ring.int32[ring.offsetOf(sequence) >> 2] = stamp;
  producer.publish(sequence, 1);
}

function take(ring, consumer) {
  const stamp = ring.int32[ring.offsetOf(consumer.nextSequence) >> 2];
  consumer.release(1);
  return stamp;
}

async function fluxSide({ role, ping, pong, pingConsumer, pongConsumer, strategy, warmup, samples, barrier }) {
  const outbound = Ring.attach(role === 'pinger' ? ping : pong);
  const inbound = Ring.attach(role === 'pinger' ? pong : ping);
  const producer = outbound.createProducer();
  const consumer = inbound.openConsumer(role === 'pinger' ? pongConsumer : pingConsumer);
  const wait = strategies[strategy]();
  const isAsync = strategy === 'async';
  const total = warmup + samples;
  const rttNs = new Float64Array(samples);
  let bad = 0;
  arriveAndWait(barrier, 2);
  let previous = performance.now();
  for (let i = 0; i < total; i++) {
    if (role === 'pinger') send(outbound, producer, i);
    const ready = isAsync ? await consumer.waitForAsync(wait, WAIT_TIMEOUT_MS) : consumer.waitFor(wait, WAIT_TIMEOUT_MS);
    if (ready === 0) throw new Error(`${role}: no message within ${WAIT_TIMEOUT_MS} ms`);
    if (take(inbound, consumer) !== i) bad++;
    if (role === 'ponger') send(outbound, producer, i);
    else {
      const now = performance.now();
      if (i >= warmup) rttNs[i - warmup] = (now - previous) * 1e6;
      previous = now;
    }
  }
  return role === 'pinger' ? { ...summarize(rttNs, samples), bad, samples } : { bad };
}

function portSide({ role, port, warmup, samples, barrier }) {
  const total = warmup + samples;
  const rttNs = new Float64Array(samples);
  const message = new Uint8Array(MESSAGE_BYTES);
  const stamp = new Int32Array(message.buffer);
  let bad = 0;
  let i = 0;
  let previous = 0;
  return new Promise((resolve) => {
    port.on('message', (received) => {
      if (new Int32Array(received.buffer, received.byteOffset, 1)[0] !== i) bad++;
      if (role === 'ponger') {
        stamp[0] = i;
        port.postMessage(message);
        if (++i === total) resolve({ bad });
        return;
      }
      const now = performance.now();
      if (i >= warmup) rttNs[i - warmup] = (now - previous) * 1e6;
      previous = now;
      if (++i === total) {
        port.close();
        resolve({ ...summarize(rttNs, samples), bad, samples });
        return;
      }
      stamp[0] = i;
      port.postMessage(message);
    });
    arriveAndWait(barrier, 2);
    if (role === 'pinger') {
      previous = performance.now();
      stamp[0] = 0;
      port.postMessage(message);
    }
  });
}

async function sabSide({ role, buffer, kind, warmup, samples, barrier }) {
  const { rttNs, bad } = await sabPingPongSide({ role, buffer, kind, warmup, samples, start: () => arriveAndWait(barrier, 2) });
  return role === 'pinger' ? { ...summarize(rttNs, samples), bad, samples } : { bad };
}

if (!isMainThread) {
  const side = { port: portSide, flux: fluxSide, sab: sabSide }[workerData.mode];
  parentPort.postMessage(await side(workerData));
}

async function runFlux(strategy, warmup, samples) {
  const ping = Ring.create({ capacity: 1024, maxMessageBytes: MESSAGE_BYTES });
  const pong = Ring.create({ capacity: 1024, maxMessageBytes: MESSAGE_BYTES });
  const shared = {
    ping: ping.handle,
    pong: pong.handle,
    pingConsumer: ping.addConsumer(),
    pongConsumer: pong.addConsumer(),
    strategy,
    warmup,
    samples,
    barrier: createBarrier(),
    mode: 'flux',
  };
  const url = new URL(import.meta.url);
  const [result, other] = await Promise.all([runWorker(url, { ...shared, role: 'pinger' }), runWorker(url, { ...shared, role: 'ponger' })]);
  verify(result.bad === 0 && other.bad === 0, `${strategy}: ${result.bad + other.bad} stamps out of order`);
  return result;
}

async function runPort(warmup, samples) {
  const { port1, port2 } = new MessageChannel();
  const shared = { warmup, samples, barrier: createBarrier(), mode: 'port' };
  const url = new URL(import.meta.url);
  const [result, other] = await Promise.all([
    runWorker(url, { ...shared, role: 'pinger', port: port1 }, [port1]),
    runWorker(url, { ...shared, role: 'ponger', port: port2 }, [port2]),
  ]);
  verify(result.bad === 0 && other.bad === 0, `MessagePort: ${result.bad + other.bad} stamps out of order`);
  return result;
}

async function runSab(kind, warmup, samples) {
  const shared = { buffer: createPingPongBuffer(), kind, warmup, samples, barrier: createBarrier(), mode: 'sab' };
  const url = new URL(import.meta.url);
  const [result, other] = await Promise.all([runWorker(url, { ...shared, role: 'pinger' }), runWorker(url, { ...shared, role: 'ponger' })]);
  verify(result.bad === 0 && other.bad === 0, `SAB ${kind}: ${result.bad + other.bad} messages corrupted or out of order`);
  return result;
}

// name: [label, what it runs, warm-up round trips, measured round trips] (full length).
const variants = {
  port: ['MessagePort round trip (event loop)', (w, n) => runPort(w, n), 2_000, 20_000],
  sabAtomicsWait: ['SAB + Atomics.wait ping-pong, hand-written', (w, n) => runSab('wait', w, n), 2_000, 20_000],
  blocking: ['flux ring, blocking wait', (w, n) => runFlux('blocking', w, n), 2_000, 20_000],
  sabWaitAsync: ['SAB + Atomics.waitAsync ping-pong, hand-written (event loop)', (w, n) => runSab('waitAsync', w, n), 2_000, 20_000],
  async: ['flux ring, async wait (event loop)', (w, n) => runFlux('async', w, n), 2_000, 20_000],
  sabSpin: ['SAB spin ping-pong, one core per side (the limit)', (w, n) => runSab('spin', w, n), 20_000, 200_000],
  busySpin: ['flux ring, busy-spin wait (one core per side)', (w, n) => runFlux('busy-spin', w, n), 20_000, 200_000],
};

if (isMainThread) {
  const args = parseArgs({ variants: Object.keys(variants) });
  const scale = scaleOf(args);
  const count = (n) => Math.max(10, Math.round(n * scale));
  const report = reporter(
    'ring_ping_pong_latency',
    args,
    '  pinger worker <-> ponger worker (one 64 B message each way); round trip, HDR percentiles; each Flux wait against the hand-written SAB ping-pong that waits the same way',
    {
      messageBytes: MESSAGE_BYTES,
      samplesPerRun: Object.entries(variants)
        .map(([name, [, , , samples]]) => `${name} ${count(samples)}`)
        .join(', '),
      spinning: 'sabSpin and busySpin keep both cores busy; they are compared with each other only, never with an event-loop row',
      runs: args.runs,
    },
  );
  const { measured, method } = await runInterleaved(args, Object.keys(variants), (name) => {
    const [, run, warmup, samples] = variants[name];
    return run(count(warmup), count(samples));
  });
  const recordAgainst = (name, baselines) => {
    const out = {};
    for (const percentile of ['p50', 'p99']) {
      out[percentile] = report.record({
        variant: variants[name][0],
        metric: `rtt_${percentile}`,
        unit: 'ns',
        values: measured[name]?.map((r) => r[percentile]),
        baseline: baselines[percentile] ?? null,
        better: 'lower',
      });
    }
    return out;
  };
  const port = recordAgainst('port', {});
  recordAgainst('blocking', recordAgainst('sabAtomicsWait', {}));
  recordAgainst('async', recordAgainst('sabWaitAsync', {}));
  recordAgainst('async', port); // event loop against event loop: what users of MessagePort get
  recordAgainst('busySpin', recordAgainst('sabSpin', {}));
  report.method(method);
}
