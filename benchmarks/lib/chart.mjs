// The suite's chart: one horizontal bar per result that has a baseline, its length the
// ratio against that baseline (measured in the same run) on a log scale, so 0.5x and 2x
// are equally far from the 1x line. Bars right of 1x favour Flux. Plain SVG, no library;
// the caption says when, where and how the numbers were measured.
import { format, formatRatio } from './harness.mjs';

const ROW_PX = 22;
const LABEL_PX = 470;
const PLOT_PX = 420;
const VALUE_PX = 150;
const TOP_PX = 70;
const MIN_RATIO = 0.1;
const MAX_RATIO = 1000;

const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** x position (px from the plot's left edge) of a ratio on the log axis, clamped to the plot. */
function xOf(ratio) {
  const clamped = Math.min(MAX_RATIO, Math.max(MIN_RATIO, ratio));
  return (Math.log10(clamped / MIN_RATIO) / Math.log10(MAX_RATIO / MIN_RATIO)) * PLOT_PX;
}

/** The SVG text for `results` (the suite's result lines) measured under `conditions`. */
export function renderChart(results, conditions, mode) {
  const rows = results.filter((r) => r.ratio !== null);
  const width = LABEL_PX + PLOT_PX + VALUE_PX;
  const height = TOP_PX + rows.length * ROW_PX + 40;
  const one = LABEL_PX + xOf(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Flux against the baseline measured in the same run (ratio, log scale; right of 1x favours Flux)</text>`,
    `<text x="10" y="40" fill="#444">${escapeXml(`Measured ${conditions.date} on ${conditions.cpu} (${conditions.cores} vCPU), ${conditions.platform}, Node ${conditions.node}; ${mode} suite, medians of ${rows[0]?.runs ?? 0} runs`)}</text>`,
  ];
  for (const tick of [0.1, 0.5, 1, 2, 10, 100, 1000]) {
    const x = LABEL_PX + xOf(tick);
    parts.push(`<line x1="${x}" y1="${TOP_PX - 8}" x2="${x}" y2="${height - 30}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>`);
    parts.push(`<text x="${x}" y="${height - 14}" text-anchor="middle" fill="#444">${tick}x</text>`);
  }
  rows.forEach((r, i) => {
    const y = TOP_PX + i * ROW_PX;
    const x = LABEL_PX + xOf(r.ratio);
    const left = Math.min(x, one);
    const colour = r.ratio >= 1 ? '#2a7ab8' : '#d0673a';
    parts.push(`<text x="${LABEL_PX - 8}" y="${y + 14}" text-anchor="end">${escapeXml(`${r.bench}: ${r.variant} (${r.metric})`)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, Math.abs(x - one))}" height="${ROW_PX - 6}" fill="${colour}"/>`);
    parts.push(`<text x="${LABEL_PX + PLOT_PX + 8}" y="${y + 14}">${escapeXml(`${formatRatio(r.ratio)}  (${format(r.value)} ${r.unit})`)}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
