// The benchmark suite: runs every bench_* script in turn (never two at once: they would
// share the machine's cores), collects their --json lines, and writes
// results/latest.json and results/latest.md (a Markdown table with the conditions).
//
//   node run.mjs --demo   short runs, under two minutes (the README's main command)
//   node run.mjs --full   full-length runs, 5 per variant, and the benches too long for the demo
//   --update-readme       also replace the results table in the top-level README.md, and
//                         write the chart it embeds (results/readme.svg)
// Every run also draws results/latest.svg (lib/chart.mjs): each ratio as a bar, log scale.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { renderChart } from './lib/chart.mjs';
import { format, formatRatio } from './lib/harness.mjs';

const mode = process.argv.includes('--full') ? 'full' : 'demo';
// --rerender: rebuild latest.md (and the README table, with --update-readme) from latest.json
const rerender = process.argv.includes('--rerender');
const demoBenches = [
  'bench_ring_1p1c_throughput.mjs',
  'bench_ring_1p1c_per_message.mjs',
  'bench_ring_ping_pong_latency.mjs',
  'bench_ring_pipeline_latency.mjs',
  'bench_ring_placement_hints.mjs',
  'bench_single_thread_op_costs.mjs',
  'bench_transport_comparison.mjs',
  'bench_uring_datagrams.mjs',
];
// Too long for the demo (about a minute even with --quick): only in the full suite.
const fullOnlyBenches = ['bench_reliable_delivery.mjs'];
const benches = mode === 'full' ? [...demoBenches, ...fullOnlyBenches] : demoBenches;
const benchArgs = mode === 'full' ? ['--json', '--runs', '5'] : ['--json', '--quick', '--runs', '3'];

function runBench(script) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...benchArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with code ${code}`));
      resolve(
        output
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      );
    });
  });
}

const started = Date.now();
const all = [];
let conditions = null;
const benchConditions = {}; // each bench's own header: its conditions, e.g. which hints took effect
let measuredMode = mode;
if (rerender) {
  const saved = JSON.parse(readFileSync(new URL('results/latest.json', import.meta.url), 'utf8'));
  all.push(...saved.results);
  conditions = saved.conditions;
  measuredMode = saved.mode;
} else {
  console.log(`Flux benchmark suite (${mode}): ${benches.length} benchmarks, run one at a time`);
  for (const [index, script] of benches.entries()) {
    const benchStarted = Date.now();
    const label = `[${index + 1}/${benches.length}] ${script} ... `;
    process.stdout.write(label);
    // Progress: on a terminal, the running bench's elapsed time, redrawn each second.
    const ticker = process.stdout.isTTY
      ? setInterval(
          () => process.stdout.write(`\r${label}${((Date.now() - benchStarted) / 1000).toFixed(0)} s (suite ${((Date.now() - started) / 1000).toFixed(0)} s)`),
          1000,
        )
      : undefined;
    const lines = await runBench(script).finally(() => {
      if (ticker === undefined) return;
      clearInterval(ticker);
      process.stdout.write(`\r\x1b[K${label}`);
    });
    conditions ??= lines[0].conditions;
    benchConditions[lines[0].bench] = lines[0].conditions;
    const results = lines.filter((line) => line.variant);
    all.push(...results);
    console.log(`done in ${((Date.now() - benchStarted) / 1000).toFixed(1)} s`);
    for (const r of results) {
      const ratio = r.ratio === null ? '' : `  ${formatRatio(r.ratio)} vs ${r.baseline}`;
      console.log(`      ${r.variant.padEnd(46)} ${r.metric.padEnd(10)} ${format(r.value).padStart(9)} ${r.unit}${ratio}`);
    }
  }
}

const table = [
  `Measured ${conditions.date} on ${conditions.cpu} (${conditions.cores} vCPU), ${conditions.platform}, Node ${conditions.node}; ` +
    `${measuredMode} suite, medians of ${all[0]?.runs ?? 0} runs; ratio = median of per-run ratios against the baseline measured in the same run.`,
  '',
  '| bench | variant | metric | median | min - max | vs baseline |',
  '|---|---|---|---|---|---|',
  ...all.map(
    (r) =>
      `| ${r.bench} | ${r.variant} | ${r.metric} | ${format(r.value)} ${r.unit} | ${format(r.min)} - ${format(r.max)} | ${r.ratio === null ? 'baseline' : `${formatRatio(r.ratio)} ${r.baseline}`} |`,
  ),
  '',
].join('\n');
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
if (!rerender)
  writeFileSync(new URL('results/latest.json', import.meta.url), JSON.stringify({ mode, conditions, benchConditions, results: all }, null, 2) + '\n');
writeFileSync(new URL('results/latest.md', import.meta.url), table);
const chart = renderChart(all, conditions, measuredMode);
writeFileSync(new URL('results/latest.svg', import.meta.url), chart);
console.log(`\nWrote benchmarks/results/${rerender ? '' : 'latest.json, '}latest.md and latest.svg in ${((Date.now() - started) / 1000).toFixed(0)} s`);

if (process.argv.includes('--update-readme')) {
  const readmeUrl = new URL('../README.md', import.meta.url);
  const readme = readFileSync(readmeUrl, 'utf8');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const before = readme.slice(0, readme.indexOf(start) + start.length);
  const after = readme.slice(readme.indexOf(end));
  if (readme.indexOf(start) < 0 || readme.indexOf(end) < 0) throw new Error('README.md has no bench:results markers');
  writeFileSync(new URL('results/readme.svg', import.meta.url), chart);
  const image = '![Flux against the baseline measured in the same run, one bar per result](benchmarks/results/readme.svg)\n';
  writeFileSync(readmeUrl, `${before}\n${image}\n${table}${after}`);
  console.log('Updated the results table and chart (benchmarks/results/readme.svg) in README.md');
}
