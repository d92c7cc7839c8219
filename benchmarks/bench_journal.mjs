// bench_journal: @flux/journal against what a plain Node user writes instead, in the same run.
// Every journal lives in a fresh directory under os.tmpdir() (the disk's page cache, not
// tmpfs); no sync policy on either side (the kernel writes back when it likes).
//
//   append, 64 B records, one writer thread, busy:
//   appendJournal     Journal.claim(64, 256): 256 records per claim, each payload written in
//                     place (a 64 B template and the record's index), one commit per claim;
//                     each record gets the 32 B header and its checksum (layout.ts)
//   appendWriteSync   the baseline: the same 64 B payloads, each behind a 4-byte length, packed
//                     into a 64 KiB Buffer and written with fs.writeSync when full (no checksum,
//                     no header: less work per record than the journal does)
//   rate = records / elapsed, the first append to the last (the journal's segment files are
//   made and prefaulted as it goes, inside the timing; the baseline's file grows as it goes)
//   cpu = the whole process's CPU time (user + system, every thread) over the same span, per
//   record: the journal's prefault runs on a libuv pool thread, on the other core, and is
//   counted here; the baseline's page-cache allocation is in its own write calls
//
//   replay, page cache warm (the records appended just before, in the same run):
//   replayJournal     reader.poll() over every record, the handler reads the index in place
//   replayReadSync    the baseline: fs.readSync of 64 KiB chunks, each length-prefixed record
//                     parsed and its index read
//
//   cold open, a 1 GiB journal (built once per bench run; page cache warm):
//   coldOpenJournal   a fresh process: Journal.open(readOnly) + reader at the middle position
//                     + the first record delivered; timed from before open to the record
//   coldOpenFile      the same fresh process, the baseline file: open + one 64 KiB read at the
//                     middle + the first record parsed
//
//   live, a record appended reaching a reader at the live end (ping-pong, two threads, both
//   busy-spinning, one core each; p50 of 100,000 round trips after 10,000 warm-up):
//   liveJournal       ping appends to journal A, pong's reader follows A and appends to B,
//                     ping's reader follows B: a round trip is two appends and two follows
//   liveRing          the same ping-pong through two @flux/ring rings (SharedArrayBuffer)
//
// Run: node bench_journal.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Journal } from '@flux/journal';
import { BusySpinWaitStrategy, Ring } from '@flux/ring';
import '@flux/uring'; // the shared-memory provider (maps the journal's files)
import { median, parseArgs, reporter, runInterleaved, runWorker, scaleOf, selected, verify } from './lib/harness.mjs';

const RECORD_BYTES = 64;
const BATCH = 256;
const WRITE_CHUNK_BYTES = 64 * 1024;
const SEGMENT_BYTES = 64 * 1024 * 1024;
const BIG_JOURNAL_BYTES = 1024 * 1024 * 1024;
const PINGS = [10_000, 100_000];

const scratch = () => mkdtempSync(join(tmpdir(), 'flux-bench-journal-'));

// ---- roles (a worker thread runs one) ----------------------------------------------------------

function appendJournal({ directory, count }) {
  const journal = Journal.open(directory, { segmentBytes: SEGMENT_BYTES });
  const template = new Uint8Array(RECORD_BYTES).map((_, i) => i & 0xff);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let written = 0; written < count; written += BATCH) {
    const claim = journal.claim(RECORD_BYTES, BATCH);
    const { bytes, strideBytes } = claim;
    const view = new DataView(bytes.buffer);
    for (let i = 0, offset = claim.offsetBytes; i < BATCH; i++, offset += strideBytes) {
      bytes.set(template, offset);
      view.setInt32(offset, written + i, true);
    }
    claim.commit();
  }
  const elapsedMs = performance.now() - started;
  const cpuNsPerRecord = cpuNsPer(process.cpuUsage(cpuBefore), count);
  journal.close();
  return { elapsedMs, cpuNsPerRecord };
}

/** CPU time of the whole process (every thread: the journal's prefaults on libuv's pool too; the kernel's share) per record. */
function cpuNsPer({ user, system }, count) {
  return ((user + system) * 1000) / count;
}

