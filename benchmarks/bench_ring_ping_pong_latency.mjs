// bench_ring_ping_pong_latency: round-trip time between two worker threads, one 64-byte
// message each way, per wait strategy, against MessagePort in the same run.
//
//   [worker: pinger] --ring A (claim/write/publish)--> [worker: ponger]
//          ^                                                 |
//          +-------------- ring B (claim/write/publish) <----+
//   pinger times each round trip (one clock read per iteration) into an HDR histogram;
//   both sides verify every stamp.
//   baseline: [worker] --MessagePort postMessage(64 B)--> [worker] --postMessage--> back
//
// Run: node bench_ring_ping_pong_latency.mjs [--json] [--runs N] [--quick]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { AsyncWaitStrategy, BlockingWaitStrategy, BusySpinWaitStrategy, Ring } from '@flux/ring';
import hdr from 'hdr-histogram-js';
import { arriveAndWait, createBarrier } from './lib/barrier.mjs';
import { parseArgs, reporter, scaleOf, runWorker, verify } from './lib/harness.mjs';

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

if (!isMainThread) parentPort.postMessage(await (workerData.port ? portSide(workerData) : fluxSide(workerData)));

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
  };
  const url = new URL(import.meta.url);
  const [result, other] = await Promise.all([runWorker(url, { ...shared, role: 'pinger' }), runWorker(url, { ...shared, role: 'ponger' })]);
  verify(result.bad === 0 && other.bad === 0, `${strategy}: ${result.bad + other.bad} stamps out of order`);
  return result;
}

async function runPort(warmup, samples) {
  const { port1, port2 } = new MessageChannel();
  const shared = { warmup, samples, barrier: createBarrier() };
  const url = new URL(import.meta.url);
  const [result, other] = await Promise.all([
    runWorker(url, { ...shared, role: 'pinger', port: port1 }, [port1]),
    runWorker(url, { ...shared, role: 'ponger', port: port2 }, [port2]),
  ]);
  verify(result.bad === 0 && other.bad === 0, `MessagePort: ${result.bad + other.bad} stamps out of order`);
  return result;
}

if (isMainThread) {
  const args = parseArgs();
  const scale = scaleOf(args);
  const plan = {
    'busy-spin': [20_000, 200_000],
    blocking: [2_000, 20_000],
    async: [2_000, 20_000],
  };
  const report = reporter(
    'ring_ping_pong_latency',
    args,
    '  pinger worker <-> ponger worker over two rings (one 64 B message each way); round trip, HDR percentiles',
    {
      messageBytes: MESSAGE_BYTES,
      samplesPerRun:
        Object.entries(plan)
          .map(([k, [, s]]) => `${k} ${Math.round(s * scale)}`)
          .join(', ') + `, MessagePort ${Math.round(20_000 * scale)}`,
      runs: args.runs,
    },
  );
  const results = { port: [], 'busy-spin': [], blocking: [], async: [] };
  for (let run = 0; run < args.runs; run++) {
    results.port.push(await runPort(Math.round(2_000 * scale), Math.round(20_000 * scale)));
    for (const [strategy, [warmup, samples]] of Object.entries(plan)) {
      results[strategy].push(await runFlux(strategy, Math.round(warmup * scale), Math.round(samples * scale)));
    }
  }
  const baselines = {};
  for (const percentile of ['p50', 'p99']) {
    baselines[percentile] = report.record({
      variant: 'MessagePort round trip',
      metric: `rtt_${percentile}`,
      unit: 'ns',
      values: results.port.map((r) => r[percentile]),
      better: 'lower',
    });
  }
  for (const strategy of Object.keys(plan)) {
    for (const percentile of ['p50', 'p99']) {
      report.record({
        variant: `flux ring, ${strategy} wait`,
        metric: `rtt_${percentile}`,
        unit: 'ns',
        values: results[strategy].map((r) => r[percentile]),
        baseline: baselines[percentile],
        better: 'lower',
      });
    }
  }
}
