// bench_transport_comparison: UDP over loopback between two processes, @flux/udp against
// raw node:dgram in the same run. Only messages the receiver verified are counted.
//
//   [process: sender] --UDP 127.0.0.1--> [process: receiver]
//                                        checks each message's length, its index (u32 LE at
//                                        offset 0; its complement in the last 4 bytes): in
//                                        order, no duplicate; gaps counted as lost
//   a) node:dgram  send(64 B)                  one message per datagram             (context)
//   p) node:dgram  21 length-prefixed 64 B messages per datagram, one send each  (baseline:
//                  the same packing as @flux/udp, as a skilled user writes it)
//   b) @flux/udp   claim/publish 64 B -> ring -> sender packs ~21 frames per datagram,
//                  node:dgram backend on both ends
//   c) the same, io_uring backend on both ends (a batch of datagrams per system call)
//   d) node:dgram  send(1,400 B)               one message per datagram             (baseline)
//   e) @flux/udp   1,380 B messages -> 1,400 B datagrams (16 B header + 4 B frame header),
//                  node:dgram backend;  f) the same on io_uring
//
//   parent: forks the receiver, waits for it to bind, then forks the sender, which writes
//   each message (copy + stamp) and sends at full speed for a fixed time, with bounded memory
//   (raw: 256 datagrams in flight; flux: the publication's ring and its 256 datagrams in
//   flight); then tells the receiver how many were sent and collects its counts.
//   throughput = verified messages / receiver elapsed (first to last verified message, the
//   receiver's clock read once per 8 messages); lost = sent - verified (UDP does not
//   retransmit), reported as a 'delivered' share. cpu/msg = user + system CPU time of both
//   processes (every thread) / verified messages.
//   --rate N: every sender offers N msg/s (timer-paced, no spinning) instead of full speed,
//   so cpu/msg compares the same work; a variant that delivers under 90% of N is reported
//   as saturated, without a ratio.
//
// Run: node bench_transport_comparison.mjs [--json] [--runs N] [--quick] [--smoke] [--rate N] [--only NAMES] [--help]
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Publication, Subscription } from '@flux/udp';
import { capability } from '@flux/uring';
import { parseArgs, reporter, runInterleaved, scaleOf, verify } from './lib/harness.mjs';
import {
  IndexChecker,
  pacer,
  receivePackedWithDgram,
  receiveWithDgram,
  sendPackedWithDgram,
  sendWithDgram,
  stamp,
  template,
  yieldToEventLoop,
} from './lib/indexed-messages.mjs';
import { measurePair, nextParentMessage, runChild } from './lib/two-process.mjs';

const scriptPath = fileURLToPath(import.meta.url);

const HOST = '127.0.0.1';
const STREAM_ID = 7;
const SMALL_MESSAGE_BYTES = 64;
const DATAGRAM_BYTES = 1400;
const FLUX_DATAGRAM_OVERHEAD_BYTES = 16 + 4; // datagram header + one frame header (frame-layout.ts)
const LARGE_MESSAGE_BYTES = DATAGRAM_BYTES - FLUX_DATAGRAM_OVERHEAD_BYTES; // 1,380
const SEND_WINDOW = 256; // raw sender: datagrams handed to the socket and not yet sent (fewer yields than 64)
const CLAIM_BATCH = 64; // flux sender: messages per claim/publish
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024; // SO_RCVBUF asked for; the kernel caps it at net.core.rmem_max
const FULL_DURATION_MS = 2000;
const SAMPLE_EVERY = 8; // receiver reads the clock once per this many verified messages (a power of two)
const QUIET_MS = 200; // after the sender is done: no datagram for this long means the rest were lost
const DEADLINE_MS = 60_000;
const PACKED_PER_DATAGRAM = 21; // as many 4 + 64 B frames as fit 1,472 B: what @flux/udp packs (16 B header + 21 x 68 B)
const SATURATED_SHARE = 0.9; // --rate: delivered under this share of the offered rate is "saturated"

