// Reliable messaging under injected loss with @flux/reliable: 20,000 messages of 200 bytes
// go through a relay that loses 5% of datagrams each way, duplicates 2% and reorders 2%;
// every one arrives exactly once, in order. One parity datagram per 4 (FEC) rebuilds most
// losses on the spot; NAKs repair the rest.
//
//   publication --> ChaosRelay (@flux/reliable/chaos, seeded) --> subscription
//        ^-------------------- STATUS, NAK <---------------------------+
//
//   node examples/reliable-under-loss.mjs
import { ReliablePublication, ReliableSubscription } from '@flux/reliable';
import { ChaosRelay } from '@flux/reliable/chaos';

const COUNT = 20_000;
const MESSAGE_BYTES = 200;
const STREAM_ID = 1;

const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1' });
let received = 0;
let wrong = 0;
subscription.onMessage(STREAM_ID, (bytes, offset, length) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  if (length !== MESSAGE_BYTES || view.getUint32(0, true) !== received) wrong++;
  received++;
});
const ended = new Promise((resolve) => subscription.onEvent((event) => event.type !== 'begin' && resolve(event.type)));

const impairments = { lossPercent: 5, duplicatePercent: 2, reorderPercent: 2, reorderDelayNs: 200_000 };
const relay = await ChaosRelay.open({ target: { host: '127.0.0.1', port: subscription.port }, forward: impairments, backward: impairments, seed: 1 });

const publication = await ReliablePublication.open({ host: '127.0.0.1', port: relay.port, streamId: STREAM_ID, fecGroupDatagrams: 4 });
if (!(await publication.connected(10_000))) throw new Error('the subscription never answered');
const message = new Uint8Array(MESSAGE_BYTES);
const view = new DataView(message.buffer);
for (let i = 0; i < COUNT; ) {
  view.setUint32(0, i, true);
  if (publication.offer(message) >= 0)
    i++; // copied into the ring
  else await new Promise((resolve) => setImmediate(resolve)); // BACK_PRESSURED: let the sender run
}
if (!(await publication.flush(30_000))) throw new Error('not every message was consumed within 30 s');
const sent = publication.counters;
await publication.close(); // ends the stream: the subscription sees 'end'
const outcome = await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 10_000, 'no end event'))]);
const got = subscription.counters;
const lost = relay.forwardCounters.lost + relay.backwardCounters.lost;
await relay.close();
await subscription.close();

console.log(`sent ${COUNT} messages; the relay lost ${lost} datagrams`);
console.log(`rebuilt ${got.fecRecoveries} from parity, retransmitted ${sent.retransmits} after ${got.naksSent} NAKs`);
console.log(`received ${received}, ${wrong} out of order or corrupt; stream: ${outcome}`);
