// A multi-producer process on a ring file (argv: path): publishes one message, claims 8
// more, writes them, says so, and never publishes them: the test SIGKILLs it there (between
// claim and publish); bounded at 60 s.
import '../../dist/index.js'; // @flux/uring: the shared-memory provider
import { Ring } from '../../../ring/dist/index.js';

const ring = Ring.open({ path: process.argv[2] });
const producer = ring.createProducer();
producer.offer(new Uint8Array([1, 0, 0, 0]));
const first = producer.tryClaim(8, 4);
for (let i = 0; i < 8; i++) ring.int32[ring.offsetOf((first + i) & 0x7fffffff) >> 2] = 100 + i;
process.send({ claimed: first });
setTimeout(() => process.exit(3), 60_000);
