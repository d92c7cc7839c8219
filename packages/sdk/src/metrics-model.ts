/**
 * What both exporters (metrics.ts's Prometheus text, metrics-otel.ts's OpenTelemetry
 * instruments) read: each live counter source (@flux/ring's registry) parsed into its kind
 * and labels, and each of its counters into a family (name, counter or gauge, unit, divisor).
 * Internal: @flux/sdk exports the exporters, not these.
 */
import { counterSources, FluxRangeError, FluxTypeError } from '@flux/ring';
import { describe } from '@flux/ring/validate';
import { ReceiverCounters, SenderCounters } from '@flux/reliable';
import { type Counters, PublicationCounters, SubscriptionCounters } from '@flux/udp';

export type MetricType = 'counter' | 'gauge' | 'untyped';

/** One counter of one kind of source, as both exporters name it. */
export interface MetricFamily {
  /** flux_<kind>_<metric> (a counter's Prometheus name adds _total). */
  readonly name: string;
  readonly kind: string;
  /** The counter's name in snake_case, in base units: bytes_sent, rtt_seconds. */
  readonly metric: string;
  readonly type: MetricType;
  readonly help: string;
  /** UCUM, for OpenTelemetry: 'By', 'By/s', 's', or none (a count). */
  readonly unit: string | undefined;
  /** What the registry's value is divided by (a ...Ns counter: 1e9, to seconds). */
  readonly divisor: number;
}

/** A sample: a family, the source's labels, its value now (in the family's units). */
export interface MetricPoint {
  readonly family: MetricFamily;
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}

type CounterSet = { new (): Counters; readonly GAUGES: ReadonlySet<string> };

interface KnownKind {
  /** As the source's name says it, "hot " left out. */
  readonly words: string;
  /** Every counter its sources report, in registry order (the OpenTelemetry adapter creates their instruments up front). */
  readonly counters: readonly string[];
  readonly gauges: ReadonlySet<string>;
  /** Reliable kinds run hot or not: a hot label says which. */
  readonly hotLabel: boolean;
}

/** Each counter set with the prefix its source reports it under (a reliable subscription's message counters: `message.`). */
function knownKind(words: string, sets: readonly (readonly [CounterSet, string])[], hotLabel: boolean): KnownKind {
  return {
    words,
    counters: sets.flatMap(([set, prefix]) => Object.keys(new set().snapshot()).map((name) => prefix + name)),
    gauges: new Set(sets.flatMap(([set, prefix]) => [...set.GAUGES].map((name) => prefix + name))),
    hotLabel,
  };
}

/** The kinds Flux's endpoints register (udp publication.ts, subscription.ts; reliable publication.ts, subscription.ts, hot.ts). */
const KNOWN_KINDS: ReadonlyMap<string, KnownKind> = new Map([
  ['udp_publication', knownKind('udp publication', [[PublicationCounters, '']], false)],
  ['udp_subscription', knownKind('udp subscription', [[SubscriptionCounters, '']], false)],
  ['reliable_publication', knownKind('reliable publication', [[SenderCounters, '']], true)],
  [
    'reliable_subscription',
    knownKind(
      'reliable subscription',
      [
        [ReceiverCounters, ''],
        [SubscriptionCounters, 'message.'],
      ],
      true,
    ),
  ],
]);

/**
 * A registry name, "<kind words>[ to|on <host>:<port> | on port <port>][ stream <n>] #<id>":
 * "udp publication to 127.0.0.1:40123 stream 1 #3", "hot reliable subscription on port
 * 40124 stream 7 #4". A name of another shape is all kind words (and its id).
 */
