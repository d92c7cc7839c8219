// A ring between two processes, found by name: this process creates the ring "example-<pid>"
// (a file in /dev/shm) and publishes 1,048,576 messages of 64 bytes in batches; a child
// process opens the ring by name, reads every message in place, sleeping in a futex when
// the ring is empty, and reports back. Needs @flux/uring's addon (it maps the file).
//
//   node examples/process-ring.mjs
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { BlockingWaitStrategy, Ring } from '@flux/sdk'; // @flux/sdk loads @flux/uring: ring files work

const COUNT = 1 << 20; // 4,096 batches of 256
const BATCH = 256;

if (process.argv[2] === 'reader') {
  const ring = Ring.open(process.argv[3]); // by name: no handle passed
  const consumer = ring.openConsumer(Number(process.argv[4]));
  const wait = new BlockingWaitStrategy();
  let received = 0;
  let wrong = 0;
  while (received < COUNT) {
    if (consumer.waitFor(wait, 10_000) === 0) break; // bounded: a silent producer ends the read
    consumer.poll((bytes, offset, length) => {
      if (length !== 64 || ring.int32[offset >> 2] !== received) wrong++;
      received++;
    });
  }
  process.send({ received, wrong });
} else {
  const name = `example-${process.pid}`;
  const ring = Ring.create({ name, capacity: 4096, maxMessageBytes: 64 });
  try {
    const id = ring.addConsumer(); // registered in the file, before the reader starts: it misses nothing
    const reader = fork(new URL(import.meta.url).pathname, ['reader', name, String(id)]);
    const producer = ring.createProducer();
    const wait = new BlockingWaitStrategy();
    for (let sent = 0; sent < COUNT; ) {
      const first = producer.tryClaim(BATCH, 64);
      if (first < 0) {
        producer.waitForCapacity(BATCH, wait, 1_000);
        continue;
      }
      for (let i = 0; i < BATCH; i++) ring.int32[ring.offsetOf((first + i) & 0x7fffffff) >> 2] = sent + i;
      producer.publish(first, BATCH);
      sent += BATCH;
    }
    const { received, wrong } = await new Promise((resolve) => reader.once('message', resolve));
    console.log(`received ${received} messages from another process through ${ring.path}, ${wrong} out of order or corrupt`);
  } finally {
    rmSync(ring.path, { force: true }); // ring files stay until someone removes them
  }
}
