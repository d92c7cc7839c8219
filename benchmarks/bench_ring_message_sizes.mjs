// bench_ring_message_sizes: one producer thread to one consumer thread, messages from 16 B
// to 64 KiB, the ring against MessagePort (the buffer cloned, and transferred) and against
// the minimal SharedArrayBuffer handoff (the JS limit), at the same batch, in the same run.
//
//   [worker: producer] --claim B / copy B x S / stamp / publish--> (ring) --> [worker: consumer]
//   [worker] --postMessage(B x S), cloned or transferred-->    [worker]
//   [worker] --copy B x S / stamp / Atomics.store(head)-->     [worker]   (lib/sab-handoff.mjs)
//
//   sizes S    16, 64, 256, 1,024, 4,096, 16,384, 65,536 B
//   batch B    256 messages up to 64 B, then 16 KiB worth (64 at 256 B ... 1 at 16 KiB and up)
//   ring       about 8 MiB of slots (at most 16,384 and at least 64 slots)
//   every message's first int32 is stamped with its index and checked by the consumer (and
//   the ring's length of each message)
//
// Figures: messages per second and MB/s (the consumer's, first message to last). Waits: the
// ring's and the handoff's sides busy-spin (one core each); MessagePort's consumer is on the
// event loop, its producer sleeps in Atomics.wait when 256 posts are in flight.
// Variants (for --only): flux@S, port@S, transfer@S, sab@S.
// Run: node bench_ring_message_sizes.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { isMainThread, MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { Ring } from '@flux/ring';
import { parseArgs, reporter, runInterleaved, scaleOf } from './lib/harness.mjs';
import { runPair, stampCheckingRingConsumer, stampingRingProducer } from './lib/pairs.mjs';
import { postingRoles } from './lib/post-batches.mjs';
import { createSabHandoff, sabHandoffConsumer, sabHandoffProducer } from './lib/sab-handoff.mjs';

const SIZES = [16, 64, 256, 1024, 4096, 16384, 65536];
const RING_BYTES = 8 << 20;
const FULL_BYTES = 1 << 30; // per variant and run: about a second here at the larger sizes
const MAX_MESSAGES = 20e6;
const DEADLINE_MS = 120_000;

const batchOf = (size) => Math.max(1, Math.min(256, Math.floor(16384 / size)));
const capacityOf = (size) => 2 ** Math.max(6, Math.min(14, Math.floor(Math.log2(RING_BYTES / size))));

const roles = {
  fluxProducer: (data) => stampingRingProducer({ ...data, deadlineMs: DEADLINE_MS }),
  fluxConsumer: (data) => stampCheckingRingConsumer({ ...data, deadlineMs: DEADLINE_MS }),
  portProducer: (data) => postingRoles.portProducer({ ...data, deadlineMs: DEADLINE_MS }),
  portConsumer: (data) => postingRoles.portConsumer({ ...data, deadlineMs: DEADLINE_MS }),
  sabProducer: (data) => sabHandoffProducer({ ...data, deadlineMs: DEADLINE_MS }),
  sabConsumer: (data) => sabHandoffConsumer({ ...data, deadlineMs: DEADLINE_MS }),
};
if (!isMainThread) parentPort.postMessage(await roles[workerData.role](workerData));

const pair = (...args) => runPair(new URL(import.meta.url), ...args);

const KINDS = {
  flux: (size) => {
    const ring = Ring.create({ capacity: capacityOf(size), maxMessageBytes: size });
    return (count) =>
      pair('fluxProducer', 'fluxConsumer', { handle: ring.handle, consumerId: ring.addConsumer(), count, batch: batchOf(size), messageBytes: size });
  },
  port:
    (size, transfer = false) =>
    (count) => {
      const { port1, port2 } = new MessageChannel();
      const credits = new Int32Array(new SharedArrayBuffer(64));
      return pair('portProducer', 'portConsumer', { credits, count, batch: batchOf(size), messageBytes: size, transfer }, [port1, port2]);
    },
  transfer: (size) => KINDS.port(size, true),
  sab: (size) => (count) => pair('sabProducer', 'sabConsumer', { handoff: createSabHandoff(capacityOf(size), size), count, batch: batchOf(size) }),
};
const LABELS = {
  flux: (size) => `flux ring, claim/publish ${batchOf(size)}`,
  port: (size) => `MessagePort, ${batchOf(size)} per post`,
  transfer: (size) => `MessagePort, ${batchOf(size)} per post, transferred`,
  sab: (size) => `minimal SAB handoff, ${batchOf(size)} per publish (the JS limit)`,
};
const VARIANTS = SIZES.flatMap((size) => Object.keys(KINDS).map((kind) => `${kind}@${size}`));

if (isMainThread) {
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  const sizes = args.smoke ? [16, 4096, 65536] : SIZES;
  const report = reporter(
    'ring_message_sizes',
    args,
    '  producer worker -> ring -> consumer worker; messages of 16 B to 64 KiB; the consumer verifies every message',
    {
      sizes: sizes.join(', '),
      batch: sizes.map((size) => `${size} B: ${batchOf(size)}`).join(', '),
      ringSlots: sizes.map((size) => `${size} B: ${capacityOf(size)}`).join(', '),
      waitStrategy: 'ring and SAB handoff: busy spin, one core each; MessagePort: the event loop (consumer), Atomics.wait (producer, 256 posts in flight)',
      runs: args.runs,
    },
  );
  const names = VARIANTS.filter((name) => sizes.includes(Number(name.split('@')[1])));
  const { measured, method } = await runInterleaved(args, names, (name) => {
    const [kind, sizeText] = name.split('@');
    const size = Number(sizeText);
    const batch = batchOf(size);
    const count = Math.max(1, Math.round(Math.min(MAX_MESSAGES, (FULL_BYTES * scale) / size) / batch)) * batch;
    return KINDS[kind](size)(count);
  });
  for (const size of sizes) {
    const label = (kind) => `${LABELS[kind](size)}, ${size.toLocaleString('en-US')} B`;
    const row = (kind, baseline = null, suffix = '') =>
      report.record({ variant: `${label(kind)}${suffix}`, metric: 'throughput', unit: 'msg/s', values: measured[`${kind}@${size}`], baseline });
    const cloned = row('port');
    const transferred = row('transfer');
    const limit = row('sab');
    // A skilled user keeps whichever MessagePort use is faster at this size: the ratio's base.
    const port = cloned && transferred ? (transferred.value > cloned.value ? transferred : cloned) : (cloned ?? transferred);
    row('flux', port, ' (vs MessagePort)');
    row('flux', limit, ' (of the limit)');
    for (const kind of ['flux', 'port', 'transfer', 'sab']) {
      report.record({ variant: label(kind), metric: 'MB/s', unit: 'MB/s', values: measured[`${kind}@${size}`]?.map((perSecond) => (perSecond * size) / 1e6) });
    }
  }
  report.method(method);
}
