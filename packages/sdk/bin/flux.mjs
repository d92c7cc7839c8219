#!/usr/bin/env node
// flux info [--json]: what Flux can use on this machine (io_uring and why not, the UDP
// backend 'auto' takes, NUMA nodes, huge pages, CPUs), from @flux/sdk's info().
// flux rings [--json] [--dir D] [--remove-unheld]: the ring files in D (default /dev/shm):
// geometry, positions, who holds each; --remove-unheld first removes those nobody holds.
import { formatInfo, formatRings, info, Ring, ringReport } from '../dist/index.js';

const USAGE = 'usage: flux info [--json] | flux rings [--json] [--dir DIRECTORY] [--remove-unheld]';
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
} else {
  console.error(USAGE);
  process.exit(2);
}
