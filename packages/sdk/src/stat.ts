/**
 * Counters another process can read (Aeron's CnC file and AeronStat, in a form Node reads
 * without an addon): `exportCounters()` writes this process's chosen objects' counters to
 * `/dev/shm/flux-stat.<pid>.json` (`<pid>-<threadId>` from a worker thread) every `intervalMs`, replacing the file atomically (write a
 * temporary file, then rename); `readStats()` / `flux stat` read every such file, and say
 * whether the process that wrote it still runs.
 *
 *   file: { pid, startTicks, intervalMs, updatedAtMs, objects: { [name]: { [counter]: number } } }
 *   registered     every publication and subscription open in the process (they register
 *                  themselves: @flux/ring's counter-sources.ts), named "udp publication to
 *                  HOST:PORT stream N #id" and the like
 *   added          a Ring (cursor, sleepers, each active consumer's sequence and lag), or
 *                  anything readCounters reads, under the name you give
 *   FLUX_STAT=MS   starts one exporter (every MS ms) when the first of them opens
 *
 * Values are as fresh as the last write: at most `intervalMs` old while the process runs.
 * close() writes a last time and removes the file; a process that dies leaves it, marked
 * gone by its pid and start time (and `flux stat --remove-stale` removes such files).
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { counterSources, FluxRangeError, FluxTypeError, processAlive, Ring, RING_DIRECTORY, selfIdentity, setStatAutoStart } from '@flux/ring';
import { describe } from '@flux/ring/validate';
import { readCounters } from './counters.js';
import { ringPositions } from './rings.js';

const STAT_PREFIX = 'flux-stat.';
/** Default interval between writes. */
export const DEFAULT_STAT_INTERVAL_MS = 1_000;

export interface StatFile {
  path: string;
  pid: number;
  startTicks: number;
  /** Whether the process that wrote it still runs. */
  alive: boolean;
  intervalMs: number;
  updatedAtMs: number;
  objects: Record<string, Record<string, number>>;
}

export interface CounterExport {
  /** The file written. */
  readonly path: string;
  /** Adds (or replaces) an object under `name`: a Ring, or anything readCounters reads. */
  add(name: string, object: object): void;
  remove(name: string): boolean;
  /** Writes now (the timer does it every intervalMs). */
  write(): void;
  /** Writes a last time, stops, and removes the file. */
  close(): void;
}

function ringCounters(ring: Ring): Record<string, number> {
  const { cursor, sleepers, consumers } = ringPositions(ring);
  const counters: Record<string, number> = { cursor, sleepers };
  for (const { id, sequence, lag } of consumers) {
    counters[`consumer${id}.sequence`] = sequence;
    counters[`consumer${id}.lag`] = lag;
  }
  return counters;
}

function requireDirectory(directory: unknown): string {
  if (typeof directory !== 'string' || directory.length === 0) throw new FluxTypeError(`directory must be a non-empty string, got ${describe(directory)}`);
  return directory;
}

/**
 * Starts writing this process's counters file (see above): every publication and
 * subscription open in this process (`registered`, default true: they register themselves
 * with @flux/ring's counter sources) and whatever you `add`. `intervalMs` from 10 to
 * 3,600,000 (default 1,000). The file is removed at close() or when the process exits.
 */
export function exportCounters(options: { intervalMs?: number; directory?: string; registered?: boolean } = {}): CounterExport {
  const registered = options.registered ?? true;
  const intervalMs = options.intervalMs ?? DEFAULT_STAT_INTERVAL_MS;
  if (typeof intervalMs !== 'number' || !(intervalMs >= 10 && intervalMs <= 3_600_000)) {
    throw new FluxRangeError(`intervalMs must be a number from 10 to 3600000, got ${describe(intervalMs)}`);
  }
  const directory = requireDirectory(options.directory ?? RING_DIRECTORY);
  const self = selfIdentity();
  // One file per thread that exports: the main thread's is <pid>.json, a worker's <pid>-<threadId>.json.
  const path = `${directory}/${STAT_PREFIX}${self.pid}${threadId === 0 ? '' : `-${threadId}`}.json`;
  const objects = new Map<string, object>();
  let open = true;
  const write = () => {
    if (!open) return;
    const snapshot: Record<string, Record<string, number>> = {};
    if (registered) for (const source of counterSources()) snapshot[source.name] = source.read();
    for (const [name, object] of objects) snapshot[name] = object instanceof Ring ? ringCounters(object) : readCounters(object as { counters: unknown });
    const body = JSON.stringify({ pid: self.pid, startTicks: self.startTicks, intervalMs, updatedAtMs: Date.now(), objects: snapshot });
    writeFileSync(`${path}.tmp`, body, { mode: 0o600 });
    renameSync(`${path}.tmp`, path); // readers see the old file or the new one, never half of one
  };
  const timer = setInterval(write, intervalMs);
  timer.unref(); // exporting never keeps the process alive
  write();
  const onExit = () => handle.close(); // a process that ends normally leaves no file behind
  process.once('exit', onExit);
  const handle: CounterExport = {
    path,
    add(name, object) {
      if (typeof name !== 'string' || name.length === 0) throw new FluxTypeError(`name must be a non-empty string, got ${describe(name)}`);
      if (!(object instanceof Ring)) readCounters(object as { counters: unknown }); // checks it has counters now, not at the next write
      objects.set(name, object);
    },
    remove: (name) => objects.delete(name),
    write,
    close() {
      if (!open) return;
      write();
      open = false;
      clearInterval(timer);
      process.removeListener('exit', onExit);
      rmSync(path, { force: true });
    },
  };
  return handle;
}

// FLUX_STAT=<interval ms>: the first publication or subscription opened starts an exporter of everything registered.
setStatAutoStart((intervalMs) => {
  exportCounters({ intervalMs });
});

/** Every counters file in `directory` (default /dev/shm); unreadable ones are skipped (a writer mid-rename leaves none). */
export function readStats(directory: string = RING_DIRECTORY): StatFile[] {
  requireDirectory(directory);
  const files: StatFile[] = [];
  for (const entry of readdirSync(directory).sort()) {
    if (!entry.startsWith(STAT_PREFIX) || !entry.endsWith('.json')) continue;
    const path = `${directory}/${entry}`;
    try {
      const body = JSON.parse(readFileSync(path, 'utf8'));
      files.push({ path, ...body, alive: body.pid === process.pid || processAlive(body.pid, body.startTicks) });
    } catch {
      // removed between readdir and read, or not ours
    }
  }
  return files;
}

export function formatStats(files: StatFile[], nowMs = Date.now()): string {
  if (files.length === 0) return 'no counters files';
  const lines: string[] = [];
  for (const file of files) {
    lines.push(`process ${file.pid} ${file.alive ? 'alive' : 'GONE'}, written ${Math.max(0, nowMs - file.updatedAtMs)} ms ago (every ${file.intervalMs} ms)`);
    for (const [name, counters] of Object.entries(file.objects)) {
      lines.push(`  ${name}`);
      for (const [counter, value] of Object.entries(counters)) lines.push(`    ${counter.padEnd(32)} ${value}`);
    }
  }
  return lines.join('\n');
}

/** Removes the counters files of processes that are gone; returns their paths. */
export function removeStaleStats(directory: string = RING_DIRECTORY): string[] {
  const removed: string[] = [];
  for (const file of readStats(directory)) {
    if (file.alive) continue;
    rmSync(file.path, { force: true });
    removed.push(file.path);
  }
  return removed;
}