const variants = {
  dgramSmall: { transport: 'dgram', messageBytes: SMALL_MESSAGE_BYTES },
  dgramPackedSmall: { transport: 'dgram-packed', messageBytes: SMALL_MESSAGE_BYTES },
  fluxSmall: { transport: 'flux', backend: 'dgram', messageBytes: SMALL_MESSAGE_BYTES, ringCapacity: 1 << 14 },
  fluxUringSmall: { transport: 'flux', backend: 'io_uring', messageBytes: SMALL_MESSAGE_BYTES, ringCapacity: 1 << 14 },
  dgramLarge: { transport: 'dgram', messageBytes: DATAGRAM_BYTES },
  // 354 KB: the ring stays in cache
  fluxLarge: { transport: 'flux', backend: 'dgram', messageBytes: LARGE_MESSAGE_BYTES, ringCapacity: 256 },
  fluxUringLarge: { transport: 'flux', backend: 'io_uring', messageBytes: LARGE_MESSAGE_BYTES, ringCapacity: 256 },
};
const uringUsable = capability().usable;

// ---- child: receiver ----------------------------------------------------------------------

async function receiver({ variant }) {
  const { transport, backend, messageBytes } = variants[variant];
  const deadline = Date.now() + DEADLINE_MS;
  const checker = new IndexChecker(messageBytes, SAMPLE_EVERY);
  const check = checker.check;

  let close;
  let port;
  let transportCounters = () => ({});
  if (transport === 'dgram') {
    ({ port, close } = await receiveWithDgram({ host: HOST, receiveBufferBytes: RECEIVE_BUFFER_BYTES, check }));
  } else if (transport === 'dgram-packed') {
    let malformed;
    ({ port, close, malformed } = await receivePackedWithDgram({ host: HOST, receiveBufferBytes: RECEIVE_BUFFER_BYTES, check }));
    transportCounters = () => ({ malformed: malformed() });
  } else {
    const subscription = await Subscription.open({ port: 0, address: HOST, receiveBufferBytes: RECEIVE_BUFFER_BYTES, backend });
    subscription.onMessage(STREAM_ID, check);
    port = subscription.port;
    close = () => subscription.close();
    transportCounters = () => subscription.counters.snapshot();
  }
  process.send({ type: 'ready', port });

  const { sent } = await nextParentMessage('sent', deadline);
  // The sender has finished: done when the last message has arrived, or when nothing has
  // arrived for QUIET_MS (what is still missing was dropped).
  await new Promise((resolve, reject) => {
    let seen = -1;
    let quietSinceMs = Date.now();
    const timer = setInterval(() => {
      const arrived = checker.verified + checker.bad;
      if (arrived !== seen) {
        seen = arrived;
        quietSinceMs = Date.now();
      }
      if (checker.expected >= sent || Date.now() - quietSinceMs > QUIET_MS) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error('receiver: deadline'));
      }
    }, 10);
  });
  const counters = transportCounters();
  await close();
  return { ...checker.result(), counters };
}

// ---- child: sender ------------------------------------------------------------------------

