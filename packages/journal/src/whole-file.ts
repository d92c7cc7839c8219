/**
 * Creating a mapped file so that no other process ever opens it part-made.
 *
 *   create(O_EXCL) .NAME.<pid>.tmp   sized and blocks allocated (a full disk fails here)
 *   fill(buffer)                     the header, its magic word last
 *   link(2) .NAME.<pid>.tmp -> NAME  fails on an existing NAME: one creator wins, the others open it
 *   unlink .NAME.<pid>.tmp
 *
 * An O_EXCL create under the real name let an opener in between open(2) and fallocate(2): a
 * file of 0 bytes. A creator that dies before the link leaves only its build file, which
 * recovery removes once its pid is gone (recovery.ts).
 */
import { existsSync, linkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { adoptMapped, type SharedMemoryProvider } from '@flux/ring/mapped';

/** The private name `name` is built under by process `pid`. */
export function buildName(name: string, pid: number): string {
  return `.${name}.${pid}.tmp`;
}

/** The creator's pid of a build file, or -1 when `name` is not one. */
export function buildPidOf(name: string): number {
  const match = /^\.[^/]+\.([0-9]+)\.tmp$/.exec(name);
  return match === null ? -1 : Number(match[1]);
}

/** Creates `directory/name` of `bytes`, filled by `fill` before any other process can open it; undefined when it exists already. */
export function createWhole(
  memory: SharedMemoryProvider,
  directory: string,
  name: string,
  bytes: number,
  mode: number,
  fill: (buffer: ArrayBuffer) => void,
): ArrayBuffer | undefined {
  const path = join(directory, name);
  if (existsSync(path)) return undefined; // the common race lost without allocating a file for nothing
  const build = join(directory, buildName(name, process.pid));
  let buffer: ArrayBuffer;
  try {
    buffer = memory.create(build, bytes, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(build); // left by a dead process that had this pid: the pid is ours now
    buffer = memory.create(build, bytes, mode);
  }
  try {
    adoptMapped(buffer, memory.futex);
    fill(buffer);
    linkSync(build, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  } finally {
    unlinkSync(build);
  }
  return buffer;
}
