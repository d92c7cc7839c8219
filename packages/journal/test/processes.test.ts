import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { Journal } from '../src/journal.js';
import { SLEEPERS_INDEX } from '../src/layout.js';
import type { JournalHandler } from '../src/reader.js';
import { readAll, removeDirectories, scratchDirectory, tagOf } from './helpers.js';

const APPENDER = fileURLToPath(new URL('./children/appender.mjs', import.meta.url));
const FOLLOWER = fileURLToPath(new URL('./children/follower.mjs', import.meta.url));
const SMALL = 64 * 1024;
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  removeDirectories();
});

async function startAppender(directory: string, writer: number, count: number | 'forever'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [APPENDER, directory, String(writer), String(count), String(SMALL)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(line.toString()).toBe('ready\n');
  return child;
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

/** Checks every writer's records are 0..n-1 in order, once each; returns n per writer. */
function checkPerWriter(tags: { writer: number; sequence: number }[]): Map<number, number> {
  const next = new Map<number, number>();
  for (const { writer, sequence } of tags) {
    const expected = next.get(writer) ?? 0;
    if (sequence !== expected) throw new Error(`writer ${writer}: sequence ${sequence} where ${expected} was due`);
    next.set(writer, expected + 1);
  }
  return next;
}

describe('Journal between processes', () => {
  it('a process whose only pending work is following the journal stays alive until a record comes', async () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    journal.append('before');
    const child = spawn(process.execPath, [FOLLOWER, directory], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += chunk;
    });
    const exited = exitOf(child);
    // Until the follower sleeps in the journal (SLEEPERS), or it has exited: bounded by the test's timeout.
    while (Atomics.load(journal.meta.int32, SLEEPERS_INDEX) === 0 && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(child.exitCode).toBeNull(); // without a reference held on the loop it exited here (code 13, an unsettled await)
    journal.append('live');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).toBe('live\n');
    journal.close();
  }, 20_000);

  it('three processes append at once; a follower that replays while they write sees every record once, in order; replays agree', async () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    const perWriter = 6000;
    const writers = await Promise.all([1, 2, 3].map((writer) => startAppender(directory, writer, perWriter)));
    const followed: { position: number; writer: number; sequence: number }[] = [];
    const collect: JournalHandler = (bytes, offsetBytes, lengthBytes, position) => {
      followed.push({ position, ...tagOf(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)) });
    };
    const reader = journal.reader({ from: 'start' });
    const deadline = Date.now() + 60_000;
    while (followed.length < 3 * perWriter) {
      if (Date.now() > deadline) throw new Error(`the follower saw ${followed.length} of ${3 * perWriter} records in 60 s`);
      if (reader.poll(collect) === 0) await reader.waitAsync(100);
    }
    for (const writer of writers) expect(await exitOf(writer)).toEqual({ code: 0, signal: null });
    expect(reader.poll(collect)).toBe(0); // nothing beyond
    const counts = checkPerWriter(followed);
    expect([...counts.values()]).toEqual([perWriter, perWriter, perWriter]);
    expect(new Set(followed.map((r) => r.position)).size).toBe(followed.length);
    expect(followed.some((r, i) => i > 0 && r.writer !== followed[i - 1].writer)).toBe(true); // they did interleave
    const replayed = readAll(journal).map((r) => ({ position: r.position, ...tagOf(r.payload) }));
    expect(replayed).toEqual(followed);
    expect(readAll(journal).map((r) => r.position)).toEqual(followed.map((r) => r.position));
    expect(journal.verify()).toMatchObject({ records: 3 * perWriter, firstBadPosition: undefined });
    journal.close();
  });

  it('four processes open a journal that does not exist yet at once: one creates it, all append, every record is kept', async () => {
    const directory = join(scratchDirectory(), 'new');
    const perWriter = 2000;
    const writers = await Promise.all([1, 2, 3, 4].map((writer) => startAppender(directory, writer, perWriter)));
    for (const writer of writers) expect(await exitOf(writer)).toEqual({ code: 0, signal: null });
    const journal = Journal.open(directory, { readOnly: true });
    expect(journal.segmentBytes).toBe(SMALL);
    expect([...checkPerWriter(readAll(journal).map((r) => tagOf(r.payload))).values()]).toEqual([perWriter, perWriter, perWriter, perWriter]);
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    journal.close();
  });

  it('SIGKILL of a writer at random points: a reopen keeps every record up to the last whole one and nothing after', async () => {
    let torn = 0;
    for (let run = 0; run < 12; run++) {
      const directory = scratchDirectory();
      const watcher = Journal.open(directory, { segmentBytes: SMALL, readOnly: false });
      const child = await startAppender(directory, 1, 'forever');
      const threshold = Math.floor(Math.random() * 3 * SMALL);
      const deadline = Date.now() + 30_000;
      while (watcher.endPosition < threshold) {
        if (Date.now() > deadline) throw new Error(`the writer reached ${watcher.endPosition} of ${threshold} bytes in 30 s`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      child.kill('SIGKILL');
      expect((await exitOf(child)).signal).toBe('SIGKILL');
      const before = watcher.endPosition;
      watcher.close(); // the last live writer leaves: the next open recovers
      const reopened = Journal.open(directory);
      expect(reopened.recovery).toBeDefined();
      const recovery = reopened.recovery!;
      if (recovery.truncatedBytes > 0) torn++;
      const records = readAll(reopened);
      // One writer: its torn record is its last, so nothing follows a gap (one at a segment's end: it claimed the last bytes, which rolled the segment, and died).
      for (const gap of recovery.gaps) expect(records.every((r) => r.position < gap.position)).toBe(true);
      const counts = checkPerWriter(records.map((r) => tagOf(r.payload)));
      expect(counts.get(1) ?? 0).toBe(records.length);
      const last = records[records.length - 1];
      expect(recovery.endPosition).toBeLessThanOrEqual(before);
      if (last !== undefined) expect(recovery.endPosition).toBeGreaterThan(last.position);
      expect(reopened.verify()).toMatchObject({ records: records.length, firstBadPosition: undefined, endPosition: recovery.endPosition });
      // The journal goes on from there.
      expect(reopened.append('after the crash')).toBe(recovery.endPosition);
      reopened.close();
    }
    // Not asserted (a kill lands where it lands), printed so a run shows what it exercised.
    console.log(`SIGKILL runs: ${torn} of 12 left a torn last record`);
  });

  it('SIGKILL of one of two writers: the survivor loses nothing, readers pass the hole while it writes (unblockDeadWriters), a reopen recovers', async () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    const doomed = await startAppender(directory, 1, 'forever');
    const survivor = await startAppender(directory, 2, 20_000);
    const deadline = Date.now() + 30_000;
    while (journal.endPosition < SMALL) {
      if (Date.now() > deadline) throw new Error('the writers did not fill a segment in 30 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
    doomed.kill('SIGKILL');
    expect((await exitOf(doomed)).signal).toBe('SIGKILL');
    const gaps = journal.unblockDeadWriters(); // while the survivor appends: a claim the kill interrupted is padded
    expect(await exitOf(survivor)).toEqual({ code: 0, signal: null });
    // Readers get past where the dead writer stopped without waiting for a recovering open.
    const live = checkPerWriter(readAll(journal).map((r) => tagOf(r.payload)));
    expect(live.get(2)).toBe(20_000);
    console.log(`SIGKILL of one of two writers: ${gaps.length} claim(s) padded while the other wrote`);
    journal.close();
    const reopened = Journal.open(directory);
    expect(reopened.recovery).toBeDefined();
    const counts = checkPerWriter(readAll(reopened).map((r) => tagOf(r.payload)));
    expect(counts.get(2)).toBe(20_000);
    expect(counts.get(1)).toBeGreaterThan(0);
    expect(reopened.verify().firstBadPosition).toBeUndefined();
    reopened.close();
  });
});
