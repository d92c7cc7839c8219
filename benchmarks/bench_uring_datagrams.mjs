// bench_uring_datagrams: raw datagrams over loopback between two processes, io_uring on both
// ends (@flux/uring) against node:dgram on both ends, in the same run. Only datagrams the
// receiver verified are counted.
//
//   [process: sender] --UDP 127.0.0.1--> [process: receiver]
//                                        checks each datagram's length and its index (u32 LE
//                                        at offset 0; its complement in the last 4 bytes): in
//                                        order, no duplicate; gaps counted as lost
//   dgram   socket.send per datagram, 256 in flight      | 'message' events
//   uring   registered buffer of W datagrams; each batch  | multishot RECVMSG into provided
//           of free ones stamped, then one send() (one    | buffers, completions polled (a
//           io_uring_enter); completions polled            | bounded io_uring wait)
//   zc      as uring, with SEND_ZC on the registered buffer: a datagram is reused only after
//           the kernel's notification
//   gso     as uring, each send one 44,800 B buffer the kernel cuts into 32 x 1,400 B
//           datagrams (UDP_SEGMENT); the receiver asks for coalescing (UDP_GRO) and splits
//           what arrives by the segment size the kernel reports
//
// datagrams/s = verified datagrams / receiver elapsed (first to last verified datagram).
// Run: node bench_uring_datagrams.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { fileURLToPath } from 'node:url';
import { capability, DESCRIPTOR_UINT32S, RECORD_INT32S, RecordKind, SendFlag, UringUdpSocket } from '@flux/uring';
import { parseArgs, reporter, runInterleaved, scaleOf, verify } from './lib/harness.mjs';
import { IndexChecker, receiveWithDgram, sendWithDgram, stamp, template, yieldToEventLoop } from './lib/indexed-messages.mjs';
import { measurePair, nextParentMessage, runChild } from './lib/two-process.mjs';

const scriptPath = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
const FULL_DURATION_MS = 2000;
const DEADLINE_MS = 60_000;
const QUIET_MS = 200;
const SAMPLE_EVERY = 8;
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
const DGRAM_WINDOW = 256;
const GSO_SEGMENTS = 32;

const variants = {
  dgram64: { transport: 'dgram', bytes: 64 },
  uring64: { transport: 'uring', bytes: 64, window: 1024 },
  dgram1400: { transport: 'dgram', bytes: 1400 },
  uring1400: { transport: 'uring', bytes: 1400, window: 512 },
  gso1400: { transport: 'uring', bytes: 1400, window: 32, gso: true },
  dgram8k: { transport: 'dgram', bytes: 8192 },
  uring8k: { transport: 'uring', bytes: 8192, window: 128 },
  zc8k: { transport: 'uring', bytes: 8192, window: 128, zeroCopy: true },
};

// ---- child: receiver ----------------------------------------------------------------------

async function receiver({ variant }) {
  const { transport, bytes: datagramBytes, gso } = variants[variant];
  const deadline = Date.now() + DEADLINE_MS;
  const checker = new IndexChecker(datagramBytes, SAMPLE_EVERY);
  const check = checker.check;

  let port;
  let pump = async () => {}; // uring: polls until `until` says stop
  let close;
  let stats = () => ({});
  if (transport === 'dgram') {
    ({ port, close } = await receiveWithDgram({ host: HOST, receiveBufferBytes: RECEIVE_BUFFER_BYTES, check }));
  } else {
    const socket = UringUdpSocket.create({ receiveBufferBytes: RECEIVE_BUFFER_BYTES });
    port = socket.bind(HOST, 0).port;
    if (gso) socket.setReceiveCoalescing(true);
    const area = socket.startReceive({ partBytes: gso ? 65_536 + 128 : datagramBytes + 128, parts: gso ? 256 : 1024 });
    const records = new Int32Array(RECORD_INT32S * 4096);
    let receiveErrors = 0;
    let truncated = 0;
    // A tight poll loop (a bounded 1 ms kernel wait when idle), in 20 ms slices so the
    // parent's IPC messages get through.
    pump = async (until) => {
      while (!until()) {
        const sliceEnd = performance.now() + 20;
        while (performance.now() < sliceEnd) {
          const n = socket.poll(records, 1_000_000);
          for (let i = 0; i < n; i++) {
            const r = i * RECORD_INT32S;
            if (records[r] === RecordKind.RECV) {
              if (records[r + 3] !== 0) truncated++;
              check(area.bytes, records[r + 1], records[r + 2]);
            } else if (records[r] === RecordKind.RECV_ERROR) receiveErrors++;
          }
        }
        await yieldToEventLoop();
      }
    };
    close = async () => {
      verify(socket.close().clean, 'uring receiver: close was not clean');
    };
    stats = () => ({ ...socket.stats(), receiveErrors, truncated });
  }
  process.send({ type: 'ready', port });

  let sent = -1;
  nextParentMessage('sent', deadline).then((m) => (sent = m.sent));
  let seen = -1;
  let quietSinceMs = Date.now();
  const done = () => {
    const arrived = checker.verified + checker.bad;
    if (arrived !== seen) {
      seen = arrived;
      quietSinceMs = Date.now();
    }
    if (Date.now() > deadline) throw new Error('receiver: deadline');
    return sent >= 0 && (checker.expected >= sent || Date.now() - quietSinceMs > QUIET_MS);
  };
  if (transport === 'dgram') {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
  } else {
    await pump(done);
  }
  const counters = stats();
  await close();
  return { ...checker.result(), counters };
}

