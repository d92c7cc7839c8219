// argv: backend, 'unref' | 'ref-again'. As @flux/udp's unref child, for a reliable
// subscription and a publication connected to it, with messages still being delivered.
import { ReliablePublication, ReliableSubscription } from '../../dist/index.js';

const [backend, mode] = process.argv.slice(2);
const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend });
subscription.onMessage(1, () => {});
const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
if (!(await publication.connected(10_000))) throw new Error('not connected');
for (let i = 0; i < 100; i++) publication.offer(new Uint8Array(32));
subscription.unref();
publication.unref();
if (mode === 'ref-again') {
  subscription.ref();
  publication.ref();
  setTimeout(async () => {
    console.log('alive');
    await publication.close();
    await subscription.close();
  }, 300).unref();
}
console.log(`opened on ${subscription.backend}`);
