// A consumer process on a ring file (argv: path, consumer id): reads one message, says so,
// then stops reading without releasing more (a reader that hangs), until it is killed;
// bounded at 60 s.
import '../../dist/index.js'; // @flux/uring: the shared-memory provider
import { BlockingWaitStrategy, Ring } from '../../../ring/dist/index.js';

const ring = Ring.open({ path: process.argv[2] });
const consumer = ring.openConsumer(Number(process.argv[3]));
if (consumer.waitFor(new BlockingWaitStrategy(), 30_000) > 0) consumer.release(1);
process.send({ read: 1 });
setTimeout(() => process.exit(3), 60_000); // holds its consumer until killed
