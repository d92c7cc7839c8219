// The messages of bench_ring_pipeline_latency and the sink's checker. Message `index`:
//
//   0          4            8                16           20                 sizeOf(index) - 1
//   +----------+------------+----------------+------------+------ ... -------+-----------+
//   | index u32| (unused)   | due time ns u64| stage mark | (not written)    | last byte |
//   +----------+------------+----------------+------------+------ ... -------+-----------+
//   written by the source, except the mark (the stage's transform); all little-endian.
//
// Sizes are mixed: 4,096 B when index % 20 == 0, else 512 B when index % 4 == 0, else 64 B.
import hdr from 'hdr-histogram-js';
import { readU32, writeU32 } from './indexed-messages.mjs';
import { readSendTime, SEND_TIME_OFFSET, writeSendTime } from './one-way-latency.mjs';

export const MAX_MESSAGE_BYTES = 4096;
export const MARK_OFFSET = 16;

export const sizeOf = (index) => (index % 20 === 0 ? 4096 : index % 4 === 0 ? 512 : 64);
const markOf = (index) => (Math.imul(index, 0x9e3779b1) ^ 0x5a5a5a5a) >>> 0;
const lastByteOf = (index) => (index * 7 + 3) & 0xff;

if (MARK_OFFSET < SEND_TIME_OFFSET + 8) throw new Error('pipeline-messages: the mark overlaps the due time');

/** The source's write of message `index` at `offset`: its index, due time and last byte. */
export function fill(bytes, offset, index, dueNs) {
  writeU32(bytes, offset, index);
  writeSendTime(bytes, offset, dueNs);
  bytes[offset + sizeOf(index) - 1] = lastByteOf(index);
}

/** The stage's transform of message `index` at `offset` (after copying it): its mark. */
export function mark(bytes, offset, index) {
  writeU32(bytes, offset + MARK_OFFSET, markOf(index));
}

/**
 * The sink's side: messages must arrive in order, each with its index, size, stage mark and
 * last byte; anything else (wrong, missing, duplicated, unmarked) counts as bad. Latency is
 * now - due time, recorded after the first 10% (warm-up) in an HDR histogram.
 */
export class PipelineChecker {
  constructor(clockNs, total) {
    this.clockNs = clockNs;
    this.warmup = Math.floor(total / 10);
    this.expected = 0;
    this.bad = 0;
    this.histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600e9, numberOfSignificantValueDigits: 3 });
  }

  check(bytes, offset, length) {
    const index = this.expected++;
    if (
      readU32(bytes, offset) !== index ||
      length !== sizeOf(index) ||
      readU32(bytes, offset + MARK_OFFSET) !== markOf(index) ||
      bytes[offset + length - 1] !== lastByteOf(index)
    ) {
      this.bad++;
    }
    if (index >= this.warmup) this.histogram.recordValue(Math.max(1, Math.round(this.clockNs() - readSendTime(bytes, offset))));
  }

  /** Marks the start line (call it once all stages have started): result() rates from here. */
  begin() {
    this.startNs = this.clockNs();
  }

  result() {
    const h = this.histogram;
    const elapsedNs = this.clockNs() - (this.startNs ?? 0);
    return {
      received: this.expected,
      deliveredPerSecond: elapsedNs > 0 ? (this.expected * 1e9) / elapsedNs : 0,
      bad: this.bad,
      p50: h.getValueAtPercentile(50) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      p999: h.getValueAtPercentile(99.9) / 1000,
    };
  }
}
