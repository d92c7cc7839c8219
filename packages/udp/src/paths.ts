/**
 * The two directions a backend provides (see backend.ts), as the publication and the
 * subscription use them. Protocol logic (packing, parsing, slot release, counters) stays in
 * publication.ts and datagram-reader.ts; a path only moves datagrams.
 *
 *   publication --send(datagram)... submit()--> SendPath --onSent(datagram, ok)--> publication
 *   socket --ReceivePath--> sink.read(bytes, offsetBytes, lengthBytes) | sink.readTruncated(...)
 */
import type { Backend } from './backend.js';
import type { PooledDatagram } from './datagram-pool.js';

export interface SendPath {
  readonly backend: Backend;
  /**
   * Frames at least this long are sent in place from their ring slot (a second iovec)
   * rather than copied into the datagram: node:dgram 512 (measured: copying 1,380 bytes cost
   * ~10% of the datagram rate; below a few hundred bytes the copy is cheaper); io_uring with
   * segment offload never, because only whole-copied datagrams can share a GSO send, which
   * is worth far more than the copy.
   */
  readonly inPlaceMinBytes: number;
  /** Hands one datagram to the kernel, or queues it for submit(). */
  send(datagram: PooledDatagram): void;
  /**
   * Ends a batch: everything queued goes to the kernel. Completions the kernel already has
   * may be reported through onSent before submit returns (io_uring usually finishes a UDP
   * send inside the submitting call).
   */
  submit(): void;
  /** Whether the socket keeps the process alive (default true: Node's ref()/unref()). */
  setRef(ref: boolean): void;
  /** Stops reporting completions and closes the socket (after the publication flushed). */
  close(): Promise<void>;
}

/**
 * Called once per datagram sent, in any order: its bytes are no longer read by the kernel.
 * A failed send carries the socket's error, or undefined when the same failure was already
 * reported (one io_uring GSO send of many datagrams fails once) or none was given.
 */
export type SentHandler = (datagram: PooledDatagram, ok: boolean, error?: Error) => void;

/**
 * An error the socket reported apart from any one send (node:dgram: an ICMP port
 * unreachable answering an earlier datagram surfaces as a 'recvmsg' error on the socket).
 */
export type SocketErrorHandler = (error: Error) => void;

/** Where received datagrams go: DatagramReader. */
export interface DatagramSink {
  /** A whole datagram at bytes[offsetBytes, offsetBytes + lengthBytes); valid during the call. */
  read(bytes: Uint8Array, offsetBytes: number, lengthBytes: number): void;
  /** The same with its sender, instead of read(), on a path opened with `senders` (io_uring). */
  readFrom?(bytes: Uint8Array, offsetBytes: number, lengthBytes: number, address: string, port: number): void;
  /** After each batch of datagrams a poll handed over (io_uring). */
  batchEnd?(): void;
  /** A datagram longer than the receive buffer: counted and dropped. */
  readTruncated(lengthBytes: number): void;
  /** The socket reported a receive error (counted; receiving goes on). */
  receiveError(error?: Error): void;
}

export interface ReceivePath {
  readonly backend: Backend;
  readonly address: string;
  readonly port: number;
  /** Whether the socket keeps the process alive while it waits for datagrams (default true). */
  setRef(ref: boolean): void;
  close(): Promise<void>;
}
