// The suite's chart: one horizontal bar per result that has a baseline, its length the
// ratio against that baseline (measured in the same run) on a log scale, so 0.5x and 2x
// are equally far from the 1x line. Bars right of 1x favour the variant. Plain SVG, no
// library; the caption says when, where and how the numbers were measured.
//
//   +-----------------------------------------------------------------------------+
//   | title, conditions                                                           |
//   | Panel 1: Flux against alternatives        (a heading per bench)             |
//   |   variant · metric                 |      1x       |                         |
//   |   vs baseline (grey)               |######         | 3.92x (109M msg/s)      |
//   | Panel 2: Flux against Flux, and against the JS limit                        |
//   |   ... (placement hints, FEC, backends, a minimal SAB handoff)               |
//   | Saturated (no ratio): ...                                                   |
//   +-----------------------------------------------------------------------------+
//
// Every label is measured (an estimate of its width) so the label column is as wide as
// the longest label; a ratio past the axis is drawn to the edge with an arrow and its
// value, never clamped silently.
import { format, formatRatio } from './harness.mjs';

const ROW_PX = 34; // two text lines: the variant, then "vs baseline"
const HEADING_PX = 24;
const PANEL_PX = 30;
const PLOT_PX = 420;
const VALUE_PX = 190;
const TOP_PX = 64;
const FONT_PX = 12;
const CHAR_PX = 6.8; // a generous average glyph width of 12 px sans-serif (wider than most)
const MIN_RATIO = 0.1;
const MAX_RATIO = 100;
const TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];

const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Whether a row compares Flux with Flux (another configuration, backend, hint) or with a limit, not with an alternative. */
export function isReferenceRow(row) {
  const base = String(row.baseline ?? '').toLowerCase();
  return base.startsWith('@flux') || base.startsWith('flux') || base.includes('limit') || base.includes('no hints');
}

/** The width in px a label needs (an overestimate, so it always fits). */
export function textWidthPx(text) {
  return Math.ceil(String(text).length * CHAR_PX);
}

/** x position (px from the plot's left edge) of a ratio on the log axis, and whether it was past the axis. */
export function xOf(ratio) {
  const clamped = Math.min(MAX_RATIO, Math.max(MIN_RATIO, ratio));
  return { x: (Math.log10(clamped / MIN_RATIO) / Math.log10(MAX_RATIO / MIN_RATIO)) * PLOT_PX, offScale: clamped !== ratio };
}

/** The panels: rows with a ratio, split into alternatives and references, each grouped by bench in order of appearance. */
export function panelsOf(results) {
  const rows = results.filter((r) => r.ratio !== null && r.ratio !== undefined);
  const group = (list) => {
    const byBench = new Map();
    for (const r of list) {
      if (!byBench.has(r.bench)) byBench.set(r.bench, []);
      byBench.get(r.bench).push(r);
    }
    return [...byBench.entries()].map(([bench, benchRows]) => ({ bench, rows: benchRows }));
  };
  return [
    { title: 'Flux against alternatives (the best each alternative offers, in the same run)', groups: group(rows.filter((r) => !isReferenceRow(r))) },
    { title: 'Flux against Flux (other settings, backends, hints) and against the JS limit', groups: group(rows.filter(isReferenceRow)) },
  ].filter((panel) => panel.groups.length > 0);
}

/** The text right of a bar: the ratio, its per-run range, whether it is past the axis, and the figure. */
export function valueTextOf(r) {
  const range = r.ratioMin !== null && r.ratioMin !== undefined ? ` [${formatRatio(r.ratioMin)}-${formatRatio(r.ratioMax)}]` : '';
  return `${formatRatio(r.ratio)}${range}${xOf(r.ratio).offScale ? ' off scale' : ''}  (${format(r.value)} ${r.unit})`;
}

