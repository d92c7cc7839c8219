// bench_reliable_delivery: 64-byte messages delivered reliably between two processes,
// lossless and at 5% random loss: @flux/reliable against what users pick instead (TCP,
// udx-native) and against @flux/udp (no retransmission), all in the same run.
//
//   loopback      [process: sender] ------------ 127.0.0.1 -----------> [process: receiver]
//   netns         netns B [sender] 10.204.0.2 <---- veth ----> 10.204.0.1 [receiver] netns A
//   netns 5% loss the same, and in both namespaces an nftables input rule on the veth:
//                   numgen random mod 100 < 5 drop    (data and acks/NAKs/TCP segments alike)
//   delayed       [sender] --> ChaosRelay (in the parent: 10 ms each way, 5% seeded loss each
//                 way) --> [receiver], over loopback: a long round trip, where FEC can help
//   Both netns paths carry wire-sized packets (veth gso_max_segs 1: no TSO/GSO aggregation),
//   so the rule drops one MTU at a time and the two paths differ only by the loss. Without
//   NIC offload, TCP on the veth runs several times slower than on loopback (64 KB packets).
//
//   tcp       node:net, setNoDelay(true), 4-byte length prefix per message; one write() per batch
//   udx       udx-native stream (Holepunch's reliable UDP), the same framing and batches
//   zeromq    zeromq.js PUSH -> PULL over tcp://, one ZeroMQ message per message (its idiom:
//             libzmq batches on the wire), a batch's sends awaited one after another: the
//             weaker use, shown, not compared with
//   zeromqPacked     the same sockets, one ZeroMQ message per batch of 64 length-prefixed
//                    messages (the framing TCP and udx get): the baseline the ratios use
//   zeromqMultipart  one 64-frame multipart ZeroMQ message per batch
//   fluxUdp   @flux/udp Publication/Subscription on node:dgram: lossless paths only, the
//             rate @flux/reliable is held to (>= 0.85x) when nothing is lost
//   reliable  @flux/reliable (node:dgram); its lossy
//             variant is held to >= 0.60x its own netns rate, its lossy p99 to <= TCP's / 10
//   reliableFec  the same with forward error correction, one parity datagram per 4 DATA
//             datagrams: compared with reliable on every path, to show where FEC pays
//
//   throughput: the sender writes at full speed for a fixed time, 64 messages per write or
//     claim, waiting on back-pressure ('drain', ring full) so memory stays bounded; the
//     receiver checks every message's index (in order, exactly once; a reliable transport
//     must deliver every one); rate = verified / receiver elapsed (first to last message).
//   latency: 20,000 msg/s offered, the messages due sent every 1 ms (lib/one-way-latency.mjs),
//     each carrying its send time on CLOCK_MONOTONIC, shared by both processes; the receiver
//     records arrival - send after a warm-up: one-way p50 / p99 / p99.9 / max.
//
// Run: node bench_reliable_delivery.mjs [--json] [--runs N] [--quick] [--smoke] [--only SUBSTRING]
//   --only keeps the variants whose "mode:transport/path" contains SUBSTRING, or one of
//   several separated by commas (e.g. latency:, /delayed, throughput:reliable/loopback,throughput:fluxUdp/loopback)
// The netns variants need root, `ip` and (for loss) `nft`; without them they are skipped,
// with the reason printed (in --json: in the conditions line).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs, reporter, scaleOf, verify } from './lib/harness.mjs';
import { IndexChecker, stamp, template } from './lib/indexed-messages.mjs';
import { ChaosRelay } from '@flux/reliable/chaos';
import { openFluxUdpReceiver, openFluxUdpSender, openReliableReceiver, openReliableSender } from './lib/flux-endpoints.mjs';
import { lossUnavailableReason, openNetnsPair } from '../test-support/netns.mjs';
import { measureDropShare } from './lib/netns-loss-probe.mjs';
import { clockSince, LatencyRecorder, sendAtOfferedRate, writeSendTime } from './lib/one-way-latency.mjs';
import { openTcpReceiver, openTcpSender, openUdxReceiver, openUdxSender, udx } from './lib/stream-endpoints.mjs';
import { measurePair, nextParentMessage, runChild } from './lib/two-process.mjs';
import {
  openZeromqMultipartReceiver,
  openZeromqMultipartSender,
  openZeromqPackedReceiver,
  openZeromqPackedSender,
  openZeromqReceiver,
  openZeromqSender,
  zeromq,
} from './lib/zeromq-endpoints.mjs';