// ---- child: sender ------------------------------------------------------------------------

async function sender({ variant, port, durationMs }) {
  const { transport, bytes: datagramBytes, window, zeroCopy, gso } = variants[variant];
  const deadline = Date.now() + DEADLINE_MS;
  const source = template(datagramBytes);
  let sent = 0;
  const end = Date.now() + durationMs;

  if (transport === 'dgram') {
    return { sent: await sendWithDgram({ host: HOST, port, lengthBytes: datagramBytes, durationMs, window: DGRAM_WINDOW, deadline }) };
  }

  const socket = UringUdpSocket.create({ maxInFlight: window, entries: 1024 });
  socket.connect(HOST, port);
  const perSend = gso ? GSO_SEGMENTS : 1;
  const sendBytes = datagramBytes * perSend;
  if (gso) socket.setSegmentBytes(datagramBytes);
  const pool = new Uint8Array(window * sendBytes);
  socket.registerBuffers([pool]);
  const descriptors = new Uint32Array(window * DESCRIPTOR_UINT32S);
  const records = new Int32Array(window * RECORD_INT32S);
  const free = [];
  for (let i = window - 1; i >= 0; i--) free.push(i);
  let sendErrors = 0;
  let copiedZeroCopy = 0;
  const reap = (waitNs) => {
    const n = socket.poll(records, waitNs);
    for (let i = 0; i < n; i++) {
      const r = i * RECORD_INT32S;
      if (records[r] !== RecordKind.SEND) continue;
      if (records[r + 2] !== sendBytes) sendErrors++;
      if (records[r + 3] !== 0) copiedZeroCopy++;
      free.push(records[r + 1]);
    }
  };
  let backPressured = 0;
  while (Date.now() < end) {
    let count = 0;
    while (free.length > 0) {
      const slot = free.pop();
      const offset = slot * sendBytes;
      for (let s = 0; s < perSend; s++) {
        const at = offset + s * datagramBytes;
        pool.set(source, at);
        stamp(pool, at, datagramBytes, sent++);
      }
      const d = count++ * DESCRIPTOR_UINT32S;
      descriptors[d] = slot; // token
      descriptors[d + 1] = 0;
      descriptors[d + 2] = offset;
      descriptors[d + 3] = sendBytes;
      descriptors[d + 6] = 0;
      descriptors[d + 7] = zeroCopy ? SendFlag.ZERO_COPY : 0;
    }
    if (count > 0) {
      const accepted = socket.send(descriptors, count);
      verify(accepted === count, `uring sender: ${accepted} of ${count} accepted with ${count} free slots`);
    } else {
      backPressured++;
    }
    reap(count > 0 ? 0 : 1_000_000);
  }
  while (free.length < window) {
    if (Date.now() > deadline) throw new Error('uring sender: deadline waiting for completions');
    reap(1_000_000);
  }
  verify(socket.close().clean, 'uring sender: close was not clean');
  verify(sendErrors === 0, `uring sender: ${sendErrors} sends failed or were short`);
  return { sent, copiedZeroCopy, backPressured };
}

// ---- parent ------------------------------------------------------------------------------

async function measure(variant, durationMs) {
  const m = await measurePair(scriptPath, variant, durationMs, DEADLINE_MS, 'datagrams');
  return { ...m, copiedZeroCopy: m.sender.copiedZeroCopy ?? 0 };
}

