/**
 * The io_uring links (links.ts), on @flux/uring's UringUdpSocket:
 *
 *   publication socket (connected to the subscription):
 *     registered buffer 0: the retransmit buffer   | slot 0 | slot 1 | ... |   token = slot
 *     registered buffer 1: the control pool        | frame 0 | ... |          token = capacity + frame
 *     sendData / sendControl queue descriptors; flush() submits them with one system call
 *     (the publication flushes after each sender doWork, this link after each batch of
 *     control frames, whose NAKs queue resends). Nothing here polls from inside the
 *     protocol's calls, so a completion never re-enters the sender. DATA datagrams are
 *     flagged COALESCE: a run of one length goes out as one UDP GSO send. Receives: one multishot recvmsg into small parts (STATUS,
 *     NAK, CHALLENGE; the kernel passes a connected socket only its peer's datagrams).
 *   subscription socket (bound):
 *     one multishot recvmsg into 64 KiB parts with UDP GRO (a run of a sender's datagrams
 *     arrives as one receive and is split by poll()); each datagram's sender is read from
 *     its part (SenderAddressReader); control frames go back by sendTo(), one sendto(2)
 *     each, at once (a few per window: no ring slot or registered memory needed).
 *
 * Completions are reaped on the event loop (onReady, bounded rounds per wake-up); with
 * DEFER_TASKRUN the kernel posts them only when this thread polls.
 */
import {
  capability,
  DESCRIPTOR_BUFFER0_OFFSET,
  DESCRIPTOR_FLAGS_OFFSET,
  DESCRIPTOR_LENGTH0_OFFSET,
  DESCRIPTOR_LENGTH1_OFFSET,
  DESCRIPTOR_START0_OFFSET,
  DESCRIPTOR_TOKEN_OFFSET,
  DESCRIPTOR_UINT32S,
  RECORD_INT32S,
  RECORD_KIND_OFFSET,
  RECORD_RECV_ERROR_ERRNO_OFFSET,
  RECORD_RECV_FLAGS_OFFSET,
  RECORD_RECV_LENGTH_OFFSET,
  RECORD_RECV_START_OFFSET,
  RECORD_SEND_RESULT_OFFSET,
  RECORD_SEND_TOKEN_OFFSET,
  RecordKind,
  SendFlag,
  UringUdpSocket,
} from '@flux/uring';
import { addressOf, boundedReaper, openUringReceivePath, ringEntriesFor, type SendTarget, systemError } from '@flux/udp';
import { MAX_CONTROL_BYTES, PARITY_OVERHEAD_BYTES } from './control-layout.js';
import { URING_CONTROL_FRAMES, URING_CONTROL_RECEIVE_PARTS, URING_DATA_RECEIVE_PARTS, URING_PART_HEADER_BYTES, URING_RECEIVE_PART_BYTES } from './defaults.js';
import type { ReceiveBinding } from './dgram-links.js';
import type { ReceiverLink, ReceiverLinkEvents, SenderLink, SenderLinkEvents } from './links.js';
import type { RetransmitBuffer } from './retransmit-buffer.js';

const RETRANSMIT_BUFFER = 0;
const CONTROL_POOL = 1;

/**
 * One control pool frame: room for the longest control frame, a PARITY, which is a DATA
 * datagram's payload (`dataBytes`, the retransmit buffer's slot length: with FEC already
 * PARITY_OVERHEAD_BYTES shorter than the datagram) plus PARITY_OVERHEAD_BYTES; 8-aligned.
 */
export function controlFrameStrideBytes(dataBytes: number): number {
  return (Math.max(MAX_CONTROL_BYTES, dataBytes + PARITY_OVERHEAD_BYTES) + 7) & ~7;
}
/** submit retries when the kernel accepted fewer than asked (a full submission queue). */
const MAX_SUBMIT_ATTEMPTS = 4;
const EAGAIN = -11;

function partBytesFor(payloadBytes: number): number {
  return (payloadBytes + URING_PART_HEADER_BYTES + 63) & ~63;
}

class UringSenderLink implements SenderLink {
  readonly backend = 'io_uring' as const;
  private readonly descriptors: Uint32Array;
  private readonly records: Int32Array;
  private readonly control: Uint8Array;
  private readonly controlStrideBytes: number;
  private readonly freeControl: number[] = [];
  private readonly capacity: number;
  private readonly coalesce: number;
  private readonly area: { bytes: Uint8Array };
  private readonly maxQueued: number;
  private queued = 0;
  private closed = false;

