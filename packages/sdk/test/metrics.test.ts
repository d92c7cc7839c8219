/**
 * The counters exporters (metrics.ts, metrics-otel.ts): the exact Prometheus text for
 * registered sources, escaping, counters against gauges (each counter set's GAUGES), the
 * labels real endpoints' names give, the node:http handler on a real server (127.0.0.1,
 * port 0), and the OpenTelemetry adapter with the real @opentelemetry/sdk-metrics and a pull
 * reader (collect() when the test says). Every wait is bounded; nothing sleeps.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, InstrumentType, MeterProvider, MetricReader, type MetricReaderOptions } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  capability,
  Counters,
  counterSources,
  FluxRangeError,
  FluxTypeError,
  HotReliablePublication,
  HotReliableSubscription,
  metricsHandler,
  type OpenTelemetryMeter,
  PROMETHEUS_CONTENT_TYPE,
  Publication,
  PublicationCounters,
  prometheusText,
  ReceiverCounters,
  ReliablePublication,
  ReliableSubscription,
  readCounters,
  registerCounterSource,
  registerOpenTelemetryMetrics,
  SenderCounters,
  Subscription,
  SubscriptionCounters,
} from '../src/index.js';

const HOST = '127.0.0.1';
const DEADLINE_MS = 10_000;

const cleanups: (() => unknown)[] = [];
beforeEach(() => {
  expect(counterSources()).toEqual([]); // every test starts with nothing registered
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(counterSources()).toEqual([]);
});

/** Registers a fake source; returns the name the registry gave it (with its #id) and its id. */
function source(name: string, read: () => Record<string, number>): { name: string; id: string } {
  cleanups.push(registerCounterSource(name, read));
  const registered = counterSources().at(-1)?.name ?? '';
  return { name: registered, id: registered.slice(registered.lastIndexOf('#') + 1) };
}

