// The two child roles of the network benches that run a transport on the endpoint contract
// (stream-endpoints.mjs): a receiver that checks every message's index and, in latency mode,
// records its one-way latency; a sender that writes at full speed ('throughput') or at an
// offered rate ('latency', one-way-latency.mjs). bench_reliable_delivery and
// bench_network_latency run them through two-process.mjs's measurePair and runChild.
//
//   start message (both):  { variant, mode, host, localHost, epochNs, warmupMessages, ratePerSecond }
//   sender also gets:      { port, durationMs }
//   receiver, later:       { type: 'sent', sent }   how many the sender sent
//
// The receiver is done when the last message has arrived, or when nothing has for a while:
// `stallMs` for a reliable transport (what is missing will not come: the parent's check
// fails it), `quietMs` for an unreliable one (what is missing was lost).
import { IndexChecker, stamp, template } from './indexed-messages.mjs';
import { clockSince, LatencyRecorder, sendAtOfferedRate, writeSendTime } from './one-way-latency.mjs';
import { nextParentMessage } from './two-process.mjs';

const POLL_MS = 10;

/**
 * The roles for `transportOf(variant)` -> { reliable, openReceiver, openSender }; messages of
 * `messageBytes` (a number, or a function of the variant), `batch` per write or claim (the
 * same). Returns { receiver, sender } for runChild.
 */
export function streamRoles({ transportOf, messageBytes: bytesOf, batch: batchOf, deadlineMs, sampleEvery = 8, quietMs = 200, stallMs = 15_000 }) {
  const messageBytesOf = typeof bytesOf === 'function' ? bytesOf : () => bytesOf;
  const batchFor = typeof batchOf === 'function' ? batchOf : () => batchOf;

  async function receiver({ variant, mode, host, epochNs, warmupMessages }) {
    const deadline = Date.now() + deadlineMs;
    const messageBytes = messageBytesOf(variant);
    const transport = transportOf(variant);
    const checker = new IndexChecker(messageBytes, sampleEvery);
    const latency = mode === 'latency' ? new LatencyRecorder(clockSince(epochNs), warmupMessages) : null;
    const check = checker.check;
    const onMessage = latency
      ? (bytes, offset, lengthBytes) => {
          const verified = checker.verified;
          check(bytes, offset, lengthBytes);
          if (checker.verified !== verified) latency.record(bytes, offset);
        }
      : check;
    const endpoint = await transport.openReceiver({ host, maxMessageBytes: messageBytes, onMessage });
    process.send({ type: 'ready', port: endpoint.port });

    const { sent } = await nextParentMessage('sent', deadline);
    const giveUpMs = transport.reliable ? stallMs : quietMs;
    let seen = -1;
    let quietSinceMs = Date.now();
    while (checker.expected < sent && Date.now() - quietSinceMs <= giveUpMs) {
      if (Date.now() > deadline) throw new Error(`${variant} receiver: deadline`);
      const arrived = checker.verified + checker.bad;
      if (arrived !== seen) {
        seen = arrived;
        quietSinceMs = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const counters = await endpoint.close(deadline);
    return { ...checker.result(), counters, latency: latency?.summary() ?? null };
  }

  async function sender({ variant, mode, host, localHost, port, durationMs, epochNs, ratePerSecond }) {
    const deadline = Date.now() + deadlineMs;
    const messageBytes = messageBytesOf(variant);
    const batch = batchFor(variant);
    const endpoint = await transportOf(variant).openSender({ host, port, localHost, maxMessageBytes: messageBytes });
    const source = template(messageBytes);
    let sent = 0;
    if (mode === 'throughput') {
      const fill = (bytes, offset) => {
        bytes.set(source, offset); // the message is written, as a flux producer writes its slot
        stamp(bytes, offset, messageBytes, sent++);
      };
      const end = Date.now() + durationMs;
      while (Date.now() < end) {
        if (!endpoint.sendBatch(batch, fill)) await endpoint.waitForRoom(deadline);
      }
    } else {
      sent = await sendAtOfferedRate({
        sendBatch: endpoint.sendBatch,
        ratePerSecond,
        durationMs,
        maxBatch: batch,
        clockNs: clockSince(epochNs),
        deadline,
        fillMessage(bytes, offset, index, sendTimeNs) {
          bytes.set(source, offset);
          stamp(bytes, offset, messageBytes, index);
          writeSendTime(bytes, offset, sendTimeNs);
        },
      });
    }
    const counters = await endpoint.finish(deadline);
    return { sent, counters };
  }

  return { receiver, sender };
}