/** The SVG text for `results` (the suite's result lines) measured under `conditions`. */
export function renderChart(results, conditions, mode) {
  const panels = panelsOf(results);
  const saturated = results.filter((r) => /saturated/i.test(r.variant) && (r.ratio === null || r.ratio === undefined));
  const labelOf = (r) => `${r.variant} · ${r.metric}`;
  const baselineOf = (r) => `vs ${r.baseline}`;
  const allRows = panels.flatMap((p) => p.groups.flatMap((g) => g.rows));
  const labelPx = Math.max(
    260,
    ...allRows.map((r) => Math.max(textWidthPx(labelOf(r)), textWidthPx(baselineOf(r)))),
    ...panels.flatMap((p) => p.groups.map((g) => textWidthPx(g.bench))),
  );
  const labelX = labelPx + 16;
  const valuePx = Math.max(VALUE_PX, ...allRows.map((r) => textWidthPx(valueTextOf(r)) + 24)); // the value column fits its longest text
  const width = labelX + PLOT_PX + valuePx;
  const groups = panels.reduce((n, p) => n + p.groups.length, 0);
  const height = TOP_PX + panels.length * PANEL_PX + groups * HEADING_PX + allRows.length * ROW_PX + 40 + saturated.length * 18 + (saturated.length ? 26 : 0);
  const one = labelX + xOf(1).x;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT_PX}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Each result against the baseline measured in the same run (ratio, log scale; right of 1x favours the variant)</text>`,
    `<text x="10" y="40" fill="#444">${escapeXml(`Measured ${conditions.date} on ${conditions.cpu} (${conditions.cores} vCPU), ${conditions.platform}, Node ${conditions.node}; ${mode} suite, medians of ${allRows[0]?.runs ?? 0} runs`)}</text>`,
    `<text x="10" y="56" fill="#444">${escapeXml('ratio = median of per-run ratios; throughput: variant / baseline; latency, CPU and memory: baseline / variant. Bars with an arrow are past the axis.')}</text>`,
  ];
  let y = TOP_PX;
  for (const panel of panels) {
    y += 8;
    parts.push(`<text x="10" y="${y + 14}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += PANEL_PX - 8;
    const panelTop = y;
    for (const group of panel.groups) {
      parts.push(`<text x="10" y="${y + 16}" font-weight="bold" fill="#222">${escapeXml(group.bench)}</text>`);
      y += HEADING_PX;
      for (const r of group.rows) {
        const { x: plotX, offScale } = xOf(r.ratio);
        const x = labelX + plotX;
        const left = Math.min(x, one);
        const colour = r.ratio >= 1 ? '#2a7ab8' : '#d0673a';
        parts.push(`<text x="${labelX - 8}" y="${y + 13}" text-anchor="end">${escapeXml(labelOf(r))}</text>`);
        parts.push(`<text x="${labelX - 8}" y="${y + 27}" text-anchor="end" fill="#666" font-size="11">${escapeXml(baselineOf(r))}</text>`);
        parts.push(`<rect x="${left.toFixed(1)}" y="${y + 6}" width="${Math.max(1, Math.abs(x - one)).toFixed(1)}" height="${ROW_PX - 14}" fill="${colour}"/>`);
        if (offScale) {
          const dir = r.ratio > 1 ? 1 : -1; // an arrowhead past the axis end, pointing on
          parts.push(`<path class="off-scale" d="M${x} ${y + 4} L${x + dir * 9} ${y + ROW_PX / 2 - 1} L${x} ${y + ROW_PX - 6} Z" fill="${colour}"/>`);
        }
        parts.push(`<text x="${labelX + PLOT_PX + 14}" y="${y + 20}">${escapeXml(valueTextOf(r))}</text>`);
        y += ROW_PX;
      }
    }
    for (const tick of TICKS) {
      const tx = labelX + xOf(tick).x;
      parts.push(`<line x1="${tx}" y1="${panelTop}" x2="${tx}" y2="${y}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>`);
      parts.push(`<text x="${tx}" y="${y + 13}" text-anchor="middle" fill="#444" font-size="10">${tick}x</text>`);
    }
    y += 18;
  }
  if (saturated.length > 0) {
    y += 8;
    parts.push(`<text x="10" y="${y + 14}" font-size="14" font-weight="bold">Saturated (no ratio: the baseline could not carry the offered rate)</text>`);
    y += 26;
    for (const r of saturated) {
      parts.push(`<text x="20" y="${y + 12}">${escapeXml(`${r.bench}: ${r.variant} · ${r.metric} ${format(r.value)} ${r.unit}`)}</text>`);
      y += 18;
    }
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}
