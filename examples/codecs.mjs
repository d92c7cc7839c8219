// Messages beyond bytes: a codec at each end, the transport still carrying bytes. Orders go
// over reliable UDP as MessagePack (msgpackr, a binary codec from npm), then JSON values go
// through a ring, each decoded in place (no copy) where it is read.
//
//   node examples/codecs.mjs
import { Packr } from 'msgpackr';
import { jsonCodec, messages, ReliablePublication, ReliableSubscription, Ring } from '@flux/sdk';

const COUNT = 10_000;

// Any { encode, decode } is a codec. msgpackr's pack returns a view of a buffer it reuses:
// fine, the publication copies it into its ring at once. unpack copies out what it reads.
const packr = new Packr({ useRecords: false });
const msgpack = { encode: (order) => packr.pack(order), decode: (bytes) => packr.unpack(bytes) };
const orderOf = (i) => ({ id: i, side: i % 2 === 0 ? 'buy' : 'sell', symbol: 'FLUX', priceTicks: 10_000 + (i % 50), quantity: 1 + (i % 9) });
const same = (a, b) => a.id === b.id && a.side === b.side && a.symbol === b.symbol && a.priceTicks === b.priceTicks && a.quantity === b.quantity;

// 1. Network: typed orders over reliable UDP.
const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1' });
const orders = subscription.messages(1, { codec: msgpack, idleTimeoutMs: 10_000 }); // yields { value, sessionId, streamId }
const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, codec: msgpack });
if (!(await publication.connected())) throw new Error('the subscription did not answer');
const sending = (async () => {
  for (let i = 0; i < COUNT; i++) {
    while (publication.offer(orderOf(i)) < 0) await new Promise((resolve) => setImmediate(resolve)); // back-pressure: yield, retry
  }
  return publication.flush();
})();
let received = 0;
let wrong = 0;
for await (const { value } of orders) {
  if (!same(value, orderOf(received))) wrong++;
  if (++received === COUNT) break;
}
if (!(await sending)) throw new Error('flush timed out');
await publication.close();
await subscription.close();
console.log(`sent ${COUNT} orders as MessagePack over reliable UDP; received ${received}, ${wrong} wrong, ${subscription.counters.undecodable} undecodable`);

// 2. Threads: JSON values through a ring (any thread's producer: producer.offerValue).
const json = jsonCodec();
const ring = Ring.create({ capacity: 1024, maxMessageBytes: 128 });
const consumer = ring.openConsumer(ring.addConsumer());
const producer = ring.createProducer();
let offered = 0;
let read = 0;
let ringWrong = 0;
while (read < COUNT) {
  while (offered < COUNT && producer.offerValue(orderOf(offered), json) >= 0) offered++; // until the ring is full
  for await (const value of messages(consumer, { codec: json, idleTimeoutMs: 0 })) {
    if (!same(value, orderOf(read))) ringWrong++;
    read++;
  }
}
console.log(`ring: ${read} JSON values written as UTF-8 into their slots and decoded in place, ${ringWrong} wrong`);