const scriptPath = fileURLToPath(import.meta.url);

const LOOPBACK = '127.0.0.1';
const MESSAGE_BYTES = 64;
const BATCH = 64; // messages per write (TCP, udx) or claim/publish (flux)
const OFFERED_RATE = 20_000; // latency mode, messages per second
const LOSS_PERCENT = 5;
const FEC_GROUP_DATAGRAMS = 4;
const RELAY_DELAY_MS = 10; // the delayed path, each way
const FULL_THROUGHPUT_MS = 2000;
const FULL_LATENCY_MS = 4000;
const FULL_WARMUP_MS = 500; // latency mode: the first messages (connection start, slow start) are not recorded
const SAMPLE_EVERY = 8; // receiver reads the clock once per this many verified messages
const QUIET_MS = 200; // unreliable transport: nothing for this long after the sender finished means lost
const STALL_MS = 15_000; // reliable transport: no progress for this long means it will not deliver the rest
const DEADLINE_MS = 120_000;
const PROBE_DATAGRAMS = 20_000;

// Each variant is transport/path. `pending` leaves a transport out, saying why.
const transports = {
  tcp: { label: 'TCP (node:net, noDelay)', reliable: true, openReceiver: openTcpReceiver, openSender: openTcpSender },
  udx: { label: 'udx-native stream', reliable: true, openReceiver: openUdxReceiver, openSender: openUdxSender, pending: udx.reason },
  zeromq: {
    label: 'zeromq PUSH/PULL (tcp), one awaited send per message',
    reliable: true,
    openReceiver: openZeromqReceiver,
    openSender: openZeromqSender,
    pending: zeromq.reason,
  },
  zeromqPacked: {
    label: 'zeromq PUSH/PULL (tcp), 64 length-prefixed per message',
    reliable: true,
    openReceiver: openZeromqPackedReceiver,
    openSender: openZeromqPackedSender,
    pending: zeromq.reason,
  },
  zeromqMultipart: {
    label: 'zeromq PUSH/PULL (tcp), 64-frame multipart',
    reliable: true,
    openReceiver: openZeromqMultipartReceiver,
    openSender: openZeromqMultipartSender,
    pending: zeromq.reason,
  },
  fluxUdp: {
    label: '@flux/udp (dgram, no retransmit)',
    reliable: false,
    openReceiver: openFluxUdpReceiver,
    openSender: openFluxUdpSender,
    paths: ['loopback', 'netns'],
    modes: ['throughput'],
  },
  // reliable/lossy is the "reliableLossy".
  reliable: { label: '@flux/reliable', reliable: true, openReceiver: openReliableReceiver, openSender: openReliableSender },
  reliableFec: {
    label: `@flux/reliable + FEC 1/${FEC_GROUP_DATAGRAMS}`,
    reliable: true,
    openReceiver: openReliableReceiver,
    openSender: (options) => openReliableSender({ ...options, fecGroupDatagrams: FEC_GROUP_DATAGRAMS }),
  },
};
const paths = {
  loopback: { label: 'loopback', netns: false, lossPercent: 0 },
  netns: { label: 'netns veth', netns: true, lossPercent: 0 },
  lossy: { label: `netns veth ${LOSS_PERCENT}% loss`, netns: true, lossPercent: LOSS_PERCENT },
  // Latency only (a 20 ms round trip caps a window's throughput), and only UDP transports pass the relay.
  delayed: {
    label: `relay ${RELAY_DELAY_MS} ms + ${LOSS_PERCENT}% loss each way`,
    netns: false,
    lossPercent: 0,
    relay: { delayNs: RELAY_DELAY_MS * 1e6, lossPercent: LOSS_PERCENT },
    modes: ['latency'],
    transports: ['reliable', 'reliableFec'],
  },
};
// Ratio lines, [mode, subject, baseline] (latency: p99 only): the targets, then the
// comparisons with what users pick instead.
const comparisons = [
  ['throughput', 'reliable/loopback', 'fluxUdp/loopback'], // >= 0.85x
  ['throughput', 'reliable/netns', 'fluxUdp/netns'],
  ['throughput', 'reliable/lossy', 'reliable/netns'], // >= 0.60x, every message delivered
  ...['loopback', 'netns', 'lossy'].flatMap((path) => [
    ['throughput', `reliable/${path}`, `tcp/${path}`],
    ['throughput', `reliable/${path}`, `udx/${path}`],
    ['throughput', `reliable/${path}`, `zeromqPacked/${path}`],
    ['throughput', `reliable/${path}`, `zeromqMultipart/${path}`],
    ['latency', `reliable/${path}`, `tcp/${path}`], // lossy p99: >= 10x
    ['latency', `reliable/${path}`, `udx/${path}`],
    ['latency', `reliable/${path}`, `zeromqPacked/${path}`],
  ]),
  // Where forward error correction pays, and what it costs.
  ...['loopback', 'lossy'].map((path) => ['throughput', `reliableFec/${path}`, `reliable/${path}`]),
  ...['lossy', 'delayed'].map((path) => ['latency', `reliableFec/${path}`, `reliable/${path}`]),
];
const LATENCY_METRICS = [
  ['p50', 'p50'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['max', 'max'],
];

const transportOf = (variant) => transports[variant.split('/')[0]];

// ---- child: receiver ----------------------------------------------------------------------

async function receiver({ variant, mode, host, epochNs, warmupMessages }) {
  const deadline = Date.now() + DEADLINE_MS;
  const transport = transportOf(variant);
  const checker = new IndexChecker(MESSAGE_BYTES, SAMPLE_EVERY);
  const latency = mode === 'latency' ? new LatencyRecorder(clockSince(epochNs), warmupMessages) : null;
  const check = checker.check;
  const onMessage = latency
    ? (bytes, offset, lengthBytes) => {
        const verified = checker.verified;
        check(bytes, offset, lengthBytes);
        if (checker.verified !== verified) latency.record(bytes, offset);
      }
    : check;
  const endpoint = await transport.openReceiver({ host, maxMessageBytes: MESSAGE_BYTES, onMessage });
  process.send({ type: 'ready', port: endpoint.port });

  const { sent } = await nextParentMessage('sent', deadline);
  // Done when the last message has arrived, or when nothing has for a while (what is missing
  // was lost: the parent's check fails a reliable transport for it).
  const giveUpMs = transport.reliable ? STALL_MS : QUIET_MS;
  let seen = -1;
  let quietSinceMs = Date.now();
  while (checker.expected < sent && Date.now() - quietSinceMs <= giveUpMs) {
    if (Date.now() > deadline) throw new Error(`${variant} receiver: deadline`);
    const arrived = checker.verified + checker.bad;
    if (arrived !== seen) {
      seen = arrived;
      quietSinceMs = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const counters = await endpoint.close(deadline);
  return { ...checker.result(), counters, latency: latency?.summary() ?? null };
}

// ---- child: sender ------------------------------------------------------------------------

async function sender({ variant, mode, host, localHost, port, durationMs, epochNs }) {
  const deadline = Date.now() + DEADLINE_MS;
  const endpoint = await transportOf(variant).openSender({ host, port, localHost, maxMessageBytes: MESSAGE_BYTES });
  const source = template(MESSAGE_BYTES);
  let sent = 0;
  if (mode === 'throughput') {
    const fill = (bytes, offset) => {
      bytes.set(source, offset); // the message is written, as a flux producer writes its slot
      stamp(bytes, offset, MESSAGE_BYTES, sent++);
    };
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      if (!endpoint.sendBatch(BATCH, fill)) await endpoint.waitForRoom(deadline);
    }
  } else {
    sent = await sendAtOfferedRate({
      sendBatch: endpoint.sendBatch,
      ratePerSecond: OFFERED_RATE,
      durationMs,
      maxBatch: BATCH,
      clockNs: clockSince(epochNs),
      deadline,
      fillMessage(bytes, offset, index, sendTimeNs) {
        bytes.set(source, offset);
        stamp(bytes, offset, MESSAGE_BYTES, index);
        writeSendTime(bytes, offset, sendTimeNs);
      },
    });
  }
  const counters = await endpoint.finish(deadline);
  return { sent, counters };
}

// ---- parent -------------------------------------------------------------------------------

/** One measurement of `variant` in `mode`; a reliable transport must have delivered every message. */
async function measure(mode, variant, durations, pair) {
  const path = paths[variant.split('/')[1]];
  const where = path.netns
    ? { host: pair.addressA, localHost: pair.addressB, receiverPrefix: pair.commandPrefixA, senderPrefix: pair.commandPrefixB }
    : { host: LOOPBACK, localHost: LOOPBACK, receiverPrefix: [], senderPrefix: [] };
  if (path.netns) pair.setLossPercent(path.lossPercent); // also zeroes the rule's counters
  const durationMs = mode === 'throughput' ? durations.throughputMs : durations.latencyMs;
  const start = { mode, host: where.host, localHost: where.localHost, epochNs: String(process.hrtime.bigint()), warmupMessages: durations.warmupMessages };
  let relay = null;
  // The relay sits between sender and receiver; its seed is the same for every variant of a run.
  const route = path.relay
    ? async (port) => {
        relay = await ChaosRelay.open({ target: { host: LOOPBACK, port }, forward: path.relay, backward: path.relay, seed: 7 + durations.run });
        return relay.port;
      }
    : undefined;
  let m;
  try {
    m = await measurePair(scriptPath, variant, durationMs, DEADLINE_MS, 'messages', {
      start,
      receiverPrefix: where.receiverPrefix,
      senderPrefix: where.senderPrefix,
      route,
    });
  } finally {
    await relay?.close();
  }
  if (transportOf(variant).reliable) verify(m.lost === 0, `${variant} (${mode}): ${m.lost} of ${m.sent} messages never delivered`);
  if (mode === 'latency') verify(m.received.latency.count > 0, `${variant}: no latency recorded after the warm-up`);
  const relayLoss = relay && {
    dropped: relay.forwardCounters.lost + relay.backwardCounters.lost,
    arrived: relay.forwardCounters.pushed + relay.backwardCounters.pushed,
  };
  return { ...m, linkLoss: path.lossPercent > 0 ? pair.lossCounters() : relayLoss };
}

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) {
  await runChild(process.argv[roleIndex + 1], { receiver, sender }, DEADLINE_MS);
} else {
  const args = parseArgs();
  const scale = scaleOf(args);
  const durations = {
    throughputMs: Math.max(50, Math.round(FULL_THROUGHPUT_MS * scale)),
    latencyMs: Math.max(100, Math.round(FULL_LATENCY_MS * scale)),
  };
  durations.warmupMessages = Math.round((OFFERED_RATE * Math.max(20, Math.round(FULL_WARMUP_MS * scale))) / 1000);

  // Which variants can run here; the rest are skipped with the reason.
  const { pair, reason: netnsReason } = openNetnsPair();
  const lossReason = pair ? lossUnavailableReason() : netnsReason;
  const skipped = [];
  const pathReason = { loopback: null, netns: netnsReason, lossy: lossReason, delayed: null };
  for (const [name, reason] of Object.entries(pathReason)) if (reason) skipped.push(`${paths[name].label}: ${reason}`);
  for (const [name, t] of Object.entries(transports)) if (t.pending) skipped.push(`${name}: ${t.pending}`);
  const variantsFor = (mode) =>
    Object.keys(paths).flatMap((path) =>
      Object.entries(transports)
        .filter(
          ([name, t]) =>
            !t.pending &&
            !pathReason[path] &&
            (t.paths ?? [path]).includes(path) &&
            (t.modes ?? [mode]).includes(mode) &&
            (paths[path].modes ?? [mode]).includes(mode) &&
            (paths[path].transports ?? [name]).includes(name),
        )
        .map(([name]) => `${name}/${path}`),
    );
  const plan = { throughput: variantsFor('throughput'), latency: variantsFor('latency') };
  if (args.only) {
    const wanted = args.only;
    for (const mode of Object.keys(plan)) plan[mode] = plan[mode].filter((variant) => wanted.some((part) => `${mode}:${variant}`.includes(part)));
  }
  if (args.smoke) {
    // Only checks that it all works, in a few seconds: throughput on loopback, latency on the lossiest path here.
    const lossiest = ['lossy', 'netns', 'loopback'].find((path) => !pathReason[path]);
    plan.throughput = plan.throughput.filter((variant) => variant.endsWith('/loopback'));
    plan.latency = plan.latency.filter((variant) => variant.endsWith(`/${lossiest}`));
  }

  // The loss rule checked once (not in --smoke: netns.test.mjs checks it).
  let probe = args.smoke ? 'not probed in --smoke' : 'no loss rule here';
  if (!lossReason && !args.smoke) {
    pair.setLossPercent(LOSS_PERCENT);
    const p = await measureDropShare(pair, { datagrams: PROBE_DATAGRAMS });
    probe = `${(p.dropShare * 100).toFixed(1)}% of ${p.sent} paced UDP datagrams lost (rule counted ${p.counters.dropped})`;
  }
  const udxVersion = udx.UDX ? createRequire(import.meta.url)('udx-native/package.json').version : 'not loaded';
  const report = reporter(
    'reliable_delivery',
    args,
    '  sender process -> (loopback | veth between netns, 0% or 5% loss) -> receiver process; every message checked; one-way latency on a shared monotonic clock',
    {
      messageBytes: MESSAGE_BYTES,
      throughput: `${durations.throughputMs} ms at full speed, ${BATCH} messages per write/claim`,
      latency: `${OFFERED_RATE} msg/s offered for ${durations.latencyMs} ms, first ${durations.warmupMessages} messages not recorded`,
      link: pair
        ? `${pair.addressB} -> ${pair.addressA} over veth, packets of at most one MTU (gso_max_segs 1); loss: numgen random mod 100 < ${LOSS_PERCENT} drop, input hook, both namespaces`
        : 'loopback only',
      relay: `delayed path: @flux/reliable/chaos ChaosRelay in the parent process, ${RELAY_DELAY_MS} ms delay (timer-driven, +0-1 ms) and ${LOSS_PERCENT}% seeded loss in each direction`,
      fec: `reliableFec: fecGroupDatagrams ${FEC_GROUP_DATAGRAMS} (one PARITY datagram per ${FEC_GROUP_DATAGRAMS} DATA datagrams)`,
      lossCheck: probe,
      udxNative: udxVersion,
      zeromq: zeromq.version,
      skipped: [...skipped, ...(args.smoke ? ['--smoke: all but throughput on loopback and latency on the lossiest path'] : [])].join('; ') || 'none',
      runs: args.runs,
    },
  );

  const measured = {};
  try {
    for (let run = 0; run < args.runs; run++) {
      durations.run = run;
      for (const mode of ['throughput', 'latency']) {
        for (const variant of plan[mode]) ((measured[mode] ??= {})[variant] ??= []).push(await measure(mode, variant, durations, pair));
      }
    }
  } finally {
    pair?.close();
  }

  const label = (variant) => `${transportOf(variant).label}, ${paths[variant.split('/')[1]].label}`;
  const recorded = { throughput: {}, latency: {} };
  for (const variant of plan.throughput) {
    recorded.throughput[variant] = report.record({
      variant: label(variant),
      metric: 'throughput',
      unit: 'msg/s',
      values: measured.throughput[variant].map((m) => m.perSecond),
    });
  }
  for (const variant of plan.latency) {
    recorded.latency[variant] = {};
    for (const [metric, key] of LATENCY_METRICS) {
      recorded.latency[variant][metric] = report.record({
        variant: label(variant),
        metric,
        unit: 'us',
        values: measured.latency[variant].map((m) => m.received.latency[key]),
        better: 'lower',
      });
    }
  }
  for (const [mode, subject, base] of comparisons) {
    if (!recorded[mode][subject] || !recorded[mode][base]) continue;
    if (mode === 'throughput') {
      report.record({
        variant: label(subject),
        metric: 'throughput',
        unit: 'msg/s',
        values: recorded.throughput[subject].values,
        baseline: recorded.throughput[base],
      });
    } else {
      report.record({
        variant: label(subject),
        metric: 'p99',
        unit: 'us',
        values: recorded.latency[subject].p99.values,
        baseline: recorded.latency[base].p99,
        better: 'lower',
      });
    }
  }
  if (!args.json) {
    console.log(
      '  per run (sent / verified; on a lossy link: packets the rule or relay dropped of those that arrived at it; with FEC: datagrams rebuilt from parity):',
    );
    for (const mode of ['throughput', 'latency']) {
      for (const variant of plan[mode]) {
        const runs = measured[mode][variant].map((m) => {
          const loss = m.linkLoss
            ? `, dropped ${m.linkLoss.dropped} of ${m.linkLoss.arrived} (${((m.linkLoss.dropped / Math.max(1, m.linkLoss.arrived)) * 100).toFixed(1)}%)`
            : '';
          const fec = m.received.counters?.fecRecoveries ? `, ${m.received.counters.fecRecoveries} rebuilt` : '';
          return `${m.sent} / ${m.verified}${loss}${fec}`;
        });
        console.log(`    ${mode.padEnd(10)} ${variant.padEnd(18)} ${runs.join(';  ')}`);
      }
    }
  }
}
