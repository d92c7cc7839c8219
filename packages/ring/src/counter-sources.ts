/**
 * Every live publication and subscription in this process, for counters that other
 * processes read (@flux/sdk's exportCounters, `flux stat`). @flux/udp and @flux/reliable
 * register each one when it opens and unregister it when it closes; a registration is a Map
 * entry, and nothing is read until an exporter asks (never on the hot path).
 *
 *   FLUX_STAT=<interval ms>   in the environment: the first registration starts the exporter
 *                             that @flux/sdk installs (setStatAutoStart), so `flux stat` sees
 *                             every object with no code change (as AeronStat sees a driver's)
 */

import { endpointChannel } from './diagnostics.js';

export interface CounterSource {
  /** What it is, e.g. "udp publication 127.0.0.1:40123 stream 1". */
  readonly name: string;
  /** A snapshot of its counters now. */
  read(): Record<string, number>;
}

const sources = new Map<number, CounterSource>();
let nextId = 1;
let autoStart: ((intervalMs: number) => void) | undefined;
let autoStarted = false;

/** Registers a live object's counters; returns the function that unregisters them (call it on close). */
export function registerCounterSource(name: string, read: () => Record<string, number>): () => void {
  const id = nextId++;
  const source = { name: `${name} #${id}`, read };
  sources.set(id, source);
  if (endpointChannel.hasSubscribers) endpointChannel.publish({ type: 'open', name: source.name });
  if (!autoStarted && autoStart !== undefined) {
    const intervalMs = Number(process.env.FLUX_STAT);
    if (process.env.FLUX_STAT !== undefined && Number.isFinite(intervalMs) && intervalMs >= 10) {
      autoStarted = true;
      autoStart(intervalMs);
    }
  }
  return () => {
    if (sources.delete(id) && endpointChannel.hasSubscribers) endpointChannel.publish({ type: 'close', name: source.name });
  };
}

/** The objects registered now. */
export function counterSources(): CounterSource[] {
  return [...sources.values()];
}

/** Installed by @flux/sdk: how FLUX_STAT starts an exporter. */
export function setStatAutoStart(start: (intervalMs: number) => void): void {
  autoStart = start;
}
