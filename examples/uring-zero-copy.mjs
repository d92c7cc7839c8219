// Zero-copy UDP sends over io_uring: 8 KiB datagrams go out of 16 registered slots without
// being copied into the kernel, and a slot is rewritten only after its SEND record says the
// kernel let go of its pages. A second socket receives through one multishot receive and
// checks every byte. Where io_uring is not usable it says why and exits (@flux/udp and
// @flux/reliable fall back to node:dgram on their own).
//
//   node examples/uring-zero-copy.mjs
import { capability } from '@flux/sdk';
// The native socket and its seam constants are below the facade: @flux/sdk/uring (all of @flux/uring).
import { DESCRIPTOR_UINT32S, RECORD_INT32S, RecordKind, SendFlag, UringUdpSocket } from '@flux/sdk/uring';

const COUNT = 2_000;
const DATAGRAM_BYTES = 8192;
const SLOTS = 16;

const report = capability();
if (!report.usable || !report.operations.sendZeroCopy) {
  console.log(`io_uring zero copy is not usable here: ${report.reason || 'the kernel has no SEND_ZC'}`);
  process.exit(0);
}

// Datagram i carries i in its first 4 bytes, then bytes that depend on i and their position.
const fill = (bytes, offset, i) => {
  new DataView(bytes.buffer, bytes.byteOffset + offset, 4).setUint32(0, i, true);
  for (let b = 4; b < DATAGRAM_BYTES; b++) bytes[offset + b] = (i + b) & 0xff;
};
const check = (bytes, offset, length, i) => {
  if (length !== DATAGRAM_BYTES || new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true) !== i) return false;
  for (let b = 4; b < DATAGRAM_BYTES; b++) if (bytes[offset + b] !== ((i + b) & 0xff)) return false;
  return true;
};

const rx = UringUdpSocket.create({ receiveBufferBytes: 4 << 20 });
const { port } = rx.bind('127.0.0.1', 0);
const area = rx.startReceive({ parts: 64, partBytes: DATAGRAM_BYTES + 256 }); // memory the kernel receives into
const tx = UringUdpSocket.create();
tx.connect('127.0.0.1', port);
const pool = new Uint8Array(SLOTS * DATAGRAM_BYTES);
tx.registerBuffers([pool]); // pinned once: zero-copy sends read these pages in place

const free = Array.from({ length: SLOTS }, (_, slot) => slot); // slots the kernel is not reading
const descriptors = new Uint32Array(SLOTS * DESCRIPTOR_UINT32S);
const records = new Int32Array(256 * RECORD_INT32S);
let sent = 0;
let received = 0;
let wrong = 0;
const deadline = Date.now() + 10_000;
while (received < COUNT) {
  if (Date.now() > deadline) throw new Error(`stuck after ${sent} sent, ${received} received`);
  // Fill every free slot and hand the batch to the kernel with one system call.
  let batch = 0;
  while (free.length > 0 && sent + batch < COUNT) {
    const slot = free.pop();
    fill(pool, slot * DATAGRAM_BYTES, sent + batch);
    // [token, buffer, offset, length, buffer2, offset2, length2 (0: one part), flags]
    descriptors.set([slot, 0, slot * DATAGRAM_BYTES, DATAGRAM_BYTES, 0, 0, 0, SendFlag.ZERO_COPY], batch * DESCRIPTOR_UINT32S);
    batch++;
  }
  if (batch > 0) {
    const accepted = tx.send(descriptors, batch); // the kernel owns these slots until their SEND records
    for (let k = accepted; k < batch; k++) free.push(descriptors[k * DESCRIPTOR_UINT32S]); // not accepted: still ours
    if (accepted < batch) throw new Error(`only ${accepted} of ${batch} sends accepted`); // cannot happen: 16 < maxInFlight
    sent += accepted;
  }
  // A SEND record for a zero-copy send comes after the kernel's notification: the slot is free.
  const sends = tx.poll(records, 0);
  for (let r = 0; r < sends; r++) {
    const at = r * RECORD_INT32S;
    if (records[at] !== RecordKind.SEND) continue;
    if (records[at + 2] !== DATAGRAM_BYTES) throw new Error(`send failed: ${records[at + 2]}`);
    free.push(records[at + 1]);
  }
  const recvs = rx.poll(records, 1_000_000); // wait at most 1 ms
  for (let r = 0; r < recvs; r++) {
    const at = r * RECORD_INT32S;
    if (records[at] !== RecordKind.RECV) continue;
    if (!check(area.bytes, records[at + 1], records[at + 2], received)) wrong++;
    received++;
  }
}
// Every slot comes back once the kernel has let go of it (the last notifications may lag the receives).
while (free.length < SLOTS) {
  if (Date.now() > deadline) throw new Error(`${SLOTS - free.length} slots never came back`);
  const sends = tx.poll(records, 1_000_000);
  for (let r = 0; r < sends; r++) if (records[r * RECORD_INT32S] === RecordKind.SEND) free.push(records[r * RECORD_INT32S + 1]);
}
console.log(`sent ${sent} datagrams of ${DATAGRAM_BYTES} bytes zero-copy from ${SLOTS} registered slots, each rewritten only after its SEND record`);
console.log(`received ${received}, ${wrong} wrong; all ${free.length} slots back, ${tx.stats().sendsInFlight} sends in flight`);
tx.close();
rx.close();