/** Until `check` holds, polling on the event loop; throws past the deadline. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The samples of one family in `text`: label sets and values. */
function samples(text: string, family: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${family}{`));
}

describe('prometheusText', () => {
  it('writes every registered source in the text format 0.0.4: HELP and TYPE once per family, sorted, labels from the name', () => {
    let bytesSent = 300;
    const udp = source('udp publication to 127.0.0.1:40123 stream 7', () => ({ messagesSent: 3, bytesSent }));
    const hot = source('hot reliable publication to ::1:40124 stream 8', () => ({ bytesSent: 1500, congestionWindowBytes: 14720 }));
    const cold = source('reliable publication to 10.0.0.2:40125 stream 9', () => ({ bytesSent: 0, congestionWindowBytes: 0 }));
    const subscription = source('udp subscription on 0.0.0.0:40126', () => ({ datagramsReceived: 2 }));
    const mine = source('my cache', () => ({ hits: 5, lookupNs: 2_500_000 }));
    expect(prometheusText()).toBe(
      [
        '# HELP flux_my_cache_hits Flux my cache value hits',
        '# TYPE flux_my_cache_hits untyped',
        `flux_my_cache_hits{source="${mine.name}",id="${mine.id}"} 5`,
        '# HELP flux_my_cache_lookup_seconds Flux my cache value lookupNs, in seconds',
        '# TYPE flux_my_cache_lookup_seconds untyped',
        `flux_my_cache_lookup_seconds{source="${mine.name}",id="${mine.id}"} 0.0025`,
        '# HELP flux_reliable_publication_bytes_sent_total Flux reliable publication counter bytesSent',
        '# TYPE flux_reliable_publication_bytes_sent_total counter',
        `flux_reliable_publication_bytes_sent_total{source="${hot.name}",id="${hot.id}",host="::1",port="40124",stream="8",hot="true"} 1500`,
        `flux_reliable_publication_bytes_sent_total{source="${cold.name}",id="${cold.id}",host="10.0.0.2",port="40125",stream="9",hot="false"} 0`,
        '# HELP flux_reliable_publication_congestion_window_bytes Flux reliable publication gauge congestionWindowBytes',
        '# TYPE flux_reliable_publication_congestion_window_bytes gauge',
        `flux_reliable_publication_congestion_window_bytes{source="${hot.name}",id="${hot.id}",host="::1",port="40124",stream="8",hot="true"} 14720`,
        `flux_reliable_publication_congestion_window_bytes{source="${cold.name}",id="${cold.id}",host="10.0.0.2",port="40125",stream="9",hot="false"} 0`,
        '# HELP flux_udp_publication_bytes_sent_total Flux udp publication counter bytesSent',
        '# TYPE flux_udp_publication_bytes_sent_total counter',
        `flux_udp_publication_bytes_sent_total{source="${udp.name}",id="${udp.id}",host="127.0.0.1",port="40123",stream="7"} 300`,
        '# HELP flux_udp_publication_messages_sent_total Flux udp publication counter messagesSent',
        '# TYPE flux_udp_publication_messages_sent_total counter',
        `flux_udp_publication_messages_sent_total{source="${udp.name}",id="${udp.id}",host="127.0.0.1",port="40123",stream="7"} 3`,
        '# HELP flux_udp_subscription_datagrams_received_total Flux udp subscription counter datagramsReceived',
        '# TYPE flux_udp_subscription_datagrams_received_total counter',
        `flux_udp_subscription_datagrams_received_total{source="${subscription.name}",id="${subscription.id}",host="0.0.0.0",port="40126"} 2`,
        '',
      ].join('\n'),
    );
    bytesSent = 400; // read at each call, never cached
    expect(samples(prometheusText(), 'flux_udp_publication_bytes_sent_total')).toEqual([
      `flux_udp_publication_bytes_sent_total{source="${udp.name}",id="${udp.id}",host="127.0.0.1",port="40123",stream="7"} 400`,
    ]);
  });

  it('is empty with nothing open, and adds the constant labels to every sample', () => {
    expect(prometheusText()).toBe('');
    const udp = source('udp publication to 127.0.0.1:1 stream 1', () => ({ bytesSent: 1 }));
    expect(samples(prometheusText({ labels: { service: 'quotes', region: 'eu "west"' } }), 'flux_udp_publication_bytes_sent_total')).toEqual([
      `flux_udp_publication_bytes_sent_total{source="${udp.name}",id="${udp.id}",host="127.0.0.1",port="1",stream="1",service="quotes",region="eu \\"west\\""} 1`,
    ]);
  });

  it('escapes label values (backslash, double quote, newline) and HELP text (backslash, newline)', () => {
    const odd = source('a "quoted" \\ name\nsecond line', () => ({ 'odd\\counter\nname': 1 }));
    const text = prometheusText();
    const escaped = odd.name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    expect(escaped).toBe(`a \\"quoted\\" \\\\ name\\nsecond line #${odd.id}`);
    expect(text).toBe(
      [
        '# HELP flux_a_quoted_name_second_line_odd_counter_name Flux a "quoted" \\\\ name\\nsecond line value odd\\\\counter\\nname',
        '# TYPE flux_a_quoted_name_second_line_odd_counter_name untyped',
        `flux_a_quoted_name_second_line_odd_counter_name{source="${escaped}",id="${odd.id}"} 1`,
        '',
      ].join('\n'),
    );
    // Every line is one sample or one comment: nothing the source named broke a line.
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .*|[a-z_]+\{.*\} \S+)$/);
  });

  it('writes NaN and the infinities as the format spells them, and leaves out what is not a number', () => {
    const odd = source('my gauges', () => ({ a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY, d: 'x' as unknown as number }));
    const values = prometheusText()
      .split('\n')
      .filter((line) => line.startsWith('flux_'))
      .map((line) => line.replace(`{source="${odd.name}",id="${odd.id}"}`, ''));
    expect(values).toEqual(['flux_my_gauges_a NaN', 'flux_my_gauges_b +Inf', 'flux_my_gauges_c -Inf']);
  });

  it('types a counter set’s GAUGES as gauges (no _total) and every other counter as a counter (_total)', () => {
    expect([...SenderCounters.GAUGES].sort()).toEqual(['congestionWindowBytes', 'pacingBytesPerSecond']);
    for (const set of [Counters, PublicationCounters, SubscriptionCounters, ReceiverCounters]) expect(set.GAUGES.size).toBe(0);
    const sender = new SenderCounters();
    sender.pacingBytesPerSecond = 1e6;
    source('reliable publication to 127.0.0.1:2 stream 2', () => sender.snapshot());
    const types = [...prometheusText().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]);
    expect(types).toHaveLength(Object.keys(sender.snapshot()).length);
    for (const [name, type] of types) {
      const gauge = name === 'flux_reliable_publication_congestion_window_bytes' || name === 'flux_reliable_publication_pacing_bytes_per_second';
      expect([name, type]).toEqual([name, gauge ? 'gauge' : 'counter']);
      expect(name.endsWith('_total')).toBe(!gauge);
    }
    expect(prometheusText()).toMatch(/^flux_reliable_publication_pacing_bytes_per_second\{.*\} 1000000$/m);
  });

  it('labels real endpoints by what their names give, with the values readCounters reads', async () => {
    const subscription = await Subscription.open({ port: 0, address: HOST, backend: 'dgram' });
    cleanups.push(() => subscription.close());
    const publication = await Publication.open({ host: HOST, port: subscription.port, streamId: 5, backend: 'dgram' });
    cleanups.push(() => publication.close());
    const reliableSubscription = await ReliableSubscription.open({ port: 0, address: HOST, backend: 'dgram' });
    cleanups.push(() => reliableSubscription.close());
    reliableSubscription.onMessage(6, () => {});
    const reliablePublication = await ReliablePublication.open({ host: HOST, port: reliableSubscription.port, streamId: 6, backend: 'dgram' });
    cleanups.push(() => reliablePublication.close(0));
    expect(await reliablePublication.connected(DEADLINE_MS)).toBe(true);
    let received = 0;
    subscription.onMessage(5, () => received++);
    for (let i = 0; i < 3; i++) publication.offer(new Uint8Array([1, 2, 3, i]));
    await until('three udp messages', () => received === 3);

    const text = prometheusText();
    const ids = new Map(counterSources().map(({ name }) => [name.replace(/ #\d+$/, ''), name.slice(name.lastIndexOf('#') + 1)]));
    const id = (prefix: string) => [...ids].find(([name]) => name.startsWith(prefix))?.[1];
    expect(samples(text, 'flux_udp_publication_messages_sent_total')).toEqual([
      `flux_udp_publication_messages_sent_total{source="udp publication to ${HOST}:${subscription.port} stream 5 #${id('udp publication')}",id="${id('udp publication')}",host="${HOST}",port="${subscription.port}",stream="5"} 3`,
    ]);
    expect(samples(text, 'flux_udp_subscription_messages_received_total')).toEqual([
      `flux_udp_subscription_messages_received_total{source="udp subscription on ${HOST}:${subscription.port} #${id('udp subscription')}",id="${id('udp subscription')}",host="${HOST}",port="${subscription.port}"} 3`,
    ]);
    const window = samples(text, 'flux_reliable_publication_congestion_window_bytes');
    expect(window).toEqual([
      `flux_reliable_publication_congestion_window_bytes{source="reliable publication to ${HOST}:${reliableSubscription.port} stream 6 #${id('reliable publication')}",id="${id('reliable publication')}",host="${HOST}",port="${reliableSubscription.port}",stream="6",hot="false"} ${readCounters(reliablePublication).congestionWindowBytes}`,
    ]);
    expect(samples(text, 'flux_reliable_subscription_sessions_begun_total')).toEqual([
      `flux_reliable_subscription_sessions_begun_total{source="reliable subscription on port ${reliableSubscription.port} #${id('reliable subscription')}",id="${id('reliable subscription')}",port="${reliableSubscription.port}",hot="false"} 1`,
    ]);
    expect(text).toContain('# TYPE flux_reliable_subscription_message_messages_received_total counter'); // its per-message counters, prefixed message.
    // Every counter of every source is in the text, exactly once.
    const values = text.split('\n').filter((line) => line.startsWith('flux_')).length;
    expect(values).toBe(counterSources().reduce((sum, { read }) => sum + Object.keys(read()).length, 0));
  });

  it.skipIf(!capability().usable)('puts hot reliable endpoints in the reliable families, labelled hot="true"', async () => {
    const subscription = await HotReliableSubscription.open({ port: 0, address: HOST, streamId: 3 });
    cleanups.push(() => subscription.close());
    const publication = await HotReliablePublication.open({ host: HOST, port: subscription.port, streamId: 3 });
    cleanups.push(() => publication.close(0));
    const text = prometheusText();
    expect(samples(text, 'flux_reliable_publication_bytes_sent_total')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^flux_reliable_publication_bytes_sent_total\\{source="hot reliable publication to ${HOST}:${subscription.port} stream 3 #\\d+",id="\\d+",host="${HOST}",port="${subscription.port}",stream="3",hot="true"\\} \\d+$`,
        ),
      ),
    ]);
    expect(samples(text, 'flux_reliable_subscription_gaps_total')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^flux_reliable_subscription_gaps_total\\{source="hot reliable subscription on port ${subscription.port} stream 3 #\\d+",id="\\d+",port="${subscription.port}",stream="3",hot="true"\\} 0$`,
        ),
      ),
    ]);
    expect(text).toContain('# TYPE flux_reliable_publication_pacing_bytes_per_second gauge');
  });

  it('refuses bad options with a FluxTypeError or FluxRangeError naming them', () => {
    expect(() => prometheusText(5 as never)).toThrow(FluxTypeError);
    expect(() => prometheusText({ labels: 'service=x' as never })).toThrow(/options\.labels must be an object of strings, got "service=x"/);
    expect(() => prometheusText({ labels: { 'bad-name': 'x' } })).toThrow(FluxRangeError);
    expect(() => prometheusText({ labels: { 'bad-name': 'x' } })).toThrow(/options\.labels .*"bad-name"/);
    expect(() => prometheusText({ labels: { __reserved: 'x' } })).toThrow(FluxRangeError);
    expect(() => prometheusText({ labels: { port: 'x' } })).toThrow(/options\.labels may not set "port"/);
    expect(() => prometheusText({ labels: { service: 5 as never } })).toThrow(FluxTypeError);
    expect(() => prometheusText({ labels: { service: 5 as never } })).toThrow(/options\.labels\.service must be a string, got 5/);
    expect(() => metricsHandler({ labels: { 'a b': 'x' } })).toThrow(FluxRangeError); // checked once, when made
  });
});

