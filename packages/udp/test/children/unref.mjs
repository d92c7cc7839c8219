// argv: backend, 'unref' | 'ref-again' (test-support/ref-child.mjs): a subscription and a
// publication to it, open.
import { exerciseRef } from '../../../../test-support/ref-child.mjs';
import { Publication, Subscription } from '../../dist/index.js';

const [backend, mode] = process.argv.slice(2);
const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
exerciseRef(mode, [publication, subscription]);
console.log(`opened on ${subscription.backend}`);
