// The reliable transports users pick instead of @flux/reliable, as bench endpoints: a TCP
// socket (node:net, setNoDelay) and a udx-native stream (reliable, congestion-controlled
// UDP, used by Holepunch/hyperswarm). Both are byte streams, so each message is sent
// length-prefixed (length-prefixed.mjs) and the receiver reassembles across chunks.
//
// The endpoint contract every bench_reliable_delivery variant implements (flux-endpoints.mjs too):
//   receiver = await openReceiver({ host, maxMessageBytes, onMessage })
//     receiver.port                 where the sender connects (bound on `host`)
//     onMessage(bytes, offset, lengthBytes)   once per message, in delivery order
//     await receiver.close(deadline) -> counters (a plain object, for the report)
//   sender = await openSender({ host, port, localHost, maxMessageBytes })
//     sender.sendBatch(count, fill) -> true, or false when back-pressured (nothing sent);
//                                      fill(bytes, offset) writes the next maxMessageBytes-byte message
//     await sender.waitForRoom(deadline)    resolves when sendBatch may succeed again
//     await sender.finish(deadline) -> counters: resolves once a reliable transport's
//                                      receiver has every message (acknowledged)
// Every wait rejects at its deadline (a Date.now() value) or on a transport error.
import net from 'node:net';
import { LENGTH_PREFIX_BYTES, LengthPrefixedReader, writeLengthPrefix } from './length-prefixed.mjs';

export const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024; // udx sockets' SO_RCVBUF (capped by net.core.rmem_max); TCP autotunes
const RECEIVER_STREAM_ID = 1; // udx stream ids: each end names the other's
const SENDER_STREAM_ID = 2;
const UDX_CLOSE_GRACE_MS = 250; // how long a udx endpoint waits for the stream's end handshake

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** udx-native's constructor, or the reason it cannot load (pnpm runs no install scripts: it must find a prebuild). */
export const udx = await import('udx-native').then(
  (module) => ({ UDX: module.default, reason: null }),
  (error) => ({ UDX: null, reason: `udx-native does not load: ${String(error?.message ?? error).split('\n')[0]}` }),
);

/** Resolves when `emitter` emits `event`; rejects on its 'error' or at `deadline`. */
function once(emitter, event, deadline, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(reject, new Error(`${what}: no '${event}' before the deadline`)), Math.max(1, deadline - Date.now()));
    const onEvent = (value) => done(resolve, value);
    const onError = (error) => done(reject, new Error(`${what}: ${error?.message ?? error}`));
    function done(settle, value) {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      emitter.off('error', onError);
      settle(value);
    }
    emitter.once(event, onEvent);
    emitter.once('error', onError);
  });
}

