/**
 * A journal as `flux journal inspect|tail|replay` shows it: its settings, positions,
 * segments and writers (journalReport), its records one line each (formatRecord, or
 * recordJson for ndjson), the last N records (lastRecords), and a replay into a ring
 * another process reads (replayToRing). Read from the files (a read-only open: no writer
 * slot, no recovery), nothing remembered elsewhere.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { JOURNAL_DEFAULTS, Journal, type JournalReader, type JournalRecord, type ReaderOptions, type VerifyReport } from '@flux/journal';
import { FluxRangeError, FluxTypeError, type Ring } from '@flux/ring';
import { optionalBoolean, optionalInteger, optionalNumber, optionalSignal, optionsObject } from '@flux/ring/validate';

export interface JournalReport {
  directory: string;
  segmentBytes: number;
  maxPayloadBytes: number;
  createdAt: string;
  retention: { maxBytes: number; maxAgeMs: number };
  /** The oldest position kept. */
  startPosition: number;
  /** Where the next record will be claimed. */
  endPosition: number;
  /** Every record before it is on stable storage (as far as the writers' sync policies raised it). */
  durablePosition: number;
  segments: { number: number; basePosition: number }[];
  writers: { pid: number; alive: boolean }[];
  /** Every kept record read and checked (`--verify`), or undefined. */
  verify?: VerifyReport;
}

/** What `flux journal inspect DIR` prints: a read-only open of the journal in `directory`. */
export function journalReport(directory: string, options?: { verify?: boolean }): JournalReport {
  const verify = optionalBoolean('verify', optionsObject('options', options).verify, false);
  const journal = Journal.open(directory, { readOnly: true });
  try {
    const { segmentBytes } = journal;
    const first = journal.startPosition / segmentBytes;
    const last = Math.max(first, Math.ceil(journal.endPosition / segmentBytes) - 1);
    return {
      directory,
      segmentBytes,
      maxPayloadBytes: journal.maxPayloadBytes,
      createdAt: new Date(journal.createdMs).toISOString(),
      retention: journal.retention,
      startPosition: journal.startPosition,
      endPosition: journal.endPosition,
      durablePosition: journal.durablePosition,
      segments: Array.from({ length: last - first + 1 }, (_, i) => ({ number: first + i, basePosition: (first + i) * segmentBytes })),
      writers: journal.writers(),
      ...(verify ? { verify: journal.verify() } : {}),
    };
  } finally {
    journal.close();
  }
}

export function formatJournal(report: JournalReport): string {
  const { segments, retention, verify } = report;
  const lines = [
    `journal ${report.directory}  created ${report.createdAt}`,
    `  segments      ${segments.length} of ${report.segmentBytes} bytes (${segments[0]?.number}..${segments.at(-1)?.number}); records up to ${report.maxPayloadBytes} bytes`,
    `  positions     start ${report.startPosition}  end ${report.endPosition}  durable ${report.durablePosition}`,
    `  retention     ${retention.maxBytes > 0 ? `${retention.maxBytes} bytes` : 'no size bound'}, ${retention.maxAgeMs > 0 ? `${retention.maxAgeMs} ms` : 'no age bound'}`,
    `  writers       ${report.writers.length === 0 ? 'none' : report.writers.map((w) => `${w.pid} ${w.alive ? 'alive' : 'gone (the next writer to open recovers)'}`).join(', ')}`,
  ];
  if (verify !== undefined) {
    lines.push(
      verify.firstBadPosition === undefined
        ? `  verify        ok: ${verify.records} records, ${verify.paddingBytes} bytes of padding, to position ${verify.endPosition}`
        : `  verify        BAD at position ${verify.firstBadPosition} (after ${verify.records} good records)`,
    );
  }
  return lines.join('\n');
}

const PREVIEW_BYTES = 48;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text when it is printable UTF-8, else undefined. */
function textOf(payload: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what makes a payload binary
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text;
}

/** One line per record: position, time, type, length, and the payload (text quoted, else hex), cut at 48 bytes. */
export function formatRecord(record: JournalRecord): string {
  const { payload } = record;
  const head = payload.subarray(0, PREVIEW_BYTES);
  const cut = payload.length > PREVIEW_BYTES ? ' …' : '';
  const text = textOf(payload);
  const preview =
    text !== undefined ? JSON.stringify(text.length > PREVIEW_BYTES ? text.slice(0, PREVIEW_BYTES) : text) + cut : Buffer.from(head).toString('hex') + cut;
  return `${record.position}  ${new Date(record.timestampMs).toISOString()}  type ${record.type}  ${payload.length} B  ${preview}`;
}

