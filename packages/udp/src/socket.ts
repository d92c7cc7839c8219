/**
 * Opening and closing sockets. The promise life cycle (bind, close) goes through
 * dgram-as-promised; the data path uses the raw `node:dgram` socket, because
 * dgram-as-promised's `recv()` keeps no queue (datagrams that arrive between two calls are
 * lost) and its `getSendBufferSize()` calls itself forever (6.0.0). Neither is used here.
 */
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import DgramAsPromised from 'dgram-as-promised';
import { FluxRangeError, FluxTypeError } from '@flux/ring';

export interface SocketOptions {
  /** 'IPv4' or 'IPv6'; by default, that of the address given. */
  family?: 'IPv4' | 'IPv6';
  /** SO_RCVBUF; the kernel may round or cap it (see net.core.rmem_max). */
  receiveBufferBytes?: number;
  /** SO_SNDBUF; the kernel may round or cap it. */
  sendBufferBytes?: number;
}

export interface OpenedSocket {
  readonly socket: Socket;
  readonly family: 'IPv4' | 'IPv6';
  close(): Promise<void>;
}

export function checkBufferBytes(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new FluxRangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
}

export function familyOf(address: string, family?: 'IPv4' | 'IPv6'): 'IPv4' | 'IPv6' {
  if (family !== undefined && family !== 'IPv4' && family !== 'IPv6') {
    throw new FluxTypeError(`family must be 'IPv4' or 'IPv6', got ${String(family)}`);
  }
  return family ?? (isIPv6(address) ? 'IPv6' : 'IPv4');
}

/** Creates a UDP socket bound to `address:port` (port 0: any free port). */
export async function openSocket(address: string, port: number, options: SocketOptions = {}): Promise<OpenedSocket> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FluxRangeError(`port must be 0..65535, got ${port}`);
  checkBufferBytes('receiveBufferBytes', options.receiveBufferBytes);
  checkBufferBytes('sendBufferBytes', options.sendBufferBytes);
  const family = familyOf(address, options.family);
  const wrapped = DgramAsPromised.createSocket({
    type: family === 'IPv6' ? 'udp6' : 'udp4',
    ...(family === 'IPv6' ? { ipv6Only: true } : {}),
    ...(options.receiveBufferBytes ? { recvBufferSize: options.receiveBufferBytes } : {}),
    ...(options.sendBufferBytes ? { sendBufferSize: options.sendBufferBytes } : {}),
  });
  await wrapped.bind({ address, port });
  let closed: Promise<void> | undefined;
  return {
    socket: wrapped.socket,
    family,
    close: () => (closed ??= wrapped.close()),
  };
}
