/**
 * The same counters as prometheusText (metrics.ts), for OpenTelemetry: one instrument per
 * family, an observable counter for each counter and an observable gauge for each gauge (and
 * for a value of a kind Flux does not know), all observed by one batch callback when the
 * reader collects. Attributes are the Prometheus labels.
 *
 *   name   flux.<kind>.<counter in snake_case>: flux.udp_publication.bytes_sent,
 *          flux.reliable_publication.congestion_window_bytes (no _total: exporters add it)
 *   unit   'By', 'By/s' or 's' where the name says so; none for a count
 *
 * @opentelemetry/api is an optional peer dependency and is never imported, not even for its
 * types: the shapes below are the parts of its Meter this uses (any 1.x Meter from 1.3.0 on
 * is one), so @flux/sdk installs, runs and type-checks without it.
 *
 * Instruments for every kind Flux knows, and for every source open at registration, exist
 * from the first collection. A counter first seen later (a source of a new kind the
 * application registered) gets its instrument then, and is reported from the next
 * collection on: OpenTelemetry observes only the instruments a callback was registered with.
 */
import { FluxTypeError } from '@flux/ring';
import { describe, optionsObject } from '@flux/ring/validate';
import { constantLabels, knownFamilies, type MetricFamily, readMetricPoints } from './metrics-model.js';

/** An instrument as a Meter returns it (@opentelemetry/api's Observable). */
export type OpenTelemetryObservable = object;

/** @opentelemetry/api's MetricOptions, as far as this uses them. */
export interface OpenTelemetryInstrumentOptions {
  description?: string;
  unit?: string;
}

/** @opentelemetry/api's BatchObservableResult, as far as this uses it. */
export interface OpenTelemetryBatchResult {
  observe(observable: OpenTelemetryObservable, value: number, attributes?: Record<string, string>): void;
}

/** @opentelemetry/api's Meter, as far as this uses it: `provider.getMeter(name)` is one. */
export interface OpenTelemetryMeter {
  createObservableCounter(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryObservable;
  createObservableGauge(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryObservable;
  addBatchObservableCallback(callback: (result: OpenTelemetryBatchResult) => void, observables: OpenTelemetryObservable[]): void;
  removeBatchObservableCallback(callback: (result: OpenTelemetryBatchResult) => void, observables: OpenTelemetryObservable[]): void;
}

export interface OpenTelemetryMetricsOptions {
  /** Attributes added to every measurement (after the source's own), as prometheusText's labels. */
  attributes?: Record<string, string>;
}

const METER_METHODS = ['createObservableCounter', 'createObservableGauge', 'addBatchObservableCallback', 'removeBatchObservableCallback'] as const;

function requireMeter(meter: unknown): OpenTelemetryMeter {
  const ok = typeof meter === 'object' && meter !== null && METER_METHODS.every((method) => typeof (meter as Record<string, unknown>)[method] === 'function');
  if (!ok) throw new FluxTypeError(`meter must be an OpenTelemetry Meter (${METER_METHODS.join(', ')}), got ${describe(meter)}`);
  return meter as OpenTelemetryMeter;
}

/**
 * Reports every live counter source's counters through `meter` (see above) until the
 * returned function is called; calling it again does nothing. Register once per meter.
 */
export function registerOpenTelemetryMetrics(meter: OpenTelemetryMeter, options?: OpenTelemetryMetricsOptions): () => void {
  requireMeter(meter);
  const constant = constantLabels('options.attributes', optionsObject('options', options).attributes);
  /** By OpenTelemetry name: the instrument and its family's type (one name, one type: the first family's). */
  const instruments = new Map<string, { instrument: OpenTelemetryObservable; type: MetricFamily['type'] }>();
  let grown = false;
  const instrumentOf = (family: MetricFamily): OpenTelemetryObservable | undefined => {
    const name = `flux.${family.kind}.${family.metric}`;
    let entry = instruments.get(name);
    if (entry === undefined) {
      const instrumentOptions: OpenTelemetryInstrumentOptions = { description: family.help };
      if (family.unit !== undefined) instrumentOptions.unit = family.unit;
      const instrument =
        family.type === 'counter' ? meter.createObservableCounter(name, instrumentOptions) : meter.createObservableGauge(name, instrumentOptions);
      entry = { instrument, type: family.type };
      instruments.set(name, entry);
      grown = true;
    }
    return entry.type === family.type ? entry.instrument : undefined;
  };
  for (const family of knownFamilies()) instrumentOf(family);
  for (const point of readMetricPoints()) instrumentOf(point.family);

  let observables = [...instruments.values()].map((entry) => entry.instrument);
  let observed = new Set(observables);
  let open = true;
  const reregister = () => {
    if (!open || !grown) return;
    grown = false;
    meter.removeBatchObservableCallback(callback, observables);
    observables = [...instruments.values()].map((entry) => entry.instrument);
    observed = new Set(observables);
    meter.addBatchObservableCallback(callback, observables);
  };
  const callback = (result: OpenTelemetryBatchResult) => {
    for (const { family, labels, value } of readMetricPoints()) {
      const instrument = instrumentOf(family);
      if (instrument === undefined || !observed.has(instrument)) continue; // a new one: reported from the next collection
      result.observe(instrument, value, Object.fromEntries([...labels, ...constant]));
    }
    // Not from inside the callback: the SDK is walking its list of callbacks now.
    if (grown) queueMicrotask(reregister);
  };
  grown = false;
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    if (!open) return;
    open = false;
    meter.removeBatchObservableCallback(callback, observables);
  };
}