describe('metricsHandler', () => {
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server: Server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, resolve);
    });
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    cleanups.push(() => server.closeAllConnections());
    return `http://${HOST}:${(server.address() as AddressInfo).port}/metrics`;
  }
  const bounded = { signal: AbortSignal.timeout(DEADLINE_MS) };

  it('serves prometheusText() over a real node:http server, as text/plain version 0.0.4', async () => {
    source('udp publication to 127.0.0.1:3 stream 3', () => ({ bytesSent: 42 }));
    const url = await serve(metricsHandler({ labels: { service: 'test' } }));
    const response = await fetch(url, bounded);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await response.text();
    expect(body).toBe(prometheusText({ labels: { service: 'test' } }));
    expect(body).toMatch(/^flux_udp_publication_bytes_sent_total\{.*,service="test"\} 42$/m);
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(body));

    const head = await fetch(url, { ...bounded, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await head.text()).toBe('');

    const post = await fetch(url, { ...bounded, method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.text();
  });

  it('answers 500, saying why, when a source’s counters cannot be read (the server goes on)', async () => {
    source('my broken source', () => {
      throw new Error('gone away');
    });
    const url = await serve(metricsHandler());
    const response = await fetch(url, bounded);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('could not read Flux counters: gone away\n');
  });
});

/** A pull reader: collects when the test calls collect(), never on a timer. */
class PullReader extends MetricReader {
  constructor(options?: MetricReaderOptions) {
    super(options);
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function openTelemetry(temporality = AggregationTemporality.CUMULATIVE) {
  const reader = new PullReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  const meter: Meter = provider.getMeter('flux-test');
  const adapterMeter: OpenTelemetryMeter = meter; // @opentelemetry/api's Meter is what the adapter takes
  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect({ timeoutMillis: DEADLINE_MS });
    expect(errors).toEqual([]);
    return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
  };
  return { meter: adapterMeter, collect };
}

describe('registerOpenTelemetryMetrics', () => {
  it('reports counters as observable counters and gauges as observable gauges, with the labels as attributes', async () => {
    const { meter, collect } = openTelemetry();
    let bytesSent = 1500;
    const hot = source('hot reliable publication to 127.0.0.1:4 stream 4', () => ({ bytesSent, congestionWindowBytes: 14720, pacingBytesPerSecond: 2.5e6 }));
    const mine = source('my cache', () => ({ lookupMs: 250 }));
    cleanups.push(registerOpenTelemetryMetrics(meter, { attributes: { service: 'test' } }));
    const attributes = { source: hot.name, id: hot.id, host: '127.0.0.1', port: '4', stream: '4', hot: 'true', service: 'test' };

    let metrics = await collect();
    const sent = metrics.get('flux.reliable_publication.bytes_sent');
    expect(sent?.descriptor).toMatchObject({ type: InstrumentType.OBSERVABLE_COUNTER, unit: 'By', description: 'Flux reliable publication counter bytesSent' });
    expect(sent?.dataPointType).toBe(DataPointType.SUM);
    expect(sent?.dataPointType === DataPointType.SUM && sent.isMonotonic).toBe(true);
    expect(sent?.dataPoints.map(({ attributes, value }) => ({ attributes, value }))).toEqual([{ attributes, value: 1500 }]);
    const window = metrics.get('flux.reliable_publication.congestion_window_bytes');
    expect(window?.descriptor).toMatchObject({ type: InstrumentType.OBSERVABLE_GAUGE, unit: 'By' });
    expect(window?.dataPointType).toBe(DataPointType.GAUGE);
    expect(window?.dataPoints.map(({ attributes, value }) => ({ attributes, value }))).toEqual([{ attributes, value: 14720 }]);
    expect(metrics.get('flux.reliable_publication.pacing_bytes_per_second')?.descriptor).toMatchObject({ type: InstrumentType.OBSERVABLE_GAUGE, unit: 'By/s' });
    // A kind Flux does not know: a gauge (no claim that it only grows), in seconds.
    const lookup = metrics.get('flux.my_cache.lookup_seconds');
    expect(lookup?.descriptor).toMatchObject({ type: InstrumentType.OBSERVABLE_GAUGE, unit: 's' });
    expect(lookup?.dataPoints.map(({ attributes, value }) => [attributes.source, value])).toEqual([[mine.name, 0.25]]);
    // Only what is open reports: the other known families have instruments but no points.
    expect([...metrics.keys()].sort()).toEqual([
      'flux.my_cache.lookup_seconds',
      'flux.reliable_publication.bytes_sent',
      'flux.reliable_publication.congestion_window_bytes',
      'flux.reliable_publication.pacing_bytes_per_second',
    ]);

    bytesSent = 3000;
    metrics = await collect();
    expect(metrics.get('flux.reliable_publication.bytes_sent')?.dataPoints.map(({ value }) => value)).toEqual([3000]);
  });

  it('reports a source of a new kind from the collection after the one that first saw it', async () => {
    const { meter, collect } = openTelemetry();
    cleanups.push(registerOpenTelemetryMetrics(meter));
    const udp = source('udp publication to 127.0.0.1:5 stream 5', () => ({ bytesSent: 7 })); // a known kind: its instruments exist already
    const late = source('my late source', () => ({ hits: 9 }));
    let metrics = await collect();
    expect(metrics.get('flux.udp_publication.bytes_sent')?.dataPoints.map(({ attributes, value }) => [attributes.source, value])).toEqual([[udp.name, 7]]);
    expect(metrics.has('flux.my_late_source.hits')).toBe(false);
    metrics = await collect();
    expect(metrics.get('flux.my_late_source.hits')?.dataPoints.map(({ attributes, value }) => [attributes.source, value])).toEqual([[late.name, 9]]);
    expect(metrics.get('flux.udp_publication.bytes_sent')?.dataPoints.map(({ value }) => value)).toEqual([7]);
  });

  it('stops reporting once unregistered (a delta reader sees nothing more)', async () => {
    const { meter, collect } = openTelemetry(AggregationTemporality.DELTA);
    let bytesSent = 10;
    source('udp publication to 127.0.0.1:6 stream 6', () => ({ bytesSent }));
    const unregister = registerOpenTelemetryMetrics(meter);
    expect((await collect()).get('flux.udp_publication.bytes_sent')?.dataPoints.map(({ value }) => value)).toEqual([10]);
    bytesSent = 25;
    expect((await collect()).get('flux.udp_publication.bytes_sent')?.dataPoints.map(({ value }) => value)).toEqual([15]);
    unregister();
    unregister(); // twice: nothing more
    bytesSent = 40;
    expect([...(await collect()).keys()]).toEqual([]);
  });

  it('refuses what is not a Meter, and bad attributes, naming them', () => {
    expect(() => registerOpenTelemetryMetrics({} as never)).toThrow(FluxTypeError);
    expect(() => registerOpenTelemetryMetrics(null as never)).toThrow(/meter must be an OpenTelemetry Meter .*, got null/);
    const { meter } = openTelemetry();
    expect(() => registerOpenTelemetryMetrics(meter, { attributes: { hot: 'x' } })).toThrow(FluxRangeError);
    expect(() => registerOpenTelemetryMetrics(meter, { attributes: { service: true as never } })).toThrow(
      /options\.attributes\.service must be a string, got true/,
    );
    expect(() => registerOpenTelemetryMetrics(meter, [] as never)).toThrow(FluxTypeError);
  });

  it('leaves @opentelemetry/api out of the built package: never imported at run time, nor by its types', () => {
    for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
      const text = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');
      expect(text).toContain('registerOpenTelemetryMetrics'); // built since the adapter was added
      expect(text).not.toMatch(/(from\s*|require\(\s*|import\(\s*)["']@opentelemetry/);
    }
  });
});