async function sender({ variant, port, durationMs, rate }) {
  const { transport, backend, messageBytes, ringCapacity } = variants[variant];
  const deadline = Date.now() + DEADLINE_MS;
  const source = template(messageBytes);
  let sent = 0;
  let datagrams = 0;

  if (transport === 'dgram') {
    sent = await sendWithDgram({ host: HOST, port, lengthBytes: messageBytes, durationMs, window: SEND_WINDOW, deadline, rate });
    datagrams = sent;
  } else if (transport === 'dgram-packed') {
    ({ sent, datagrams } = await sendPackedWithDgram({
      host: HOST,
      port,
      lengthBytes: messageBytes,
      perDatagram: PACKED_PER_DATAGRAM,
      durationMs,
      window: SEND_WINDOW,
      deadline,
      rate,
    }));
  } else {
    const publication = await Publication.open({ host: HOST, port, streamId: STREAM_ID, maxMessageBytes: messageBytes, ringCapacity, backend });
    const ring = publication.ring;
    const bytes = ring.bytes;
    const producer = ring.createProducer();
    const pace = pacer(rate);
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      const allowed = pace.due() - sent;
      if (allowed <= 0) {
        await pace.wait(); // paced: this tick's messages are out (the publication sends them meanwhile)
        continue;
      }
      const batch = Math.min(CLAIM_BATCH, allowed);
      const first = producer.tryClaim(batch, messageBytes);
      if (first < 0) {
        if (Date.now() > deadline) throw new Error('flux sender: deadline');
        await yieldToEventLoop(); // BACK_PRESSURED: the sender runs on this event loop
        continue;
      }
      for (let i = 0; i < batch; i++) {
        const offset = ring.offsetOf(first + i);
        bytes.set(source, offset);
        stamp(bytes, offset, messageBytes, sent++);
      }
      producer.publish(first, batch);
      if (pace.paced && batch === allowed) await pace.wait(); // this tick's messages are claimed
    }
    verify(await publication.flush(Math.max(1, deadline - Date.now())), 'flux sender: flush timed out');
    const counters = publication.counters.snapshot();
    await publication.close();
    verify(
      counters.messagesSent === sent && counters.sendErrors === 0,
      `flux sender: sent ${counters.messagesSent} of ${sent}, ${counters.sendErrors} send errors`,
    );
    datagrams = counters.datagramsSent;
  }
  return { sent, datagrams };
}

/** One measurement: a receiver process and a sender process; returns the receiver's counts. */
async function measure(variant, durationMs, rate) {
  const m = await measurePair(scriptPath, variant, durationMs, DEADLINE_MS, 'messages', { start: { rate } });
  if (variants[variant].transport === 'dgram-packed') {
    verify(m.received.counters.malformed === 0, `${variant}: ${m.received.counters.malformed} malformed datagrams`);
  }
  if (variants[variant].transport === 'flux') {
    // The subscription counts gaps from the first datagram it heard, the checker from index 0.
    const { framesLost, dropped } = m.received.counters;
    const { gaps, firstIndex } = m.received;
    verify(
      framesLost === gaps - firstIndex && dropped === 0,
      `${variant}: subscription counted ${framesLost} lost, ${dropped} dropped; ${gaps} gaps after index ${firstIndex}`,
    );
  }
  return { ...m, datagrams: m.sender.datagrams };
}

/** What SO_RCVBUF the kernel grants for RECEIVE_BUFFER_BYTES (Linux reports twice the size it books). */
async function receiveBufferConditions() {
  let rmemMax = 'unknown';
  try {
    rmemMax = readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim();
  } catch {}
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, resolve);
  });
  const granted = socket.getRecvBufferSize();
  await new Promise((resolve) => socket.close(resolve));
  return `asked ${RECEIVE_BUFFER_BYTES} B, getsockopt reports ${granted} B (net.core.rmem_max = ${rmemMax} B)`;
}

