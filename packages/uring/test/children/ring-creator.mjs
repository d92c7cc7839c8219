// Creates ring files at the paths given (argv) and exits without removing them.
import '../../dist/index.js'; // @flux/uring: the shared-memory provider
import { Ring } from '../../../ring/dist/index.js';

for (const path of process.argv.slice(2)) Ring.create({ path, capacity: 8, maxMessageBytes: 8 }).addConsumer();