const roleIndex = process.argv.indexOf('--role');
if (roleIndex >= 0) {
  await runChild(process.argv[roleIndex + 1], { receiver, sender }, DEADLINE_MS);
} else {
  const order = ['dgram64', 'uring64', 'dgram1400', 'uring1400', 'gso1400', 'dgram8k', 'uring8k', 'zc8k'];
  const args = parseArgs({ variants: order });
  const cap = capability();
  const durationMs = Math.max(50, Math.round(FULL_DURATION_MS * scaleOf(args)));
  const report = reporter('uring_datagrams', args, '  sender process -> UDP 127.0.0.1 -> receiver process; io_uring on both ends vs node:dgram on both ends', {
    sendDurationMs: durationMs,
    ioUring: cap.usable ? `usable (kernel ${cap.kernelRelease})` : `NOT usable: ${cap.reason}`,
    sendWindow: `dgram: ${DGRAM_WINDOW} datagrams in flight; uring: ${variants.uring64.window} (64 B), ${variants.uring1400.window} (1,400 B), ${variants.uring8k.window} (8 KiB), ${variants.gso1400.window} x ${GSO_SEGMENTS} (GSO)`,
    runs: args.runs,
  });
  if (!cap.usable) {
    console.error(`bench_uring_datagrams: io_uring is not usable here (${cap.reason}); nothing to compare`);
    process.exit(args.smoke ? 0 : 1);
  }
  const { measured, method } = await runInterleaved(args, order, (name) => measure(name, durationMs));
  const values = (name) => measured[name]?.map((m) => m.perSecond);
  const d64 = report.record({ variant: 'node:dgram, 64 B datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('dgram64') });
  report.record({ variant: 'io_uring, 64 B datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('uring64'), baseline: d64 });
  const d1400 = report.record({ variant: 'node:dgram, 1,400 B datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('dgram1400') });
  report.record({ variant: 'io_uring, 1,400 B datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('uring1400'), baseline: d1400 });
  report.record({ variant: 'io_uring GSO+GRO, 1,400 B datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('gso1400'), baseline: d1400 });
  const d8k = report.record({ variant: 'node:dgram, 8 KiB datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('dgram8k') });
  const u8k = report.record({ variant: 'io_uring, 8 KiB datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('uring8k'), baseline: d8k });
  report.record({ variant: 'io_uring zero-copy, 8 KiB datagrams', metric: 'datagrams', unit: 'dgram/s', values: values('zc8k'), baseline: u8k });
  // CPU time per datagram, both processes (all threads), for each pair compared above.
  const cpu = (name) => measured[name]?.map((m) => m.cpuNsPerMessage);
  const cpuRow = (name, label, baseline = null) =>
    report.record({ variant: label, metric: 'cpu/dgram', unit: 'ns', values: cpu(name), baseline, better: 'lower' });
  const c64 = cpuRow('dgram64', 'node:dgram, 64 B datagrams');
  cpuRow('uring64', 'io_uring, 64 B datagrams', c64);
  const c1400 = cpuRow('dgram1400', 'node:dgram, 1,400 B datagrams');
  cpuRow('uring1400', 'io_uring, 1,400 B datagrams', c1400);
  cpuRow('gso1400', 'io_uring GSO+GRO, 1,400 B datagrams', c1400);
  const c8k = cpuRow('dgram8k', 'node:dgram, 8 KiB datagrams');
  const cu8k = cpuRow('uring8k', 'io_uring, 8 KiB datagrams', c8k);
  cpuRow('zc8k', 'io_uring zero-copy, 8 KiB datagrams', cu8k);
  const measuredNames = order.filter((name) => measured[name]);
  for (const name of measuredNames) {
    report.record({ variant: `${name}: delivered of sent`, metric: 'delivered', unit: '%', values: measured[name].map((m) => m.deliveredPercent) });
  }
  report.method(method);
  if (!args.json) {
    console.log('  per run (sent / verified / lost, sender + receiver CPU ns per datagram):');
    for (const name of measuredNames) {
      const runs = measured[name].map(
        (m) => `${m.sent} / ${m.verified} / ${m.lost}, ${m.senderCpuNsPerMessage.toFixed(0)} + ${m.receiverCpuNsPerMessage.toFixed(0)}`,
      );
      console.log(`    ${name.padEnd(10)} ${runs.join(';  ')}`);
    }
    const copied = (measured.zc8k ?? []).reduce((sum, m) => sum + m.copiedZeroCopy, 0);
    console.log(`  zero-copy sends the kernel reported as copied after all: ${copied}`);
  }
}
