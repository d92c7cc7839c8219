#!/usr/bin/env node
// flux info [--json]: what Flux can use on this machine (io_uring and why not, the UDP
// backend 'auto' takes, NUMA nodes, huge pages, CPUs), from @flux/sdk's info().
import { formatInfo, info } from '../dist/index.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'info' && rest.every((arg) => arg === '--json')) {
  const report = info();
  console.log(rest.includes('--json') ? JSON.stringify(report, null, 2) : formatInfo(report));
} else {
  console.error('usage: flux info [--json]');
  process.exit(2);
}
