import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@flux/uring';

import type { Journal } from '../src/journal.js';
import { MAX_WRITERS, writerPidIndex } from '../src/layout.js';
import type { JournalHandler } from '../src/reader.js';

const made: string[] = [];

/** A fresh directory under the system's temporary one (removed by removeDirectories). */
export function scratchDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'flux-journal-test-'));
  made.push(directory);
  return directory;
}

export function removeDirectories(): void {
  for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
}

/** A pid that was a process a moment ago and is not one now. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid as number;
}

/** Makes every writer slot this process holds in `journal` look like a crashed process's (the journal objects are abandoned, not closed). */
export function crashWritersOf(journal: Journal): void {
  const pid = deadPid();
  for (let slot = 0; slot < MAX_WRITERS; slot++) {
    const index = writerPidIndex(slot);
    if (Atomics.load(journal.meta.int32, index) === process.pid) Atomics.store(journal.meta.int32, index, pid);
  }
}

export interface ReadRecord {
  position: number;
  timestampMs: number;
  type: number;
  payload: Uint8Array;
}

/** Every committed record from `from` (default the start), copied. */
export function readAll(journal: Journal, from?: number | 'start' | 'end'): ReadRecord[] {
  const records: ReadRecord[] = [];
  const collect: JournalHandler = (bytes, offsetBytes, lengthBytes, position, timestampMs, type) => {
    records.push({ position, timestampMs, type, payload: bytes.slice(offsetBytes, offsetBytes + lengthBytes) });
  };
  const reader = journal.reader({ from });
  while (reader.poll(collect) > 0) {}
  return records;
}

/** A payload naming its writer and sequence (little-endian int32s), padded to `bytes`. */
export function tagged(writer: number, sequence: number, bytes = 64): Uint8Array {
  const payload = new Uint8Array(bytes);
  const view = new DataView(payload.buffer);
  view.setInt32(0, writer, true);
  view.setInt32(4, sequence, true);
  for (let i = 8; i < bytes; i++) payload[i] = (writer * 31 + sequence + i) & 0xff;
  return payload;
}

export function tagOf(payload: Uint8Array): { writer: number; sequence: number } {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { writer: view.getInt32(0, true), sequence: view.getInt32(4, true) };
}
