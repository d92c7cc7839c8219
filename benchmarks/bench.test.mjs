// Smoke tests: every bench_* script runs end to end on tiny counts, verifies what it
// counted, and prints well-formed --json lines. No timing is asserted (speed belongs in the
// benchmarks themselves).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('.', import.meta.url));
const benches = readdirSync(dir).filter((name) => /^bench_.*\.mjs$/.test(name));

describe('bench_* scripts', () => {
  it('exist', () => {
    expect(benches.length).toBeGreaterThanOrEqual(3);
  });

  it.each(benches)(
    '%s runs, verifies and prints the --json format',
    (script) => {
      const output = execFileSync(process.execPath, [script, '--json', '--smoke', '--runs', '1'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
      });
      const lines = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const [header] = lines;
      const results = lines.filter((line) => line.variant !== undefined);
      expect(header.conditions.node).toBe(process.version);
      expect(results.length).toBeGreaterThan(0);
      for (const result of results) {
        expect(Object.keys(result)).toEqual(['bench', 'variant', 'metric', 'value', 'unit', 'runs', 'baseline', 'ratio', 'min', 'max', 'ratioMin', 'ratioMax']);
        // A memory difference (bench_memory, unit B) may be 0 or, by what a collection freed, below 0.
        if (result.unit === 'B') expect(Number.isFinite(result.value)).toBe(true);
        else expect(result.value).toBeGreaterThan(0);
        expect(result.runs).toBe(1);
        if (result.baseline !== null) expect(result.ratio).toBeGreaterThan(0);
      }
      expect(results.some((r) => r.baseline === null)).toBe(true);
    },
    150_000,
  ); // the child's own bound is 120 s; vitest's default 5 s is shorter than the reliable bench's smoke run
});

describe('the suite chart (lib/chart.mjs)', () => {
  it('draws one bar per result with a baseline, placed by its ratio on the log axis, and says when and where', async () => {
    const { renderChart } = await import('./lib/chart.mjs');
    const conditions = { date: '2026-11-22T00:00:00.000Z', cpu: 'Test CPU <x>', cores: 2, platform: 'linux', node: 'v20' };
    const row = (variant, ratio) => ({
      bench: 'b',
      variant,
      metric: 'throughput',
      value: 1e6,
      unit: 'msg/s',
      runs: 3,
      baseline: ratio === null ? null : 'base',
      ratio,
      min: 1,
      max: 2,
    });
    const svg = renderChart([row('base', null), row('fast', 10), row('slow', 0.5), row('even', 1)], conditions, 'demo');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(bars).toHaveLength(3);
    const [fast, slow, even] = bars;
    expect(fast[0]).toBeCloseTo(slow[0] + slow[1]); // both start or end at the 1x line
    expect(fast[1] / slow[1]).toBeCloseTo(1 / Math.log10(2), 1); // 10x is one decade from 1x, 0.5x is log10(2) of one
    expect(even[1]).toBeLessThanOrEqual(1);
    expect(svg).toContain('Measured 2026-11-22T00:00:00.000Z on Test CPU &lt;x&gt; (2 vCPU)');
    expect(svg).toContain('10.0x');
    expect(svg).toContain('0.50x');
    expect(svg).toContain('vs base'); // every bar names its baseline
  });

  it('marks a bar past the axis, splits Flux-against-Flux rows into their own panel, and makes the label column fit', async () => {
    const { renderChart, panelsOf, textWidthPx } = await import('./lib/chart.mjs');
    const conditions = { date: 'd', cpu: 'c', cores: 2, platform: 'p', node: 'v20' };
    const row = (bench, variant, baseline, ratio) => ({
      bench,
      variant,
      metric: 'throughput',
      value: 1,
      unit: 'msg/s',
      runs: 1,
      baseline,
      ratio,
      min: 1,
      max: 1,
    });
    const long = 'a variant label that is much longer than the default label column of the chart, really';
    const rows = [
      row('net', long, 'TCP cubic', 10866),
      row('net', 'short', 'TCP cubic', 0.02),
      row('ring', 'hinted', 'ring, no hints', 1.1),
      row('net', 'reliable + FEC', '@flux/reliable', 0.9),
      row('pipe', 'MessagePort (saturated at 190k msg/s)', null, null),
    ];
    const panels = panelsOf(rows);
    expect(panels.map((p) => p.groups.map((g) => [g.bench, g.rows.length]))).toEqual([
      [['net', 2]],
      [
        ['ring', 1],
        ['net', 1],
      ],
    ]);
    const svg = renderChart(rows, conditions, 'full');
    expect(svg.match(/class="off-scale"/g)).toHaveLength(2); // 10,866x and 0.02x are both past the axis, and say so
    expect(svg).toContain('10866.0x off scale');
    expect(svg).toContain('off scale');
    expect(svg).toContain('saturated at 190k msg/s');
    // The label column is at least as wide as the longest label: the label's right edge (text-anchor end) is past its width.
    const labelRight = Number(svg.match(new RegExp(`<text x="([\\d.]+)"[^>]*text-anchor="end">${long}`))[1]);
    expect(labelRight).toBeGreaterThanOrEqual(textWidthPx(`${long} · throughput`));
    // The value column fits its longest text: the chart is at least as wide as where that text ends.
    const { valueTextOf } = await import('./lib/chart.mjs');
    const width = Number(svg.match(/<svg[^>]* width="([\d.]+)"/)[1]);
    const valueX = Number(svg.match(/<text x="([\d.]+)" y="[\d.]+">10866\.0x/)[1]);
    expect(width).toBeGreaterThanOrEqual(valueX + textWidthPx(valueTextOf(rows[0])));
  });
});
