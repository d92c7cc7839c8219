/**
 * Opening and closing sockets: `node:dgram` with `events.once` for the bind and the close
 * (a bind error, EADDRINUSE say, rejects the open; the socket is closed with it).
 *
 * Buffer sizes are set after the bind, by this code, not by node:dgram's bind: there a
 * failing setsockopt (or a size of 2^31 or more) throws inside Node's 'listening' callback,
 * an uncaught exception nobody can catch. Here any such error rejects openSocket() (and so
 * the Publication's or Subscription's open()), the socket closed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import { optionalChoice, optionalInteger, requireInteger, requireString } from '@flux/ring/validate';
import { MAX_SOCKET_BUFFER_BYTES } from './defaults.js';

export interface SocketOptions {
  /** 'IPv4' or 'IPv6'; by default, that of the address given. */
  family?: 'IPv4' | 'IPv6';
  /** SO_RCVBUF, 1 to 2^30 bytes; the kernel may round or cap it (see net.core.rmem_max). */
  receiveBufferBytes?: number;
  /** SO_SNDBUF, 1 to 2^30 bytes; the kernel may round or cap it. */
  sendBufferBytes?: number;
}

export interface OpenedSocket {
  readonly socket: Socket;
  readonly family: 'IPv4' | 'IPv6';
  close(): Promise<void>;
}

/** A socket buffer size: undefined, or an integer from 1 to 2^30 (the bound both backends honour). */
export function checkBufferBytes(name: string, value: number | undefined): void {
  optionalInteger(name, value, 0, 1, MAX_SOCKET_BUFFER_BYTES);
}

export function familyOf(address: string, family?: 'IPv4' | 'IPv6'): 'IPv4' | 'IPv6' {
  const checked = optionalChoice('family', family, ['IPv4', 'IPv6'] as const, isIPv6(address) ? 'IPv6' : 'IPv4');
  return checked;
}

/** Creates a UDP socket bound to `address:port` (port 0: any free port). */
export async function openSocket(address: string, port: number, options: SocketOptions = {}): Promise<OpenedSocket> {
  requireString('address', address);
  requireInteger('port', port, 0, 65535);
  checkBufferBytes('receiveBufferBytes', options.receiveBufferBytes);
  checkBufferBytes('sendBufferBytes', options.sendBufferBytes);
  const family = familyOf(address, options.family);
  const socket = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', ...(family === 'IPv6' ? { ipv6Only: true } : {}) });
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // ERR_SOCKET_DGRAM_NOT_RUNNING: already closed
      }
    }));
  try {
    const listening = once(socket, 'listening'); // rejects with the socket's 'error' (EADDRINUSE, EACCES, ...)
    socket.bind({ address, port });
    await listening;
    if (options.receiveBufferBytes !== undefined) socket.setRecvBufferSize(options.receiveBufferBytes);
    if (options.sendBufferBytes !== undefined) socket.setSendBufferSize(options.sendBufferBytes);
  } catch (error) {
    await close();
    throw error; // a bind's SystemError, or Node's ERR_SOCKET_BUFFER_SIZE (errno, code and syscall in `info`)
  }
  return { socket, family, close };
}
