/**
 * Counters for operators' monitoring: every live counter source (@flux/ring's registry: each
 * open udp and reliable publication and subscription, hot ones included) as Prometheus text
 * (`prometheusText()`, `metricsHandler()` for a node:http server's /metrics) and, through
 * metrics-otel.ts, as OpenTelemetry instruments. Read when asked (a scrape, a collection),
 * never on the hot path; the values are what `flux stat` shows.
 *
 *   name     flux_<kind>_<counter in snake_case>, kind from the source's name ("udp
 *            publication", "reliable subscription"; a hot one is its kind with hot="true"):
 *            flux_udp_publication_bytes_sent_total, flux_reliable_publication_congestion_window_bytes
 *   type     counter (`_total`) or gauge, by the counter set's GAUGES (@flux/udp's Counters,
 *            @flux/reliable's SenderCounters); untyped for a source of a kind Flux does not know
 *            (something registered with registerCounterSource by the application)
 *   units    bytes as counted; a counter named ...Ns, ...Us or ...Ms is converted to seconds
 *            (..._seconds)
 *   labels   source (the name `flux stat` prints, unique per open), id, host, port and stream
 *            where the name has them, hot on reliable kinds, then the caller's constant labels
 *   order    families by name; within one, sources in the order they opened
 */
import type { RequestListener } from 'node:http';
import { optionsObject } from '@flux/ring/validate';
import { constantLabels, type MetricFamily, readMetricPoints } from './metrics-model.js';

export {
  type OpenTelemetryBatchResult,
  type OpenTelemetryInstrumentOptions,
  type OpenTelemetryMeter,
  type OpenTelemetryMetricsOptions,
  type OpenTelemetryObservable,
  registerOpenTelemetryMetrics,
} from './metrics-otel.js';

/** The Content-Type of the Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PrometheusOptions {
  /** Labels added to every sample (after the source's own), e.g. `{ service: 'quotes' }`. */
  labels?: Record<string, string>;
}

/** A label value as the text format writes it between double quotes: backslash, double quote and newline escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and newline escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value); // NaN as "NaN", as the format spells it
}

function render(constant: readonly (readonly [string, string])[]): string {
  const families = new Map<string, { family: MetricFamily; lines: string[] }>();
  for (const { family, labels, value } of readMetricPoints()) {
    const name = family.type === 'counter' && !family.name.endsWith('_total') ? `${family.name}_total` : family.name;
    let entry = families.get(name);
    if (entry === undefined) {
      entry = { family, lines: [] };
      families.set(name, entry);
    } else if (entry.family.type !== family.type) continue; // one family, one type: the first source's
    const pairs = [...labels, ...constant].map(([label, text]) => `${label}="${escapeLabelValue(text)}"`);
    entry.lines.push(`${name}{${pairs.join(',')}} ${formatValue(value)}`);
  }
  let text = '';
  for (const name of [...families.keys()].sort()) {
    const { family, lines } = families.get(name) as { family: MetricFamily; lines: string[] };
    text += `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n${lines.join('\n')}\n`;
  }
  return text;
}

/**
 * Every live counter source's counters now, in the Prometheus text exposition format 0.0.4
 * (see above for names, types and labels); empty when none is open.
 */
export function prometheusText(options?: PrometheusOptions): string {
  return render(constantLabels('options.labels', optionsObject('options', options).labels));
}

/**
 * A node:http request listener that answers GET and HEAD with prometheusText() (as
 * PROMETHEUS_CONTENT_TYPE), any other method with 405, and 500 if a source's counters could
 * not be read. It answers on every path: `createServer(metricsHandler()).listen(9464)`, or
 * call it from your own server's `/metrics` route. Options are checked here, once.
 */
export function metricsHandler(options?: PrometheusOptions): RequestListener {
  const constant = constantLabels('options.labels', optionsObject('options', options).labels);
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end(`${request.method} not allowed: GET or HEAD\n`);
      return;
    }
    let body: string;
    try {
      body = render(constant);
    } catch (error) {
      response
        .writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(`could not read Flux counters: ${error instanceof Error ? error.message : String(error)}\n`);
      return;
    }
    response.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
