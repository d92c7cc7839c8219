// Opens a subscription and a publication on node:dgram, makes a handler throw once (an
// error an onError listener takes), and closes both: with NODE_DEBUG=flux each of these is
// a line on stderr. Bounded: the message is awaited with a deadline.
import { Publication, Subscription } from '../../dist/index.js';

const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'dgram' });
subscription.onError(() => {});
let delivered = false;
subscription.onMessage(1, () => {
  delivered = true;
  throw new Error('handler broke');
});
const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend: 'dgram' });
publication.offer('x');
await publication.flush(5_000);
const deadline = Date.now() + 10_000;
while (!delivered && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
await publication.close();
await subscription.close();
console.log(delivered ? 'delivered' : 'not delivered');
