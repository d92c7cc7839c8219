#!/usr/bin/env node
// flux info [--json]: what Flux can use on this machine (io_uring and why not, the UDP
// backend 'auto' takes, NUMA nodes, huge pages, CPUs), from @flux/sdk's info().
// flux rings [--json] [--dir D] [--remove-unheld]: the ring files in D (default /dev/shm):
// geometry, positions, who holds each; --remove-unheld first removes those nobody holds.
// flux stat [--json] [--dir D] [--watch MS [--count N]] [--remove-stale]: the counters other
// processes export (exportCounters), once or every MS milliseconds (N times; default until
// interrupted); --remove-stale first removes the files of processes that are gone.
import { formatInfo, formatRings, formatStats, info, Ring, readStats, removeStaleStats, ringReport } from '../dist/index.js';

const USAGE =
  'usage: flux info [--json] | flux rings [--json] [--dir DIRECTORY] [--remove-unheld] | flux stat [--json] [--dir DIRECTORY] [--watch MS [--count N]] [--remove-stale]';
const [command, ...rest] = process.argv.slice(2);
if (command === 'info' && rest.every((arg) => arg === '--json')) {
  const report = info();
  console.log(rest.includes('--json') ? JSON.stringify(report, null, 2) : formatInfo(report));
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
} else {
  usage();
}

function usage() {
  console.error(USAGE);
  process.exit(2);
}
