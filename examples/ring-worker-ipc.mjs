// Worker-thread IPC over a Flux ring: a producer worker writes 1,000,000 messages in place,
// in batches; the main thread reads them on its event loop and checks every one.
//
//   node examples/ring-worker-ipc.mjs
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { AsyncWaitStrategy, BlockingWaitStrategy, Ring } from '@flux/ring';

const COUNT = 1_000_000;
const BATCH = 64;
const MESSAGE_BYTES = 16; // two float64s: an index and its square

if (isMainThread) {
  // The main thread creates the ring and its consumer, then hands the ring to a worker.
  const ring = Ring.create({ capacity: 4096, maxMessageBytes: MESSAGE_BYTES });
  const consumer = ring.openConsumer(ring.addConsumer());
  const worker = new Worker(new URL(import.meta.url), { workerData: ring.handle });

  const view = new DataView(ring.buffer);
  const wait = new AsyncWaitStrategy(); // sleeps without blocking the event loop
  let received = 0;
  let wrong = 0;
  const handler = (bytes, offset, length) => {
    const index = view.getFloat64(offset, true);
    if (length !== MESSAGE_BYTES || index !== received || view.getFloat64(offset + 8, true) !== index * index) wrong++;
    received++;
  };
  while (received < COUNT) {
    if ((await consumer.waitForAsync(wait, 10_000)) === 0) throw new Error('no message for 10 s');
    consumer.poll(handler); // reads every ready message in place, then releases them with one store
  }
  await new Promise((resolve) => worker.once('exit', resolve));
  console.log(`received ${received} messages from the worker, ${wrong} out of order or corrupt`);
} else {
  // The worker attaches to the same memory and produces, batch by batch, in place.
  const ring = Ring.attach(workerData);
  const producer = ring.createProducer();
  const view = new DataView(ring.buffer);
  const wait = new BlockingWaitStrategy(); // sleeps when the ring is full; consumers wake it
  for (let sent = 0; sent < COUNT; ) {
    const count = Math.min(BATCH, COUNT - sent);
    const first = producer.tryClaim(count, MESSAGE_BYTES); // a sequence, or BACK_PRESSURED (-1)
    if (first < 0) {
      if (!producer.waitForCapacity(count, wait, 10_000)) throw new Error('consumer stalled for 10 s');
      continue;
    }
    for (let i = 0; i < count; i++) {
      const offset = ring.offsetOf(first + i);
      view.setFloat64(offset, sent + i, true);
      view.setFloat64(offset + 8, (sent + i) * (sent + i), true);
    }
    producer.publish(first, count); // one store makes the whole batch visible
    sent += count;
  }
}
