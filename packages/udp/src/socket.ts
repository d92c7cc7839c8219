/**
 * Opening and closing sockets. The promise life cycle (bind, close) goes through
 * dgram-as-promised; the data path uses the raw `node:dgram` socket, because
 * dgram-as-promised's `recv()` keeps no queue (datagrams that arrive between two calls are
 * lost) and its `getSendBufferSize()` calls itself forever (6.0.0). Neither is used here.
 *
 * Buffer sizes are set after the bind, by this code, not by node:dgram's bind: there a
 * failing setsockopt (or a size of 2^31 or more) throws inside Node's 'listening' callback,
 * an uncaught exception nobody can catch. Here any such error rejects openSocket() (and so
 * the Publication's or Subscription's open()), the socket closed.
 */
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import DgramAsPromised from 'dgram-as-promised';
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
  const wrapped = DgramAsPromised.createSocket({
    type: family === 'IPv6' ? 'udp6' : 'udp4',
    ...(family === 'IPv6' ? { ipv6Only: true } : {}),
  });
  await wrapped.bind({ address, port });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= wrapped.close());
  try {
    if (options.receiveBufferBytes !== undefined) wrapped.socket.setRecvBufferSize(options.receiveBufferBytes);
    if (options.sendBufferBytes !== undefined) wrapped.socket.setSendBufferSize(options.sendBufferBytes);
  } catch (error) {
    await close();
    throw error; // Node's ERR_SOCKET_BUFFER_SIZE: a SystemError with the errno, code and syscall in `info`
  }
  return { socket: wrapped.socket, family, close };
}
