import { existsSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACK_PRESSURED, FluxRangeError, FluxTypeError, NOT_CONNECTED, Ring } from '@flux/ring';
import { sharedMemoryProvider } from '@flux/ring/mapped';
import { afterEach, describe, expect, it } from 'vitest';

import { JournalCorruptError } from '../src/errors.js';
import { Journal } from '../src/journal.js';
import { META_BYTES, META_FILE, segmentFileName, TAIL_INDEX, writerPidIndex } from '../src/layout.js';
import { commit, writePadding } from '../src/records.js';
import { Segment } from '../src/segment.js';
import { buildName } from '../src/whole-file.js';
import { crashWritersOf, deadPid, readAll, removeDirectories, scratchDirectory, tagged, tagOf } from './helpers.js';

const SMALL = 64 * 1024; // the smallest segment: rolls every ~600 records of 64 B

afterEach(removeDirectories);

describe('Journal: append and replay', () => {
  it('replays what was appended, in order, with positions, types and timestamps', () => {
    const journal = Journal.open(scratchDirectory());
    const positions = [journal.appendBytes(tagged(1, 0)), journal.append('héllo, journal', 7), journal.appendBytes(tagged(1, 2, 200), 8, 100, 3, 1234.5)];
    const records = readAll(journal);
    expect(records.map((r) => r.position)).toEqual(positions);
    expect(positions[0]).toBe(0);
    expect(tagOf(records[0].payload)).toEqual({ writer: 1, sequence: 0 });
    expect(Buffer.from(records[1].payload).toString('utf8')).toBe('héllo, journal');
    expect(records[1].type).toBe(7);
    expect(records[2].payload).toEqual(tagged(1, 2, 200).subarray(8, 108));
    expect(records[2].timestampMs).toBe(1234.5);
    expect(Math.abs(records[0].timestampMs - Date.now())).toBeLessThan(60_000);
    expect(journal.endPosition).toBeGreaterThan(positions[2]);
    journal.close();
  });

  it('takes a batch claimed in place, committed with one call', () => {
    const journal = Journal.open(scratchDirectory());
    const claim = journal.claim(16, 10, 2);
    for (let i = 0; i < claim.count; i++) claim.bytes.set(tagged(9, i, 16), claim.offsetOf(i));
    const first = claim.position;
    expect(readAll(journal)).toEqual([]); // not committed yet
    claim.commit();
    const records = readAll(journal);
    expect(records.map((r) => tagOf(r.payload).sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(records.map((r) => r.position)).toEqual(records.map((_, i) => first + i * claim.strideBytes));
    expect(new Set(records.map((r) => r.type))).toEqual(new Set([2]));
    expect(() => claim.commit()).toThrow(FluxTypeError);
    journal.close();
  });

  it('rolls across segments and replays every record once, skipping the padding', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    const written: number[] = [];
    for (let i = 0; i < 3000; i++) written.push(journal.appendBytes(tagged(1, i, 40 + (i % 70))));
    const segments = readdirSync(directory).filter((name) => name.endsWith('.seg'));
    expect(segments.length).toBeGreaterThan(3);
    // Records that fill a segment exactly roll it at once (no padding needed, none written).
    const segment = journal.meta.activeSegment();
    while (journal.segmentBytes - (journal.endPosition % journal.segmentBytes) > journal.maxPayloadBytes + 32) {
      written.push(journal.appendBytes(new Uint8Array(journal.maxPayloadBytes)));
    }
    const fill = journal.claim(journal.segmentBytes - (journal.endPosition % journal.segmentBytes) - 32);
    fill.commit();
    written.push(fill.position);
    expect(journal.endPosition).toBe((segment + 1) * journal.segmentBytes);
    expect(journal.meta.activeSegment()).toBe(segment + 1);
    const report = journal.verify();
    expect(report).toMatchObject({ records: written.length, firstBadPosition: undefined });
    const records = readAll(journal);
    expect(records.slice(0, 3000).map((r) => tagOf(r.payload).sequence)).toEqual(written.slice(0, 3000).map((_, i) => i));
    expect(records.map((r) => r.position)).toEqual(written);
    expect(report.paddingBytes).toBeGreaterThan(0);
    journal.close();
  });

  it('starts a reader at a record, inside one, at the end, or at a time', () => {
    const journal = Journal.open(scratchDirectory(), { segmentBytes: SMALL });
    const positions: number[] = [];
    for (let i = 0; i < 2000; i++) positions.push(journal.appendBytes(tagged(1, i), 0, 64, 0, 1_000_000 + i * 10));
    const sequences = (records: { payload: Uint8Array }[]): number[] => records.map((r) => tagOf(r.payload).sequence);
    expect(sequences(readAll(journal, positions[1234]))).toEqual(Array.from({ length: 766 }, (_, i) => 1234 + i));
    expect(sequences(readAll(journal, positions[1234] + 8))[0]).toBe(1235);
    expect(readAll(journal, 'end')).toEqual([]);
    const fromEnd = journal.reader({ from: 'end' });
    journal.append('later');
    let seen = 0;
    fromEnd.poll(() => seen++);
    expect(seen).toBe(1);
    const byTime = journal.reader({ fromTimestampMs: 1_000_000 + 1500 * 10 - 5 });
    const first: number[] = [];
    byTime.poll((bytes, offset, length) => first.push(tagOf(bytes.subarray(offset, offset + length)).sequence), 1);
    expect(first).toEqual([1500]);
    expect(() => journal.reader({ from: journal.endPosition + 32 })).toThrow(FluxRangeError);
    expect(() => journal.reader({ from: -1 })).toThrow(/from must be a position from 0/);
    journal.close();
  });

  it('keeps the stored settings on a reopen and says which it kept', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL, retention: { maxBytes: 10 * SMALL } });
    journal.append('kept');
    journal.close();
    const again = Journal.open(directory, { segmentBytes: 2 * SMALL, retention: { maxBytes: 10 * SMALL } });
    expect(again.segmentBytes).toBe(SMALL);
    expect(again.settingsKept).toEqual([`segmentBytes: kept the stored ${SMALL}, not ${2 * SMALL}`]);
    expect(again.recovery).toBeUndefined(); // closed cleanly: nothing to recover
    expect(readAll(again).map((r) => Buffer.from(r.payload).toString())).toEqual(['kept']);
    again.close();
  });

  it('records a ring and a subscription-shaped source through sink()', () => {
    const journal = Journal.open(scratchDirectory());
    const ring = Ring.create({ capacity: 64, maxMessageBytes: 64 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    for (let i = 0; i < 10; i++) {
      const sequence = producer.tryClaim(1, 64);
      ring.bytes.set(tagged(4, i), ring.offsetOf(sequence));
      producer.publish(sequence, 1);
    }
    expect(consumer.poll(journal.sink(5))).toBe(10);
    const records = readAll(journal);
    expect(records.map((r) => tagOf(r.payload))).toEqual(Array.from({ length: 10 }, (_, i) => ({ writer: 4, sequence: i })));
    expect(records.every((r) => r.type === 5)).toBe(true);
    journal.close();
  });

  it('replays into a ring: a batch per claim, back-pressure as a return value, a record too long for a slot left unread', () => {
    const journal = Journal.open(scratchDirectory());
    for (let i = 0; i < 20; i++) journal.appendBytes(tagged(2, i, i === 12 ? 100 : 16 + i));
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 64 });
    const producer = ring.createProducer();
    const reader = journal.reader();
    expect(reader.pollInto(producer)).toBe(NOT_CONNECTED); // no consumer yet: nothing read
    expect(reader.position).toBe(0);
    const consumer = ring.openConsumer(ring.addConsumer());
    const seen: { writer: number; sequence: number; length: number }[] = [];
    const drain = () =>
      consumer.poll((bytes, offsetBytes, lengthBytes) => seen.push({ ...tagOf(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)), length: lengthBytes }));
    expect(reader.pollInto(producer, 5)).toBe(5);
    expect(reader.pollInto(producer)).toBe(3); // the ring's free slots
    expect(reader.pollInto(producer)).toBe(BACK_PRESSURED);
    expect(drain()).toBe(8);
    expect(reader.pollInto(producer)).toBe(4); // 8..11, then the 100-byte record throws on the next
    expect(() => reader.pollInto(producer)).toThrow(FluxRangeError);
    expect(() => reader.pollInto(producer)).toThrow(/position \d+ holds 100 bytes; the ring's slots hold at most 64/);
    expect(drain()).toBe(4);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => ({ writer: 2, sequence: i, length: 16 + i })));
    reader.poll(() => {}, 1); // the operator's choice: step over it
    expect(reader.pollInto(producer)).toBe(7);
    expect(drain()).toBe(7);
    expect(seen.map((r) => r.sequence)).toEqual([...Array.from({ length: 12 }, (_, i) => i), 13, 14, 15, 16, 17, 18, 19]);
    expect(reader.pollInto(producer)).toBe(0); // the live end
    expect(() => reader.pollInto({} as never)).toThrow(FluxTypeError);
    journal.close();
  });

  it('follows the live end: an async iterator started before an append receives it', async () => {
    const journal = Journal.open(scratchDirectory());
    journal.append('before');
    const iterator = journal.records({ follow: true });
    expect(Buffer.from((await iterator.next()).value.payload).toString()).toBe('before');
    const pending = iterator.next(); // waits at the live end
    await new Promise((resolve) => setImmediate(resolve));
    journal.append('after');
    expect(Buffer.from((await pending).value.payload).toString()).toBe('after');
    const controller = new AbortController();
    const aborted = journal.records({ from: 'end', follow: true, signal: controller.signal }).next();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await iterator.return?.();
    journal.close();
  });

  it('ends a non-following iteration at the live end, and paces by the recorded timestamps', async () => {
    const journal = Journal.open(scratchDirectory());
    for (let i = 0; i < 5; i++) journal.appendBytes(tagged(1, i), 0, 64, 0, 1000 + i * 20);
    const started = performance.now();
    const seen: number[] = [];
    for await (const record of journal.records({ pace: { speed: 1 } })) seen.push(tagOf(record.payload).sequence);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(79); // 4 gaps of 20 ms: a lower bound, not a speed
    journal.close();
  });
});

