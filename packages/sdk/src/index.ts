/**
 * @flux/sdk: every Flux package through one import, plus what composes them. The root is
 * the public surface; @flux/sdk/<package> is each package whole (see below).
 *
 *   threads:   Ring (@flux/ring) + startWorker / workerRings / exited, messages / readMessages
 *   UDP:       Publication, Subscription (@flux/udp; io_uring chosen automatically where usable);
 *              for await over subscription.messages(streamId)
 *   reliable:  ReliablePublication, ReliableSubscription (@flux/reliable), iterable the same way
 *   errors:    FluxError and its subclasses, ERR_FLUX_* codes (@flux/ring's errors.ts)
 *   journal:   Journal, JournalReader (@flux/journal): record any stream, replay it from a
 *              position or a time, follow it live; journalReport() / replayToRing() (`npx flux journal`)
 *   native:    capability, placement hints (@flux/uring); the native socket, UringUdpSocket, at @flux/sdk/uring
 *   report:    info(), formatInfo() (`npx flux info`), readCounters(), ringReport() (`npx flux rings`),
 *              exportCounters() / readStats() (`npx flux stat`: counters other processes read)
 *   metrics:   prometheusText() / metricsHandler() (Prometheus /metrics), registerOpenTelemetryMetrics(meter)
 */
// The public surface: what an application uses, under this package's semver. Everything else
// each package exports (framing, the sans-IO state machines, sequence arithmetic, the native
// seam's offsets) is one import away, whole, at @flux/sdk/ring, /udp, /reliable, /uring and
// /journal (each the package as it is, for code that builds on Flux's internals).
// test/public-surface.test.ts lists every name: adding one is a deliberate change.

// Rings (@flux/ring): create, share, claim/publish in place, consume, wait.
export {
  type AddConsumerOptions,
  AsyncWaitStrategy,
  BACK_PRESSURED,
  BlockingWaitStrategy,
  BusySpinWaitStrategy,
  ClaimUnblocker,
  type Consumer,
  type ConsumerStall,
  type MessageHandler,
  NOT_CONNECTED,
  PhasedWaitStrategy,
  type PhasedWaitOptions,
  type Producer,
  type ProducerModeName,
  Ring,
  type RingHandle,
  type RingOptions,
  ringPath,
  SleepingWaitStrategy,
  type SleepingWaitOptions,
  StallDetector,
  type UnblockedClaim,
  type WaitOptions,
  type WaitStrategy,
  YieldingWaitStrategy,
} from '@flux/ring';
// Messages beyond bytes.
export { type Codec, jsonCodec, utf8Codec } from '@flux/ring';
// Errors: one hierarchy, a code on each.
export {
  ConsumerRemovedError,
  FluxAbortError,
  FluxError,
  type FluxErrorCode,
  type FluxErrorLike,
  FluxHandlerError,
  FluxInternalError,
  FluxRangeError,
  FluxTimeoutError,
  FluxTypeError,
  isFluxError,
  SharedMemoryUnavailableError,
} from '@flux/ring';
export { DIAGNOSTICS_CHANNELS } from '@flux/ring';
// Counter sources: what readCounters, flux stat and the metrics exporters read; register your own.
export { type CounterSource, counterSources, registerCounterSource } from '@flux/ring';
// UDP (@flux/udp).
export {
  type Backend,
  type BackendOption,
  type CounterSnapshot,
  Counters,
  type DecodedMessage,
  type DecodingIteratorOptions,
  DropReason,
  type DropReasonName,
  type ErrorListener,
  type MessageIteratorOptions,
  type MessageSink,
  Publication,
  PublicationCounters,
  type PublicationOptions,
  type ReceivedMessage,
  Subscription,
  SubscriptionCounters,
  type SubscriptionOptions,
} from '@flux/udp';
// Reliable UDP (@flux/reliable), event-loop and hot.
export {
  HotReliablePublication,
  type HotReliablePublicationOptions,
  HotReliableSubscription,
  type HotReliableSubscriptionOptions,
  ReceiverCounters,
  type ReliableEvent,
  ReliablePublication,
  type ReliablePublicationOptions,
  ReliableSubscription,
  type ReliableSubscriptionOptions,
  type ReliableSubscriptionSnapshot,
  SenderCounters,
  type SenderState,
} from '@flux/reliable';
// The journal (@flux/journal).
export {
  Journal,
  JournalCorruptError,
  type JournalGap,
  type JournalHandler,
  type JournalOptions,
  JournalReader,
  type JournalRecord,
  type ReaderOptions,
  type RecordsOptions,
  type RecoveryReport,
  type SyncPolicy,
  type VerifyReport,
} from '@flux/journal';
// io_uring (@flux/uring): what it can do here, and placement hints.
export {
  type AddonSource,
  adviseHugePages,
  allocateHugeBuffer,
  bindToNode,
  type Capability,
  capability,
  getAffinity,
  type HintOutcome,
  hugePageResidency,
  type HugePageResidency,
  numaInfo,
  type NumaReport,
  setAffinity,
  UringUnavailableError,
} from '@flux/uring';
export { readCounters } from './counters.js';
export {
  metricsHandler,
  type OpenTelemetryBatchResult,
  type OpenTelemetryInstrumentOptions,
  type OpenTelemetryMeter,
  type OpenTelemetryMetricsOptions,
  type OpenTelemetryObservable,
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusOptions,
  prometheusText,
  registerOpenTelemetryMetrics,
} from './metrics.js';
export { formatJournal, formatRecord, type JournalReport, journalReport, lastRecords, type ReplayToRingOptions, recordJson, replayToRing } from './journal.js';
export { formatRings, type RingFileReport, ringReport } from './rings.js';
export { type CounterExport, DEFAULT_STAT_INTERVAL_MS, exportCounters, formatStats, readStats, removeStaleStats, type StatFile } from './stat.js';
export { type FluxInfo, formatInfo, info } from './info.js';
export { messages, type MessagesOptions, type ReadOptions, readMessages } from './messages.js';
export { exited, startWorker, type StartWorkerOptions, WorkerExitError, workerRings } from './workers.js';
