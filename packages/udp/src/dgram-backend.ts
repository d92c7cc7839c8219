/**
 * The node:dgram backend: each datagram is one libuv send with its own callback; each
 * received datagram is one 'message' event. Sockets are opened through socket.ts.
 */
import type { Socket } from 'node:dgram';
import type { DatagramPool, PooledDatagram } from './datagram-pool.js';
import { withPeer } from './errors.js';
import type { DatagramSink, ReceivePath, SendPath, SentHandler, SocketErrorHandler } from './paths.js';
import { type OpenedSocket, openSocket, type SocketOptions } from './socket.js';

export interface SendTarget extends SocketOptions {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export interface ReceiveBinding extends SocketOptions {
  address: string;
  port: number;
}

/** See SendPath.inPlaceMinBytes. */
export const IN_PLACE_MIN_BYTES = 512;

class DgramSendPath implements SendPath {
  readonly backend = 'dgram' as const;
  readonly inPlaceMinBytes = IN_PLACE_MIN_BYTES;
  private readonly socket: Socket;
  /** Per pool entry: its completion callback and its [head, in-place payload] views, made once. */
  private readonly callbacks: ((error: Error | null) => void)[];
  private readonly parts: Uint8Array[][];

  constructor(
    private readonly opened: OpenedSocket,
    pool: DatagramPool,
    private readonly ringBytes: Uint8Array,
    onSent: SentHandler,
    private readonly onSocketError: SocketErrorHandler,
    target: SendTarget,
  ) {
    this.socket = opened.socket;
    this.callbacks = pool.entries.map(
      (entry) => (error: Error | null) => (error === null ? onSent(entry, true) : onSent(entry, false, withPeer(error, target.host, target.port))),
    );
    this.parts = pool.entries.map((entry) => [entry.buffer, entry.buffer]);
    // A connected socket also receives: the kernel reports an ICMP error (ECONNREFUSED while
    // the peer's port is closed) to the next recvmsg, which libuv hands over as an 'error'.
    this.onError = (error: Error) => this.onSocketError(withPeer(error, target.host, target.port));
    this.socket.on('error', this.onError);
  }

  private readonly onError: (error: Error) => void;

  send(datagram: PooledDatagram): void {
    const callback = this.callbacks[datagram.index];
    if (datagram.payloadBytes === 0) {
      this.socket.send(datagram.buffer, 0, datagram.lengthBytes, callback);
      return;
    }
    const parts = this.parts[datagram.index];
    const headBytes = datagram.lengthBytes - datagram.payloadBytes;
    if (parts[0].length !== headBytes) parts[0] = datagram.buffer.subarray(0, headBytes);
    parts[1] = this.ringBytes.subarray(datagram.payloadOffsetBytes, datagram.payloadOffsetBytes + datagram.payloadBytes);
    this.socket.send(parts, callback);
  }

  submit(): void {
    // Each send() above went to libuv already.
  }

  setRef(ref: boolean): void {
    if (ref) this.opened.socket.ref();
    else this.opened.socket.unref();
  }

  async close(): Promise<void> {
    await this.opened.close();
    this.socket.off('error', this.onError);
  }
}

/** Opens a node:dgram socket bound to any port and connected to `target` (the kernel then passes it only `target`'s datagrams). */
export async function openConnectedSocket(target: SendTarget): Promise<OpenedSocket> {
  const opened = await openSocket(target.family === 'IPv6' ? '::' : '0.0.0.0', 0, target);
  try {
    await new Promise<void>((resolve, reject) => {
      opened.socket.once('error', reject);
      // Node hands a failed lookup or connect to this callback (not to 'error') when one is given.
      opened.socket.connect(target.port, target.host, (error?: Error) => {
        opened.socket.off('error', reject);
        if (error) reject(error);
        else resolve();
      });
    });
  } catch (error) {
    await opened.close();
    throw error;
  }
  return opened;
}

/** Opens a node:dgram socket connected to `target` for the publication's datagrams. */
export async function openDgramSendPath(
  target: SendTarget,
  pool: DatagramPool,
  ringBytes: Uint8Array,
  onSent: SentHandler,
  onSocketError: SocketErrorHandler,
): Promise<SendPath> {
  return new DgramSendPath(await openConnectedSocket(target), pool, ringBytes, onSent, onSocketError, target);
}

/** Binds a node:dgram socket and hands every datagram to `sink`. */
export async function openDgramReceivePath(binding: ReceiveBinding, sink: DatagramSink): Promise<ReceivePath> {
  const opened = await openSocket(binding.address, binding.port, binding);
  const socket = opened.socket;
  const onMessage = (message: Buffer) => sink.read(message, 0, message.length);
  const onError = (error: Error) => sink.receiveError(error);
  socket.on('message', onMessage);
  socket.on('error', onError);
  const bound = socket.address();
  return {
    backend: 'dgram',
    address: bound.address,
    port: bound.port,
    setRef: (ref) => (ref ? socket.ref() : socket.unref()),
    close: async () => {
      socket.off('message', onMessage);
      await opened.close();
      socket.off('error', onError);
    },
  };
}
