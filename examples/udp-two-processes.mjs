// UDP between two processes with @flux/udp: this process publishes 20,000 messages of 64
// bytes on stream 1; a child process subscribes, checks every message and reports back.
//
//   node examples/udp-two-processes.mjs
import { fork } from 'node:child_process';
import { Publication, Subscription } from '@flux/udp';

const COUNT = 20_000;
const MESSAGE_BYTES = 64;
const STREAM_ID = 1;

if (process.argv[2] === 'subscriber') {
  // The child: bind, tell the parent the port, count what arrives in order and intact.
  const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', receiveBufferBytes: 4 << 20 });
  let received = 0;
  let wrong = 0;
  subscription.onMessage(STREAM_ID, (bytes, offset, length) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
    if (length !== MESSAGE_BYTES || view.getUint32(0, true) !== received) wrong++;
    received++;
  });
  process.send({ port: subscription.port });
  process.on('message', async (request) => {
    if (request === 'report') process.send({ received, wrong, counters: subscription.counters.snapshot() });
    if (request === 'close') {
      await subscription.close();
      process.disconnect();
    }
  });
} else {
  const child = fork(new URL(import.meta.url).pathname, ['subscriber']);
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();

  const publication = await Publication.open({ host: '127.0.0.1', port, streamId: STREAM_ID });
  const message = new Uint8Array(MESSAGE_BYTES);
  const view = new DataView(message.buffer);
  for (let i = 0; i < COUNT; ) {
    view.setUint32(0, i, true);
    if (publication.offer(message) >= 0)
      i++; // copied into the ring
    else await new Promise((resolve) => setImmediate(resolve)); // BACK_PRESSURED: let the sender run
  }
  await publication.flush(); // every message handed to the socket
  const sent = publication.counters.snapshot();
  await publication.close();

  // Ask the subscriber for its count until every message is in, for at most 5 s.
  const deadline = Date.now() + 5_000;
  let report;
  for (;;) {
    child.send('report');
    report = await next();
    if (report.received === COUNT || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.send('close');
  const { received, wrong, counters } = report;
  console.log(
    `sent ${sent.messagesSent} messages in ${sent.datagramsSent} datagrams; ` +
      `received ${received}, ${wrong} out of order or corrupt, ${counters.framesLost} frames lost, ${counters.dropped} dropped`,
  );
}
