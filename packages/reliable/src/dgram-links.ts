/** The node:dgram links (links.ts): sockets opened through @flux/udp's socket.ts, each datagram a libuv send or a 'message' event. */
import { openConnectedSocket, openSocket, type SendTarget, type SocketOptions } from '@flux/udp';
import { FluxError } from '@flux/ring';
import type { ReceiverLink, ReceiverLinkEvents, SenderLink, SenderLinkEvents } from './links.js';

import type { RetransmitBuffer } from './retransmit-buffer.js';

const noBusyPoll = (): never => {
  throw new FluxError('ERR_FLUX_UNSUPPORTED', 'busy-polling needs the io_uring backend (node:dgram delivers only through the event loop)');
};

export async function openDgramSenderLink(target: SendTarget, buffer: RetransmitBuffer, events: SenderLinkEvents): Promise<SenderLink> {
  const opened = await openConnectedSocket(target);
  const socket = opened.socket;
  const callbacks = buffer.views.map((_, slot) => (error: Error | null) => events.onSent(slot, error ?? undefined));
  const controlSent = (error: Error | null): void => {
    if (error) events.onError(error);
  };
  socket.on('message', (message: Buffer) => {
    events.onControl(message, 0, message.length);
    events.onControlBatchEnd();
  });
  socket.on('error', (error) => events.onError(error));
  return {
    backend: 'dgram',
    sendData: (slot, lengthBytes) => socket.send(buffer.views[slot], 0, lengthBytes, callbacks[slot]),
    sendControl: (bytes, lengthBytes) => socket.send(Buffer.from(bytes.subarray(0, lengthBytes)), controlSent),
    flush: () => {},
    setRef: (ref) => (ref ? socket.ref() : socket.unref()),
    startBusyPoll: noBusyPoll,
    poll: noBusyPoll,
    close: () => opened.close(),
  };
}

export interface ReceiveBinding extends SocketOptions {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export async function openDgramReceiverLink(binding: ReceiveBinding, events: ReceiverLinkEvents): Promise<ReceiverLink> {
  const opened = await openSocket(binding.address, binding.port, binding);
  const socket = opened.socket;
  const controlSent = (error: Error | null): void => {
    if (error) events.onError(error);
  };
  socket.on('message', (message: Buffer, from: { address: string; port: number }) => {
    events.onDatagram(message, 0, message.length, from.address, from.port);
    events.onBatchEnd();
  });
  socket.on('error', (error) => events.onError(error));
  const bound = socket.address();
  return {
    backend: 'dgram',
    address: bound.address,
    port: bound.port,
    receiveBufferBytes: socket.getRecvBufferSize(),
    sendControl: (bytes, lengthBytes, address, port) => socket.send(Buffer.from(bytes.subarray(0, lengthBytes)), port, address, controlSent),
    setRef: (ref) => (ref ? socket.ref() : socket.unref()),
    startBusyPoll: noBusyPoll,
    poll: noBusyPoll,
    close: () => opened.close(),
  };
}
