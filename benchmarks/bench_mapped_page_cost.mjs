// bench_mapped_page_cost: what a fresh page of a memory-mapped file costs on this machine,
// and what prefaulting it on a pool thread buys: the machine's limit under @flux/journal's
// appends (every segment is fresh file pages). Flux against itself and the machine: no
// competitor rows. Files under os.tmpdir() (the disk's page cache), mapped MAP_SHARED by
// @flux/uring's addon, 64 MiB each, a fresh file per measurement.
//
//   page touch, one thread, one 4-byte store per 4 KiB page, µs per page:
//   touchFresh           a fresh file's pages, first touched by the store (the page fault,
//                        the page cache page, and in a VM the host's backing of it)
//   touchPrefaulted      the same after `await prefault(buffer, true)` (MADV_POPULATE_WRITE
//                        and a touch per page, on a libuv pool thread): what is left
//   prefault             the prefault itself, its wall time per page (on the pool thread)
//
//   records, one thread, 96-byte records (a 32-byte header's stores and a 64-byte payload,
//   no checksum) written into a prefaulted fresh file, rec/s:
//   recordsAlone         nothing else running
//   recordsBesidePrefault  while another fresh file of the same size is being prefaulted on
//                        the pool thread (what a journal's writer meets: it prefaults the
//                        next segment while it fills this one)
//
// Run: node bench_mapped_page_cost.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedMemoryProvider } from '@flux/ring/mapped';
import '@flux/uring'; // registers the shared-memory provider (maps the files)
import { parseArgs, reporter, runInterleaved, scaleOf, verify } from './lib/harness.mjs';

const PAGE_BYTES = 4096;
const RECORD_BYTES = 96;
const FULL_BYTES = 64 * 1024 * 1024;

const VARIANTS = ['touchFresh', 'touchPrefaulted', 'prefault', 'recordsAlone', 'recordsBesidePrefault'];
const args = parseArgs({ variants: VARIANTS });
const bytes = Math.max(16 * PAGE_BYTES, Math.floor((FULL_BYTES * Math.max(scaleOf(args), 1 / 16)) / PAGE_BYTES) * PAGE_BYTES);
const pages = bytes / PAGE_BYTES;
const memory = sharedMemoryProvider();
const directory = mkdtempSync(join(tmpdir(), 'flux-bench-pages-'));
let serial = 0;
/** A fresh file, mapped; its name is removed at once (the mapping keeps its pages until collected). */
const freshFile = () => {
  const path = join(directory, `file-${serial++}`);
  const buffer = memory.create(path, bytes, 0o600);
  rmSync(path);
  return buffer;
};

/** µs per page of one store per page. */
function touch(buffer) {
  const int32 = new Int32Array(buffer);
  const stride = PAGE_BYTES / 4;
  const started = performance.now();
  for (let i = 0; i < int32.length; i += stride) int32[i + 16] = i;
  const us = ((performance.now() - started) * 1000) / pages;
  verify(int32[stride + 16] === stride, 'a touched page does not hold its store');
  return us;
}

/** rec/s of 96-byte records written whole into `buffer`. */
function writeRecords(buffer) {
  const int32 = new Int32Array(buffer);
  const float64 = new Float64Array(buffer);
  const u8 = new Uint8Array(buffer);
  const payload = new Uint8Array(64).map((_, i) => i);
  const count = Math.floor(bytes / RECORD_BYTES);
  const started = performance.now();
  for (let r = 0, byte = 0; r < count; r++, byte += RECORD_BYTES) {
    const word = byte >> 2;
    int32[word + 1] = 7;
    float64[(byte + 8) >> 3] = byte;
    float64[(byte + 16) >> 3] = started;
    int32[word + 7] = 0;
    u8.set(payload, byte + 32);
    int32[word + 8] = r;
    Atomics.store(int32, word, RECORD_BYTES);
  }
  const rate = (count / (performance.now() - started)) * 1000;
  verify(int32[((count - 1) * RECORD_BYTES) / 4 + 8] === count - 1, 'the last record does not hold its index');
  return rate;
}

const report = reporter('mapped_page_cost', args, '  one thread storing into fresh MAP_SHARED file pages; a libuv pool thread prefaulting', {
  fileBytes: bytes,
  pages,
  directory: tmpdir(),
  runs: args.runs,
});
try {
  const { measured, method } = await runInterleaved(args, VARIANTS, async (name) => {
    const buffer = freshFile();
    if (name === 'touchFresh') return touch(buffer);
    if (name === 'prefault') {
      const started = performance.now();
      await memory.prefault(buffer, true);
      return ((performance.now() - started) * 1000) / pages;
    }
    await memory.prefault(buffer, true);
    if (name === 'touchPrefaulted') return touch(buffer);
    if (name === 'recordsAlone') return writeRecords(buffer);
    const other = freshFile();
    const prefaulting = memory.prefault(other, true);
    const rate = writeRecords(buffer);
    await prefaulting;
    return rate;
  });
  const fresh = report.record({ variant: 'first store to a fresh page', metric: 'page', unit: 'µs', values: measured.touchFresh, better: 'lower' });
  report.record({
    variant: 'first store after prefault (machine vs itself)',
    metric: 'page',
    unit: 'µs',
    values: measured.touchPrefaulted,
    baseline: fresh,
    better: 'lower',
  });
  report.record({ variant: 'prefault on the pool thread, wall time', metric: 'page', unit: 'µs', values: measured.prefault, better: 'lower' });
  const alone = report.record({ variant: '96 B records into prefaulted pages, alone', metric: 'write', unit: 'rec/s', values: measured.recordsAlone });
  report.record({
    variant: 'the same beside a prefault of another file (machine vs itself)',
    metric: 'write',
    unit: 'rec/s',
    values: measured.recordsBesidePrefault,
    baseline: alone,
  });
  report.method(method);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
