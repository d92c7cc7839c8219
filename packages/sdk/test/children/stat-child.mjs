// Run with FLUX_STAT set: opens a UDP subscription and a publication to it (they register
// their counters themselves), sends one message, says so, and closes and exits when told.
import { Publication, Subscription } from '../../dist/index.js';

const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'dgram' });
let received = 0;
subscription.onMessage(3, () => received++);
const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 3, backend: 'dgram' });
publication.offer(new Uint8Array(8));
for (let i = 0; i < 500 && received === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10)); // bounded: 5 s
process.send({ port: subscription.port, received });
process.once('message', async () => {
  await publication.close();
  await subscription.close();
  process.disconnect();
});
