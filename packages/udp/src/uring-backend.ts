/**
 * The io_uring backend (@flux/uring):
 *
 *   send    the publication queues descriptors [entry, pool offset, head bytes, ring offset,
 *           payload bytes] for a whole batch; submit() hands them over with one system call
 *           and reaps the completions the kernel finished inside that call (a UDP send
 *           usually completes inline), so the batch's pool entries come back at once.
 *           Completions that come later (a full socket buffer) arrive through onReady.
 *           Datagrams copied whole into the pool are flagged COALESCE: consecutive ones of
 *           one length go out as one UDP GSO send (the kernel's stack runs once for up to
 *           64 of them). With segment offload every frame is copied (full-size fragments of
 *           a long message make runs too); without it, long frames go in place as on dgram.
 *   receive one multishot recvmsg into parts of a SharedArrayBuffer; onReady polls and hands
 *           each datagram to the sink where it landed (no copy, no Buffer per datagram).
 *           With parts of 64 KiB (the default), UDP GRO is on: the kernel may hand over a
 *           run of datagrams at once, and poll() splits them again.
 *
 * Buffers: the pool and the ring's bytes are registered once and stay referenced by the
 * socket until it closes (see SAFETY.md, @flux/uring).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  capability,
  DESCRIPTOR_BUFFER0_OFFSET,
  DESCRIPTOR_BUFFER1_OFFSET,
  DESCRIPTOR_FLAGS_OFFSET,
  DESCRIPTOR_LENGTH0_OFFSET,
  DESCRIPTOR_LENGTH1_OFFSET,
  DESCRIPTOR_START0_OFFSET,
  DESCRIPTOR_START1_OFFSET,
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
  SenderAddressReader,
  UringUdpSocket,
} from '@flux/uring';
import type { DatagramPool, PooledDatagram } from './datagram-pool.js';
import { IN_PLACE_MIN_BYTES, type ReceiveBinding, type SendTarget } from './dgram-backend.js';
import { systemError } from './errors.js';
import type { DatagramSink, ReceivePath, SendPath, SentHandler } from './paths.js';

/** Pool buffer index and ring buffer index in registerBuffers. */
const POOL_BUFFER = 0;
const RING_BUFFER = 1;
/** Poll rounds per onReady call before the rest is left to a later turn of the event loop. */
const MAX_ROUNDS_PER_READY = 16;
/** submit() retries when the kernel accepted fewer than asked (a full submission queue). */
const MAX_SUBMIT_ATTEMPTS = 4;
/** Largest UDP payload over IPv4: a GRO receive can be this long. */
const MAX_COALESCED_RECEIVE_BYTES = 65_507;

/**
 * An onReady callback that runs `reap` (one poll; true while there may be more)
 * for a bounded number of rounds, and leaves the rest to a later turn of the event loop,
 * after other callbacks ran; it never leaves completions behind unscheduled.
 */
export function boundedReaper(reap: () => boolean): () => void {
  let scheduled = false;
  const onReady = (): void => {
    scheduled = false;
    for (let round = 0; round < MAX_ROUNDS_PER_READY; round++) if (!reap()) return;
    if (!scheduled) {
      scheduled = true;
      setImmediate(onReady);
    }
  };
  return onReady;
}

export function ringEntriesFor(count: number): number {
  let entries = 8;
  while (entries < count && entries < 32768) entries *= 2;
  return entries;
}

/** An IP literal for `host` (io_uring sockets take addresses, not names). */
export async function addressOf(host: string, family: 'IPv4' | 'IPv6'): Promise<string> {
  if (isIP(host) !== 0) return host;
  return (await lookup(host, { family: family === 'IPv6' ? 6 : 4 })).address;
}

class UringSendPath implements SendPath {
  readonly backend = 'io_uring' as const;
  private readonly descriptors: Uint32Array;
  private readonly records: Int32Array;
  private queued = 0;
  /** Sends handed to the kernel and not yet reported. */
  private pending = 0;
  private closed = false;
  /** SendFlag.COALESCE when the kernel offers UDP GSO, else 0. */
  private readonly coalesce: number;
  readonly inPlaceMinBytes: number;

  constructor(
    private readonly socket: UringUdpSocket,
    private readonly pool: DatagramPool,
    private readonly onSent: SentHandler,
    segmentOffload: boolean,
    /** The peer, named in send errors. */
    private readonly peer: { address: string; port: number },
  ) {
    this.coalesce = segmentOffload ? SendFlag.COALESCE : 0;
    this.inPlaceMinBytes = segmentOffload ? Number.POSITIVE_INFINITY : IN_PLACE_MIN_BYTES;
    const count = pool.entries.length;
    this.descriptors = new Uint32Array(count * DESCRIPTOR_UINT32S);
    this.records = new Int32Array(count * RECORD_INT32S);
    socket.onReady(boundedReaper(() => this.reap()));
  }