/** `promise`, or a rejection at `deadline` (the timer does not outlive it). */
export function withDeadline(promise, deadline, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: deadline`)), Math.max(1, deadline - Date.now()));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** One write's worth of frames: `count` length-prefixed messages of `messageBytes`, filled in place. */
export function encodeBatch(count, messageBytes, fill) {
  const frameBytes = LENGTH_PREFIX_BYTES + messageBytes;
  const buffer = Buffer.allocUnsafe(count * frameBytes); // the stream holds it until written: never reused
  for (let offset = 0; offset < buffer.length; offset += frameBytes) {
    writeLengthPrefix(buffer, offset, messageBytes);
    fill(buffer, offset + LENGTH_PREFIX_BYTES);
  }
  return buffer;
}

// ---- TCP ------------------------------------------------------------------------------------

export async function openTcpReceiver({ host, maxMessageBytes, onMessage }) {
  const reader = new LengthPrefixedReader(maxMessageBytes, onMessage);
  let connection = null;
  let bytesReceived = 0;
  const server = net.createServer((socket) => {
    connection = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      bytesReceived += chunk.length;
      reader.push(chunk);
    });
    socket.on('error', () => {}); // reported by the sender; the receiver's count shows what arrived
  });
  server.listen(0, host);
  await once(server, 'listening', Date.now() + 10_000, 'tcp receiver');
  return {
    port: server.address().port,
    async close(deadline) {
      const closed = once(server, 'close', deadline, 'tcp receiver');
      server.close();
      connection?.destroy();
      await closed;
      return { bytesReceived, pendingBytes: reader.pendingBytes };
    },
  };
}

export async function openTcpSender({ host, port, maxMessageBytes }) {
  const socket = net.connect({ host, port, noDelay: true });
  socket.setNoDelay(true);
  await once(socket, 'connect', Date.now() + 10_000, 'tcp sender');
  let writes = 0;
  return {
    sendBatch(count, fill) {
      if (socket.writableNeedDrain) return false;
      socket.write(encodeBatch(count, maxMessageBytes, fill));
      writes++;
      return true;
    },
    waitForRoom: (deadline) => (socket.writableNeedDrain ? once(socket, 'drain', deadline, 'tcp sender') : Promise.resolve()),
    async finish(deadline) {
      const closed = once(socket, 'close', deadline, 'tcp sender');
      socket.end(); // the receiver ends its side on our FIN, after reading everything before it
      await closed;
      return { writes, bytesWritten: socket.bytesWritten };
    },
  };
}

// ---- udx-native -----------------------------------------------------------------------------

export async function openUdxReceiver({ host, maxMessageBytes, onMessage }) {
  const instance = new udx.UDX();
  const socket = instance.createSocket();
  socket.bind(0, host);
  socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  const reader = new LengthPrefixedReader(maxMessageBytes, onMessage);
  // The sender's port is learnt from its first packet: the firewall hook connects the stream back.
  const stream = instance.createStream(RECEIVER_STREAM_ID, {
    firewall(fromSocket, fromPort, fromHost) {
      if (!stream.connected) stream.connect(fromSocket, SENDER_STREAM_ID, fromPort, fromHost);
      return false; // not firewalled
    },
  });
  let bytesReceived = 0;
  stream.on('data', (chunk) => {
    bytesReceived += chunk.length;
    reader.push(chunk);
  });
  stream.on('end', () => stream.end());
  stream.on('error', () => {}); // reported by the sender; the receiver's count shows what arrived
  const streamClosed = new Promise((resolve) => stream.once('close', resolve));
  return {
    port: socket.address().port,
    async close(deadline) {
      if (!stream.destroyed) stream.destroy();
      const counters = {
        bytesReceived,
        pendingBytes: reader.pendingBytes,
        packetsReceived: socket.packetsReceived,
        packetsDroppedByKernel: socket.packetsDroppedByKernel,
      };
      // Our end-of-stream may still be unacknowledged (the ack was lost and the sender has gone):
      // udx retries it for ~13 s. Then the socket cannot close, and the parent ends this process
      // (two-process.mjs, measurePair).
      const closedInTime = await Promise.race([streamClosed.then(() => true), delay(UDX_CLOSE_GRACE_MS).then(() => false)]);
      if (closedInTime) await withDeadline(socket.close(), deadline, 'udx receiver: socket close');
      return { ...counters, closedInTime };
    },
  };
}

export async function openUdxSender({ host, port, localHost, maxMessageBytes }) {
  const instance = new udx.UDX();
  const socket = instance.createSocket();
  socket.bind(0, localHost);
  socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  const stream = instance.createStream(SENDER_STREAM_ID);
  stream.connect(socket, RECEIVER_STREAM_ID, port, host);
  let failure = null;
  stream.on('error', (error) => (failure = error));
  let blocked = false; // the last write() returned false: wait for 'drain'
  stream.on('drain', () => (blocked = false));
  let writes = 0;
  return {
    sendBatch(count, fill) {
      if (failure) throw new Error(`udx sender: ${failure.message}`);
      if (blocked) return false;
      blocked = !stream.write(encodeBatch(count, maxMessageBytes, fill));
      writes++;
      return true;
    },
    waitForRoom: (deadline) => (blocked ? once(stream, 'drain', deadline, 'udx sender') : Promise.resolve()),
    async finish(deadline) {
      // Every write acknowledged: the receiver has it all. Then end the stream; a lost FIN or
      // ack would hold the close for an RTO or more, so it gets a grace period, not a wait.
      const flushed = await withDeadline(stream.flush(), deadline, 'udx sender: flush');
      if (failure || !flushed) throw new Error(`udx sender: ${failure?.message ?? 'flush failed (stream destroyed)'}`);
      const counters = { writes, packetsTransmitted: socket.packetsTransmitted, retransmits: stream.retransmits };
      const closed = new Promise((resolve) => stream.once('close', resolve));
      stream.end();
      const closedInTime = await Promise.race([closed.then(() => true), delay(UDX_CLOSE_GRACE_MS).then(() => false)]);
      if (closedInTime) await withDeadline(socket.close(), deadline, 'udx sender: socket close');
      return { ...counters, closedInTime };
    },
  };
}
