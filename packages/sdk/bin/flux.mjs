#!/usr/bin/env node
// flux info [--json]: what Flux can use on this machine (io_uring and why not, the UDP
// backend 'auto' takes, NUMA nodes, huge pages, CPUs), from @flux/sdk's info().
// flux rings [--json] [--dir D] [--remove-unheld]: the ring files in D (default /dev/shm):
// geometry, positions, who holds each; --remove-unheld first removes those nobody holds.
// flux stat [--json] [--dir D] [--watch MS [--count N]] [--remove-stale]: the counters other
// processes export (exportCounters), once or every MS milliseconds (N times; default until
// interrupted); --remove-stale first removes the files of processes that are gone.
// flux journal inspect DIR [--json] [--verify]: a journal's settings, positions, segments,
// writers; --verify reads and checks every record.
// flux journal tail DIR [--from POS|start|end | --since TIME] [--count N] [--follow] [--json]:
// the last N records (default 10), or N (default all) from a position or a time (ISO or ms);
// --follow waits for more; --json prints ndjson, payloads whole.
// flux journal replay DIR --ring NAME|PATH [--from ... | --since ...] [--count N] [--pace SPEED]
// [--follow]: copies the records' payloads into a ring another process made and reads.
// Every journal command opens the journal read-only (no writer slot, no recovery).
// flux build-native: builds @flux/uring's addon from the sources it ships (a C++17 compiler,
// cmake and Node's headers needed; cmake-js is fetched by npm exec), for a machine no
// prebuild matches; the loader prefers that build to a prebuild from then on.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  formatInfo,
  formatJournal,
  formatRecord,
  formatRings,
  formatStats,
  info,
  Journal,
  journalReport,
  lastRecords,
  Ring,
  readStats,
  recordJson,
  removeStaleStats,
  replayToRing,
  ringReport,
} from '../dist/index.js';

const USAGE =
  'usage: flux info [--json] | flux build-native | flux rings [--json] [--dir DIRECTORY] [--remove-unheld] | flux stat [--json] [--dir DIRECTORY] [--watch MS [--count N]] [--remove-stale]\n' +
  '       flux journal inspect DIR [--json] [--verify] | flux journal tail DIR [--from POS|start|end | --since TIME] [--count N] [--follow] [--json]\n' +
  '       flux journal replay DIR --ring NAME|PATH [--from POS|start|end | --since TIME] [--count N] [--pace SPEED] [--follow]';
const [command, ...rest] = process.argv.slice(2);
if (command === 'info' && rest.every((arg) => arg === '--json')) {
  const report = info();
  console.log(rest.includes('--json') ? JSON.stringify(report, null, 2) : formatInfo(report));
} else if (command === 'build-native' && rest.length === 0) {
  const uring = dirname(createRequire(import.meta.url).resolve('@flux/uring/package.json'));
  const result = spawnSync(process.execPath, [join(uring, 'scripts/build-native.mjs')], { cwd: uring, stdio: 'inherit' });
  if (result.status === 0) console.log(`built ${join(uring, 'build/Release/flux_uring.node')}; flux info names the addon it loads`);
  process.exit(result.status ?? 1);
} else if (command === 'rings') {
  let directory;
  let json = false;
  let removeUnheld = false;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--json') json = true;
    else if (rest[i] === '--remove-unheld') removeUnheld = true;
    else if (rest[i] === '--dir' && rest[i + 1] !== undefined) directory = rest[++i];
    else {
      console.error(USAGE);
      process.exit(2);
    }
  }
  const removed = removeUnheld ? Ring.removeUnheld(directory) : [];
  const reports = ringReport(directory);
  if (json) console.log(JSON.stringify({ removed, rings: reports }, null, 2));
  else {
    for (const path of removed) console.log(`removed ${path} (nobody holds it)`);
    console.log(formatRings(reports));
  }
} else if (command === 'stat') {
  let directory;
  let json = false;
  let removeStale = false;
  let watchMs = 0;
  let count = Number.POSITIVE_INFINITY;
  const positive = (text) => (/^[1-9][0-9]*$/.test(text ?? '') ? Number(text) : usage());
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--json') json = true;
    else if (rest[i] === '--remove-stale') removeStale = true;
    else if (rest[i] === '--dir' && rest[i + 1] !== undefined) directory = rest[++i];
    else if (rest[i] === '--watch') watchMs = positive(rest[++i]);
    else if (rest[i] === '--count') count = positive(rest[++i]);
    else usage();
  }
  if (!watchMs) count = 1;
  if (removeStale) for (const path of removeStaleStats(directory)) console.log(`removed ${path} (its process is gone)`);
  for (let printed = 0; printed < count; printed++) {
    if (printed > 0) await new Promise((resolve) => setTimeout(resolve, watchMs));
    const files = readStats(directory);
    console.log(json ? JSON.stringify(files) : `${formatStats(files)}\n`);
  }
} else if (command === 'journal') {
  await journalCommand(rest);
} else {
  usage();
}

