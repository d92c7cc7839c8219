// Run with FLUX_URING=0: 'auto' must take node:dgram and say why, 'io_uring' must refuse
// with UringUnavailableError, and messages must still arrive. Prints one JSON line.
import { Publication, Subscription } from '../../dist/index.js';

const subscription = await Subscription.open({ port: 0, address: '127.0.0.1' });
let received = 0;
subscription.onMessage(1, () => received++);
const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1 });
for (let i = 0; i < 1000; i++) while (publication.offer(new Uint8Array(32)) < 0) await new Promise((resolve) => setImmediate(resolve));
await publication.flush();
const deadline = Date.now() + 10_000;
while (received < 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
let refused = null;
try {
  await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend: 'io_uring' });
} catch (error) {
  refused = { name: error.name, code: error.code, message: error.message };
}
await publication.close();
await subscription.close();
console.log(
  JSON.stringify({
    publication: [publication.backend, publication.backendReason],
    subscription: [subscription.backend, subscription.backendReason],
    received,
    refused,
  }),
);
