// A consumer process blocked on a ring file: opens the ring (argv: path, consumer id,
// 'blocking' | 'async'), says it is about to wait, waits up to 30 s for one message and
// reports what the wait returned. Only a cross-process wake-up ends the wait early.
import { asyncFutexMechanism } from '../../dist/index.js'; // @flux/uring: the shared-memory provider
import { AsyncWaitStrategy, BlockingWaitStrategy, Ring } from '../../../ring/dist/index.js';

const [path, id, strategy] = process.argv.slice(2);
const ring = Ring.open({ path });
const consumer = ring.openConsumer(Number(id));
process.send({ waiting: true, mechanism: asyncFutexMechanism() });
const ready = strategy === 'async' ? await consumer.waitForAsync(new AsyncWaitStrategy(), 30_000) : consumer.waitFor(new BlockingWaitStrategy(), 30_000);
process.send({ ready }, () => process.disconnect());