/** A record as one ndjson line's object: the payload whole, as `text` when printable UTF-8, else as `base64`. */
export function recordJson(record: JournalRecord): Record<string, string | number> {
  const text = textOf(record.payload);
  return {
    position: record.position,
    timestampMs: record.timestampMs,
    time: new Date(record.timestampMs).toISOString(),
    type: record.type,
    lengthBytes: record.payload.length,
    ...(text !== undefined ? { text } : { base64: Buffer.from(record.payload).toString('base64') }),
  };
}

/**
 * The last `count` records of a journal, oldest first, and the position after them (where
 * a follower goes on without a gap): read from the active segment back one segment at a
 * time until there are enough (a whole journal is not scanned for 10).
 */
export function lastRecords(journal: Journal, count: number): { records: JournalRecord[]; nextPosition: number } {
  optionalInteger('count', count, 10, 1, 1_000_000);
  const { segmentBytes } = journal;
  const end = journal.endPosition;
  let from = Math.max(journal.startPosition, Math.floor(Math.max(0, end - 1) / segmentBytes) * segmentBytes);
  for (;;) {
    const reader = journal.reader({ from });
    const records = drain(reader, count);
    if (records.length >= count || from <= journal.startPosition) return { records, nextPosition: reader.position };
    from -= segmentBytes;
  }
}

/** Every committed record from the reader's position to the live end, keeping the last `keep`. */
function drain(reader: JournalReader, keep: number): JournalRecord[] {
  const kept: JournalRecord[] = [];
  while (
    reader.poll((bytes, offsetBytes, lengthBytes, position, timestampMs, type) => {
      kept.push({ position, timestampMs, type, payload: bytes.slice(offsetBytes, offsetBytes + lengthBytes) });
      if (kept.length > keep) kept.shift();
    }) > 0
  ) {}
  return kept;
}

export interface ReplayToRingOptions extends ReaderOptions {
  /** Stop after this many records (default: at the live end, or never with `follow`). */
  count?: number;
  /** At the live end, wait for more records (default false). */
  follow?: boolean;
  /** Deliver at the recorded pace, `speed` times faster (default: as fast as the ring takes them). */
  pace?: { speed?: number };
  signal?: AbortSignal;
  /** How long to back off when the ring is full or has no consumer yet (default 1 ms). */
  backoffMs?: number;
}

/**
 * Replays the journal's records into `ring` (each payload into a slot; type, position and
 * time stay in the journal) and resolves with how many it copied. A full ring, or one with
 * no consumer yet, is waited for (back-off `backoffMs`, until `signal` aborts): a replay
 * never drops a record. A record longer than the ring's slots throws (FluxRangeError).
 */
export async function replayToRing(journal: Journal, ring: Ring, options?: ReplayToRingOptions): Promise<number> {
  const o = optionsObject('options', options);
  const limit = optionalInteger('count', o.count, Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
  const follow = optionalBoolean('follow', o.follow, false);
  const signal = optionalSignal('signal', o.signal);
  const backoffMs = optionalNumber('backoffMs', o.backoffMs, 1, 0, 60_000);
  if (typeof ring !== 'object' || ring === null || typeof (ring as Ring).createProducer !== 'function') {
    throw new FluxTypeError('ring must be a Ring (Ring.open(name) for one another process made)');
  }
  const producer = ring.createProducer();
  const from: ReaderOptions = o.fromTimestampMs !== undefined ? { fromTimestampMs: o.fromTimestampMs } : { from: o.from };
  let copied = 0;
  if (o.pace !== undefined) {
    // Paced: the iterator keeps the recorded spacing; a claim per record.
    for await (const record of journal.records({ ...from, follow, signal, pace: o.pace })) {
      if (record.payload.length > ring.maxMessageBytes) {
        throw new FluxRangeError(
          `the record at position ${record.position} holds ${record.payload.length} bytes; the ring's slots hold at most ${ring.maxMessageBytes}`,
        );
      }
      let sequence = producer.tryClaim(1, 0);
      while (sequence < 0) {
        await sleep(backoffMs, undefined, { signal });
        sequence = producer.tryClaim(1, 0);
      }
      ring.bytes.set(record.payload, ring.offsetOf(sequence));
      producer.setLength(sequence, record.payload.length);
      producer.publish(sequence, 1);
      if (++copied >= limit) break;
    }
    return copied;
  }
  const reader = journal.reader(from);
  while (copied < limit) {
    signal?.throwIfAborted();
    const result = reader.pollInto(producer, Math.min(limit - copied, JOURNAL_DEFAULTS.pollLimit));
    if (result > 0) copied += result;
    else if (result < 0)
      await sleep(backoffMs, undefined, { signal }); // full, or NOT_CONNECTED: wait for the consumer
    else if (!follow) break;
    else await reader.waitAsync(JOURNAL_DEFAULTS.followRecheckMs, signal);
  }
  return copied;
}
