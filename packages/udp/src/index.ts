export { type CounterSnapshot, Counters, DropReason, type DropReasonName, PublicationCounters, SubscriptionCounters } from './counters.js';
export { checkFrameList, DatagramReader, type DatagramReaderOptions, type MessageSink } from './datagram-reader.js';
export { type DatagramTarget, DatagramWriter } from './datagram-writer.js';
export * as FrameLayout from './frame-layout.js';
export { DEFAULT_MTU_BYTES, maxDatagramBytes, maxFramePayloadBytes, PROTOCOL_VERSION } from './frame-layout.js';
export { Publication, type PublicationOptions } from './publication.js';
export { openConnectedSocket, type SendTarget } from './dgram-backend.js';
export { checkBufferBytes, familyOf, type OpenedSocket, openSocket, type SocketOptions } from './socket.js';
export {
  type DecodedMessage,
  type DecodingIteratorOptions,
  type MessageIteratorOptions,
  MessageQueue,
  type ReceivedMessage,
  StreamIterators,
} from './message-queue.js';
export { Subscription, type SubscriptionOptions } from './subscription.js';
export { type Backend, type BackendChoice, type BackendOption, chooseBackend, openOnBackend } from './backend.js';
/** For @flux/reliable's io_uring links: the same socket setup and completion scheduling as this package's. */
export { addressOf, boundedReaper, openUringReceivePath, ringEntriesFor, type UringReceivePath } from './uring-backend.js';
export type { DatagramSink } from './paths.js';
export { type PackedDatagram, RingPacker } from './ring-packer.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_RING_CAPACITY,
  DEFAULT_SEQUENCE_WINDOW_FRAMES,
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
  MAX_SEQUENCE_WINDOW_FRAMES,
  MAX_SESSION_IDLE_TIMEOUT_MS,
  MAX_SESSIONS,
  MAX_SOCKET_BUFFER_BYTES,
} from './defaults.js';
export { ErrorChannel, type ErrorListener, systemError } from './errors.js';
export { LocalOffer, type ResolvedRingFed, type RingFedOptions, resolveRingFedOptions } from './ring-fed.js';
