// bench_ring_placement_hints: does placing the threads and the ring's memory help? One
// producer thread to one consumer thread over an 8 MiB ring, with and without each of
// @flux/uring's placement hints, every variant against the unhinted ring in the same run.
// It reports which hints took effect here (applied, or the system's reason), and for huge
// pages how much of the ring the kernel actually backed with them.
//
//   [worker: producer] --claim 256 / copy 16 KiB / stamp / publish--> (ring, 131,072 x 64 B) --> [worker: consumer]
//                                                                     verifies every stamp and length
//   none        no hints: the scheduler places the threads, the ring is on 4 KiB pages
//   affinity    setAffinity: producer on CPU 0, consumer on CPU 1 (each worker pins itself)
//   hugePages   adviseHugePages(ring) before its first touch (MADV_HUGEPAGE on the ring's
//               2 MiB-aligned interior); after the run, hugePageResidency(ring) says how much
//               of it the kernel actually put on huge pages
//   numa        bindToNode(ring, node of CPU 0) (MPOL_BIND)
//   all         the three together
//
// Run: node bench_ring_placement_hints.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
//   (the no-hints baseline is measured whatever --only says)
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Ring } from '@flux/ring';
import { adviseHugePages, bindToNode, getAffinity, hugePageResidency, numaInfo, setAffinity } from '@flux/uring';
import { parseArgs, reporter, runInterleaved, scaleOf, selected } from './lib/harness.mjs';
import { runPairReports, stampCheckingRingConsumer, stampingRingProducer } from './lib/pairs.mjs';

const MESSAGE_BYTES = 64;
const BATCH = 256;
const RING_CAPACITY = 1 << 17; // 8 MiB of slots: four 2 MiB huge pages, or 2,048 small ones
const DEADLINE_MS = 120_000;
const FULL_MESSAGES = 100_000_000;
const PRODUCER_CPU = 0;
const CONSUMER_CPU = 1;

const variants = {
  none: { label: 'no hints', affinity: false, hugePages: false, numa: false },
  affinity: { label: 'affinity (CPU 0 -> CPU 1)', affinity: true, hugePages: false, numa: false },
  hugePages: { label: 'huge pages (MADV_HUGEPAGE)', affinity: false, hugePages: true, numa: false },
  numa: { label: 'NUMA bind (node of CPU 0)', affinity: false, hugePages: false, numa: true },
  all: { label: 'all three hints', affinity: true, hugePages: true, numa: true },
};

// ---- workers ------------------------------------------------------------------------------

/** Pins the worker first when asked; reports what the system did. */
function pinned(cpu, work) {
  return (data) => {
    const pin = data.affinity ? setAffinity([cpu]) : null;
    const result = work({ ...data, messageBytes: MESSAGE_BYTES, batch: BATCH, deadlineMs: DEADLINE_MS });
    return { ...result, pin: pin && { applied: pin.applied, reason: pin.reason, cpus: getAffinity() } };
  };
}

const roles = {
  producer: pinned(PRODUCER_CPU, stampingRingProducer),
  consumer: pinned(CONSUMER_CPU, stampCheckingRingConsumer),
};

if (!isMainThread) {
  const result = await roles[workerData.role](workerData);
  parentPort.postMessage(result);
}

// ---- main ---------------------------------------------------------------------------------

/** One run of `variant`: messages per second, and what each hint did. */
async function measure(variant, count) {
  const hints = variants[variant];
  const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES });
  // Before any slot is touched: the pages are chosen at the first write.
  const huge = hints.hugePages ? adviseHugePages(ring.bytes) : null;
  const numaNode = numaInfo().node ?? 0;
  const numa = hints.numa ? bindToNode(ring.bytes, numaNode) : null;
  const consumerId = ring.addConsumer();
  const shared = { handle: ring.handle, consumerId, count, affinity: hints.affinity };
  const { perSecond, producer, consumer } = await runPairReports(new URL(import.meta.url), 'producer', 'consumer', shared);
  const residency = hugePageResidency(ring.bytes); // while the ring is alive: what the kernel granted
  return { perSecond, huge, numa, numaNode, pins: hints.affinity ? [producer.pin, consumer.pin] : null, residency };
}

/** What a hint did in one run, in a few words. */
function describe(outcome) {
  return outcome.applied ? 'applied' : `not applied (${outcome.reason})`;
}

if (isMainThread) {
  const args = parseArgs({ variants: Object.keys(variants) });
  const scale = scaleOf(args);
  const count = Math.max(BATCH, Math.round((FULL_MESSAGES * scale) / BATCH) * BATCH);
  const numa = numaInfo();
  const cpus = getAffinity();
  // The baseline (no hints) is always measured: every other variant's ratio needs it.
  const chosen = Object.keys(variants).filter((name) => name === 'none' || selected(args, name));
  const { measured, method } = await runInterleaved({ ...args, only: null }, chosen, (name) => measure(name, count));

  // Which hints took effect, from the last run of the variants that asked for each (the
  // reporter prints them with the conditions, so it starts after the runs).
  const last = (name) => measured[name]?.[measured[name].length - 1];
  const backed = (name) => {
    if (!last(name)) return 'not measured (--only)';
    const { hugePageBytes, reason } = last(name).residency;
    return reason ? `unknown (${reason})` : `${hugePageBytes / (1 << 20)} MiB`;
  };
  const pins = last('affinity')?.pins;
  const affinityTookEffect = pins
    ? pins.map((pin, i) => `${['producer', 'consumer'][i]} ${describe(pin)}, runs on CPUs [${pin.cpus.join(',')}]`).join('; ')
    : 'not measured (--only)';
  const huge = last('hugePages')?.huge;
  const hugePagesTookEffect = huge
    ? `madvise ${describe(huge)} on ${huge.bytes} bytes (mode ${huge.mode}); on huge pages after the run: ${backed('hugePages')} of the ring (no hints: ${backed('none')})`
    : 'not measured (--only)';
  const bound = last('numa');
  const numaTookEffect = bound
    ? `mbind ${describe(bound.numa)} on ${bound.numa.bytes} bytes to node ${bound.numaNode}${numa.nodes.length === 1 ? '; one node here, so binding cannot bring memory closer' : ''}`
    : 'not measured (--only)';
  const report = reporter(
    'ring_placement_hints',
    args,
    '  producer worker -> 8 MiB ring -> consumer worker, with and without placement hints; 64 B messages; consumer verifies every message',
    {
      messageBytes: MESSAGE_BYTES,
      batch: BATCH,
      ringCapacity: `${RING_CAPACITY} slots (${(RING_CAPACITY * MESSAGE_BYTES) / (1 << 20)} MiB)`,
      waitStrategy: 'busy spin (poll)',
      system: `CPUs ${cpus.join(',') || 'unknown'}; NUMA nodes ${numa.nodes.join(',')} (${numa.source}); transparent huge pages: ${numa.transparentHugePages}; reserved huge pages: ${numa.hugePagesReserved}`,
      affinityTookEffect,
      hugePagesTookEffect,
      numaTookEffect,
      messages: count,
      runs: args.runs,
    },
  );
  const baseline = report.record({
    variant: `flux ring, ${variants.none.label}`,
    metric: 'throughput',
    unit: 'msg/s',
    values: measured.none.map((m) => m.perSecond),
  });
  for (const name of chosen.filter((n) => n !== 'none')) {
    report.record({
      variant: `flux ring, ${variants[name].label}`,
      metric: 'throughput',
      unit: 'msg/s',
      values: measured[name].map((m) => m.perSecond),
      baseline,
    });
  }
  report.method(method);
}
