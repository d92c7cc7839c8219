// argv: 'unref' | 'ref-again'. As unref.mjs, for a hot subscription and a hot publication
// (each a worker thread busy-polling io_uring).
import { HotReliablePublication, HotReliableSubscription } from '../../dist/index.js';

const mode = process.argv[2];
const subscription = await HotReliableSubscription.open({ port: 0, address: '127.0.0.1', streamId: 1 });
const publication = await HotReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1 });
if (!(await publication.connected(10_000))) throw new Error('not connected');
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
console.log('opened');
