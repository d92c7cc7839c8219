// bench_single_thread_op_costs: what one operation costs on one thread, measured with the
// `benchmark` package (Benchmark.js: calibrated loops, many samples per run), against the
// plain-JavaScript way of doing the same thing, in the same run. No second thread: this is
// the cost each message pays before any cross-thread or network effect.
//
//   ring offer/poll      producer.offer(64 B) then consumer.poll() of it, one message
//                          vs a JS array queue: queue.push(message.slice()), queue.shift()
//                          vs structuredClone(64 B): what postMessage serialises per message
//   ring batch           tryClaim(256) / one 16 KiB copy / publish / read 256 in place / release
//                          vs 256 x queue.push(slice) then 256 x queue.shift()
//   frame encode         @flux/udp DatagramWriter: 20 x 64 B messages into one 1,376-byte datagram
//                          vs 20 x (4-byte length prefix + copy): hand-rolled framing
//   frame decode         DatagramReader.read of that datagram: validate every field, track the
//                        session's sequence, deliver 20 messages
//                          vs LengthPrefixedReader.push of the same 20 messages, length-prefixed
//
// Figures are ns per message (one operation's time / messages per operation). Every message a
// test delivers is checked (stamp and length) and counted, and the count must equal the
// calls Benchmark.js made times the messages per call: a fast wrong result is never reported.
//
// Run: node bench_single_thread_op_costs.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
//   (each test is timed on its own, in a seeded order per run; a comparison's baseline is timed whatever --only says)
import { createRequire } from 'node:module';
import Benchmark from 'benchmark';
import { Ring } from '@flux/ring';
import { DatagramReader, DatagramWriter, FrameLayout, SubscriptionCounters } from '@flux/udp';
import { parseArgs, reporter, runInterleaved, selected, verify } from './lib/harness.mjs';
import { LENGTH_PREFIX_BYTES, LengthPrefixedReader, writeLengthPrefix } from './lib/length-prefixed.mjs';
import { readU32, stamp, template } from './lib/indexed-messages.mjs';

const MESSAGE_BYTES = 64;
const BATCH = 256;
const RING_CAPACITY = 1024;
const MESSAGES_PER_DATAGRAM = 20;
const DATAGRAM_BYTES = 1472; // room for 21 frames of 64 B in one IPv4 datagram
// What DatagramWriter writes for 20 frames: 16 + 20 x (4 + 64) = 1,376 bytes.
const ENCODED_DATAGRAM_BYTES = FrameLayout.DATAGRAM_HEADER_BYTES + MESSAGES_PER_DATAGRAM * (FrameLayout.FRAME_HEADER_BYTES + MESSAGE_BYTES);
const STREAM_ID = 7;
const SESSION_ID = 0x5eed;

/**
 * A checking sink: message `i` of an operation must carry stamp `i` (stamp() from
 * indexed-messages.mjs: the index first, its complement last) and be MESSAGE_BYTES long.
 */
class Tally {
  delivered = 0;
  bad = 0;
  check(bytes, offset, lengthBytes, index) {
    if (lengthBytes !== MESSAGE_BYTES || readU32(bytes, offset) !== index || readU32(bytes, offset + lengthBytes - 4) !== ~index >>> 0) this.bad++;
    this.delivered++;
  }
}

/** `count` stamped messages back to back: message i carries stamp i. */
function stampedMessages(count) {
  const bytes = new Uint8Array(count * MESSAGE_BYTES);
  const one = template(MESSAGE_BYTES);
  for (let i = 0; i < count; i++) {
    bytes.set(one, i * MESSAGE_BYTES);
    stamp(bytes, i * MESSAGE_BYTES, MESSAGE_BYTES, i);
  }
  return bytes;
}

/**
 * The tests: each `fn` is one operation of `messagesPerOp` messages; `calls` counts the
 * operations, `tally` what they delivered (null for the encoders: the decoders below read
 * and check what they wrote, and `writtenBytes` reports the datagram's length).
 */
