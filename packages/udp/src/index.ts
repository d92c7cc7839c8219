export { DropReason, type DropReasonName, PublicationCounters, SubscriptionCounters } from './counters.js';
export { DatagramReader, type DatagramReaderOptions, type MessageSink } from './datagram-reader.js';
export { DatagramWriter } from './datagram-writer.js';
export * as FrameLayout from './frame-layout.js';
export { DEFAULT_MTU_BYTES, maxDatagramBytes, maxFramePayloadBytes, PROTOCOL_VERSION } from './frame-layout.js';
export { Publication, type PublicationOptions } from './publication.js';
export { type SocketOptions } from './socket.js';
export { Subscription, type SubscriptionOptions } from './subscription.js';
export { type Backend, type BackendOption } from './backend.js';