  send(datagram: PooledDatagram): void {
    const d = this.descriptors;
    const at = this.queued++ * DESCRIPTOR_UINT32S;
    d[at + DESCRIPTOR_TOKEN_OFFSET] = datagram.index;
    d[at + DESCRIPTOR_BUFFER0_OFFSET] = POOL_BUFFER;
    d[at + DESCRIPTOR_START0_OFFSET] = datagram.byteOffset;
    d[at + DESCRIPTOR_LENGTH0_OFFSET] = datagram.lengthBytes - datagram.payloadBytes;
    d[at + DESCRIPTOR_BUFFER1_OFFSET] = RING_BUFFER;
    d[at + DESCRIPTOR_START1_OFFSET] = datagram.payloadOffsetBytes;
    d[at + DESCRIPTOR_LENGTH1_OFFSET] = datagram.payloadBytes; // 0: one part
    d[at + DESCRIPTOR_FLAGS_OFFSET] = datagram.payloadBytes === 0 ? this.coalesce : 0;
  }

  submit(): void {
    const count = this.queued;
    if (count === 0) return;
    this.queued = 0;
    let accepted = this.socket.send(this.descriptors, count);
    this.pending += accepted;
    for (let attempt = 1; accepted < count && attempt < MAX_SUBMIT_ATTEMPTS; attempt++) {
      this.reap(); // completions free native send slots; poll() also submits what is queued
      const rest = this.descriptors.subarray(accepted * DESCRIPTOR_UINT32S, count * DESCRIPTOR_UINT32S);
      const more = this.socket.send(rest, count - accepted);
      accepted += more;
      this.pending += more;
    }
    // Refused after every attempt (not expected: the native in-flight limit is the pool size):
    // reported as failed sends, so they are counted, never lost silently.
    for (let i = accepted; i < count; i++) {
      const error = i === accepted ? systemError(-11 /* EAGAIN */, 'send', this.peer.address, this.peer.port) : undefined;
      this.onSent(this.pool.entries[this.descriptors[i * DESCRIPTOR_UINT32S + DESCRIPTOR_TOKEN_OFFSET]], false, error);
    }
    this.reap();
  }

  /**
   * Reports the completions the kernel has; returns whether the records array filled up.
   * A short poll means none are left: the records hold one per pool entry, and a datagram
   * is in flight at most once.
   */
  private reap(): boolean {
    if (this.pending === 0 || this.closed) return false;
    const records = this.records;
    const n = this.socket.poll(records, 0);
    // One failure, one error: the datagrams of one GSO send that failed share its result.
    let reported = 0;
    for (let i = 0; i < n; i++) {
      const at = i * RECORD_INT32S;
      if (records[at + RECORD_KIND_OFFSET] !== RecordKind.SEND) continue;
      this.pending--;
      const result = records[at + RECORD_SEND_RESULT_OFFSET];
      if (result >= 0) {
        this.onSent(this.pool.entries[records[at + RECORD_SEND_TOKEN_OFFSET]], true);
        continue;
      }
      const error = result !== reported ? systemError(result, 'send', this.peer.address, this.peer.port) : undefined;
      reported = result;
      this.onSent(this.pool.entries[records[at + RECORD_SEND_TOKEN_OFFSET]], false, error);
    }
    return n === this.pool.entries.length;
  }

  setRef(ref: boolean): void {
    if (!this.closed) this.socket.setRef(ref);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket.onReady(null);
    this.socket.close();
  }
}

/** Opens an io_uring socket connected to `target`, with the pool and the ring registered. */
export async function openUringSendPath(
  target: SendTarget,
  pool: DatagramPool,
  ringBytes: Uint8Array,
  onSent: SentHandler,
  segmentOffload: boolean,
): Promise<SendPath> {
  const address = await addressOf(target.host, target.family);
  const count = pool.entries.length;
  const socket = UringUdpSocket.create({
    family: target.family,
    entries: ringEntriesFor(count),
    maxInFlight: count,
    sendBufferBytes: target.sendBufferBytes,
    receiveBufferBytes: target.receiveBufferBytes,
  });
  try {
    socket.bind(target.family === 'IPv6' ? '::' : '0.0.0.0', 0);
    socket.connect(address, target.port);
    socket.registerBuffers([pool.bytes, ringBytes]);
    return new UringSendPath(socket, pool, onSent, segmentOffload && capability().operations.udpSegmentation, { address, port: target.port });
  } catch (error) {
    socket.close();
    throw error;
  }
}