function appendWriteSync({ directory, count }) {
  const fd = openSync(join(directory, 'records.bin'), 'w');
  const chunk = Buffer.alloc(WRITE_CHUNK_BYTES);
  const template = new Uint8Array(RECORD_BYTES).map((_, i) => i & 0xff);
  const frame = 4 + RECORD_BYTES;
  let used = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    if (used + frame > WRITE_CHUNK_BYTES) {
      writeSync(fd, chunk, 0, used);
      used = 0;
    }
    chunk.writeUInt32LE(RECORD_BYTES, used);
    chunk.set(template, used + 4);
    chunk.writeInt32LE(i, used + 4);
    used += frame;
  }
  if (used > 0) writeSync(fd, chunk, 0, used);
  const elapsedMs = performance.now() - started;
  const cpuNsPerRecord = cpuNsPer(process.cpuUsage(cpuBefore), count);
  closeSync(fd);
  return { elapsedMs, cpuNsPerRecord };
}

function replayJournal({ directory, count }) {
  const journal = Journal.open(directory, { readOnly: true });
  const reader = journal.reader({ from: 'start' });
  let bad = 0;
  let expected = 0;
  const started = performance.now();
  let read = 0;
  for (;;) {
    const got = reader.poll((bytes, offset, length) => {
      if (length !== RECORD_BYTES || (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) !== expected) bad++;
      expected++;
    });
    if (got === 0) break;
    read += got;
  }
  const elapsedMs = performance.now() - started;
  return { elapsedMs, read, bad, count };
}

function replayReadSync({ directory, count }) {
  const fd = openSync(join(directory, 'records.bin'), 'r');
  const chunk = Buffer.alloc(WRITE_CHUNK_BYTES);
  let bad = 0;
  let read = 0;
  let carry = 0;
  const started = performance.now();
  for (;;) {
    const got = readSync(fd, chunk, carry, WRITE_CHUNK_BYTES - carry, null);
    if (got === 0) break;
    const end = carry + got;
    let at = 0;
    while (at + 4 <= end) {
      const length = chunk.readUInt32LE(at);
      if (at + 4 + length > end) break;
      if (length !== RECORD_BYTES || chunk.readInt32LE(at + 4) !== read) bad++;
      read++;
      at += 4 + length;
    }
    chunk.copy(chunk, 0, at, end);
    carry = end - at;
  }
  const elapsedMs = performance.now() - started;
  closeSync(fd);
  return { elapsedMs, read, bad, count };
}

function pingPongJournal({ directories, side, scale }) {
  const [out, into] = side === 'ping' ? directories : [directories[1], directories[0]];
  const outJournal = Journal.open(out);
  const inJournal = Journal.open(into);
  const reader = inJournal.reader({ from: 'start' });
  const stamp = new Uint8Array(8);
  const [warmup, samples] = PINGS.map((n) => Math.max(10, Math.round(n * scale)));
  const rtts = new Float64Array(samples);
  let previous = performance.now();
  let answered = 0;
  const onRecord = () => answered++;
  for (let i = 0; i < warmup + samples; i++) {
    if (side === 'ping') outJournal.appendBytes(stamp, 0, 8);
    const deadline = Date.now() + 10_000;
    while (reader.poll(onRecord, 1) === 0) verify(Date.now() < deadline, `${side}: no record within 10 s`);
    if (side === 'pong') outJournal.appendBytes(stamp, 0, 8);
    else {
      const now = performance.now();
      if (i >= warmup) rtts[i - warmup] = (now - previous) * 1e6;
      previous = now;
    }
  }
  verify(answered === warmup + samples, `${side}: ${answered} answers`);
  outJournal.close();
  inJournal.close();
  return { p50: side === 'ping' ? median(rtts) : 0 };
}

function pingPongRing({ handles, consumerIds, side, scale }) {
  const [outRing, inRing] = side === 'ping' ? [Ring.attach(handles[0]), Ring.attach(handles[1])] : [Ring.attach(handles[1]), Ring.attach(handles[0])];
  const producer = outRing.createProducer();
  const consumer = inRing.openConsumer(side === 'ping' ? consumerIds[1] : consumerIds[0]);
  const spin = new BusySpinWaitStrategy();
  const [warmup, samples] = PINGS.map((n) => Math.max(10, Math.round(n * scale)));
  const rtts = new Float64Array(samples);
  const send = () => {
    const first = producer.tryClaim(1, 8);
    verify(first >= 0, `${side}: ring full (${first})`);
    producer.publish(first, 1);
  };
  let previous = performance.now();
  for (let i = 0; i < warmup + samples; i++) {
    if (side === 'ping') send();
    verify(consumer.waitFor(spin, 10_000) > 0, `${side}: no message within 10 s`);
    consumer.release(1);
    if (side === 'pong') send();
    else {
      const now = performance.now();
      if (i >= warmup) rtts[i - warmup] = (now - previous) * 1e6;
      previous = now;
    }
  }
  return { p50: side === 'ping' ? median(rtts) : 0 };
}

