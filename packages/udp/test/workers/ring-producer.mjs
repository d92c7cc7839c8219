// Test worker: attaches a publication's ring and publishes `count` messages in place, in
// batches, each carrying (producerId, sequence). Bounded by a deadline.
import { parentPort, workerData } from 'node:worker_threads';
import { BlockingWaitStrategy, Ring } from '@flux/ring';

const { handle, producerId, count, messageBytes, deadlineMs } = workerData;
const ring = Ring.attach(handle);
const producer = ring.createProducer();
const view = new DataView(ring.buffer);
const wait = new BlockingWaitStrategy();
for (let sent = 0; sent < count; ) {
  const batch = Math.min(1 + (sent % 7), count - sent);
  const first = producer.tryClaim(batch, messageBytes);
  if (first < 0) {
    if (Date.now() > deadlineMs) throw new Error(`producer ${producerId}: back-pressured until the deadline`);
    producer.waitForCapacity(batch, wait, 100);
    continue;
  }
  for (let i = 0; i < batch; i++) {
    const offset = ring.offsetOf(first + i);
    view.setUint32(offset, producerId, true);
    view.setUint32(offset + 4, sent + i, true);
  }
  producer.publish(first, batch);
  sent += batch;
}
parentPort.postMessage('done');
