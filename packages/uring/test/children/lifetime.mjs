// Run with --expose-gc. Registers a buffer, queues sends from it (half zero-copy: the kernel
// reads those pages until its notification) and a receive into another,
// drops every JavaScript reference to both and collects garbage while the kernel may still
// use them; the data must still arrive intact (the socket holds the buffers until close()).
import {
  DESCRIPTOR_FLAGS_OFFSET,
  DESCRIPTOR_LENGTH0_OFFSET,
  DESCRIPTOR_START0_OFFSET,
  DESCRIPTOR_TOKEN_OFFSET,
  DESCRIPTOR_UINT32S,
  RECORD_INT32S,
  RECORD_KIND_OFFSET,
  RECORD_RECV_LENGTH_OFFSET,
  RECORD_RECV_START_OFFSET,
  RECORD_SEND_RESULT_OFFSET,
  RecordKind,
  SendFlag,
  UringUdpSocket,
} from '../../dist/index.js';

const COUNT = 64;
const rx = UringUdpSocket.create({ receiveBufferBytes: 4 << 20 }); // zero-copy skbs on loopback are charged a page or more each
const { port } = rx.bind('127.0.0.1', 0);
let area = rx.startReceive({ parts: 128 });
const received = area.bytes; // kept only to read results: the receive buffer itself is held natively too
area = undefined;
const tx = UringUdpSocket.create();
tx.connect('127.0.0.1', port);
(() => {
  let source = new Uint8Array(COUNT * 512);
  for (let i = 0; i < source.length; i++) source[i] = (i * 7) & 0xff;
  tx.registerBuffers([source]);
  const descriptors = new Uint32Array(COUNT * DESCRIPTOR_UINT32S);
  for (let i = 0; i < COUNT; i++) {
    const at = i * DESCRIPTOR_UINT32S; // buffer0 and part 1 stay 0: one part of buffer 0
    descriptors[at + DESCRIPTOR_TOKEN_OFFSET] = i;
    descriptors[at + DESCRIPTOR_START0_OFFSET] = i * 512;
    descriptors[at + DESCRIPTOR_LENGTH0_OFFSET] = 512;
    descriptors[at + DESCRIPTOR_FLAGS_OFFSET] = i % 2 ? SendFlag.ZERO_COPY : 0;
  }
  if (tx.send(descriptors, COUNT) !== COUNT) throw new Error('not all accepted');
  source = undefined;
})();
for (let i = 0; i < 5; i++) {
  globalThis.gc();
  new Uint8Array(COUNT * 512).fill(0xee); // memory a freed source could be reused for
}
const records = new Int32Array(RECORD_INT32S * 256);
let sends = 0;
let good = 0;
let bad = 0;
for (let k = 0; k < 500 && (sends < COUNT || good + bad < COUNT); k++) {
  let n = tx.poll(records, 10_000_000);
  for (let i = 0; i < n; i++)
    if (records[i * RECORD_INT32S + RECORD_KIND_OFFSET] === RecordKind.SEND && records[i * RECORD_INT32S + RECORD_SEND_RESULT_OFFSET] === 512) sends++;
  n = rx.poll(records, 10_000_000);
  for (let i = 0; i < n; i++) {
    if (records[i * RECORD_INT32S + RECORD_KIND_OFFSET] !== RecordKind.RECV) continue;
    const offset = records[i * RECORD_INT32S + RECORD_RECV_START_OFFSET];
    const index = good + bad;
    let ok = records[i * RECORD_INT32S + RECORD_RECV_LENGTH_OFFSET] === 512;
    for (let b = 0; ok && b < 512; b++) ok = received[offset + b] === (((index * 512 + b) * 7) & 0xff);
    if (ok) good++;
    else bad++;
  }
}
if (good + bad < COUNT) console.error(JSON.stringify({ rx: rx.stats(), tx: tx.stats() }));
const closed = [tx.close().clean, rx.close().clean];
console.log(JSON.stringify({ sends, good, bad, closed }));