function makeTests() {
  const one = stampedMessages(1);
  const batch = stampedMessages(BATCH);
  const packed = stampedMessages(MESSAGES_PER_DATAGRAM);
  const tests = [];
  const add = (name, messagesPerOp, body, extra = {}) => {
    const test = { name, messagesPerOp, calls: 0, tally: new Tally(), ...extra };
    test.fn = () => {
      test.calls++;
      body(test.tally);
    };
    tests.push(test);
    return test;
  };

  // ---- one message: ring offer/poll, array queue, structuredClone --------------------------
  {
    const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES });
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    let tally;
    const handler = (bytes, offset, lengthBytes) => tally.check(bytes, offset, lengthBytes, 0);
    add('ring offer + poll', 1, (t) => {
      tally = t;
      if (producer.offer(one) < 0) throw new Error('ring offer: back-pressured with the ring drained');
      consumer.poll(handler);
    });
  }
  {
    const queue = [];
    add('array queue push(slice) + shift', 1, (t) => {
      queue.push(one.slice());
      const message = queue.shift();
      t.check(message, 0, message.length, 0);
    });
  }
  add('structuredClone', 1, (t) => {
    const message = structuredClone(one);
    t.check(message, 0, message.length, 0);
  });

  // ---- a batch of 256: ring claim/publish, array queue --------------------------------------
  {
    const ring = Ring.create({ capacity: RING_CAPACITY, maxMessageBytes: MESSAGE_BYTES });
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    const bytes = ring.bytes;
    add(`ring claim/publish ${BATCH}, read in place`, BATCH, (t) => {
      const first = producer.tryClaim(BATCH, MESSAGE_BYTES);
      if (first < 0) throw new Error('ring claim: back-pressured with the ring drained');
      bytes.set(batch, ring.offsetOf(first)); // claims of 256 never straddle the end of a 1,024-slot ring
      producer.publish(first, BATCH);
      const n = consumer.available(BATCH);
      let sequence = consumer.nextSequence;
      for (let i = 0; i < n; i++, sequence = (sequence + 1) & 0x7fffffff) t.check(bytes, ring.offsetOf(sequence), ring.lengths[sequence & ring.indexMask], i);
      consumer.release(n);
    });
  }
  {
    const queue = [];
    add(`array queue ${BATCH} x push(slice), shift`, BATCH, (t) => {
      for (let i = 0; i < BATCH; i++) queue.push(batch.slice(i * MESSAGE_BYTES, (i + 1) * MESSAGE_BYTES));
      for (let i = 0; i < BATCH; i++) {
        const message = queue.shift();
        t.check(message, 0, message.length, i);
      }
    });
  }

  // ---- frame encode: Flux datagram, length-prefixed ----------------------------------------
  const datagram = new Uint8Array(DATAGRAM_BYTES);
  const prefixed = new Uint8Array(MESSAGES_PER_DATAGRAM * (LENGTH_PREFIX_BYTES + MESSAGE_BYTES));
  {
    const writer = new DatagramWriter(SESSION_ID, STREAM_ID, DATAGRAM_BYTES);
    const target = DatagramWriter.target(datagram);
    let datagramBytes = 0;
    add(
      'frame encode: DatagramWriter',
      MESSAGES_PER_DATAGRAM,
      () => {
        writer.begin(target);
        for (let i = 0; i < MESSAGES_PER_DATAGRAM; i++) writer.addFrame(packed, i * MESSAGE_BYTES, MESSAGE_BYTES, FrameLayout.FrameFlag.UNFRAGMENTED);
        datagramBytes = writer.finish();
      },
      { tally: null, writtenBytes: () => datagramBytes },
    );
  }
  add(
    'frame encode: length prefix + copy',
    MESSAGES_PER_DATAGRAM,
    () => {
      for (let i = 0, offset = 0; i < MESSAGES_PER_DATAGRAM; i++, offset += LENGTH_PREFIX_BYTES + MESSAGE_BYTES) {
        writeLengthPrefix(prefixed, offset, MESSAGE_BYTES);
        prefixed.set(packed.subarray(i * MESSAGE_BYTES, (i + 1) * MESSAGE_BYTES), offset + LENGTH_PREFIX_BYTES);
      }
    },
    { tally: null },
  );

  // ---- frame decode: the datagram and the length-prefixed bytes written above ---------------
  {
    const counters = new SubscriptionCounters();
    let tally;
    let index = 0;
    const sink = (bytes, offset, lengthBytes) => tally.check(bytes, offset, lengthBytes, index++);
    const reader = new DatagramReader({ maxMessageBytes: MESSAGE_BYTES, maxSessions: 1, sinkFor: (id) => (id === STREAM_ID ? sink : undefined), counters });
    const view = new DataView(datagram.buffer);
    let sequence = 0;
    add(
      'frame decode: DatagramReader',
      MESSAGES_PER_DATAGRAM,
      (t) => {
        tally = t;
        index = 0;
        view.setUint32(FrameLayout.SEQUENCE_OFFSET, sequence, true); // the next datagram of the session, as a sender would number it
        sequence = (sequence + MESSAGES_PER_DATAGRAM) >>> 0;
        reader.read(datagram, 0, ENCODED_DATAGRAM_BYTES);
      },
      { counters },
    );
  }
  {
    let tally;
    let index = 0;
    const reader = new LengthPrefixedReader(MESSAGE_BYTES, (bytes, offset, lengthBytes) => tally.check(bytes, offset, lengthBytes, index++));
    add('frame decode: LengthPrefixedReader', MESSAGES_PER_DATAGRAM, (t) => {
      tally = t;
      index = 0;
      reader.push(prefixed);
    });
  }
  // The decoders read what the encoders write: encode once now, so a decoder measured alone
  // (--only, or first in a shuffled run) reads a written datagram.
  for (const encoder of tests.filter((t) => t.name.startsWith('frame encode'))) {
    encoder.fn();
    encoder.calls = 0;
  }
  return tests;
}

