// bench_network_latency: one-way latency of 64-byte messages between two processes across
// a sweep of offered rates, on loopback and across a veth pair between two network
// namespaces, for @flux/udp (both backends), @flux/reliable, a packed node:dgram sender and
// TCP, all in the same run.
//
//   loopback   [process: sender] ------------ 127.0.0.1 -----------> [process: receiver]
//   netns      netns B [sender] 10.206.0.2 <---- veth (default offload) ----> 10.206.0.1 [receiver] netns A
//
//   rates      10k, 50k, 200k and 1M msg/s offered (the last two above what some variants
//              carry here: they are marked saturated, with the rate they reached)
//   schedule   every 1 ms the sender sends the messages the schedule has made due, in
//              batches of at most 64 (lib/one-way-latency.mjs). Each message carries the
//              time it became due, so time spent queued behind back-pressure counts as
//              latency: coordinated omission corrected
//   latency    the receiver records arrival - due time on CLOCK_MONOTONIC (shared by both
//              processes and both namespaces) in an HDR histogram after a warm-up:
//              p50, p99, p99.9, max
//   cpu/msg    user + system time of both processes (all threads) / delivered messages
//
//   tcp          node:net, setNoDelay(true), 4-byte length prefix per message, one write()
//                per batch; the congestion control is the host's default on loopback, CUBIC
//                in the namespaces (printed)
//   dgramPacked  node:dgram, 21 length-prefixed messages per datagram (lib/dgram-endpoints.mjs)
//   fluxUdp      @flux/udp on node:dgram; fluxUring: @flux/udp on io_uring (skipped, saying
//                why, where io_uring is not usable)
//   reliable     @flux/reliable on node:dgram (CUBIC, the default); reliableUring: on io_uring
//
// A variant is saturated at a rate when, in any run, its receiver got under 90% of the
// offered rate (first to last message), or (unreliable transports) lost more than 1% of
// what was sent: its latency is then queueing or loss, it is labelled so and gets no ratio.
// Ratios: each Flux variant's p50 and p99 against TCP's and the packed sender's at the same
// rate and path, where neither is saturated.
//
// Variants (for --only): transport@rate/path, e.g. reliable@50k/loopback, tcp@1M/netns.
// Run: node bench_network_latency.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { capability } from '@flux/uring';
import { openNetnsPair } from '../test-support/netns.mjs';
import { openPackedDgramReceiver, openPackedDgramSender, perDatagram } from './lib/dgram-endpoints.mjs';
import { fluxUdpOnUring, openFluxUdpReceiver, openFluxUdpSender, openReliableReceiver, openReliableSender, reliableOnUring } from './lib/flux-endpoints.mjs';
import { format, parseArgs, reporter, runInterleaved, scaleOf, verify } from './lib/harness.mjs';
import { openTcpReceiver, openTcpSender } from './lib/stream-endpoints.mjs';
import { streamRoles } from './lib/stream-roles.mjs';
import { measurePair, runChild } from './lib/two-process.mjs';

const scriptPath = fileURLToPath(import.meta.url);

const LOOPBACK = '127.0.0.1';
const SUBNET = '10.206.0';
const MESSAGE_BYTES = 64;
const BATCH = 64;
const RATES = { '10k': 10_000, '50k': 50_000, '200k': 200_000, '1M': 1_000_000 };
const FULL_DURATION_MS = 2000;
const FULL_WARMUP_MS = 300;
const SATURATED_SHARE = 0.9;
const MAX_LOSS_SHARE = 0.01;
const DEADLINE_MS = 120_000;
const uringReason = capability().usable ? null : capability().reason;

