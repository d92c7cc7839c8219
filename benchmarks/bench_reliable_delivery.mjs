// bench_reliable_delivery: 64-byte messages delivered reliably between two processes,
// lossless and at 5% random loss: @flux/reliable against what users pick instead (TCP,
// udx-native) and against @flux/udp (no retransmission), all in the same run.
//
//   loopback      [process: sender] ------------ 127.0.0.1 -----------> [process: receiver]
//   netns         netns B [sender] 10.204.0.2 <---- veth ----> 10.204.0.1 [receiver] netns A
//                 the veth's default offload (TSO/GSO: TCP crosses it in packets of up to
//                 64 KB, as it would to a NIC that segments), no loss
//   lossy         another pair, 10.205.0.2 -> 10.205.0.1, whose veth carries wire-sized packets
//                 (gso_max_segs 1: every packet at most one MTU), and in both namespaces an
//                 nftables input rule on the veth:
//                   numgen random mod 100 < 5 drop    (data and acks/NAKs/TCP segments alike)
//                 one packet per segment is what the loss rule needs (with offload it would
//                 drop ~45 segments at once); it slows TCP, so it is used only here. UDP
//                 from node:dgram is one datagram per packet either way.
//   delayed       [sender] --> ChaosRelay (in the parent: 10 ms each way, 5% seeded loss each
//                 way) --> [receiver], over loopback: a long round trip, where FEC can help
//
//   tcp       node:net, setNoDelay(true), 4-byte length prefix per message; one write() per
//             batch; on the netns paths TCP CUBIC, set in both namespaces; on loopback the
//             host's default congestion control (printed in the conditions)
//   tcpBbr    the same with TCP BBR (netns paths): the better TCP under random loss
//   udx       udx-native stream (Holepunch's reliable UDP), the same framing and batches
//   zeromq    zeromq.js PUSH -> PULL over tcp://, one ZeroMQ message per message (its idiom:
//             libzmq batches on the wire), a batch's sends awaited one after another: the
//             weaker use, shown on loopback, not compared with
//   zeromqPacked     the same sockets, one ZeroMQ message per batch of 64 length-prefixed
//                    messages (the framing TCP and udx get): the baseline the ratios use
//   zeromqMultipart  one 64-frame multipart ZeroMQ message per batch
//   fluxUdp   @flux/udp Publication/Subscription on node:dgram: lossless paths only
//   fluxUdpUring  the same on io_uring (GSO sends, GRO receives): the rate @flux/reliable on
//             io_uring is held to (>= 0.85x) when nothing is lost
//   reliableUring  @flux/reliable on io_uring (GSO sends from the retransmit buffer, GRO
//             receives), held to >= 1.0x TCP lossless and >= 2.5x reliable (node:dgram)
//   reliable  @flux/reliable (node:dgram), CUBIC congestion control with pacing (the
//             default): it backs off when the loss rate passes 2% (congestionLossThreshold),
//             and keeps its window under it (1% random loss). Its lossy variant is held to >= 0.60x
//             its own netns rate, its lossy p99 to <= the better TCP's / 10
//   reliableHot  @flux/reliable's hot mode on loopback, latency only: HotReliablePublication and
//             HotReliableSubscription (a worker thread per side busy-polls its socket); the
//             receiver reads the subscription's ring on its main thread, spinning with a
//             setImmediate per empty poll. On this 2-vCPU machine that is 3 spinning threads
//             (and the paced sender's main thread) on 2 cores: it says so in its label
//   reliableHotSender  the hot publication alone (one spinning thread) to an event-loop
//             subscription on io_uring: loopback, latency only
//   reliableStatic  @flux/reliable on io_uring with congestionControl 'static' (the receiver's
//             window only: no back-off on loss), on the netns paths: what CUBIC costs
//   reliableFec  the same with forward error correction, one parity datagram per 4 DATA
//             datagrams: compared with reliable on every path, to show where FEC pays
//
//   throughput: the sender writes at full speed for a fixed time, 64 messages per write or
//     claim, waiting on back-pressure ('drain', ring full) so memory stays bounded; the
//     receiver checks every message's index (in order, exactly once; a reliable transport
//     must deliver every one); rate = verified / receiver elapsed (first to last message).
//   latency: 20,000 msg/s offered, the messages due sent every 1 ms (lib/one-way-latency.mjs),
//     each carrying its send time on CLOCK_MONOTONIC, shared by both processes; the receiver
//     records arrival - send after a warm-up: one-way p50 / p99 / p99.9 / max; and CPU time
//     per message of both processes at that fixed rate (the steadiest figure here). A
//     variant that in any run received under 90% of the offered rate (first to last message)
//     could not carry it: its latency is queueing, labelled "saturated", and compared with nothing.
//
// Run: node bench_reliable_delivery.mjs [--json] [--runs N] [--quick] [--smoke] [--only SUBSTRING]
//   --only keeps the variants whose "mode:transport/path" contains SUBSTRING, or one of
//   several separated by commas (e.g. latency:, /delayed, throughput:reliable/loopback,throughput:fluxUdp/loopback)
//   The variants run in the harness's method: a discarded warm-up run, a seeded random order per run.
// The netns variants need root, `ip` and (for loss) `nft`; without them they are skipped,
// with the reason printed (in --json: in the conditions line).
import { createRequire } from 'node:module';
import { capability } from '@flux/uring';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { format, parseArgs, reporter, runInterleaved, scaleOf, verify } from './lib/harness.mjs';
import { ChaosRelay } from '@flux/reliable/chaos';
import {
  openFluxUdpReceiver,
  openFluxUdpSender,
  openHotReliableReceiver,
  openHotReliableSender,
  openReliableReceiver,
  openReliableSender,
  reliableOnUring,
  fluxUdpOnUring,
} from './lib/flux-endpoints.mjs';
import { lossUnavailableReason, openNetnsPair } from '../test-support/netns.mjs';
import { measureDropShare } from './lib/netns-loss-probe.mjs';
import { openTcpReceiver, openTcpSender, openUdxReceiver, openUdxSender, udx } from './lib/stream-endpoints.mjs';
import { streamRoles } from './lib/stream-roles.mjs';
import { measurePair, runChild } from './lib/two-process.mjs';
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
const SATURATED_SHARE = 0.9; // latency mode: a run whose receiver got under this share of the offered rate is saturated
const LOSS_PERCENT = 5;
const LIGHT_LOSS_PERCENT = 1;
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
const uringReport = capability();
const uringPending = uringReport.usable ? undefined : `io_uring: ${uringReport.reason}`;
const transports = {
  tcp: { label: 'TCP', reliable: true, openReceiver: openTcpReceiver, openSender: openTcpSender, tcpCongestionControl: 'cubic' },
  tcpBbr: {
    label: 'TCP BBR',
    reliable: true,
    openReceiver: openTcpReceiver,
    openSender: openTcpSender,
    tcpCongestionControl: 'bbr',
    paths: ['netns', 'lossy', 'lossy1'],
  },
  udx: { label: 'udx-native stream', reliable: true, openReceiver: openUdxReceiver, openSender: openUdxSender, pending: udx.reason },
  zeromq: {
    label: 'zeromq PUSH/PULL (tcp), one awaited send per message',
    reliable: true,
    openReceiver: openZeromqReceiver,
    openSender: openZeromqSender,
    pending: zeromq.reason,
    paths: ['loopback'],
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
    modes: ['throughput'], // its latency is zeromqPacked's (the same sockets, one send per batch)
  },
  fluxUdp: {
    label: '@flux/udp (dgram, no retransmit)',
    reliable: false,
    openReceiver: openFluxUdpReceiver,
    openSender: openFluxUdpSender,
    paths: ['loopback', 'netns'],
    modes: ['throughput'],
  },
  fluxUdpUring: {
    label: '@flux/udp (io_uring, no retransmit)',
    reliable: false,
    ...fluxUdpOnUring,
    paths: ['loopback', 'netns'],
    modes: ['throughput'],
    pending: uringPending,
  },
  // reliable/lossy is the "reliableLossy".
  reliable: { label: '@flux/reliable (dgram, CUBIC)', reliable: true, openReceiver: openReliableReceiver, openSender: openReliableSender },
  reliableUring: {
    label: '@flux/reliable (io_uring, CUBIC)',
    reliable: true,
    ...reliableOnUring,
    pending: uringPending,
  },
  reliableHot: {
    label: '@flux/reliable hot mode (io_uring, CUBIC; a worker spins per side, the reader spins too: 3 spinning threads on 2 vCPUs)',
    reliable: true,
    openReceiver: openHotReliableReceiver,
    openSender: openHotReliableSender,
    paths: ['loopback'],
    modes: ['latency'],
    pending: uringPending,
  },
  reliableHotSender: {
    label: '@flux/reliable hot publication (a worker spins) to an io_uring event-loop subscription',
    reliable: true,
    openReceiver: reliableOnUring.openReceiver,
    openSender: openHotReliableSender,
    paths: ['loopback'],
    modes: ['latency'],
    pending: uringPending,
  },
  reliableStatic: {
    label: "@flux/reliable (io_uring, 'static': no congestion control)",
    reliable: true,
    openReceiver: reliableOnUring.openReceiver,
    openSender: (options) => reliableOnUring.openSender({ ...options, congestionControl: 'static' }),
    paths: ['netns', 'lossy', 'lossy1'],
    pending: uringPending,
  },
  reliableFec: {
    label: `@flux/reliable + FEC 1/${FEC_GROUP_DATAGRAMS} (dgram, CUBIC)`,
    reliable: true,
    openReceiver: openReliableReceiver,
    openSender: (options) => openReliableSender({ ...options, fecGroupDatagrams: FEC_GROUP_DATAGRAMS }),
    paths: ['loopback', 'lossy', 'delayed'], // where it is compared with reliable
  },
};
const paths = {
  loopback: { label: 'loopback', netns: null, lossPercent: 0 },
  netns: { label: 'netns veth (default offload)', netns: 'offload', lossPercent: 0 },
  lossy: { label: `netns veth ${LOSS_PERCENT}% loss (1-MTU packets)`, netns: 'wire', lossPercent: LOSS_PERCENT },
  // The same pair at 1% loss, for the TCPs and @flux/reliable on io_uring (both congestion modes).
  lossy1: {
    label: `netns veth ${LIGHT_LOSS_PERCENT}% loss (1-MTU packets)`,
    netns: 'wire',
    lossPercent: LIGHT_LOSS_PERCENT,
    transports: ['tcp', 'tcpBbr', 'reliableUring', 'reliableStatic'],
  },
  // Latency only (a 20 ms round trip caps a window's throughput), and only UDP transports pass the relay.
  delayed: {
    label: `relay ${RELAY_DELAY_MS} ms + ${LOSS_PERCENT}% loss each way`,
    netns: null,
    lossPercent: 0,
    relay: { delayNs: RELAY_DELAY_MS * 1e6, lossPercent: LOSS_PERCENT },
    modes: ['latency'],
    transports: ['reliable', 'reliableFec'],
  },
};
// Ratio lines, [mode, subject, baseline] (latency: p99 only): the targets, then the
// comparisons with what users pick instead.
const comparisons = [
  ['throughput', 'reliableUring/loopback', 'fluxUdpUring/loopback'], // >= 0.85x
  ['throughput', 'reliableUring/netns', 'fluxUdpUring/netns'],
  ['throughput', 'reliableUring/loopback', 'reliable/loopback'], // >= 2.5x
  ['throughput', 'reliable/loopback', 'fluxUdp/loopback'],
  ['throughput', 'reliable/netns', 'fluxUdp/netns'],
  ['throughput', 'reliable/lossy', 'reliable/netns'], // >= 0.60x, every message delivered
  ...['loopback', 'netns', 'lossy', 'lossy1'].flatMap((path) => [
    ['throughput', `reliableUring/${path}`, `tcp/${path}`], // >= 1.0x lossless
    ['throughput', `reliableUring/${path}`, `tcpBbr/${path}`],
    ['latency', `reliableUring/${path}`, `tcp/${path}`],
    ['latency', `reliableUring/${path}`, `tcpBbr/${path}`],
    ['throughput', `reliableUring/${path}`, `reliableStatic/${path}`], // what CUBIC costs against none
    ['latency', `reliableHot/${path}`, `tcp/${path}`], // hot mode: p50 <= 20 µs, p99 <= 60 µs at 20k msg/s
    ['latency', `reliableHot/${path}`, `reliableUring/${path}`],
    ['latency', `reliableHotSender/${path}`, `tcp/${path}`],
    ['throughput', `reliable/${path}`, `tcp/${path}`],
    ['throughput', `reliable/${path}`, `tcpBbr/${path}`],
    ['throughput', `reliable/${path}`, `udx/${path}`],
    ['throughput', `reliable/${path}`, `zeromqPacked/${path}`],
    ['throughput', `reliable/${path}`, `zeromqMultipart/${path}`],
    ['latency', `reliable/${path}`, `tcp/${path}`], // lossy p99: >= 10x the better TCP
    ['latency', `reliable/${path}`, `tcpBbr/${path}`],
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

/** Every mode:transport/path this bench knows (what --help lists), before what this machine can run is known. */
function variantsFor(mode, runnable = () => true) {
  return Object.keys(paths).flatMap((path) =>
    Object.entries(transports)
      .filter(
        ([name, t]) =>
          runnable(name, path) &&
          (t.paths ?? [path]).includes(path) &&
          (t.modes ?? [mode]).includes(mode) &&
          (paths[path].modes ?? [mode]).includes(mode) &&
          (paths[path].transports ?? [name]).includes(name),
      )
      .map(([name]) => `${mode}:${name}/${path}`),
  );
}
const MODES = ['throughput', 'latency'];

// ---- children: receiver and sender (lib/stream-roles.mjs) ---------------------------------

const roles = streamRoles({
  transportOf,
  messageBytes: MESSAGE_BYTES,
  batch: BATCH,
  deadlineMs: DEADLINE_MS,
  sampleEvery: SAMPLE_EVERY,
  quietMs: QUIET_MS,
  stallMs: STALL_MS,
});

// ---- parent -------------------------------------------------------------------------------

/** One measurement of `variant` in `mode`; a reliable transport must have delivered every message. */
async function measure(mode, variant, durations, pairs) {
  const path = paths[variant.split('/')[1]];
  const pair = path.netns ? pairs[path.netns] : null;
  const where = pair
    ? { host: pair.addressA, localHost: pair.addressB, receiverPrefix: pair.commandPrefixA, senderPrefix: pair.commandPrefixB }
    : { host: LOOPBACK, localHost: LOOPBACK, receiverPrefix: [], senderPrefix: [] };
  if (pair) {
    pair.setLossPercent(path.lossPercent); // also zeroes the rule's counters
    pair.setTcpCongestionControl(transportOf(variant).tcpCongestionControl ?? 'cubic'); // zeromq's TCP: cubic too
  }
  const durationMs = mode === 'throughput' ? durations.throughputMs : durations.latencyMs;
  const start = {
    mode,
    ratePerSecond: OFFERED_RATE,
    host: where.host,
    localHost: where.localHost,
    epochNs: String(process.hrtime.bigint()),
    warmupMessages: durations.warmupMessages,
  };
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
  await runChild(process.argv[roleIndex + 1], roles, DEADLINE_MS);
} else {
  const args = parseArgs({ variants: MODES.flatMap((mode) => variantsFor(mode)) });
  const scale = scaleOf(args);
  const durations = {
    throughputMs: Math.max(50, Math.round(FULL_THROUGHPUT_MS * scale)),
    latencyMs: Math.max(100, Math.round(FULL_LATENCY_MS * scale)),
  };
  durations.warmupMessages = Math.round((OFFERED_RATE * Math.max(20, Math.round(FULL_WARMUP_MS * scale))) / 1000);

  // Which variants can run here; the rest are skipped with the reason. Two namespace pairs:
  // the lossless one keeps the veth's default offload, the lossy one carries 1-MTU packets.
  const offload = openNetnsPair({ wirePackets: false });
  const wire = offload.pair ? openNetnsPair({ wirePackets: true, subnet: '10.205.0' }) : offload;
  const pairs = { offload: offload.pair, wire: wire.pair };
  const lossReason = wire.pair ? lossUnavailableReason() : wire.reason;
  const skipped = [];
  const pathReason = { loopback: null, netns: offload.reason, lossy: lossReason, lossy1: lossReason, delayed: null };
  for (const [name, reason] of Object.entries(pathReason)) if (reason) skipped.push(`${paths[name].label}: ${reason}`);
  for (const [name, t] of Object.entries(transports)) if (t.pending) skipped.push(`${name}: ${t.pending}`);
  const runnable = (name, path) => !transports[name].pending && !pathReason[path];
  let names = MODES.flatMap((mode) => variantsFor(mode, runnable));
  if (args.smoke) {
    // Only checks that it all works, in a few seconds: throughput on loopback, latency on the lossiest path here.
    const lossiest = ['lossy', 'netns', 'loopback'].find((path) => !pathReason[path]);
    names = names.filter((name) => (name.startsWith('throughput:') ? name.endsWith('/loopback') : name.endsWith(`/${lossiest}`)));
  }

  // The loss rule checked once (not in --smoke: netns.test.mjs checks it).
  let probe = args.smoke ? 'not probed in --smoke' : 'no loss rule here';
  if (!lossReason && !args.smoke) {
    pairs.wire.setLossPercent(LOSS_PERCENT);
    const p = await measureDropShare(pairs.wire, { datagrams: PROBE_DATAGRAMS });
    probe = `${(p.dropShare * 100).toFixed(1)}% of ${p.sent} paced UDP datagrams lost (rule counted ${p.counters.dropped})`;
  }
  let hostCongestionControl = 'unknown';
  try {
    hostCongestionControl = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
  } catch {}
  const udxVersion = udx.UDX ? createRequire(import.meta.url)('udx-native/package.json').version : 'not loaded';
  const report = reporter(
    'reliable_delivery',
    args,
    '  sender process -> (loopback | veth between netns, 0% or 5% loss) -> receiver process; every message checked; one-way latency on a shared monotonic clock',
    {
      messageBytes: MESSAGE_BYTES,
      throughput: `${durations.throughputMs} ms at full speed, ${BATCH} messages per write/claim`,
      latency: `${OFFERED_RATE} msg/s offered for ${durations.latencyMs} ms, first ${durations.warmupMessages} messages not recorded`,
      cpuPerMessage: `cpu/msg = user + system time of both processes (all threads) / verified messages, at ${OFFERED_RATE} msg/s offered (latency mode)`,
      link: pairs.offload
        ? `netns: ${pairs.offload.addressB} -> ${pairs.offload.addressA} over veth, default offload; lossy: ${pairs.wire?.addressB} -> ${pairs.wire?.addressA} over veth, packets of at most one MTU (gso_max_segs 1); loss: numgen random mod 100 < ${LOSS_PERCENT} drop, input hook, both namespaces`
        : 'loopback only',
      tcpCongestionControl: `loopback: the host's default (${hostCongestionControl}); netns paths: tcp = cubic, tcpBbr = bbr (net.ipv4.tcp_congestion_control in both namespaces; zeromq's TCP: cubic)`,
      congestionControl:
        "@flux/reliable: CUBIC with pacing (the default) on every row but reliableStatic (congestionControl 'static': the receiver's window only, no back-off on loss)",
      relay: `delayed path: @flux/reliable/chaos ChaosRelay in the parent process, ${RELAY_DELAY_MS} ms delay (timer-driven, +0-1 ms) and ${LOSS_PERCENT}% seeded loss in each direction`,
      fec: `reliableFec: fecGroupDatagrams ${FEC_GROUP_DATAGRAMS} (one PARITY datagram per ${FEC_GROUP_DATAGRAMS} DATA datagrams)`,
      lossCheck: probe,
      udxNative: udxVersion,
      zeromq: zeromq.version,
      skipped: [...skipped, ...(args.smoke ? ['--smoke: all but throughput on loopback and latency on the lossiest path'] : [])].join('; ') || 'none',
      runs: args.runs,
    },
  );

  let result;
  try {
    result = await runInterleaved(args, names, (name, run) => {
      const [mode, variant] = name.split(':');
      durations.run = Math.max(0, run);
      return measure(mode, variant, durations, pairs);
    });
  } finally {
    pairs.offload?.close();
    pairs.wire?.close();
  }
  const { method } = result;
  const measured = { throughput: {}, latency: {} };
  for (const [name, runs] of Object.entries(result.measured)) {
    const [mode, variant] = name.split(':');
    measured[mode][variant] = runs;
  }

  const label = (variant) => {
    const [transport, path] = variant.split('/');
    const name = transport === 'tcp' ? `TCP ${path === 'loopback' ? hostCongestionControl : 'cubic'}` : transports[transport].label;
    return `${name}${transport.startsWith('tcp') ? ' (node:net, noDelay)' : ''}, ${paths[path].label}`;
  };
  // Latency mode: a variant that could not carry the offered rate in some run is saturated.
  const saturatedAt = (variant) => {
    const slowest = Math.min(...measured.latency[variant].map((m) => m.perSecond));
    return slowest < OFFERED_RATE * SATURATED_SHARE ? slowest : null;
  };
  const latencyLabel = (variant) => {
    const slowest = saturatedAt(variant);
    return slowest === null ? label(variant) : `${label(variant)} (saturated: ${format(slowest)} of ${format(OFFERED_RATE)} msg/s received)`;
  };
  const recorded = { throughput: {}, latency: {} };
  for (const [variant, runs] of Object.entries(measured.throughput)) {
    recorded.throughput[variant] = report.record({ variant: label(variant), metric: 'throughput', unit: 'msg/s', values: runs.map((m) => m.perSecond) });
  }
  for (const [variant, runs] of Object.entries(measured.latency)) {
    recorded.latency[variant] = {};
    for (const [metric, key] of LATENCY_METRICS) {
      recorded.latency[variant][metric] = report.record({
        variant: latencyLabel(variant),
        metric,
        unit: 'us',
        values: runs.map((m) => m.received.latency[key]),
        better: 'lower',
      });
    }
    recorded.latency[variant].cpu = report.record({
      variant: latencyLabel(variant),
      metric: 'cpu/msg',
      unit: 'ns',
      values: runs.map((m) => m.cpuNsPerMessage),
      better: 'lower',
    });
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
    } else if (saturatedAt(subject) === null && saturatedAt(base) === null) {
      for (const metric of ['p99', 'cpu']) {
        report.record({
          variant: label(subject),
          metric: metric === 'cpu' ? 'cpu/msg' : metric,
          unit: metric === 'cpu' ? 'ns' : 'us',
          values: recorded.latency[subject][metric].values,
          baseline: recorded.latency[base][metric],
          better: 'lower',
        });
      }
    }
  }
  report.method(method);
  if (!args.json) {
    console.log(
      '  per run (sent / verified; on a lossy link: packets the rule or relay dropped of those that arrived at it; with FEC: datagrams rebuilt from parity; sender + receiver CPU ns/msg):',
    );
    for (const mode of MODES) {
      for (const [variant, runs] of Object.entries(measured[mode])) {
        const text = runs.map((m) => {
          const loss = m.linkLoss
            ? `, dropped ${m.linkLoss.dropped} of ${m.linkLoss.arrived} (${((m.linkLoss.dropped / Math.max(1, m.linkLoss.arrived)) * 100).toFixed(1)}%)`
            : '';
          const fec = m.received.counters?.fecRecoveries ? `, ${m.received.counters.fecRecoveries} rebuilt` : '';
          return `${m.sent} / ${m.verified}${loss}${fec}, ${m.senderCpuNsPerMessage.toFixed(0)} + ${m.receiverCpuNsPerMessage.toFixed(0)}`;
        });
        console.log(`    ${mode.padEnd(10)} ${variant.padEnd(22)} ${text.join(';  ')}`);
      }
    }
  }
}
