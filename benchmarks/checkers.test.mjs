// The benches' own checks: a bench reports only what its checker verified, so each checker
// must reject what a broken transport would deliver (a corrupted, missing, duplicated or
// reordered message), not only accept what a working one does.
import { describe, expect, it } from 'vitest';
import { BatchStampChecker, ProducerOrderChecker } from './lib/batch-stamps.mjs';
import { IndexChecker, stamp, template } from './lib/indexed-messages.mjs';
import { fill, mark, MARK_OFFSET, MAX_MESSAGE_BYTES, PipelineChecker, sizeOf } from './lib/pipeline-messages.mjs';

const clockNs = () => 1e6;

/** Message `index` of the pipeline as the sink sees it: filled by the source, marked by the stage. */
function pipelineMessage(index) {
  const bytes = new Uint8Array(MAX_MESSAGE_BYTES);
  fill(bytes, 0, index, 1000);
  mark(bytes, 0, index);
  return bytes.subarray(0, sizeOf(index));
}

/** Runs messages 0..count-1 through a fresh checker, `tamper` changing what arrives; returns its result. */
function runPipeline(count, tamper = (messages) => messages) {
  const checker = new PipelineChecker(clockNs, count);
  const messages = tamper(Array.from({ length: count }, (_, i) => pipelineMessage(i)));
  for (const message of messages) checker.check(message, 0, message.length);
  return checker.result();
}

describe('the pipeline sink checker (bench_ring_pipeline_latency)', () => {
  it('passes an intact pipeline, sizes mixed, latency recorded', () => {
    const result = runPipeline(40);
    expect(result).toMatchObject({ received: 40, bad: 0 });
    expect(result.p50).toBeCloseTo((1e6 - 1000) / 1000, 0);
    expect(new Set(Array.from({ length: 40 }, (_, i) => sizeOf(i)))).toEqual(new Set([64, 512, 4096]));
  });

  it.each([
    ['a corrupted index', (m) => (m[5][0] ^= 1)],
    ['a missing stage mark', (m) => m[6].fill(0, MARK_OFFSET, MARK_OFFSET + 4)],
    ['a wrong stage mark', (m) => (m[7][MARK_OFFSET + 2] ^= 0x10)],
    ['a corrupted last byte', (m) => (m[8][m[8].length - 1] ^= 0xff)],
    ['a wrong length (cut short)', (m) => (m[4] = m[4].subarray(0, 64))],
  ])('rejects %s', (_, corrupt) => {
    const result = runPipeline(20, (messages) => {
      corrupt(messages);
      return messages;
    });
    expect(result.bad).toBe(1);
  });

  it('rejects a missing, a duplicated and a reordered message', () => {
    expect(runPipeline(20, (m) => [...m.slice(0, 10), ...m.slice(11)]).bad).toBeGreaterThan(0);
    expect(runPipeline(20, (m) => [...m.slice(0, 10), m[9], ...m.slice(10, 19)]).bad).toBeGreaterThan(0);
    expect(runPipeline(20, (m) => [...m.slice(0, 10), m[11], m[10], ...m.slice(12)]).bad).toBeGreaterThan(0);
  });
});

describe('the network benches index checker (lib/indexed-messages.mjs)', () => {
  const MESSAGE_BYTES = 64;
  const message = (index) => {
    const bytes = template(MESSAGE_BYTES);
    stamp(bytes, 0, MESSAGE_BYTES, index);
    return bytes;
  };
  const run = (indexes, tamper = () => {}) => {
    const checker = new IndexChecker(MESSAGE_BYTES, 1);
    for (const index of indexes) {
      const bytes = message(index);
      tamper(bytes, index);
      checker.check(bytes, 0, bytes.length);
    }
    return checker.result();
  };

  it('verifies messages in order, and counts a gap as lost, not bad', () => {
    expect(run([0, 1, 2, 3])).toMatchObject({ verified: 4, gaps: 0, bad: 0, expected: 4 });
    expect(run([0, 1, 3, 4])).toMatchObject({ verified: 4, gaps: 1, bad: 0, expected: 5 });
  });

  it('rejects a corrupted stamp, a duplicate, a reordered and a wrong-length message', () => {
    expect(run([0, 1, 2], (bytes, index) => index === 1 && (bytes[0] ^= 4)).bad).toBe(1);
    expect(run([0, 1, 2], (bytes, index) => index === 2 && (bytes[MESSAGE_BYTES - 1] ^= 1)).bad).toBe(1);
    expect(run([0, 1, 1, 2]).bad).toBe(1);
    expect(run([0, 2, 1, 3]).bad).toBe(1);
    const checker = new IndexChecker(MESSAGE_BYTES, 1);
    checker.check(message(0), 0, MESSAGE_BYTES - 4);
    expect(checker.result().bad).toBe(1);
  });
});

describe('the posting baselines’ checkers (lib/batch-stamps.mjs: ring throughput, fan-out, MPSC)', () => {
  const BATCH = 4;
  const MESSAGE_BYTES = 16;

  /** One posted batch whose messages carry `stamps` (word 0) and, if given, `producer` (word 0) with the stamps in word 1. */
  function post(stamps, producer = null) {
    const words = new Int32Array((stamps.length * MESSAGE_BYTES) / 4);
    stamps.forEach((value, i) => {
      if (producer === null) words[i * 4] = value;
      else {
        words[i * 4] = producer;
        words[i * 4 + 1] = value;
      }
    });
    return new Uint8Array(words.buffer);
  }

  function checkBatches(posts) {
    const checker = new BatchStampChecker(BATCH, MESSAGE_BYTES);
    for (const p of posts) checker.check(p);
    return { received: checker.expected, bad: checker.bad };
  }

  it.each([
    ['intact batches', [post([0, 1, 2, 3]), post([4, 5, 6, 7])], { received: 8, bad: 0 }],
    ['a corrupted stamp', [post([0, 1, 9, 3])], { bad: 1 }],
    ['a missing batch', [post([0, 1, 2, 3]), post([8, 9, 10, 11])], { bad: 4 }],
    ['a duplicated batch', [post([0, 1, 2, 3]), post([0, 1, 2, 3])], { bad: 4 }],
    ['a short post', [post([0, 1, 2])], { bad: BATCH }],
  ])('one producer: %s', (_, posts, expected) => {
    expect(checkBatches(posts)).toMatchObject(expected);
  });

  it('several producers: interleaved in-order streams pass; a repeat, a skip or an unknown producer is counted', () => {
    const ok = new ProducerOrderChecker(2);
    for (const [producer, index] of [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ])
      ok.check(producer, index);
    expect(ok).toMatchObject({ received: 4, bad: 0 });
    const broken = new ProducerOrderChecker(2);
    for (const [producer, index] of [
      [0, 0],
      [0, 0], // repeated
      [1, 1], // producer 1's message 0 is missing
      [2, 0], // no such producer
    ])
      broken.check(producer, index);
    expect(broken).toMatchObject({ received: 4, bad: 3 });
  });
});