export interface UringReceiveOptions {
  family: 'IPv4' | 'IPv6';
  /** Largest datagram received whole; longer ones are counted as truncated. */
  maxDatagramBytes: number;
  /** Datagrams the kernel can hold in parts before they wait in the socket buffer. */
  parts: number;
  /**
   * Read each datagram's sender from its part (SenderAddressReader) and hand it over with
   * sink.readFrom: for a bound socket that answers many peers (@flux/reliable's subscription).
   */
  senders?: boolean;
}

/** The io_uring receive path, with what a socket that answers its peers needs too. */
export interface UringReceivePath extends ReceivePath {
  /** SO_RCVBUF as the kernel reports it (Linux: twice what it granted). */
  readonly receiveBufferBytes: number;
  /** One datagram to `address:port` at once (UringUdpSocket.sendTo): bytes sent or -errno; 0 once closed. */
  sendTo(bytes: Uint8Array, lengthBytes: number, address: string, port: number): number;
  /** Stops event-loop delivery: from now on datagrams come only from poll(), called in a loop by one thread. */
  startBusyPoll(): void;
  /** One poll: hands over what arrived; true when something did. */
  poll(): boolean;
}

/** Binds an io_uring socket and hands every received datagram to `sink`. */
export async function openUringReceivePath(binding: ReceiveBinding, options: UringReceiveOptions, sink: DatagramSink): Promise<UringReceivePath> {
  const address = await addressOf(binding.address, options.family);
  const socket = UringUdpSocket.create({
    family: options.family,
    entries: 64,
    maxInFlight: 1,
    sendBufferBytes: binding.sendBufferBytes,
    receiveBufferBytes: binding.receiveBufferBytes,
  });
  try {
    const bound = socket.bind(address, binding.port);
    if (options.maxDatagramBytes >= MAX_COALESCED_RECEIVE_BYTES && capability().operations.udpReceiveCoalescing) {
      socket.setReceiveCoalescing(true);
    }
    // The part header (recvmsg header, sender address, GRO control message) is under 256 bytes.
    const partBytes = (options.maxDatagramBytes + 256 + 63) & ~63;
    const area = socket.startReceive({ partBytes, parts: options.parts });
    const bytes = area.bytes;
    const capacity = options.parts;
    const records = new Int32Array(capacity * RECORD_INT32S);
    const sender = options.senders ? new SenderAddressReader(bytes, area.partBytes) : undefined;
    /**
     * Polls once and hands over what arrived; returns whether anything did. (Not "whether
     * the records filled up": a GRO receive that would not fit whole stays for the next
     * poll, so a short poll does not mean the queue is empty. The empty poll that ends a
     * round costs one system call.)
     */
    let closed = false;
    const reap = (): boolean => {
      if (closed) return false; // a reap scheduled before close() ran
      const n = socket.poll(records, 0);
      for (let i = 0; i < n; i++) {
        const at = i * RECORD_INT32S;
        const kind = records[at + RECORD_KIND_OFFSET];
        if (kind === RecordKind.RECV) {
          const start = records[at + RECORD_RECV_START_OFFSET];
          const length = records[at + RECORD_RECV_LENGTH_OFFSET];
          if (records[at + RECORD_RECV_FLAGS_OFFSET] !== 0) sink.readTruncated(length);
          else if (sender === undefined) sink.read(bytes, start, length);
          else {
            sender.read(start);
            sink.readFrom!(bytes, start, length, sender.address, sender.port);
          }
        } else if (kind === RecordKind.RECV_ERROR) {
          sink.receiveError(systemError(records[at + RECORD_RECV_ERROR_ERRNO_OFFSET], 'recvmsg', bound.address, bound.port));
        }
      }
      if (n > 0) sink.batchEnd?.();
      return n > 0;
    };
    socket.onReady(boundedReaper(reap));
    return {
      backend: 'io_uring',
      address: bound.address,
      port: bound.port,
      receiveBufferBytes: socket.bufferSizes().receiveBufferBytes,
      sendTo: (frame, lengthBytes, to, port) => (closed ? 0 : socket.sendTo(frame, lengthBytes, to, port)),
      startBusyPoll: () => socket.onReady(null),
      poll: reap,
      setRef: (ref) => {
        if (!closed) socket.setRef(ref);
      },
      close: async () => {
        closed = true;
        socket.onReady(null);
        socket.close();
      },
    };
  } catch (error) {
    socket.close();
    throw error;
  }
}
