// argv: backend, 'unref' | 'ref-again'. Opens a subscription and a publication to it, then
// 'unref': unref() both and returns: the process must exit by itself (nothing else holds it).
// 'ref-again': unref() then ref() both, and an unref'd timer closes them after a while: the
// process must still be there when it fires (prints "alive"), then exits once they close.
import { Publication, Subscription } from '../../dist/index.js';

const [backend, mode] = process.argv.slice(2);
const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
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
