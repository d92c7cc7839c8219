// The CommonJS build, as a require() app loads it: the same classes, and the addon found.
const sdk = require('@flux/sdk');
const ring = sdk.Ring.create({ capacity: 64, maxMessageBytes: 8 });
const producer = ring.createProducer();
const consumer = ring.openConsumer(ring.addConsumer());
const first = producer.tryClaim(1, 8);
producer.publish(first, 1);
let read = 0;
consumer.poll(() => {
  read++;
});
// A subpath (@flux/sdk/<package>: the package whole) resolves under require too, to the same class.
const sameRing = require('@flux/sdk/ring').Ring === sdk.Ring;
console.log(JSON.stringify({ read, uring: typeof require('@flux/uring').capability, addon: sdk.capability().addon?.source, sameRing }));
