// One-way latency between two processes on one machine, at a fixed offered rate.
//
// Clock: processes on one host share CLOCK_MONOTONIC (network namespaces do not change it),
// which process.hrtime.bigint() reads. The parent passes its own reading as the epoch, and
// each side measures nanoseconds since it as a Number (exact below 2^53 ns, 104 days).
//
// Message layout (on top of indexed-messages.mjs's stamp):
//   0        4        8                      16                    len-4     len
//   | index  | (tmpl) | send time, ns since epoch: low u32 LE, high u32 LE | (tmpl) | ~index |
//
// Offered load: every TICK_MS the sender works out how many messages the schedule
// (ratePerSecond from the start) has made due and sends them in batches. A message's send
// time is the tick at which it became due, so time spent waiting on back-pressure counts as
// latency, while the timer's own lateness does not: the wait for the next tick would add up
// to TICK_MS to every message and hide the transport.
import hdr from 'hdr-histogram-js';
import { readU32, writeU32 } from './indexed-messages.mjs';

export const SEND_TIME_OFFSET = 8;
export const TICK_MS = 1;
const TWO_TO_32 = 2 ** 32;

/** A clock reading nanoseconds since `epochNs` (a BigInt of process.hrtime.bigint(), or its string). */
export function clockSince(epochNs) {
  const epoch = BigInt(epochNs);
  return () => Number(process.hrtime.bigint() - epoch);
}

export function writeSendTime(bytes, offset, timeNs) {
  writeU32(bytes, offset + SEND_TIME_OFFSET, timeNs % TWO_TO_32);
  writeU32(bytes, offset + SEND_TIME_OFFSET + 4, Math.floor(timeNs / TWO_TO_32));
}

export function readSendTime(bytes, offset) {
  return readU32(bytes, offset + SEND_TIME_OFFSET) + readU32(bytes, offset + SEND_TIME_OFFSET + 4) * TWO_TO_32;
}

/**
 * Sends ratePerSecond x durationMs / 1000 messages on the schedule above through
 * sendBatch(count, fill) (the endpoint contract of stream-endpoints.mjs): at most maxBatch
 * per call; a refused batch (back-pressure) is retried at the next tick. fillMessage(bytes,
 * offset, index, sendTimeNs) writes message `index`. Returns the number sent.
 */
export async function sendAtOfferedRate({ sendBatch, ratePerSecond, durationMs, maxBatch, clockNs, deadline, fillMessage }) {
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const dueEnds = []; // tick k made messages [dueEnds[k-1], dueEnds[k]) due at dueTimesNs[k]
  const dueTimesNs = [];
  let tick = 0;
  let due = 0;
  let sent = 0;
  const fill = (bytes, offset) => {
    while (dueEnds[tick] <= sent) tick++;
    fillMessage(bytes, offset, sent, dueTimesNs[tick]);
    sent++;
  };
  const startNs = clockNs();
  while (sent < total) {
    if (Date.now() > deadline) throw new Error(`offered-rate sender: deadline with ${sent} of ${total} sent`);
    const nowNs = clockNs();
    const dueNow = Math.min(total, Math.floor(((nowNs - startNs) * ratePerSecond) / 1e9));
    if (dueNow > due) {
      dueEnds.push(dueNow);
      dueTimesNs.push(nowNs);
      due = dueNow;
    }
    while (sent < due && sendBatch(Math.min(maxBatch, due - sent), fill));
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  return sent;
}

/** The receiver's side: records (now - send time) of every message from index `warmupMessages` on. */
export class LatencyRecorder {
  constructor(clockNs, warmupMessages) {
    this.clockNs = clockNs;
    this.warmupMessages = warmupMessages;
    this.histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600e9, numberOfSignificantValueDigits: 3 });
  }

  record(bytes, offset) {
    if (readU32(bytes, offset) < this.warmupMessages) return;
    const latencyNs = this.clockNs() - readSendTime(bytes, offset);
    this.histogram.recordValue(Math.max(1, Math.round(latencyNs)));
  }

  /** Percentiles in microseconds, and how many were recorded. */
  summary() {
    const h = this.histogram;
    const us = (ns) => ns / 1000;
    return {
      count: h.totalCount,
      p50: us(h.getValueAtPercentile(50)),
      p99: us(h.getValueAtPercentile(99)),
      p999: us(h.getValueAtPercentile(99.9)),
      max: us(h.maxValue),
    };
  }
}
