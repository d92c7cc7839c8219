/**
 * Which process holds a part of a ring, and whether it still runs: a pid plus the
 * process's start time (field 22 of /proc/<pid>/stat, clock ticks since boot), so a pid
 * the kernel reused for another process is not taken for the one that died.
 *
 *   owner words (layout.ts)      PID, START_LOW, START_HIGH
 *   taking ownership             START_LOW / START_HIGH, then PID (Atomics.store): a reader
 *                                that sees the pid sees the start time written before it
 *   alive(pid, start)            /proc/<pid>/stat exists, is not a zombie, and starts at `start`
 *
 * Without /proc (not Linux), a pid answers `process.kill(pid, 0)` and the start time is 0.
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  readonly pid: number;
  /** Clock ticks since boot at which it started; 0: unknown. */
  readonly startTicks: number;
}

/** State and start time of a live process, or undefined when there is none with that pid. */
function statOf(pid: number): { state: string; startTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields restart after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTicks: Number(fields[19]) };
}

let self: ProcessIdentity | undefined;

/** This process. */
export function selfIdentity(): ProcessIdentity {
  if (self === undefined) self = { pid: process.pid, startTicks: statOf(process.pid)?.startTicks ?? 0 };
  return self;
}

/** Whether process `pid`, started at `startTicks` (0: not known), still runs. */
export function processAlive(pid: number, startTicks: number): boolean {
  if (pid <= 0) return false;
  const stat = statOf(pid);
  if (stat === undefined) {
    if (process.platform === 'linux') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
    }
  }
  if (stat.state === 'Z' || stat.state === 'X') return false; // exited, not yet reaped
  return startTicks === 0 || stat.startTicks === startTicks;
}

/** Whether the process `who` names still runs: this process always does. */
export function ownerAlive(who: ProcessIdentity): boolean {
  return who.pid === process.pid || processAlive(who.pid, who.startTicks);
}

/** Writes `who` into the three owner words at `pidIndex`, `pidIndex + 1`, `pidIndex + 2` (start first, pid last). */
export function storeOwner(int32: Int32Array, pidIndex: number, who: ProcessIdentity): void {
  Atomics.store(int32, pidIndex + 1, (who.startTicks % 2 ** 32) | 0);
  Atomics.store(int32, pidIndex + 2, Math.floor(who.startTicks / 2 ** 32));
  Atomics.store(int32, pidIndex, who.pid);
}

/** The owner in the three words at `pidIndex` (pid 0: nobody recorded). */
export function loadOwner(int32: Int32Array, pidIndex: number): ProcessIdentity {
  const pid = Atomics.load(int32, pidIndex);
  const startTicks = (Atomics.load(int32, pidIndex + 1) >>> 0) + Atomics.load(int32, pidIndex + 2) * 2 ** 32;
  return { pid, startTicks };
}
