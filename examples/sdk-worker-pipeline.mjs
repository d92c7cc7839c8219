// A pipeline of worker threads with @flux/sdk: a source worker writes 200,000 numbers into
// one ring, a stage worker squares each into a second ring, and the main thread reads the
// results on its event loop with `for await`. One import, no handle plumbing.
//
//   [source worker] --ring numbers--> [stage worker] --ring squares--> main thread (for await)
//
//   node examples/sdk-worker-pipeline.mjs
import { isMainThread } from 'node:worker_threads';
import { BACK_PRESSURED, BusySpinWaitStrategy, exited, messages, Ring, startWorker, workerRings } from '@flux/sdk';

const COUNT = 200_000;

/** In a worker: claims one slot (waiting, bounded, while the ring is full), writes a float64, publishes. */
function writer(ring) {
  const producer = ring.createProducer();
  const view = new DataView(ring.buffer);
  return (value) => {
    const deadline = Date.now() + 10_000;
    let sequence;
    while ((sequence = producer.tryClaim(1, 8)) === BACK_PRESSURED) if (Date.now() > deadline) throw new Error('ring full for 10 s');
    view.setFloat64(ring.offsetOf(sequence), value, true);
    producer.publish(sequence, 1);
  };
}

if (isMainThread) {
  const numbers = Ring.create({ capacity: 1024, maxMessageBytes: 8 });
  const squares = Ring.create({ capacity: 1024, maxMessageBytes: 8 });
  const stageReads = numbers.addConsumer(); // consumers are added before anyone publishes
  const mainReads = squares.openConsumer(squares.addConsumer());
  const workers = [
    startWorker(new URL(import.meta.url), { rings: { output: numbers }, data: { role: 'source' } }),
    startWorker(new URL(import.meta.url), { rings: { input: numbers, output: squares }, data: { role: 'stage', consumerId: stageReads } }),
  ];
  let received = 0;
  let wrong = 0;
  for await (const message of messages(mainReads, { idleTimeoutMs: 10_000 })) {
    const square = new DataView(message.buffer).getFloat64(0, true);
    if (square !== received * received) wrong++;
    if (++received === COUNT) break;
  }
  await Promise.all(workers.map(exited));
  console.log(`received ${received} squares through 2 workers, ${wrong} wrong`);
} else {
  const { rings, data } = workerRings();
  const write = writer(rings.output);
  if (data.role === 'source') {
    for (let i = 0; i < COUNT; i++) write(i);
  } else {
    // The stage polls on its own thread: a busy-spin wait, the lowest latency (it takes a core).
    const input = rings.input.openConsumer(data.consumerId);
    const view = new DataView(rings.input.buffer);
    const spin = new BusySpinWaitStrategy();
    let done = 0;
    while (done < COUNT) {
      if (input.waitFor(spin, 10_000) === 0) throw new Error('no number for 10 s');
      done += input.poll((bytes, offset) => {
        const value = view.getFloat64(offset, true);
        write(value * value);
      });
    }
  }
}
