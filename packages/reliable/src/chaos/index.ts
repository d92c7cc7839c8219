/**
 * Chaos tooling (`@flux/reliable/chaos`), for testing a protocol or an application under a bad network: a seeded, virtual-clock model of a bad
 * network (ChaosLink), a real-socket UDP relay built on it (ChaosRelay), and the seeded PRNG
 * both use (Sfc32), for protocol tests to reuse.
 *
 * ```
 *   sender --push--> ChaosLink --poll(nowNs)--> receiver        (virtual clock)
 *   client --udp--> ChaosRelay[forward|backward] --udp--> target   (real sockets)
 * ```
 */
export { ChaosCounters, ChaosLink, type ChaosOptions, type DeliverHandler } from './chaos-link.js';
export { DEFAULT_MAX_DATAGRAM_BYTES, DEFAULT_MAX_QUEUED, type ResolvedChaosOptions } from './chaos-options.js';
export { ChaosRelay, type ChaosRelayOptions, DEFAULT_RELAY_RECEIVE_BUFFER_BYTES, RelayCounters } from './chaos-relay.js';
export { CorruptionKind, VALID_VERSION_BYTE } from './corruption.js';
export { Sfc32 } from './prng.js';
