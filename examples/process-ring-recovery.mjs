// A producer process killed mid-stream, and recovered: a child process publishes counted
// messages into a ring file; this process reads them, SIGKILLs the child while it is
// publishing, reads what it had published, finds its process gone, takes the producer over
// and goes on. Nothing published is lost; what the child had claimed and not published
// was never visible and is claimed again.
//
//   node examples/process-ring-recovery.mjs
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Ring } from '@flux/sdk';

if (process.argv[2] === 'producer') {
  const ring = Ring.open({ path: process.argv[3] });
  const producer = ring.createProducer();
  const deadline = Date.now() + 30_000; // bounded: the parent kills it long before
  for (let index = 0; Date.now() < deadline; ) {
    const first = producer.tryClaim(16, 4);
    if (first < 0) continue; // the ring is full: the reader is behind
    for (let i = 0; i < 16; i++) ring.int32[ring.offsetOf((first + i) & 0x7fffffff) >> 2] = index++;
    producer.publish(first, 16);
    if (index === 16) process.send('publishing');
  }
} else {
  const ring = Ring.create({ name: `recovery-${process.pid}`, capacity: 1024, maxMessageBytes: 4 });
  try {
    const consumer = ring.openConsumer(ring.addConsumer());
    const seen = [];
    const read = () => consumer.poll((bytes, offset) => seen.push(ring.int32[offset >> 2]));
    const child = fork(new URL(import.meta.url).pathname, ['producer', ring.path]);
    await new Promise((resolve) => child.once('message', resolve));
    for (let i = 0; i < 1_000_000 && seen.length < 20_000; i++) if (read() === 0) await new Promise((resolve) => setImmediate(resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    while (read() > 0) {}
    const fromChild = seen.length;
    const { pid, alive } = ring.producerOwner();
    const producer = ring.createProducer(); // its process is gone: taken over
    for (let i = 0; i < 1_000; i++) {
      producer.offer(new Uint8Array(new Int32Array([seen.length]).buffer));
      read();
    }
    const inOrder = seen.every((value, i) => value === i);
    console.log(
      `the producer process ${alive ? 'still runs' : 'was killed'} after publishing ${fromChild} messages; taken over from pid ${pid === child.pid ? 'the killed child' : pid}`,
    );
    console.log(`received ${seen.length} messages, ${inOrder ? 'every one once and in order' : 'SOME LOST OR OUT OF ORDER'}`);
  } finally {
    rmSync(ring.path, { force: true });
  }
}
