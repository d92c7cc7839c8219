/**
 * The journal through the facade: recording a network stream with journal.sink(), and the
 * operators' `flux journal inspect|tail|replay` against journals this test writes. Every
 * wait is bounded (a child that does not finish is killed and the test fails).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BACK_PRESSURED,
  Journal,
  type JournalRecord,
  lastRecords,
  ReliablePublication,
  ReliableSubscription,
  Ring,
  recordJson,
  replayToRing,
} from '../src/index.js';

const BIN = new URL('../bin/flux.mjs', import.meta.url).pathname;
const SEGMENT_BYTES = 64 * 1024;
const scratch: string[] = [];
afterEach(() => {
  for (const directory of scratch.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function scratchDirectory(): string {
  const directory = mkdtempSync('/dev/shm/flux-sdk-journal-');
  scratch.push(directory);
  return directory;
}

/** A journal of `count` records over several segments: text "event i" (type i % 3), every fifth one binary. */
function writeJournal(count: number): { directory: string; journal: Journal; positions: number[] } {
  const directory = join(scratchDirectory(), 'journal');
  const journal = Journal.open(directory, { segmentBytes: SEGMENT_BYTES });
  const positions = Array.from({ length: count }, (_, i) => journal.append(i % 5 === 4 ? new Uint8Array([0, 1, 2, i & 255]) : `event ${i}`, i % 3));
  return { directory, journal, positions };
}

const flux = (...args: string[]) => execFileSync(process.execPath, [BIN, 'journal', ...args], { encoding: 'utf8', timeout: 20_000 });
const fails = (...args: string[]) => spawnSync(process.execPath, [BIN, 'journal', ...args], { encoding: 'utf8', timeout: 20_000 });

describe('recording a stream', () => {
  it('records a reliable subscription through journal.sink() with the publisher unchanged, then replays it in order', async () => {
    const { directory, journal } = writeJournal(0);
    const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1' });
    const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 3 });
    try {
      subscription.onMessage(3, journal.sink(9));
      expect(await publication.connected()).toBe(true);
      const total = 2000;
      for (let i = 0; i < total; ) {
        if (publication.offer(Buffer.from(`trade ${i}`)) === BACK_PRESSURED) await new Promise((resolve) => setImmediate(resolve));
        else i++;
      }
      expect(await publication.flush(10_000)).toBe(true);
      const texts: string[] = [];
      for await (const record of Journal.open(directory, { readOnly: true }).records()) {
        expect(record.type).toBe(9);
        texts.push(Buffer.from(record.payload).toString());
      }
      expect(texts).toEqual(Array.from({ length: total }, (_, i) => `trade ${i}`));
    } finally {
      await publication.close();
      await subscription.close();
      journal.close();
    }
  }, 30_000);
});

describe('flux journal inspect', () => {
  it('prints settings, positions, segments and writers; --verify checks every record and exits 1 at a damaged one', () => {
    const { directory, journal } = writeJournal(3000);
    const report = JSON.parse(flux('inspect', directory, '--json', '--verify'));
    expect(report).toMatchObject({
      segmentBytes: SEGMENT_BYTES,
      startPosition: 0,
      endPosition: journal.endPosition,
      writers: [{ pid: process.pid, alive: true }],
      verify: { records: 3000, paddingBytes: 0 },
    });
    expect(report.segments.map((s: { number: number }) => s.number)).toEqual(
      Array.from({ length: Math.ceil(journal.endPosition / SEGMENT_BYTES) }, (_, i) => i),
    );
    expect(report.verify.firstBadPosition).toBeUndefined();
    const text = flux('inspect', directory, '--verify');
    expect(text).toContain(`positions     start 0  end ${journal.endPosition}`);
    expect(text).toContain(`writers       ${process.pid} alive`);
    expect(text).toMatch(/verify {8}ok: 3000 records/);
    journal.close();
    // One payload byte changed on disk: the checksum no longer matches.
    const file = join(directory, '0000000000.seg');
    const bytes = readFileSync(file);
    const at = bytes.indexOf('event 1001');
    expect(at).toBeGreaterThan(0);
    bytes[at] ^= 0x20;
    writeFileSync(file, bytes);
    const bad = fails('inspect', directory, '--verify');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/verify {8}BAD at position \d+ \(after 1001 good records\)/);
    expect(fails('inspect', join(directory, 'none')).stderr).toMatch(/flux journal inspect: .*holds no journal/);
    expect(fails('inspect').status).toBe(2);
    expect(fails('inspect', directory, '--follow').stderr).toMatch(/usage: flux info/);
  });
});