  constructor(
    private readonly socket: UringUdpSocket,
    private readonly buffer: RetransmitBuffer,
    private readonly events: SenderLinkEvents,
    segmentOffload: boolean,
    private readonly peer: { address: string; port: number },
  ) {
    this.capacity = buffer.capacity;
    this.coalesce = segmentOffload ? SendFlag.COALESCE : 0;
    this.controlStrideBytes = controlFrameStrideBytes(buffer.datagramBytes);
    this.control = new Uint8Array(URING_CONTROL_FRAMES * this.controlStrideBytes);
    for (let frame = URING_CONTROL_FRAMES - 1; frame >= 0; frame--) this.freeControl.push(frame);
    const inFlight = this.capacity + URING_CONTROL_FRAMES;
    this.maxQueued = 2 * inFlight; // a slot may be resent while its first send is still in flight
    this.descriptors = new Uint32Array(this.maxQueued * DESCRIPTOR_UINT32S);
    this.records = new Int32Array((inFlight + URING_CONTROL_RECEIVE_PARTS) * RECORD_INT32S);
    socket.registerBuffers([buffer.bytes, this.control]);
    this.area = socket.startReceive({ partBytes: partBytesFor(MAX_CONTROL_BYTES), parts: URING_CONTROL_RECEIVE_PARTS });
    socket.onReady(boundedReaper(() => this.reap()));
  }

  sendData(slot: number, lengthBytes: number): void {
    // Every DATA datagram may coalesce: the addon forms runs of equal lengths (the last may be shorter).
    this.queue(slot, RETRANSMIT_BUFFER, slot * this.buffer.strideBytes, lengthBytes, this.coalesce);
  }

  sendControl(bytes: Uint8Array, lengthBytes: number): void {
    // Never polls here: this runs inside the protocol's own calls, which a completion or a
    // control frame must not re-enter.
    const frame = this.freeControl.pop();
    if (frame === undefined) {
      // Every frame of the pool is in flight (a socket that stopped completing sends): this
      // one is not sent, and says so; the protocol repeats what matters (SETUP, heartbeats, NAKs).
      this.events.onError(systemError(EAGAIN, 'send', this.peer.address, this.peer.port));
      return;
    }
    const at = frame * this.controlStrideBytes;
    this.control.set(bytes.subarray(0, lengthBytes), at);
    this.queue(this.capacity + frame, CONTROL_POOL, at, lengthBytes, 0);
  }

  private queue(token: number, buffer: number, start: number, lengthBytes: number, flags: number): void {
    if (this.queued === this.maxQueued) this.submit(1); // a batch longer than every slot in flight: what the kernel takes goes now
    const d = this.descriptors;
    const at = this.queued++ * DESCRIPTOR_UINT32S;
    d[at + DESCRIPTOR_TOKEN_OFFSET] = token;
    d[at + DESCRIPTOR_BUFFER0_OFFSET] = buffer;
    d[at + DESCRIPTOR_START0_OFFSET] = start;
    d[at + DESCRIPTOR_LENGTH0_OFFSET] = lengthBytes;
    d[at + DESCRIPTOR_LENGTH1_OFFSET] = 0;
    d[at + DESCRIPTOR_FLAGS_OFFSET] = flags;
  }

  /** Called from outside the protocol's calls (after the sender's doWork). */
  flush(): void {
    if (this.closed) return;
    this.submit(MAX_SUBMIT_ATTEMPTS);
    this.reap();
  }

  /**
   * Hands the queue to the kernel; between attempts (more than one only from flush) polls,
   * so completions free native send slots. What is refused after them is a failed send,
   * counted; a lost DATA datagram is NAKed and resent (not expected: the native in-flight
   * limit covers every slot and frame).
   */
  private submit(attempts: number): void {
    const count = this.queued;
    if (count === 0) return;
    this.queued = 0;
    let accepted = this.socket.send(this.descriptors, count);
    for (let attempt = 1; accepted < count && attempt < attempts; attempt++) {
      this.reap();
      accepted += this.socket.send(this.descriptors.subarray(accepted * DESCRIPTOR_UINT32S, count * DESCRIPTOR_UINT32S), count - accepted);
    }
    for (let i = accepted; i < count; i++) {
      const error = i === accepted ? systemError(EAGAIN, 'send', this.peer.address, this.peer.port) : undefined;
      this.completed(this.descriptors[i * DESCRIPTOR_UINT32S + DESCRIPTOR_TOKEN_OFFSET], error);
    }
  }

  private completed(token: number, error: Error | undefined): void {
    if (token < this.capacity) this.events.onSent(token, error);
    else {
      this.freeControl.push(token - this.capacity);
      if (error !== undefined) this.events.onError(error);
    }
  }

