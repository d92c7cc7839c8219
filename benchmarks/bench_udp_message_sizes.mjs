// bench_udp_message_sizes: throughput of messages from 16 B to 64 KiB between two processes
// over loopback, @flux/udp (both backends) against a node:dgram sender that packs the same
// way, in the same run; above one datagram's room @flux/udp fragments (BEGIN ... END frames
// in MTU-sized datagrams) and the node:dgram sender sends one datagram per message, which
// the kernel splits into IP fragments.
//
//   [process: sender] --UDP 127.0.0.1--> [process: receiver]   every message checked (index,
//                                                                its complement, length)
//   sizes      16, 64, 256, 1,024, 4,096, 16,384 and 65,000 B (the largest UDP datagram
//              carries 65,507 B, so 64 KiB itself cannot go in one)
//   batch      64 messages per claim or send call up to 1 KiB, then 64 KiB worth (16 at 4 KiB,
//              4 at 16 KiB, 1 at 65,000 B)
//   dgramPacked  node:dgram, as many length-prefixed messages per datagram as fit in 1,472 B
//                (21 at 64 B), one per datagram above that (lib/dgram-endpoints.mjs)
//   fluxUdp      @flux/udp on node:dgram; fluxUring: on io_uring (skipped, saying why,
//                where io_uring is not usable); ring of about 4 MiB
//
// Figures: delivered messages per second and MB/s (receiver, first to last message), CPU
// per message of both processes, the share of sent messages delivered (UDP: a receiver that
// falls behind loses datagrams, and a lost fragment loses its message).
// Variants (for --only): transport@size, e.g. fluxUring@4096, dgramPacked@65000.
// Run: node bench_udp_message_sizes.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { fileURLToPath } from 'node:url';
import { capability } from '@flux/uring';
import { openPackedDgramReceiver, openPackedDgramSender, perDatagram } from './lib/dgram-endpoints.mjs';
import { openFluxUdpReceiver, openFluxUdpSender } from './lib/flux-endpoints.mjs';
import { format, parseArgs, reporter, runInterleaved, scaleOf } from './lib/harness.mjs';
import { streamRoles } from './lib/stream-roles.mjs';
import { measurePair, runChild } from './lib/two-process.mjs';

const scriptPath = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
const SIZES = [16, 64, 256, 1024, 4096, 16384, 65000];
const RING_BYTES = 4 << 20;
const FULL_DURATION_MS = 1500;
const DEADLINE_MS = 120_000;
const uringReason = capability().usable ? null : capability().reason;

const sizeOf = (variant) => Number(variant.split('@')[1]);
const batchOf = (variant) => Math.max(1, Math.min(64, Math.floor(65536 / sizeOf(variant))));
const ringCapacityOf = (size) => 2 ** Math.max(6, Math.min(14, Math.floor(Math.log2(RING_BYTES / size))));

const transports = {
  dgramPacked: {
    label: (size) => `node:dgram, ${perDatagram(size)} per datagram`,
    reliable: false,
    openReceiver: openPackedDgramReceiver,
    openSender: openPackedDgramSender,
  },
  fluxUdp: {
    label: () => '@flux/udp on node:dgram',
    reliable: false,
    openReceiver: openFluxUdpReceiver,
    openSender: (options) => openFluxUdpSender({ ...options, ringCapacity: ringCapacityOf(options.maxMessageBytes) }),
  },
  fluxUring: {
    label: () => '@flux/udp on io_uring',
    reliable: false,
    openReceiver: (options) => openFluxUdpReceiver({ ...options, backend: 'io_uring' }),
    openSender: (options) => openFluxUdpSender({ ...options, backend: 'io_uring', ringCapacity: ringCapacityOf(options.maxMessageBytes) }),
    pending: uringReason,
  },
};
const transportOf = (variant) => transports[variant.split('@')[0]];
const VARIANTS = SIZES.flatMap((size) => Object.keys(transports).map((name) => `${name}@${size}`));

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) {
  await runChild(process.argv[roleIndex + 1], streamRoles({ transportOf, messageBytes: sizeOf, batch: batchOf, deadlineMs: DEADLINE_MS }), DEADLINE_MS);
} else {
  const args = parseArgs({ variants: VARIANTS });
  const durationMs = Math.max(50, Math.round(FULL_DURATION_MS * scaleOf(args)));
  let names = VARIANTS.filter((name) => !transportOf(name).pending);
  if (args.smoke) names = names.filter((name) => [64, 4096, 65000].includes(sizeOf(name)));
  const report = reporter(
    'udp_message_sizes',
    args,
    '  sender process -> UDP 127.0.0.1 -> receiver process; messages of 16 B to 65,000 B; every message checked',
    {
      sizes: SIZES.join(', '),
      sendDurationMs: durationMs,
      batch: SIZES.map((size) => `${size} B: ${batchOf(`x@${size}`)}`).join(', '),
      fluxRing: SIZES.map((size) => `${size} B: ${ringCapacityOf(size)} slots`).join(', '),
      cpuPerMessage: 'cpu/msg = user + system time of both processes (all threads) / delivered messages',
      skipped: uringReason ? `fluxUring: ${uringReason}` : 'none',
      runs: args.runs,
    },
  );
  const { measured, method } = await runInterleaved(args, names, (name) =>
    measurePair(scriptPath, name, durationMs, DEADLINE_MS, 'messages', { start: { mode: 'throughput', host: HOST, localHost: HOST } }),
  );
  const label = (name) => `${transportOf(name).label(sizeOf(name))}, ${sizeOf(name).toLocaleString('en-US')} B`;
  for (const size of SIZES) {
    const row = (name, metric, unit, key, baseline = null, better = 'higher') =>
      report.record({ variant: label(name), metric, unit, values: measured[name]?.map(key), baseline, better });
    const base = `dgramPacked@${size}`;
    const baseRate = row(base, 'throughput', 'msg/s', (m) => m.perSecond);
    const baseCpu = row(base, 'cpu/msg', 'ns', (m) => m.cpuNsPerMessage, null, 'lower');
    for (const flux of [`fluxUdp@${size}`, `fluxUring@${size}`]) {
      row(flux, 'throughput', 'msg/s', (m) => m.perSecond, baseRate);
      row(flux, 'cpu/msg', 'ns', (m) => m.cpuNsPerMessage, baseCpu, 'lower');
    }
    for (const name of [base, `fluxUdp@${size}`, `fluxUring@${size}`]) {
      row(name, 'MB/s', 'MB/s', (m) => (m.perSecond * size) / 1e6);
      row(name, 'delivered', '%', (m) => m.deliveredPercent);
    }
  }
  report.method(method);
  if (!args.json) {
    console.log('  per run (sent / delivered, msg/s, sender + receiver CPU ns/msg):');
    for (const name of names.filter((n) => measured[n])) {
      const runs = measured[name].map(
        (m) => `${m.sent} / ${m.verified}, ${format(m.perSecond)}, ${m.senderCpuNsPerMessage.toFixed(0)} + ${m.receiverCpuNsPerMessage.toFixed(0)}`,
      );
      console.log(`    ${name.padEnd(18)} ${runs.join(';  ')}`);
    }
  }
}