describe('Journal: durability and retention', () => {
  it('syncs every N records and raises the durable position', () => {
    const journal = Journal.open(scratchDirectory(), { sync: { everyRecords: 3 } });
    journal.append('a');
    journal.append('b');
    expect(journal.durablePosition).toBe(0);
    journal.append('c');
    expect(journal.durablePosition).toBe(journal.endPosition);
    journal.close();
  });

  it('deletes the oldest whole segments past maxBytes, and a reader behind them is told', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL, retention: { maxBytes: 3 * SMALL } });
    const early = journal.reader();
    early.poll(() => {}, 1);
    for (let i = 0; i < 5000; i++) journal.appendBytes(tagged(1, i));
    const segments = readdirSync(directory).filter((name) => name.endsWith('.seg'));
    expect(segments.length).toBeLessThanOrEqual(3 + 1); // kept, and the one a writer makes ahead of its next roll
    expect(journal.startPosition).toBeGreaterThan(0);
    const kept = readAll(journal);
    expect(tagOf(kept[kept.length - 1].payload).sequence).toBe(4999);
    expect(kept[0].position).toBeGreaterThanOrEqual(journal.startPosition);
    expect(() => journal.reader({ from: 0 })).toThrow(FluxRangeError);
    expect(() => {
      while (early.poll(() => {}) > 0) {}
    }).toThrow(/fell behind retention/);
    journal.close();
  });

  it('deletes segments older than maxAgeMs', () => {
    const journal = Journal.open(scratchDirectory(), { segmentBytes: SMALL, retention: { maxAgeMs: 1000 } });
    for (let i = 0; i < 2000; i++) journal.appendBytes(tagged(1, i), 0, 64, 0, 5000 + i); // stamped long ago
    // A segment's age is its last record's, known once the next one has a record: the rolls kept one closed segment.
    expect(journal.startPosition).toBe((journal.meta.activeSegment() - 1) * SMALL);
    expect(journal.applyRetention()).toBe(1);
    expect(journal.startPosition).toBe(journal.meta.activeSegment() * SMALL); // every closed one was too old
    journal.close();
  });
});

