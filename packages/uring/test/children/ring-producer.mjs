// A producer process on a ring file (argv: path): publishes messages stamped 0, 1, 2, ... in
// claims of 16 (back-pressured by the ring), says when it has published its first claim,
// and runs until it is killed (the test SIGKILLs it mid-stream), bounded at 60 s.
import '../../dist/index.js'; // @flux/uring: the shared-memory provider
import { BusySpinWaitStrategy, Ring } from '../../../ring/dist/index.js';

const ring = Ring.open({ path: process.argv[2] });
const producer = ring.createProducer();
const spin = new BusySpinWaitStrategy();
const deadline = Date.now() + 60_000;
let index = 0;
while (Date.now() < deadline) {
  const first = producer.tryClaim(16, 4);
  if (first < 0) {
    producer.waitForCapacity(16, spin, 100);
    continue;
  }
  for (let i = 0; i < 16; i++) ring.int32[ring.offsetOf((first + i) & 0x7fffffff) >> 2] = index++;
  producer.publish(first, 16);
  if (index === 16) process.send({ published: true });
}