  /** One poll: completions to the sender, control frames to the protocol; true when something came. */
  private reap(): boolean {
    if (this.closed) return false;
    const records = this.records;
    const n = this.socket.poll(records, 0);
    let received = 0;
    let reported = 0; // the datagrams of one GSO send that failed share its result: one error
    for (let i = 0; i < n; i++) {
      const at = i * RECORD_INT32S;
      const kind = records[at + RECORD_KIND_OFFSET];
      if (kind === RecordKind.SEND) {
        const result = records[at + RECORD_SEND_RESULT_OFFSET];
        const error = result < 0 && result !== reported ? systemError(result, 'send', this.peer.address, this.peer.port) : undefined;
        if (result < 0) reported = result;
        this.completed(records[at + RECORD_SEND_TOKEN_OFFSET], error);
      } else if (kind === RecordKind.RECV) {
        // A truncated datagram is longer than any control frame: given as empty, the sender counts it malformed.
        const lengthBytes = records[at + RECORD_RECV_FLAGS_OFFSET] === 0 ? records[at + RECORD_RECV_LENGTH_OFFSET] : 0;
        this.events.onControl(this.area.bytes, records[at + RECORD_RECV_START_OFFSET], lengthBytes);
        received++;
      } else if (kind === RecordKind.RECV_ERROR) {
        this.events.onError(systemError(records[at + RECORD_RECV_ERROR_ERRNO_OFFSET], 'recvmsg', this.peer.address, this.peer.port));
      }
    }
    if (received > 0) {
      this.events.onControlBatchEnd();
      this.submit(1); // resends the NAKs asked for (the next poll reports their completions)
    }
    return n > 0;
  }

  setRef(ref: boolean): void {
    this.socket.setRef(ref);
  }

  startBusyPoll(): void {
    this.socket.onReady(null);
  }

  poll(): boolean {
    return this.reap();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.onReady(null);
    this.socket.close();
  }
}

/** Opens an io_uring socket connected to `target`, with the retransmit buffer registered. */
export async function openUringSenderLink(
  target: SendTarget,
  buffer: RetransmitBuffer,
  events: SenderLinkEvents,
  segmentOffload: boolean,
): Promise<SenderLink> {
  const address = await addressOf(target.host, target.family);
  const inFlight = buffer.capacity + URING_CONTROL_FRAMES;
  const socket = UringUdpSocket.create({
    family: target.family,
    entries: ringEntriesFor(inFlight),
    maxInFlight: inFlight,
    sendBufferBytes: target.sendBufferBytes,
    receiveBufferBytes: target.receiveBufferBytes,
  });
  try {
    socket.bind(target.family === 'IPv6' ? '::' : '0.0.0.0', 0);
    socket.connect(address, target.port);
    return new UringSenderLink(socket, buffer, events, segmentOffload && capability().operations.udpSegmentation, { address, port: target.port });
  } catch (error) {
    socket.close();
    throw error;
  }
}

/**
 * Binds an io_uring socket (@flux/udp's receive path, with each datagram's sender read from
 * its part) and hands every datagram, with its sender, to `events`.
 */
export async function openUringReceiverLink(binding: ReceiveBinding, events: ReceiverLinkEvents): Promise<ReceiverLink> {
  const path = await openUringReceivePath(
    binding,
    { family: binding.family, maxDatagramBytes: URING_RECEIVE_PART_BYTES, parts: URING_DATA_RECEIVE_PARTS, senders: true },
    {
      read: () => {}, // not called: `senders` hands every datagram to readFrom
      readFrom: (bytes, offsetBytes, lengthBytes, address, port) => events.onDatagram(bytes, offsetBytes, lengthBytes, address, port),
      readTruncated: (lengthBytes) => events.onTruncated(lengthBytes),
      receiveError: (error) => {
        if (error) events.onError(error); // the io_uring path always gives one (the recvmsg's errno)
      },
      batchEnd: () => events.onBatchEnd(),
    },
  );
  return {
    backend: 'io_uring',
    address: path.address,
    port: path.port,
    receiveBufferBytes: path.receiveBufferBytes,
    setRef: (ref) => path.setRef(ref),
    startBusyPoll: () => path.startBusyPoll(),
    poll: () => path.poll(),
    sendControl: (frame, lengthBytes, to, port) => {
      const result = path.sendTo(frame, lengthBytes, to, port);
      if (result < 0) events.onError(systemError(result, 'sendto', to, port));
    },
    close: () => path.close(),
  };
}
