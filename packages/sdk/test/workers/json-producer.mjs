// A worker started by startWorker(): offers data.count values { i, square } into its ring
// 'out' through a JSON codec, asking workerRings() for the names in data.names.
import { BACK_PRESSURED, jsonCodec, workerRings } from '@flux/sdk';

const { rings, data } = workerRings(process.env.FLUX_TEST_NAMES?.split(',') ?? ['out']);
const producer = rings.out.createProducer();
const codec = jsonCodec();
const deadline = Date.now() + 20_000;
for (let i = 0; i < data.count; ) {
  const sequence = producer.offerValue({ i, square: i * i, note: 'é' }, codec);
  if (sequence === BACK_PRESSURED) {
    if (Date.now() > deadline) throw new Error(`back-pressured past the deadline at ${i}`);
    continue;
  }
  if (sequence < 0) throw new Error(`offerValue returned ${sequence}`);
  i++;
}
