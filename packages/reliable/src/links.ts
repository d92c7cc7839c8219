/**
 * How a reliable session's datagrams reach the network: a link per side, on one of two
 * backends (@flux/udp's backend.ts chooses, with the same 'auto' rule and fallback):
 *
 *   publication: ReliableSender --sendData(slot) / sendControl--> SenderLink --> socket (connected)
 *                ReliableSender <--onControl (STATUS, NAK, CHALLENGE)-- SenderLink
 *   subscription: socket --> ReceiverLink --onDatagram(bytes, offset, length, address, port)--> ReliableReceiver
 *                 ReliableReceiver --sendControl(bytes, length, address, port)--> ReceiverLink --> socket
 *
 *   'dgram'     node:dgram: each send is one libuv send with its callback, each datagram one
 *               'message' event (a Buffer).
 *   'io_uring'  @flux/uring: DATA leaves from the retransmit buffer's own slots (registered
 *               once: a resend is the same bytes again, never a copy), queued and handed to
 *               the kernel once per batch (flush), runs of full datagrams as one UDP GSO send;
 *               control frames are copied into a small registered pool (no allocation per
 *               frame); receives are one multishot recvmsg into a buffer lent to the kernel,
 *               with UDP GRO on the subscription, read where they landed.
 *
 * The protocol (sender.ts, receiver.ts) never sees which: both backends pass the same tests.
 */
import type { Backend } from '@flux/udp';

export interface SenderLinkEvents {
  /** A datagram from the receiver, valid during the call. */
  onControl(bytes: Uint8Array, offsetBytes: number, lengthBytes: number): void;
  /** After a batch of onControl calls (one event-loop wake-up's worth). */
  onControlBatchEnd(): void;
  /** The socket is done with a send of retransmit buffer slot `slot` (failed: with the error, once per failure). */
  onSent(slot: number, error?: Error): void;
  /** An error not of one send (node:dgram: an ICMP refusal surfacing on the socket), or a control frame that could not be sent. */
  onError(error: Error): void;
}

export interface SenderLink {
  readonly backend: Backend;
  /** Sends retransmit buffer slot `slot` (its first `lengthBytes` bytes); on io_uring queued until flush(). */
  sendData(slot: number, lengthBytes: number): void;
  /** Sends a control frame; its bytes are copied (reused by the caller after the call). */
  sendControl(bytes: Uint8Array, lengthBytes: number): void;
  /** Hands what is queued to the kernel (one system call on io_uring; nothing to do on node:dgram). */
  flush(): void;
  /** Whether the link's socket keeps the process alive while it waits for datagrams (default true). */
  setRef(ref: boolean): void;
  /**
   * Busy-poll mode (io_uring only): stops event-loop delivery; from now on completions and
   * control frames come only from poll(), which a thread calls in a loop. Throws on node:dgram.
   */
  startBusyPoll(): void;
  /** One look at the completion queue (busy-poll mode): true when something came. */
  poll(): boolean;
  close(): Promise<void>;
}

export interface ReceiverLinkEvents {
  /** A datagram from `address:port`, valid during the call. */
  onDatagram(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, address: string, port: number): void;
  /** After a batch of datagrams. */
  onBatchEnd(): void;
  /** A datagram longer than a receive part: dropped, counted. */
  onTruncated(lengthBytes: number): void;
  /** A socket error (a failed receive, a control frame that could not be sent). */
  onError(error: Error): void;
}

export interface ReceiverLink {
  readonly backend: Backend;
  readonly address: string;
  readonly port: number;
  /** SO_RCVBUF as the kernel reports it (Linux: twice what it granted). */
  readonly receiveBufferBytes: number;
  /** Sends a control frame to a sender at once; its bytes are read during the call only. */
  sendControl(bytes: Uint8Array, lengthBytes: number, address: string, port: number): void;
  /** Whether the link's socket keeps the process alive while it waits for datagrams (default true). */
  setRef(ref: boolean): void;
  /** As SenderLink's: event-loop delivery stops, poll() in a loop takes over (io_uring only). */
  startBusyPoll(): void;
  poll(): boolean;
  close(): Promise<void>;
}