const SOURCE_NAME = /^(?<words>.+?)(?: (?:to|on) (?:port (?<port>\d+)|(?<host>\S+):(?<hostPort>\d+))(?: stream (?<stream>\d+))?)?(?: #(?<id>\d+))?$/s;

/** The label names a source's samples may carry: constant labels may not reuse them. */
const SOURCE_LABELS: ReadonlySet<string> = new Set(['source', 'id', 'host', 'port', 'stream', 'hot']);

/** Lower snake_case, [a-z0-9_] only: "bytesSent" -> "bytes_sent", "message.bytesReceived" -> "message_bytes_received". */
function snakeCase(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

interface Source {
  readonly kind: string;
  readonly words: string;
  readonly known: KnownKind | undefined;
  readonly labels: readonly (readonly [string, string])[];
}

function parseSource(name: string): Source {
  const groups = SOURCE_NAME.exec(name)?.groups ?? { words: name };
  let kind = snakeCase(groups.words) || 'source';
  let known = KNOWN_KINDS.get(kind);
  let hot = false;
  if (known === undefined && groups.words.startsWith('hot ')) {
    const cold = snakeCase(groups.words.slice(4));
    if (KNOWN_KINDS.get(cold)?.hotLabel) {
      kind = cold;
      known = KNOWN_KINDS.get(cold);
      hot = true;
    }
  }
  const words = known?.words ?? groups.words;
  const labels: [string, string][] = [['source', name]];
  if (groups.id !== undefined) labels.push(['id', groups.id]);
  if (groups.host !== undefined) labels.push(['host', groups.host]);
  const port = groups.port ?? groups.hostPort;
  if (port !== undefined) labels.push(['port', port]);
  if (groups.stream !== undefined) labels.push(['stream', groups.stream]);
  if (known?.hotLabel) labels.push(['hot', String(hot)]);
  return { kind, words, known, labels };
}

const PER_SECOND: Readonly<Record<string, number>> = { ns: 1e9, us: 1e6, ms: 1e3 };

/** How counter `counter` of a source of kind `kind` is exported. */
function metricFamily(kind: string, words: string, known: KnownKind | undefined, counter: string): MetricFamily {
  let metric = snakeCase(counter) || 'value';
  let divisor = 1;
  const time = /_(ns|us|ms)$/.exec(metric);
  if (time !== null) {
    metric = `${metric.slice(0, -time[0].length)}_seconds`;
    divisor = PER_SECOND[time[1]];
  }
  const type: MetricType = known === undefined ? 'untyped' : known.gauges.has(counter) ? 'gauge' : 'counter';
  const unit = /(^|_)bytes_per_second$/.test(metric) ? 'By/s' : /(^|_)bytes(_|$)/.test(metric) ? 'By' : /(^|_)seconds$/.test(metric) ? 's' : undefined;
  const what = type === 'untyped' ? 'value' : type;
  return {
    name: `flux_${kind}_${metric}`,
    kind,
    metric,
    type,
    help: `Flux ${words} ${what} ${counter}${divisor === 1 ? '' : ', in seconds'}`,
    unit,
    divisor,
  };
}

/** Every family of the kinds Flux knows, whether or not a source of that kind is open. */
export function knownFamilies(): MetricFamily[] {
  const families: MetricFamily[] = [];
  for (const [kind, known] of KNOWN_KINDS) for (const counter of known.counters) families.push(metricFamily(kind, known.words, known, counter));
  return families;
}

/** Every live source's counters now, one point each (a value that is not a number is left out). */
export function readMetricPoints(): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const source of counterSources()) {
    const { kind, words, known, labels } = parseSource(source.name);
    const seen = new Set<string>(); // two counters of one source that name one family ("fooMs", "fooSeconds"): the first
    for (const [counter, value] of Object.entries(source.read())) {
      if (typeof value !== 'number') continue;
      const family = metricFamily(kind, words, known, counter);
      if (seen.has(family.name)) continue;
      seen.add(family.name);
      points.push({ family, labels, value: family.divisor === 1 ? value : value / family.divisor });
    }
  }
  return points;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Checks constant labels (or OpenTelemetry attributes): names as Prometheus allows, none a source label, string values. */
export function constantLabels(name: string, value: unknown): readonly (readonly [string, string])[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new FluxTypeError(`${name} must be an object of strings, got ${describe(value)}`);
  const labels: [string, string][] = [];
  for (const [key, label] of Object.entries(value)) {
    if (!LABEL_NAME.test(key) || key.startsWith('__')) {
      throw new FluxRangeError(`${name} may only have names of [a-zA-Z_][a-zA-Z0-9_]* not starting with __, got ${describe(key)}`);
    }
    if (SOURCE_LABELS.has(key)) throw new FluxRangeError(`${name} may not set ${describe(key)}: every source's samples carry it`);
    if (typeof label !== 'string') throw new FluxTypeError(`${name}.${key} must be a string, got ${describe(label)}`);
    labels.push([key, label]);
  }
  return labels;
}
