import { isMainThread } from 'node:worker_threads';
import { exited, messages, Ring, startWorker, workerRings } from '@flux/sdk';

if (isMainThread) {
  // A ring in shared memory, handed to a worker by name, read on the event loop.
  const ring = Ring.create({ capacity: 1024, maxMessageBytes: 64 });
  const consumer = ring.openConsumer(ring.addConsumer());
  const worker = startWorker(new URL(import.meta.url), { rings: { greetings: ring } });
  for await (const bytes of messages(consumer, { idleTimeoutMs: 10_000 })) {
    console.log(Buffer.from(bytes).toString()); // hello from a worker thread
    break;
  }
  await exited(worker);
} else {
  workerRings().rings.greetings.createProducer().offer(Buffer.from('hello from a worker thread'));
}
