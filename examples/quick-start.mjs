// Flux through its one package, @flux/sdk: a worker thread writes into a ring that the main
// thread reads with `for await`; then a reliable UDP stream over loopback, read the same way.
//
//   node examples/quick-start.mjs
import { isMainThread } from 'node:worker_threads';
import { BACK_PRESSURED, BlockingWaitStrategy, exited, messages, ReliablePublication, ReliableSubscription, Ring, startWorker, workerRings } from '@flux/sdk';

const COUNT = 100_000;
const indexOf = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);

if (isMainThread) {
  // 1. Threads: a ring in shared memory, handed to a worker by name, read on the event loop.
  const ring = Ring.create({ capacity: 1024, maxMessageBytes: 4 });
  const consumer = ring.openConsumer(ring.addConsumer());
  const worker = startWorker(new URL(import.meta.url), { rings: { out: ring } });
  let next = 0;
  for await (const bytes of messages(consumer, { idleTimeoutMs: 10_000 })) {
    if (indexOf(bytes) !== next) throw new Error(`expected message ${next}, got ${indexOf(bytes)}`);
    if (++next === COUNT) break;
  }
  await exited(worker); // rejects if the worker threw
  console.log(`worker -> main thread through a ring: ${next} messages, in order`);

  // 2. Network: reliable UDP (exactly once, in order, flow-controlled), read the same way.
  const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1' });
  const stream = subscription.messages(1, { idleTimeoutMs: 10_000 }); // before the publisher sends
  const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1 });
  if (!(await publication.connected())) throw new Error('the subscription did not answer');
  const sending = (async () => {
    const message = new Uint8Array(4);
    for (let i = 0; i < COUNT; ) {
      new DataView(message.buffer).setUint32(0, i, true);
      if (publication.offer(message) === BACK_PRESSURED)
        await new Promise((resolve) => setImmediate(resolve)); // let it send
      else i++;
    }
    await publication.close(); // flushes, then ends the stream
  })();
  let received = 0;
  for await (const { bytes } of stream) {
    if (indexOf(bytes) !== received) throw new Error(`expected message ${received}, got ${indexOf(bytes)}`);
    if (++received === COUNT) break;
  }
  await sending;
  await subscription.close();
  console.log(`publication -> subscription over UDP: ${received} messages, in order, ${subscription.counters.naksSent} NAKs`);
} else {
  // The worker: attach to the rings it was given and write in place, batch by batch.
  const { rings } = workerRings();
  const producer = rings.out.createProducer();
  const view = new DataView(rings.out.buffer);
  const wait = new BlockingWaitStrategy(); // sleeps while the ring is full
  for (let i = 0; i < COUNT; ) {
    const count = Math.min(64, COUNT - i);
    const first = producer.tryClaim(count, 4); // a sequence, or BACK_PRESSURED
    if (first === BACK_PRESSURED) {
      if (!producer.waitForCapacity(count, wait, 10_000)) throw new Error('the main thread stopped reading');
      continue;
    }
    for (let k = 0; k < count; k++) view.setUint32(rings.out.offsetOf(first + k), i + k, true);
    producer.publish(first, count); // one store makes the batch visible
    i += count;
  }
}