describe('Journal: recovery after a crash', () => {
  it('truncates a claim a crashed writer never committed, and keeps everything before it', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory);
    for (let i = 0; i < 100; i++) journal.appendBytes(tagged(1, i));
    const torn = journal.claim(64);
    torn.bytes.set(tagged(1, 100).subarray(0, 30), torn.offsetBytes); // half its payload, then the crash
    crashWritersOf(journal);
    const reopened = Journal.open(directory);
    expect(reopened.recovery).toMatchObject({ endPosition: torn.position, gaps: [] });
    expect(reopened.recovery?.truncatedBytes).toBe(torn.strideBytes);
    expect(readAll(reopened).map((r) => tagOf(r.payload).sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(reopened.appendBytes(tagged(2, 0))).toBe(torn.position); // the journal goes on where the torn record was
    expect(reopened.verify().firstBadPosition).toBeUndefined();
    reopened.close();
  });

  it('pads the hole a crashed writer left between other writers records', () => {
    const directory = scratchDirectory();
    const a = Journal.open(directory);
    const b = Journal.open(directory);
    a.appendBytes(tagged(1, 0));
    const hole = a.claim(64); // a dies inside this claim
    b.appendBytes(tagged(2, 0));
    b.close();
    crashWritersOf(a);
    const reopened = Journal.open(directory);
    expect(reopened.recovery?.gaps).toEqual([{ position: hole.position, bytes: hole.strideBytes }]);
    expect(readAll(reopened).map((r) => tagOf(r.payload))).toEqual([
      { writer: 1, sequence: 0 },
      { writer: 2, sequence: 0 },
    ]);
    reopened.close();
  });

  it('does not recover while another writer still has the journal open', () => {
    const directory = scratchDirectory();
    const live = Journal.open(directory);
    const crashed = Journal.open(directory);
    const claim = crashed.claim(64);
    expect(live.meta.writers()).toHaveLength(2);
    // Only `crashed` dies: crashWritersOf marks every slot of this process, so give slot 0 (live's, the first open) back.
    crashWritersOf(crashed);
    Atomics.store(live.meta.int32, writerPidIndex(0), process.pid);
    const third = Journal.open(directory);
    expect(third.recovery).toBeUndefined();
    expect(live.meta.recoveryPending()).toBe(true); // left for the open after the last writer leaves
    third.close();
    live.close();
    const last = Journal.open(directory);
    // third's open padded the dead claim already (a live writer was there): nothing is left to truncate.
    expect(last.recovery).toMatchObject({ truncatedBytes: 0, gaps: [] });
    expect(last.verify()).toMatchObject({ records: 0, paddingBytes: claim.strideBytes, firstBadPosition: undefined });
    last.close();
  });

  it("unblocks a dead writer's claim while another writer keeps the journal open: readers go on, its committed records are kept", () => {
    const directory = scratchDirectory();
    const live = Journal.open(directory);
    const crashed = Journal.open(directory);
    live.appendBytes(tagged(1, 0));
    const claim = crashed.claim(64, 3); // it dies inside this claim, its first record committed
    claim.bytes.set(tagged(2, 0), claim.offsetOf(0));
    commit(claim.segment as Segment, claim.dataOffsetBytes, 32 + 64, claim.strideBytes, 32 + 64, claim.timestampMs);
    live.appendBytes(tagged(1, 1));
    const reader = live.reader();
    const seen: { writer: number; sequence: number }[] = [];
    const drain = () => reader.poll((bytes, offset, length) => seen.push(tagOf(bytes.subarray(offset, offset + length))));
    expect(drain()).toBe(2); // live's first record and the dead claim's committed one, then the hole
    expect(drain()).toBe(0);
    expect(live.unblockDeadWriters()).toEqual([]); // its writer is still alive: nothing is padded
    crashWritersOf(crashed);
    Atomics.store(live.meta.int32, writerPidIndex(0), process.pid); // live's slot (the first open) is alive again
    expect(live.unblockDeadWriters()).toEqual([{ position: claim.position + claim.strideBytes, bytes: 2 * claim.strideBytes }]);
    expect(drain()).toBe(1);
    expect(seen).toEqual([
      { writer: 1, sequence: 0 },
      { writer: 2, sequence: 0 },
      { writer: 1, sequence: 1 },
    ]);
    expect(live.unblockDeadWriters()).toEqual([]); // once
    expect(live.verify().firstBadPosition).toBeUndefined();
    expect(() => Journal.open(directory, { readOnly: true }).unblockDeadWriters()).toThrow(/readOnly/);
    live.close();
  });

  it("a writer's open pads a dead writer's claim when others are alive (no recovery runs then)", () => {
    const directory = scratchDirectory();
    const live = Journal.open(directory);
    const crashed = Journal.open(directory);
    const claim = crashed.claim(64);
    live.appendBytes(tagged(1, 0));
    crashWritersOf(crashed);
    Atomics.store(live.meta.int32, writerPidIndex(0), process.pid);
    const third = Journal.open(directory);
    expect(third.recovery).toBeUndefined();
    expect(readAll(third).map((r) => tagOf(r.payload))).toEqual([{ writer: 1, sequence: 0 }]); // past the padded claim
    expect(readAll(third, claim.position).map((r) => r.position)).toEqual([claim.position + claim.strideBytes]);
    third.close();
    live.close();
  });

  it('creates the next segment when the writer that closed the active one died before making it', () => {
    // (Had it died before padding, the scan would end the segment at its last record and reopen it for appends.)
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    for (let i = 0; i < 700; i++) journal.appendBytes(tagged(1, i)); // into segment 1
    expect(journal.meta.activeSegment()).toBe(1);
    // The crash: a writer's CAS closed segment 1 (TAIL := segmentBytes) and it padded the rest, then died before making segment 2.
    const active = Segment.open(sharedMemoryProvider(), directory, 1, SMALL);
    const tail = active.tail();
    Atomics.store(active.int32, TAIL_INDEX, SMALL);
    writePadding(active, tail, SMALL - tail, Date.now());
    const prepared = join(directory, segmentFileName(2));
    if (existsSync(prepared)) unlinkSync(prepared); // made ahead by prepareNext: gone with the crash too
    crashWritersOf(journal);
    const reopened = Journal.open(directory);
    expect(reopened.recovery?.repairedSegments).toEqual([2]);
    expect(reopened.recovery?.endPosition).toBe(2 * SMALL);
    expect(readAll(reopened)).toHaveLength(700);
    expect(reopened.meta.activeSegment()).toBe(2);
    expect(reopened.appendBytes(tagged(1, 700))).toBe(2 * SMALL);
    expect(readAll(reopened)).toHaveLength(701);
    reopened.close();
  });

  it('links a segment into place whole, and removes the build file of a creator that died before linking it', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    journal.appendBytes(tagged(1, 0));
    // Every named segment is whole (an opener never sees one still being sized); no build file stays.
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const dead = deadPid();
    const deadBuild = join(directory, buildName(segmentFileName(9), dead));
    const liveBuild = join(directory, buildName(segmentFileName(9), process.pid));
    writeFileSync(deadBuild, ''); // its creator died between create and link (0 bytes: before sizing it)
    writeFileSync(liveBuild, ''); // a live process's, mid-build: not recovery's to remove
    crashWritersOf(journal);
    const reopened = Journal.open(directory);
    expect(reopened.recovery).toBeDefined();
    expect(existsSync(deadBuild)).toBe(false);
    expect(existsSync(liveBuild)).toBe(true);
    expect(readAll(reopened)).toHaveLength(1);
    reopened.close();
  });

  it('reports a record damaged before the durable position as corruption, and verify() finds it', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory);
    for (let i = 0; i < 10; i++) journal.appendBytes(tagged(1, i));
    const damaged = readAll(journal)[4];
    journal.sync();
    // Flip a payload byte of record 4 (bit rot after it was synced).
    const segment = Segment.open(sharedMemoryProvider(), directory, 0, journal.segmentBytes);
    segment.bytes[segment.dataOffsetBytes + damaged.position + 40] ^= 0xff;
    expect(journal.verify().firstBadPosition).toBe(damaged.position);
    crashWritersOf(journal);
    expect(() => Journal.open(directory)).toThrow(JournalCorruptError);
    expect(() => Journal.open(directory)).toThrow(/fails its checks, and it lies before the durable position/);
  });

  it('rejects a truncated segment and a file that is not a journal', () => {
    const directory = scratchDirectory();
    const journal = Journal.open(directory, { segmentBytes: SMALL });
    journal.append('x');
    journal.close();
    truncateSync(join(directory, segmentFileName(0)), 4096);
    expect(() => Journal.open(directory)).toThrow(JournalCorruptError);
    expect(() => Journal.open(directory)).toThrow(/truncated or not this journal's/);
    const other = scratchDirectory();
    writeFileSync(join(other, META_FILE), Buffer.alloc(META_BYTES, 7));
    expect(() => Journal.open(other)).toThrow(/is not a Flux journal/);
  });
});