async function journalCommand([sub, directory, ...args]) {
  if (!['inspect', 'tail', 'replay'].includes(sub) || directory === undefined || directory.startsWith('--')) usage();
  const o = { json: false, verify: false, follow: false, count: undefined, from: undefined, sinceMs: undefined, ring: undefined, speed: undefined };
  const positive = (text) => (/^[1-9][0-9]*$/.test(text ?? '') ? Number(text) : usage());
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--json' && sub !== 'replay') o.json = true;
    else if (arg === '--verify' && sub === 'inspect') o.verify = true;
    else if (arg === '--follow' && sub !== 'inspect') o.follow = true;
    else if (arg === '--count' && sub !== 'inspect') o.count = positive(args[++i]);
    else if (arg === '--from' && sub !== 'inspect' && o.sinceMs === undefined) {
      const value = args[++i];
      o.from = value === 'start' || value === 'end' ? value : /^(0|[1-9][0-9]*)$/.test(value ?? '') ? Number(value) : usage();
    } else if (arg === '--since' && sub !== 'inspect' && o.from === undefined) {
      const value = args[++i] ?? '';
      o.sinceMs = /^[0-9]+$/.test(value) ? Number(value) : Date.parse(value);
      if (!Number.isFinite(o.sinceMs)) usage();
    } else if (arg === '--ring' && sub === 'replay' && args[i + 1] !== undefined) o.ring = args[++i];
    else if (arg === '--pace' && sub === 'replay' && Number(args[i + 1]) > 0) o.speed = Number(args[++i]);
    else usage();
  }
  if (sub === 'replay' && o.ring === undefined) usage();
  try {
    if (sub === 'inspect') {
      const report = journalReport(directory, { verify: o.verify });
      console.log(o.json ? JSON.stringify(report, null, 2) : formatJournal(report));
      if (report.verify?.firstBadPosition !== undefined) process.exitCode = 1;
      return;
    }
    const journal = Journal.open(directory, { readOnly: true });
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    const start = o.sinceMs !== undefined ? { fromTimestampMs: o.sinceMs } : { from: o.from };
    try {
      if (sub === 'replay') {
        const ring = Ring.open(o.ring.includes('/') ? { path: o.ring } : o.ring);
        const copied = await replayToRing(journal, ring, {
          ...start,
          count: o.count,
          follow: o.follow,
          signal: stop.signal,
          ...(o.speed !== undefined ? { pace: { speed: o.speed } } : {}),
        }).catch((error) => (stop.signal.aborted ? -1 : Promise.reject(error)));
        console.log(copied < 0 ? 'replay interrupted' : `replayed ${copied} records into ${ring.path}`);
        return;
      }
      const print = (record) => console.log(o.json ? JSON.stringify(recordJson(record)) : formatRecord(record));
      let printed = 0;
      let from = start;
      if (o.from === undefined && o.sinceMs === undefined) {
        // The last N, then (with --follow) on from the end.
        const { records, nextPosition } = lastRecords(journal, o.count ?? 10);
        for (const record of records) print(record);
        if (!o.follow) return;
        from = { from: nextPosition };
        o.count = undefined;
      }
      try {
        for await (const record of journal.records({ ...from, follow: o.follow, signal: stop.signal })) {
          print(record);
          if (++printed === o.count) break;
        }
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
    } finally {
      journal.close();
    }
  } catch (error) {
    console.error(`flux journal ${sub}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

function usage() {
  console.error(USAGE);
  process.exit(2);
}
