// An app's first use, from the installed packages: a ring between this thread and a
// worker, and a reliable UDP stream over loopback, each carrying COUNT messages in order.
import { isMainThread } from 'node:worker_threads';
import {
  BACK_PRESSURED,
  BlockingWaitStrategy,
  capability,
  exited,
  messages,
  ReliablePublication,
  ReliableSubscription,
  Ring,
  startWorker,
  workerRings,
} from '@flux/sdk';

const COUNT = 10_000;
const indexOf = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);

if (isMainThread) {
  const ring = Ring.create({ capacity: 1024, maxMessageBytes: 4 });
  const consumer = ring.openConsumer(ring.addConsumer());
  const worker = startWorker(new URL(import.meta.url), { rings: { out: ring } });
  let threads = 0;
  for await (const bytes of messages(consumer, { idleTimeoutMs: 10_000 })) {
    if (indexOf(bytes) !== threads) throw new Error(`expected message ${threads}, got ${indexOf(bytes)}`);
    if (++threads === COUNT) break;
  }
  await exited(worker);

  const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1' });
  const stream = subscription.messages(1, { idleTimeoutMs: 10_000 });
  const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1 });
  if (!(await publication.connected())) throw new Error('the subscription did not answer');
  const sending = (async () => {
    const message = new Uint8Array(4);
    for (let i = 0; i < COUNT; ) {
      new DataView(message.buffer).setUint32(0, i, true);
      if (publication.offer(message) === BACK_PRESSURED) await new Promise((resolve) => setImmediate(resolve));
      else i++;
    }
    await publication.close();
  })();
  let network = 0;
  for await (const { bytes } of stream) {
    if (indexOf(bytes) !== network) throw new Error(`expected message ${network}, got ${indexOf(bytes)}`);
    if (++network === COUNT) break;
  }
  await sending;
  await subscription.close();
  const { usable, addon } = capability();
  console.log(JSON.stringify({ threads, network, ioUring: usable, addon: addon?.source }));
} else {
  const { rings } = workerRings();
  const producer = rings.out.createProducer();
  const view = new DataView(rings.out.buffer);
  const wait = new BlockingWaitStrategy();
  for (let i = 0; i < COUNT; ) {
    const first = producer.tryClaim(1, 4);
    if (first === BACK_PRESSURED) {
      if (!producer.waitForCapacity(1, wait, 10_000)) throw new Error('the main thread stopped reading');
      continue;
    }
    view.setUint32(rings.out.offsetOf(first), i, true);
    producer.publish(first, 1);
    i++;
  }
}