describe('Journal: bad input', () => {
  it.each([
    [
      'a segment size that is not a power of two',
      () => Journal.open(scratchDirectory(), { segmentBytes: 100_000 }),
      FluxRangeError,
      /segmentBytes must be a power of two .* got 100000/,
    ],
    ['a segment size too small', () => Journal.open(scratchDirectory(), { segmentBytes: 4096 }), FluxRangeError, /segmentBytes must be an integer from 65536/],
    [
      'a sync policy of the wrong kind',
      () => Journal.open(scratchDirectory(), { sync: 'always' as never }),
      FluxTypeError,
      /sync must be 'none', \{ everyRecords: N \} or \{ everyMs: M \}, got 'always'/,
    ],
    ['a directory that is not a string', () => Journal.open(42 as never), FluxTypeError, /directory must be a string/],
    ['no journal where create is false', () => Journal.open(scratchDirectory(), { create: false }), FluxRangeError, /holds no journal/],
  ])('%s is a clear error', (_name, call, kind, message) => {
    expect(call).toThrow(kind);
    expect(call).toThrow(message);
  });

  it('rejects bad appends and claims by name, and writes nothing', () => {
    const journal = Journal.open(scratchDirectory(), { segmentBytes: SMALL });
    expect(() => journal.appendBytes('text' as never)).toThrow(FluxTypeError);
    expect(() => journal.appendBytes(new Uint8Array(8), 4, 8)).toThrow(/offsetBytes 4 and lengthBytes 8 must lie inside the 8 bytes/);
    expect(() => journal.appendBytes(new Uint8Array(journal.maxPayloadBytes + 1))).toThrow(/lengthBytes must be an integer from 0 to 8160/);
    expect(() => journal.append('x', -1)).toThrow(/type must be an integer from 0 to 2147483647, got -1/);
    expect(() => journal.claim(64, 0)).toThrow(/count must be an integer from 1/);
    journal.claim(8);
    expect(() => journal.claim(8)).toThrow(/previous claim is not committed/);
    expect(journal.endPosition).toBe(64);
    expect(() => journal.reader().poll(null as never)).toThrow(FluxTypeError);
    const readOnly = Journal.open(journal.directory, { readOnly: true });
    expect(() => readOnly.append('x')).toThrow(/opened readOnly/);
  });
});
