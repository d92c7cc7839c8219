// Packed node:dgram as a bench endpoint on the contract of stream-endpoints.mjs: what a
// skilled node:dgram user writes to send small messages fast, the same packing @flux/udp
// does (as many length-prefixed messages per datagram as fit in one MTU), no retransmission.
//
//   datagram: [len u32 | message] [len u32 | message] ...   (as many frames as fit in
//             1,472 B: one 1,500-byte MTU less the IPv4 and UDP headers)
//   a message too long for that goes alone in one datagram of up to 65,507 B, which the
//   kernel fragments into IP fragments (what a node:dgram user can do without writing a
//   fragmentation protocol; a lost fragment loses the whole datagram)
//
// The sender keeps a pool of `WINDOW_DATAGRAMS` buffers; a datagram's buffer returns to the
// pool when node:dgram calls back, and sendBatch refuses (back-pressure) a batch that needs
// more buffers than the pool holds.
import dgram from 'node:dgram';
import { verify } from './harness.mjs';
import { forEachPacked, yieldToEventLoop } from './indexed-messages.mjs';
import { LENGTH_PREFIX_BYTES, writeLengthPrefix } from './length-prefixed.mjs';
import { RECEIVE_BUFFER_BYTES } from './stream-endpoints.mjs';

const MAX_DATAGRAM_BYTES = 1472;
const MAX_UDP_PAYLOAD_BYTES = 65_507;
const WINDOW_DATAGRAMS = 256; // sends in flight, as @flux/udp's default

/** How many frames of `messageBytes` one datagram carries (1 for a message longer than one MTU's room). */
export function perDatagram(messageBytes) {
  if (LENGTH_PREFIX_BYTES + messageBytes > MAX_UDP_PAYLOAD_BYTES) throw new RangeError(`a ${messageBytes}-byte message does not fit in one UDP datagram`);
  return Math.max(1, Math.floor(MAX_DATAGRAM_BYTES / (LENGTH_PREFIX_BYTES + messageBytes)));
}

export async function openPackedDgramReceiver({ host, onMessage }) {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
  let datagrams = 0;
  let malformed = 0;
  socket.on('message', (message) => {
    datagrams++;
    if (!forEachPacked(message, message.length, onMessage)) malformed++;
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, resolve);
  });
  return {
    port: socket.address().port,
    async close() {
      await new Promise((resolve) => socket.close(resolve));
      verify(malformed === 0, `packed dgram receiver: ${malformed} datagrams did not split into whole frames`);
      return { datagrams, malformed };
    },
  };
}

export async function openPackedDgramSender({ host, port, maxMessageBytes }) {
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, resolve);
  });
  const frameBytes = LENGTH_PREFIX_BYTES + maxMessageBytes;
  const frames = perDatagram(maxMessageBytes);
  const pool = [];
  let sendErrors = 0;
  let datagrams = 0;
  for (let i = 0; i < WINDOW_DATAGRAMS; i++) {
    const entry = {
      buffer: Buffer.alloc(frameBytes * frames),
      onSent: (error) => {
        if (error) sendErrors++;
        pool.push(entry);
      },
    };
    pool.push(entry);
  }
  return {
    sendBatch(count, fill) {
      if (pool.length < Math.ceil(count / frames)) return false;
      for (let left = count; left > 0; left -= frames) {
        const n = Math.min(frames, left);
        const entry = pool.pop();
        for (let m = 0, offset = 0; m < n; m++, offset += frameBytes) {
          writeLengthPrefix(entry.buffer, offset, maxMessageBytes);
          fill(entry.buffer, offset + LENGTH_PREFIX_BYTES);
        }
        socket.send(entry.buffer, 0, n * frameBytes, entry.onSent);
        datagrams++;
      }
      return true;
    },
    async waitForRoom(deadline) {
      if (Date.now() > deadline) throw new Error('packed dgram sender: deadline');
      await yieldToEventLoop();
    },
    async finish(deadline) {
      while (pool.length < WINDOW_DATAGRAMS) {
        if (Date.now() > deadline) throw new Error('packed dgram sender: deadline waiting for sends');
        await yieldToEventLoop();
      }
      await new Promise((resolve) => socket.close(resolve));
      verify(sendErrors === 0, `packed dgram sender: ${sendErrors} send errors`);
      return { datagrams };
    },
  };
}