const transports = {
  tcp: { label: 'TCP (node:net, noDelay)', reliable: true, openReceiver: openTcpReceiver, openSender: openTcpSender },
  dgramPacked: {
    label: `node:dgram, packed ${perDatagram(MESSAGE_BYTES)} per datagram`,
    reliable: false,
    openReceiver: openPackedDgramReceiver,
    openSender: openPackedDgramSender,
  },
  fluxUdp: { label: '@flux/udp on node:dgram', reliable: false, openReceiver: openFluxUdpReceiver, openSender: openFluxUdpSender },
  fluxUring: {
    label: '@flux/udp on io_uring',
    reliable: false,
    ...fluxUdpOnUring,
    pending: uringReason,
  },
  reliable: { label: '@flux/reliable (dgram, CUBIC)', reliable: true, openReceiver: openReliableReceiver, openSender: openReliableSender },
  reliableUring: {
    label: '@flux/reliable (io_uring, CUBIC)',
    reliable: true,
    ...reliableOnUring,
    pending: uringReason,
  },
};
const paths = { loopback: 'loopback', netns: 'netns veth (default offload)' };
const FLUX = ['fluxUdp', 'fluxUring', 'reliable', 'reliableUring'];
const BASELINES = ['tcp', 'dgramPacked'];
const METRICS = [
  ['p50', 'p50'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['max', 'max'],
];

const parse = (name) => {
  const [transport, rest] = name.split('@');
  const [rate, path] = rest.split('/');
  return { transport, rate, path };
};
const transportOf = (variant) => transports[parse(variant).transport];
const VARIANTS = Object.keys(paths).flatMap((path) =>
  Object.keys(RATES).flatMap((rate) => Object.keys(transports).map((transport) => `${transport}@${rate}/${path}`)),
);

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) {
  await runChild(process.argv[roleIndex + 1], streamRoles({ transportOf, messageBytes: MESSAGE_BYTES, batch: BATCH, deadlineMs: DEADLINE_MS }), DEADLINE_MS);
} else {
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  const durationMs = Math.max(100, Math.round(FULL_DURATION_MS * scale));
  const warmupMs = Math.max(20, Math.round(FULL_WARMUP_MS * scale));
  const { pair, reason: netnsReason } = openNetnsPair({ wirePackets: false, subnet: SUBNET });
  let hostCongestionControl = 'unknown';
  try {
    hostCongestionControl = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
  } catch {}
  const skipped = [netnsReason && `netns: ${netnsReason}`, uringReason && `fluxUring: ${uringReason}`].filter(Boolean);
  let names = VARIANTS.filter((name) => {
    const { transport, path } = parse(name);
    return !transports[transport].pending && (path !== 'netns' || pair);
  });
  if (args.smoke) names = names.filter((name) => name.includes('@10k/') || name.includes('@1M/loopback'));
  const report = reporter(
    'network_latency',
    args,
    '  sender process -> (loopback | veth between two netns) -> receiver process; 64 B messages at 10k-1M msg/s offered; one-way latency on a shared monotonic clock, coordinated omission corrected',
    {
      messageBytes: MESSAGE_BYTES,
      schedule: `due messages sent every 1 ms in batches of at most ${BATCH}, for ${durationMs} ms per variant; the first ${warmupMs} ms of messages not recorded`,
      cpuPerMessage: 'cpu/msg = user + system time of both processes (all threads) / delivered messages',
      saturated: `receiver under ${SATURATED_SHARE * 100}% of the offered rate in any run, or (UDP) over ${MAX_LOSS_SHARE * 100}% lost: labelled saturated, no ratio`,
      tcpCongestionControl: `loopback: the host's default (${hostCongestionControl}); netns: cubic`,
      link: pair ? `${pair.addressB} -> ${pair.addressA} over veth, default offload, no loss` : 'loopback only',
      skipped: skipped.join('; ') || 'none',
      runs: args.runs,
    },
  );

  const measure = async (name) => {
    const { rate, path } = parse(name);
    const ratePerSecond = RATES[rate];
    const where =
      path === 'netns'
        ? { host: pair.addressA, localHost: pair.addressB, receiverPrefix: pair.commandPrefixA, senderPrefix: pair.commandPrefixB }
        : { host: LOOPBACK, localHost: LOOPBACK, receiverPrefix: [], senderPrefix: [] };
    if (path === 'netns') pair.setTcpCongestionControl('cubic');
    const m = await measurePair(scriptPath, name, durationMs, DEADLINE_MS, 'messages', {
      start: {
        mode: 'latency',
        ratePerSecond,
        host: where.host,
        localHost: where.localHost,
        epochNs: String(process.hrtime.bigint()),
        warmupMessages: Math.round((ratePerSecond * warmupMs) / 1000),
      },
      receiverPrefix: where.receiverPrefix,
      senderPrefix: where.senderPrefix,
    });
    if (transportOf(name).reliable) verify(m.lost === 0, `${name}: ${m.lost} of ${m.sent} messages never delivered`);
    verify(m.received.latency.count > 0, `${name}: no latency recorded after the warm-up`);
    return { ...m, ratePerSecond };
  };
  let result;
  try {
    result = await runInterleaved(args, names, measure);
  } finally {
    pair?.close();
  }
  const { measured, method } = result;

  const saturation = (name) => {
    const runs = measured[name];
    const slowest = Math.min(...runs.map((m) => m.perSecond));
    const lostShare = Math.max(...runs.map((m) => m.lost / m.sent));
    const offered = runs[0].ratePerSecond;
    if (slowest < offered * SATURATED_SHARE) return `saturated: ${format(slowest)} msg/s received`;
    if (lostShare > MAX_LOSS_SHARE) return `saturated: ${(lostShare * 100).toFixed(1)}% lost`;
    return null;
  };
  const label = (name) => {
    const { transport, rate, path } = parse(name);
    const saturated = saturation(name);
    return `${transports[transport].label}, ${rate} msg/s, ${paths[path]}${saturated ? ` (${saturated})` : ''}`;
  };
  const recorded = {};
  for (const name of names.filter((n) => measured[n])) {
    recorded[name] = {};
    for (const [metric, key] of METRICS) {
      recorded[name][metric] = report.record({
        variant: label(name),
        metric,
        unit: 'us',
        values: measured[name].map((m) => m.received.latency[key]),
        better: 'lower',
      });
    }
    recorded[name].cpu = report.record({
      variant: label(name),
      metric: 'cpu/msg',
      unit: 'ns',
      values: measured[name].map((m) => m.cpuNsPerMessage),
      better: 'lower',
    });
  }
  for (const name of Object.keys(recorded)) {
    const { transport, rate, path } = parse(name);
    if (!FLUX.includes(transport) || saturation(name)) continue;
    for (const base of BASELINES) {
      const baseName = `${base}@${rate}/${path}`;
      if (!recorded[baseName] || saturation(baseName)) continue;
      for (const metric of ['p50', 'p99', 'cpu']) {
        report.record({
          variant: label(name),
          metric: metric === 'cpu' ? 'cpu/msg' : metric,
          unit: metric === 'cpu' ? 'ns' : 'us',
          values: recorded[name][metric].values,
          baseline: recorded[baseName][metric],
          better: 'lower',
        });
      }
    }
  }
  report.method(method);
  if (!args.json) {
    console.log('  per run (sent / delivered, received msg/s, sender + receiver CPU ns/msg):');
    for (const name of Object.keys(recorded)) {
      const runs = measured[name].map(
        (m) => `${m.sent} / ${m.verified}, ${format(m.perSecond)}, ${m.senderCpuNsPerMessage.toFixed(0)} + ${m.receiverCpuNsPerMessage.toFixed(0)}`,
      );
      console.log(`    ${name.padEnd(26)} ${runs.join(';  ')}`);
    }
  }
}