describe('flux journal tail', () => {
  it('prints the last N records, N from a position or a time, as text or ndjson', () => {
    const { directory, journal, positions } = writeJournal(3000);
    try {
      const last = flux('tail', directory, '--count', '3').trim().split('\n');
      expect(last).toHaveLength(3);
      expect(last[0]).toMatch(new RegExp(`^${positions[2997]}  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  type 0  10 B  "event 2997"$`));
      expect(last[2]).toMatch(new RegExp(`^${positions[2999]}  .*  type 2  4 B  000102b7$`)); // binary: hex
      expect(flux('tail', directory).trim().split('\n')).toHaveLength(10); // the default
      const json = flux('tail', directory, '--from', String(positions[10]), '--count', '5', '--json')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(json.map((r: { position: number }) => r.position)).toEqual(positions.slice(10, 15));
      expect(json[0]).toMatchObject({ type: 1, lengthBytes: 8, text: 'event 10' });
      expect(json[4]).toMatchObject({ base64: Buffer.from([0, 1, 2, 14]).toString('base64') });
      expect(flux('tail', directory, '--from', 'end')).toBe(''); // nothing after the end without --follow
      expect(flux('tail', directory, '--since', String(Date.now() + 60_000))).toBe('');
      expect(flux('tail', directory, '--since', new Date(0).toISOString(), '--count', '1', '--json')).toContain(`"position":0`);
      for (const args of [['--count', '0'], ['--from', 'middle'], ['--from', '0', '--since', '0'], ['--since', 'yesterday'], ['--verify']]) {
        expect(fails('tail', directory, ...args).status).toBe(2);
      }
      expect(JSON.parse(flux('tail', directory, '--from', '13', '--count', '1', '--json')).position).toBe(positions[1]); // inside a record: from the next
      expect(fails('tail', directory, '--from', String(journal.endPosition + 64)).stderr).toMatch(/flux journal tail: from must be a position from 0/);
    } finally {
      journal.close();
    }
  });

  it('--follow: the last records, then the ones appended after it started, each once, in order', async () => {
    const { directory, journal, positions } = writeJournal(20);
    const child = spawn(process.execPath, [BIN, 'journal', 'tail', directory, '--count', '2', '--follow', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const lines = () => output.trim().split('\n').filter(Boolean);
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let waiting: { count: number; resolve: () => void } | undefined;
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (waiting !== undefined && lines().length >= waiting.count) waiting.resolve();
      });
      // Resolves once the child printed `count` lines; rejects if it exits first (the test's timeout bounds the rest).
      const grew = (count: number) =>
        new Promise<void>((resolve, reject) => {
          if (lines().length >= count) return resolve();
          waiting = { count, resolve };
          void exit.then(() => reject(new Error(`the child exited after ${lines().length} lines: ${output}`)));
        });
      await grew(2); // it printed the last two: it is following now
      for (let i = 20; i < 30; i++) positions.push(journal.append(`event ${i}`));
      await grew(12);
      expect(lines().map((line) => JSON.parse(line).position)).toEqual(positions.slice(18));
      child.kill('SIGINT');
      expect(await exit).toBe(0); // SIGINT ends a follow cleanly
    } finally {
      child.kill('SIGKILL');
      journal.close();
    }
  }, 20_000);
});

describe('flux journal replay', () => {
  it('copies the records into a ring another process reads: all, from a position, paced; a ring too narrow fails naming the record', () => {
    const { directory, journal, positions } = writeJournal(100);
    journal.close();
    const rings = scratchDirectory();
    const ring = Ring.create({ path: join(rings, 'flux-ring.replay'), capacity: 256, maxMessageBytes: 32 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const read = () => {
      const payloads: string[] = [];
      consumer.poll((bytes, offsetBytes, lengthBytes) => payloads.push(Buffer.from(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)).toString('latin1')));
      return payloads;
    };
    const expected = (i: number) => (i % 5 === 4 ? Buffer.from([0, 1, 2, i & 255]).toString('latin1') : `event ${i}`);
    expect(flux('replay', directory, '--ring', ring.path as string)).toBe(`replayed 100 records into ${ring.path}\n`);
    expect(read()).toEqual(Array.from({ length: 100 }, (_, i) => expected(i)));
    expect(flux('replay', directory, '--ring', ring.path as string, '--from', String(positions[40]), '--count', '3')).toContain('replayed 3 records');
    expect(read()).toEqual([40, 41, 42].map(expected));
    expect(flux('replay', directory, '--ring', ring.path as string, '--from', String(positions[90]), '--pace', '1000')).toContain('replayed 10 records');
    expect(read()).toEqual(Array.from({ length: 10 }, (_, i) => expected(90 + i)));
    const narrow = Ring.create({ path: join(rings, 'flux-ring.narrow'), capacity: 8, maxMessageBytes: 6 });
    narrow.openConsumer(narrow.addConsumer());
    const failed = fails('replay', directory, '--ring', narrow.path as string);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("flux journal replay: the record at position 0 holds 7 bytes; the ring's slots hold at most 6");
    expect(fails('replay', directory).status).toBe(2); // --ring is required
    expect(fails('replay', directory, '--ring', join(rings, 'flux-ring.none')).stderr).toMatch(/flux journal replay: /);
  });

  it('replayToRing waits out a full ring (back-pressure, no drop) and lastRecords goes back segments when the last is short', async () => {
    const { journal } = writeJournal(3000);
    try {
      const ring = Ring.create({ capacity: 16, maxMessageBytes: 16 });
      const consumer = ring.openConsumer(ring.addConsumer());
      let seen = 0;
      let wrong = 0;
      const timer = setInterval(() => {
        consumer.poll((bytes, offsetBytes, lengthBytes) => {
          const i = seen++;
          if (i % 5 !== 4 && Buffer.from(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)).toString() !== `event ${i}`) wrong++;
        });
      }, 1);
      try {
        expect(await replayToRing(journal, ring, { count: 500, backoffMs: 0 })).toBe(500);
      } finally {
        clearInterval(timer);
      }
      consumer.poll(() => {
        seen++;
      });
      expect({ seen, wrong }).toEqual({ seen: 500, wrong: 0 });
      const { records, nextPosition } = lastRecords(journal, 2500); // more than the active segment holds
      expect(records.map((r: JournalRecord) => recordJson(r).text ?? 'binary').slice(-2)).toEqual(['event 2998', 'binary']);
      expect(records).toHaveLength(2500);
      expect(nextPosition).toBe(journal.endPosition);
      expect(() => lastRecords(journal, 0)).toThrow(/count/);
    } finally {
      journal.close();
    }
  });
});
