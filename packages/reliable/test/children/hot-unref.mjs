// argv: 'unref' | 'ref-again' (test-support/ref-child.mjs): a hot subscription and a hot
// publication (each a worker thread busy-polling io_uring), connected.
import { exerciseRef } from '../../../../test-support/ref-child.mjs';
import { HotReliablePublication, HotReliableSubscription } from '../../dist/index.js';

const mode = process.argv[2];
const subscription = await HotReliableSubscription.open({ port: 0, address: '127.0.0.1', streamId: 1 });
const publication = await HotReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1 });
if (!(await publication.connected(10_000))) throw new Error('not connected');
exerciseRef(mode, [publication, subscription]);
console.log('opened');
