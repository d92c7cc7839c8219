// argv: backend, 'unref' | 'ref-again' (test-support/ref-child.mjs): a reliable
// subscription and a publication connected to it, with messages still being delivered.
import { exerciseRef } from '../../../../test-support/ref-child.mjs';
import { ReliablePublication, ReliableSubscription } from '../../dist/index.js';

const [backend, mode] = process.argv.slice(2);
const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend });
subscription.onMessage(1, () => {});
const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
if (!(await publication.connected(10_000))) throw new Error('not connected');
for (let i = 0; i < 100; i++) publication.offer(new Uint8Array(32));
exerciseRef(mode, [publication, subscription]);
console.log(`opened on ${subscription.backend}`);