const labels = {
  dgramSmall: 'node:dgram, 64 B, 1 per datagram',
  dgramPackedSmall: 'node:dgram, 64 B, packed 21 per datagram',
  fluxSmall: '@flux/udp on node:dgram, 64 B, packed',
  fluxUringSmall: '@flux/udp on io_uring, 64 B, packed',
  dgramLarge: 'node:dgram, 1,400 B datagrams',
  fluxLarge: '@flux/udp on node:dgram, 1,380 B msgs, 1,400 B datagrams',
  fluxUringLarge: '@flux/udp on io_uring, 1,380 B msgs, 1,400 B datagrams',
};

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) {
  await runChild(process.argv[roleIndex + 1], { receiver, sender }, DEADLINE_MS);
} else {
  const args = parseArgs({
    options: { rate: { type: 'string', help: 'N: offered msg/s per sender (timer-paced) instead of full speed' } },
    variants: Object.keys(variants),
  });
  const rate = args.rate === undefined ? 0 : Number(args.rate);
  if (args.rate !== undefined && (!Number.isInteger(rate) || rate < 1000)) {
    console.error(`bench_transport_comparison.mjs: --rate needs a whole number of msg/s >= 1000, got ${args.rate} (see --help)`);
    process.exit(2);
  }
  const durationMs = Math.max(50, Math.round(FULL_DURATION_MS * scaleOf(args)));
  const report = reporter(
    'transport_comparison',
    args,
    '  sender process -> UDP 127.0.0.1 -> receiver process; receiver verifies index and length of every message',
    {
      sendDurationMs: durationMs,
      offered: rate ? `${rate} msg/s per sender, timer-paced (1 ms)` : 'full speed',
      receiveBuffer: await receiveBufferConditions(),
      datagramPayloadBytes: `raw: ${SMALL_MESSAGE_BYTES} and ${DATAGRAM_BYTES}; packed raw: ${PACKED_PER_DATAGRAM} x (4 + ${SMALL_MESSAGE_BYTES}) B; flux: up to 1,472 (MTU 1500), ${DATAGRAM_BYTES} for ${LARGE_MESSAGE_BYTES} B messages`,
      sendWindow: `raw: ${SEND_WINDOW} datagrams; flux: ring (${variants.fluxSmall.ringCapacity} / ${variants.fluxLarge.ringCapacity} slots) + 256 datagrams in flight (the default), claim batch ${CLAIM_BATCH}`,
      cpuPerMessage: 'cpu/msg = user + system time of both processes (all threads) / verified messages',
      runs: args.runs,
    },
  );
  // Where io_uring is not usable, its variants are left out and the reason printed.
  const order = Object.keys(variants).filter((name) => uringUsable || variants[name].backend !== 'io_uring');
  if (!uringUsable && !args.json) console.log(`  io_uring variants skipped: ${capability().reason}`);
  const { measured, method } = await runInterleaved(args, order, (name) => measure(name, durationMs, rate));
  const values = (name, key) => measured[name]?.map((m) => m[key]);
  // A paced variant that could not keep up is saturated: its figures are not comparable.
  const saturated = (name) => rate > 0 && (measured[name] ?? []).some((m) => m.perSecond < rate * SATURATED_SHARE);
  const recordPair = (name, baselines) => {
    const label = saturated(name) ? `${labels[name]} (saturated below ${rate} msg/s)` : labels[name];
    const base = saturated(name) ? {} : baselines;
    const isLarge = name.endsWith('Large');
    const throughput = report.record({
      variant: label,
      metric: isLarge ? 'datagrams' : 'throughput',
      unit: isLarge ? 'dgram/s' : 'msg/s',
      values: values(name, 'perSecond'),
      baseline: base.throughput ?? null,
    });
    const cpu = report.record({
      variant: label,
      metric: 'cpu/msg',
      unit: 'ns',
      values: values(name, 'cpuNsPerMessage'),
      baseline: base.cpu ?? null,
      better: 'lower',
    });
    return { throughput, cpu };
  };
  recordPair('dgramSmall', {});
  const packed = recordPair('dgramPackedSmall', {});
  const small = saturated('dgramPackedSmall') ? {} : packed;
  recordPair('fluxSmall', small);
  if (uringUsable) recordPair('fluxUringSmall', small);
  const dgramLarge = recordPair('dgramLarge', {});
  const large = saturated('dgramLarge') ? {} : dgramLarge;
  recordPair('fluxLarge', large);
  if (uringUsable) recordPair('fluxUringLarge', large);
  // Loss as a delivered share (a 'lost' line would be 0 when nothing is lost, and results are > 0).
  for (const name of order) {
    report.record({ variant: `${labels[name]}: delivered of sent`, metric: 'delivered', unit: '%', values: values(name, 'deliveredPercent') });
  }
  report.method(method);
  if (!args.json) {
    console.log('  per run (sent / verified / lost, messages per datagram sent, sender + receiver CPU ns/msg):');
    for (const name of order.filter((n) => measured[n])) {
      const runs = measured[name].map(
        (m) =>
          `${m.sent} / ${m.verified} / ${m.lost}, ${(m.sent / m.datagrams).toFixed(1)}, ${m.senderCpuNsPerMessage.toFixed(0)} + ${m.receiverCpuNsPerMessage.toFixed(0)}`,
      );
      console.log(`    ${labels[name].padEnd(44)} ${runs.join(';  ')}`);
    }
  }
}