// Ratio lines: [subject, baseline].
const comparisons = [
  ['ring offer + poll', 'array queue push(slice) + shift'],
  ['ring offer + poll', 'structuredClone'],
  [`ring claim/publish ${BATCH}, read in place`, `array queue ${BATCH} x push(slice), shift`],
  ['frame encode: DatagramWriter', 'frame encode: length prefix + copy'],
  ['frame decode: DatagramReader', 'frame decode: LengthPrefixedReader'],
];

/** Times one operation (a fresh set of tests each time, so no state carries over) and checks what it delivered. */
function measureTest(name, options) {
  const test = makeTests().find((t) => t.name === name);
  const bench = new Benchmark(test.name, test.fn, options);
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  verify(test.calls > 0, `${test.name}: never called`);
  if (test.tally) {
    verify(
      test.tally.bad === 0 && test.tally.delivered === test.calls * test.messagesPerOp,
      `${test.name}: ${test.tally.bad} messages failed their check; delivered ${test.tally.delivered} in ${test.calls} calls of ${test.messagesPerOp}`,
    );
  }
  if (test.counters) {
    const dropped = test.counters.dropped;
    verify(test.counters.framesLost === 0 && dropped === 0, `${test.name}: the reader lost ${test.counters.framesLost} frames, dropped ${dropped} datagrams`);
  }
  // The decoders check every message the encoders wrote; the datagram's length is checked here.
  if (test.writtenBytes) {
    const writtenBytes = test.writtenBytes();
    verify(writtenBytes === ENCODED_DATAGRAM_BYTES, `DatagramWriter wrote ${writtenBytes} bytes, not ${ENCODED_DATAGRAM_BYTES}`);
  }
  return 1e9 / bench.hz / test.messagesPerOp;
}

const NAMES = makeTests().map((t) => t.name);
const args = parseArgs({ variants: NAMES });
// Benchmark.js options per test: sample for maxTime seconds, at least minSamples samples.
const timing = args.smoke ? { maxTime: 0.02, minSamples: 2, initCount: 1 } : args.quick ? { maxTime: 0.1, minSamples: 5 } : { maxTime: 1, minSamples: 10 };
const report = reporter(
  'single_thread_op_costs',
  args,
  '  one thread, no I/O: each operation as Benchmark.js times it; ns per message; every delivered message checked',
  {
    messageBytes: MESSAGE_BYTES,
    batch: BATCH,
    messagesPerDatagram: MESSAGES_PER_DATAGRAM,
    harness: `benchmark ${createRequire(import.meta.url)('benchmark/package.json').version}, maxTime ${timing.maxTime} s and at least ${timing.minSamples} samples per test per run`,
    runs: args.runs,
  },
);
// The harness's method: a warm-up run, a seeded order per run, steal time; a comparison's
// baseline is measured whatever --only says (its ratio needs it).
const wanted = NAMES.filter((name) => selected(args, name));
const needed = new Set([...wanted, ...comparisons.filter(([subject]) => wanted.includes(subject)).map(([, base]) => base)]);
const { measured, method } = await runInterleaved(
  { ...args, only: null },
  NAMES.filter((name) => needed.has(name)),
  (name) => measureTest(name, timing),
);
const recorded = {};
for (const name of Object.keys(measured)) {
  if (comparisons.some(([subject]) => subject === name)) continue;
  recorded[name] = report.record({ variant: name, metric: 'cost', unit: 'ns/msg', values: measured[name], better: 'lower' });
}
for (const [subject, base] of comparisons) {
  if (!measured[subject]) continue;
  report.record({ variant: subject, metric: 'cost', unit: 'ns/msg', values: measured[subject], baseline: recorded[base] ?? null, better: 'lower' });
}
report.method(method);
