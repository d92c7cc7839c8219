export { ReliablePublication, type ReliablePublicationOptions } from './publication.js';
export { ReliableSubscription, type ReliableSubscriptionOptions } from './subscription.js';
export { HotReliablePublication, type HotReliablePublicationOptions, HotReliableSubscription, type HotReliableSubscriptionOptions } from './hot.js';
export {
  type ReliableEvent,
  ReliableReceiver,
  type ReceiverOptions,
  type ReceiverTiming,
  type ReceiverTransport,
  type SessionMemory,
  sessionMemoryFor,
} from './receiver.js';
export { ReliableSender, type SenderOptions, type SenderState, type SenderTiming, type SenderTransport } from './sender.js';
export { ReceiverCounters, type ReliableSubscriptionSnapshot, SenderCounters } from './counters.js';
export * as ControlLayout from './control-layout.js';