/** In a fresh process (argv: --cold journal|file DIRECTORY RECORDS): the time to the first record at the middle, ms. */
function coldOpen(kind, directory, records) {
  const started = performance.now();
  let index;
  if (kind === 'journal') {
    const journal = Journal.open(directory, { readOnly: true });
    const middle = Math.floor(journal.endPosition / 2);
    const reader = journal.reader({ from: middle });
    const got = reader.poll((bytes, offset) => {
      index = bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24);
    }, 1);
    verify(got === 1, 'cold open: no record at the middle');
  } else {
    const fd = openSync(join(directory, 'records.bin'), 'r');
    const frame = 4 + RECORD_BYTES;
    const middle = Math.floor(records / 2) * frame; // a plain file of fixed frames: the offset by arithmetic
    const chunk = Buffer.alloc(WRITE_CHUNK_BYTES);
    verify(readSync(fd, chunk, 0, WRITE_CHUNK_BYTES, middle) > frame, 'cold open: short read');
    index = chunk.readInt32LE(4);
    closeSync(fd);
  }
  return { ms: performance.now() - started, index };
}

const roles = { appendJournal, appendWriteSync, replayJournal, replayReadSync, pingPongJournal, pingPongRing };

if (!isMainThread) {
  parentPort.postMessage(roles[workerData.role](workerData));
} else if (process.argv[2] === '--cold') {
  console.log(JSON.stringify(coldOpen(process.argv[3], process.argv[4], Number(process.argv[5]))));
} else {
  const VARIANTS = ['appendJournal', 'appendWriteSync', 'replayJournal', 'replayReadSync', 'coldOpenJournal', 'coldOpenFile', 'liveJournal', 'liveRing'];
  const args = parseArgs({ variants: VARIANTS });
  const scale = scaleOf(args);
  const count = Math.max(BATCH, Math.round((4_000_000 * scale) / BATCH) * BATCH);
  const bigBytes = Math.max(SEGMENT_BYTES, Math.round(BIG_JOURNAL_BYTES * scale));
  const report = reporter(
    'journal',
    args,
    '  one writer thread -> @flux/journal (mapped segment files) | fs.writeSync of 64 KiB chunks; replay; cold open; live ping-pong',
    {
      recordBytes: RECORD_BYTES,
      batch: BATCH,
      records: count,
      segmentBytes: SEGMENT_BYTES,
      directory: tmpdir(),
      coldJournalBytes: bigBytes,
      runs: args.runs,
    },
  );
  const directories = [];
  const fresh = () => {
    const directory = scratch();
    directories.push(directory);
    return directory;
  };
  // The cold-open journal and its baseline file, built once: 1 GiB of 64 B records.
  let big;
  const bigRecords = Math.floor(bigBytes / (RECORD_BYTES + 32) / BATCH) * BATCH;
  if (VARIANTS.some((name) => name.startsWith('coldOpen') && selected(args, name))) {
    big = fresh();
    await runWorker(new URL(import.meta.url), { role: 'appendJournal', directory: big, count: bigRecords });
    await runWorker(new URL(import.meta.url), { role: 'appendWriteSync', directory: big, count: bigRecords });
  }
  const appended = {};
  const cpu = { appendJournal: [], appendWriteSync: [] };
  try {
    const { measured, method } = await runInterleaved(args, VARIANTS, async (name) => {
      if (name === 'appendJournal' || name === 'appendWriteSync') {
        const directory = fresh();
        const { elapsedMs, cpuNsPerRecord } = await runWorker(new URL(import.meta.url), { role: name, directory, count });
        appended[name] = directory;
        cpu[name].push(cpuNsPerRecord);
        return (count / elapsedMs) * 1000;
      }
      if (name === 'replayJournal' || name === 'replayReadSync') {
        const source = name === 'replayJournal' ? 'appendJournal' : 'appendWriteSync';
        let directory = appended[source];
        if (directory === undefined) {
          directory = fresh();
          await runWorker(new URL(import.meta.url), { role: source, directory, count });
          appended[source] = directory;
        }
        const result = await runWorker(new URL(import.meta.url), { role: name, directory, count });
        verify(result.bad === 0 && result.read === count, `${name}: read ${result.read} of ${count}, ${result.bad} bad`);
        return (count / result.elapsedMs) * 1000;
      }
      if (name === 'coldOpenJournal' || name === 'coldOpenFile') {
        const child = spawnSync(
          process.execPath,
          [new URL(import.meta.url).pathname, '--cold', name === 'coldOpenJournal' ? 'journal' : 'file', big, String(bigRecords)],
          { encoding: 'utf8' },
        );
        verify(child.status === 0, `${name}: the child failed: ${child.stderr}`);
        const { ms, index } = JSON.parse(child.stdout.trim().split('\n').pop());
        verify(Math.abs(index - bigRecords / 2) <= BATCH * 2, `${name}: the record at the middle is ${index}, not about ${bigRecords / 2}`);
        return ms;
      }
      if (name === 'liveJournal') {
        const pair = [fresh(), fresh()];
        for (const directory of pair) Journal.open(directory).close(); // made before either side opens
        const [ping] = await Promise.all(
          ['ping', 'pong'].map((side) => runWorker(new URL(import.meta.url), { role: 'pingPongJournal', directories: pair, side, scale })),
        );
        return ping.p50;
      }
      const rings = [0, 1].map(() => Ring.create({ capacity: 64, maxMessageBytes: 8 }));
      const consumerIds = rings.map((ring) => ring.addConsumer());
      const [ping] = await Promise.all(
        ['ping', 'pong'].map((side) =>
          runWorker(new URL(import.meta.url), { role: 'pingPongRing', handles: rings.map((r) => r.handle), consumerIds, side, scale }),
        ),
      );
      return ping.p50;
    });
    const writeSync = report.record({
      variant: 'fs.writeSync, 64 KiB chunks of length-prefixed 64 B',
      metric: 'append',
      unit: 'rec/s',
      values: measured.appendWriteSync,
    });
    report.record({ variant: 'flux journal, claim 256 x 64 B in place', metric: 'append', unit: 'rec/s', values: measured.appendJournal, baseline: writeSync });
    if (cpu.appendJournal.length > 0 && cpu.appendWriteSync.length > 0) {
      const writeSyncCpu = report.record({
        variant: 'fs.writeSync, 64 KiB chunks of length-prefixed 64 B',
        metric: 'append cpu',
        unit: 'ns/rec',
        values: cpu.appendWriteSync.slice(-args.runs),
        better: 'lower',
      });
      report.record({
        variant: 'flux journal, claim 256 x 64 B in place',
        metric: 'append cpu',
        unit: 'ns/rec',
        values: cpu.appendJournal.slice(-args.runs),
        baseline: writeSyncCpu,
        better: 'lower',
      });
    }
    const readSync = report.record({ variant: 'fs.readSync, 64 KiB chunks, parsed', metric: 'replay', unit: 'rec/s', values: measured.replayReadSync });
    report.record({ variant: 'flux journal reader.poll, in place', metric: 'replay', unit: 'rec/s', values: measured.replayJournal, baseline: readSync });
    const file = report.record({
      variant: 'plain file: open + 64 KiB read at the middle',
      metric: 'first rec',
      unit: 'ms',
      values: measured.coldOpenFile,
      better: 'lower',
    });
    report.record({
      variant: 'flux journal (1 GiB): open + reader at the middle',
      metric: 'first rec',
      unit: 'ms',
      values: measured.coldOpenJournal,
      baseline: file,
      better: 'lower',
    });
    const ring = report.record({
      variant: 'flux ring ping-pong (Flux vs Flux), busy spin',
      metric: 'rtt p50',
      unit: 'ns',
      values: measured.liveRing,
      better: 'lower',
    });
    report.record({
      variant: 'flux journal ping-pong, readers following the live end',
      metric: 'rtt p50',
      unit: 'ns',
      values: measured.liveJournal,
      baseline: ring,
      better: 'lower',
    });
    report.method(method);
  } finally {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  }
}
