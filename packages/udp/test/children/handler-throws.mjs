// A subscription whose handler throws, with no onError listener: each FluxHandlerError must
// arrive as an uncaught exception on a later turn (not inside the receive path), and every
// message must still be delivered once. Prints a JSON report as its last line.
import { Publication, Subscription } from '../../dist/index.js';

const backend = process.argv[2];
const uncaught = [];
let inHandler = false;
process.on('uncaughtException', (error) => {
  uncaught.push({ name: error.name, code: error.code, cause: error.cause?.message, sync: inHandler });
});

const sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
const calls = [];
sub.onMessage(1, (bytes, offset) => {
  calls.push(bytes[offset]);
  if (bytes[offset] % 5 === 0) {
    inHandler = true;
    queueMicrotask(() => (inHandler = false));
    throw new Error(`boom ${bytes[offset]}`);
  }
});
const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 1, backend });
for (let i = 0; i < 20; i++) pub.offer(new Uint8Array([i]));
await pub.flush();
const deadline = Date.now() + 10_000;
while ((calls.length < 20 || uncaught.length < 4) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
await pub.close();
await sub.close();
const { handlerErrors, messagesReceived } = sub.counters;
console.log(JSON.stringify({ backend: sub.backend, calls, uncaught, counters: { handlerErrors, messagesReceived } }));
