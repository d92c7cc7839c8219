// A worker started by startWorker(): writes data.count messages (index, index * 3) into its
// ring 'out', in batches, and throws if data.fail says so.
import { BACK_PRESSURED, workerRings } from '@flux/sdk';

const { rings, data } = workerRings();
if (data.fail) throw new Error('the producer was told to fail');
const ring = rings.out;
const producer = ring.createProducer();
const view = new DataView(ring.buffer);
const deadline = Date.now() + 20_000;
for (let index = 0; index < data.count; ) {
  const batch = Math.min(32, data.count - index);
  const first = producer.tryClaim(batch, 8);
  if (first < 0 && first !== BACK_PRESSURED) throw new Error(`tryClaim returned ${first}`);
  if (first === BACK_PRESSURED) {
    if (Date.now() > deadline) throw new Error(`back-pressured past the deadline at ${index}`);
    continue;
  }
  for (let i = 0; i < batch; i++) {
    const offset = ring.offsetOf((first + i) & 0x7fffffff);
    view.setUint32(offset, index + i, true);
    view.setUint32(offset + 4, (index + i) * 3, true);
  }
  producer.publish(first, batch);
  index += batch;
}
