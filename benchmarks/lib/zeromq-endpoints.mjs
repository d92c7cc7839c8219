// ZeroMQ endpoints for bench_reliable_delivery, on the contract written at the top of
// stream-endpoints.mjs: a PUSH socket connected over tcp:// to a PULL socket, the way
// zeromq.js users move messages between processes. ZeroMQ is message-oriented, so each
// message is one ZeroMQ message (no length prefix of ours); libzmq batches them on the
// wire itself. zeromq.js allows one send() in flight per socket, so a batch is sent as
// `count` awaited sends, and the next batch waits for the last of them: the weaker use,
// kept as what the idiom gives. A skilled user sends the batch in one send(), as the other
// transports write it in one write():
//   packed     one ZeroMQ message per batch, its messages length-prefixed (as TCP's frames)
//   multipart  one multipart ZeroMQ message per batch, a frame per message
//
// Delivery: ZeroMQ over TCP loses nothing while both ends live, but it has no end-to-end
// acknowledgement. finish() closes the PUSH socket with a linger long enough for its queue
// to reach the kernel; the receiver's count, checked by the parent, is the proof. When the
// queue takes more than 500 ms to drain at exit (the lossy path, where TCP waits for
// retransmission timeouts), zeromq prints "WARNING: Waiting for queued ZeroMQ messages to
// be delivered" on stderr: that is this linger at work, not a fault.
import { createRequire } from 'node:module';
import { forEachPacked } from './indexed-messages.mjs';
import { encodeBatch, withDeadline } from './stream-endpoints.mjs';

const LINGER_MS = 30_000; // how long a closed PUSH socket keeps sending what it queued
const SEND_HIGH_WATER_MARK = 16_384; // messages queued in libzmq before send() waits

/** zeromq's module, or the reason it cannot load (pnpm runs no install scripts: it must find its prebuilt addon). */
export const zeromq = await import('zeromq').then(
  (module) => ({ zmq: module, version: createRequire(import.meta.url)('zeromq/package.json').version, reason: null }),
  (error) => ({ zmq: null, version: 'not loaded', reason: `zeromq does not load: ${String(error?.message ?? error).split('\n')[0]}` }),
);

/** A receiver for `shape` ('message' | 'packed' | 'multipart'): every message to onMessage, in order. */
function zeromqReceiver(shape) {
  return (options) => openReceiver({ ...options, shape });
}

async function openReceiver({ host, onMessage, shape }) {
  const pull = new zeromq.zmq.Pull({ receiveHighWaterMark: SEND_HIGH_WATER_MARK });
  await pull.bind(`tcp://${host}:*`);
  const port = Number(new URL(pull.lastEndpoint).port);
  let messages = 0;
  let failure = null;
  // Runs until close(): each receive() resolves with one message's frames.
  const receiving = (async () => {
    try {
      for await (const frames of pull) {
        if (shape === 'packed') {
          const [message] = frames;
          if (!forEachPacked(message, message.length, onMessage)) throw new Error(`a packed message of ${message.length} B does not split into whole frames`);
          messages++;
        } else {
          for (const message of frames) onMessage(message, 0, message.length);
          messages += frames.length;
        }
      }
    } catch (error) {
      if (!pull.closed) failure = error; // close() ends the loop with an error we expect
    }
  })();
  return {
    port,
    async close(deadline) {
      pull.close();
      await withDeadline(receiving, deadline, 'zeromq receiver: close');
      if (failure) throw new Error(`zeromq receiver: ${failure.message}`);
      return { messages };
    },
  };
}

function zeromqSender(shape) {
  return (options) => openSender({ ...options, shape });
}

async function openSender({ host, port, maxMessageBytes, shape }) {
  const push = new zeromq.zmq.Push({ sendHighWaterMark: SEND_HIGH_WATER_MARK, linger: LINGER_MS });
  push.connect(`tcp://${host}:${port}`);
  let sending = null; // the batch in flight: its awaited sends
  let failure = null;
  let messages = 0;
  async function sendAll(batch, count) {
    try {
      if (shape === 'message') for (const message of batch) await push.send(message);
      else await push.send(batch); // packed: [one Buffer]; multipart: a frame per message
      messages += count;
    } catch (error) {
      failure = error;
    } finally {
      sending = null;
    }
  }
  return {
    sendBatch(count, fill) {
      if (failure) throw new Error(`zeromq sender: ${failure.message}`);
      if (sending) return false;
      if (shape === 'packed') {
        sending = sendAll([encodeBatch(count, maxMessageBytes, fill)], count); // ZeroMQ takes it: never reused
        return true;
      }
      const batch = new Array(count);
      for (let i = 0; i < count; i++) {
        const message = Buffer.allocUnsafe(maxMessageBytes); // ZeroMQ takes it: never reused
        fill(message, 0);
        batch[i] = message;
      }
      sending = sendAll(batch, count);
      return true;
    },
    waitForRoom: (deadline) => (sending ? withDeadline(sending, deadline, 'zeromq sender') : Promise.resolve()),
    async finish(deadline) {
      if (sending) await withDeadline(sending, deadline, 'zeromq sender: last batch');
      if (failure) throw new Error(`zeromq sender: ${failure.message}`);
      push.close(); // lingers: libzmq's I/O thread sends what is queued, and process exit waits for it
      return { messages };
    },
  };
}

export const openZeromqReceiver = zeromqReceiver('message');
export const openZeromqSender = zeromqSender('message');
export const openZeromqPackedReceiver = zeromqReceiver('packed');
export const openZeromqPackedSender = zeromqSender('packed');
export const openZeromqMultipartReceiver = zeromqReceiver('multipart');
export const openZeromqMultipartSender = zeromqSender('multipart');
