/**
 * @flux/sdk: every Flux package through one import, plus what composes them.
 *
 *   threads:   Ring (@flux/ring) + startWorker / workerRings / exited, messages / readMessages
 *   UDP:       Publication, Subscription (@flux/udp; io_uring chosen automatically where usable);
 *              for await over subscription.messages(streamId)
 *   reliable:  ReliablePublication, ReliableSubscription (@flux/reliable), iterable the same way
 *   errors:    FluxError and its subclasses, ERR_FLUX_* codes (@flux/ring's errors.ts)
 *   journal:   Journal, JournalReader (@flux/journal): record any stream, replay it from a
 *              position or a time, follow it live; journalReport() / replayToRing() (`npx flux journal`)
 *   native:    UringUdpSocket, capability, placement hints (@flux/uring)
 *   report:    info(), formatInfo() (`npx flux info`), readCounters(), ringReport() (`npx flux rings`),
 *              exportCounters() / readStats() (`npx flux stat`: counters other processes read)
 *   metrics:   prometheusText() / metricsHandler() (Prometheus /metrics), registerOpenTelemetryMetrics(meter)
 */
export * from '@flux/ring';
export * from '@flux/udp';
export * from '@flux/reliable';
export * from '@flux/uring';
export * from '@flux/journal';
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
export { messages, type ReadOptions, readMessages } from './messages.js';
export { exited, startWorker, type StartWorkerOptions, WorkerExitError, workerRings } from './workers.js';
