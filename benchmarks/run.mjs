// The benchmark suite: runs every bench_* script in turn (never two at once: they would
// share the machine's cores), collects their --json lines, and writes the results.
//
//   node run.mjs --demo   short runs, a few minutes (the README's main command); writes
//                         demo-results/latest.{json,md,svg} (not committed: .gitignore)
//   node run.mjs --full   full-length runs, 5 per variant, and the benches too long for the
//                         demo; writes results/latest.{json,md,svg} (committed)
//   --update-readme       (with --full) also write docs/benchmarks.md (every row, grouped by
//                         bench, generated) and the README's headline table and chart
//                         (results/readme.svg), all from this run's latest.json
//   --rerender            rebuild the Markdown, chart and README from the saved latest.json
//   --only NAMES          (with --full or --demo) run only the benches whose file name
//                         contains one of NAMES (comma-separated); nothing is written to
//                         results/ then, only to demo-results/
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderChart } from './lib/chart.mjs';
import { format, formatRatio } from './lib/harness.mjs';
import { HEADLINES } from './lib/headlines.mjs';
import { benchmarksPage, fullTable, headlineRows, headlineTable } from './lib/report.mjs';

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      demo: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      'update-readme': { type: 'boolean', default: false },
      rerender: { type: 'boolean', default: false },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`run.mjs: ${error.message.split('\n')[0]} (see --help)`);
  process.exit(2);
}
if (flags.help) {
  console.log(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .filter((line, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('//')))
      .map((line) => line.replace(/^\/\/ ?/, ''))
      .join('\n'),
  );
  process.exit(0);
}
const mode = flags.full ? 'full' : 'demo';
const rerender = flags.rerender;
const onlyBenches = flags.only === undefined ? null : flags.only.split(',').filter(Boolean);
if (flags['update-readme'] && (mode !== 'full' || onlyBenches)) {
  console.error('run.mjs: --update-readme needs --full and the whole suite (no --only): the README quotes only a full run');
  process.exit(2);
}
const demoBenches = [
  'bench_ring_1p1c_throughput.mjs',
  'bench_ring_1p1c_per_message.mjs',
  'bench_ring_fanout.mjs',
  'bench_ring_mpsc.mjs',
  'bench_ring_ping_pong_latency.mjs',
  'bench_ring_pipeline_latency.mjs',
  'bench_ring_placement_hints.mjs',
  'bench_single_thread_op_costs.mjs',
  'bench_transport_comparison.mjs',
  'bench_uring_datagrams.mjs',
].filter((script) => existsSync(new URL(script, import.meta.url)));
// Too long for the demo: only in the full suite.
const fullOnlyBenches = [
  'bench_reliable_delivery.mjs',
  'bench_network_latency.mjs',
  'bench_ring_message_sizes.mjs',
  'bench_udp_message_sizes.mjs',
  'bench_memory.mjs',
].filter((script) => existsSync(new URL(script, import.meta.url)));
const benches = (mode === 'full' ? [...demoBenches, ...fullOnlyBenches] : demoBenches).filter(
  (script) => !onlyBenches || onlyBenches.some((part) => script.includes(part)),
);
const benchArgs = mode === 'full' ? ['--json', '--runs', '5'] : ['--json', '--quick', '--runs', '3'];
// The committed results come only from a whole full suite; a demo or a partial run writes elsewhere.
const outDir = mode === 'full' && !onlyBenches ? 'results/' : 'demo-results/';

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
const benchMethods = {}; // each bench's method line: seed, warm-up, per-run order and steal
let measuredMode = mode;
if (rerender) {
  const saved = JSON.parse(readFileSync(new URL(`${outDir}latest.json`, import.meta.url), 'utf8'));
  all.push(...saved.results);
  conditions = saved.conditions;
  measuredMode = saved.mode;
  Object.assign(benchConditions, saved.benchConditions ?? {});
  Object.assign(benchMethods, saved.benchMethods ?? {});
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
    for (const line of lines) if (line.method) benchMethods[line.bench] = line.method;
    const results = lines.filter((line) => line.variant);
    all.push(...results);
    console.log(`done in ${((Date.now() - benchStarted) / 1000).toFixed(1)} s`);
    for (const r of results) {
      const ratio = r.ratio === null ? '' : `  ${formatRatio(r.ratio)} [${formatRatio(r.ratioMin)}-${formatRatio(r.ratioMax)}] vs ${r.baseline}`;
      console.log(`      ${r.variant.padEnd(46)} ${r.metric.padEnd(10)} ${format(r.value).padStart(9)} ${r.unit}${ratio}`);
    }
  }
}

const table = fullTable(all, conditions, measuredMode);
mkdirSync(new URL(outDir, import.meta.url), { recursive: true });
if (!rerender) {
  writeFileSync(
    new URL(`${outDir}latest.json`, import.meta.url),
    `${JSON.stringify({ mode, conditions, benchConditions, benchMethods, results: all }, null, 2)}\n`,
  );
}
writeFileSync(new URL(`${outDir}latest.md`, import.meta.url), table);
const chart = renderChart(all, conditions, measuredMode);
writeFileSync(new URL(`${outDir}latest.svg`, import.meta.url), chart);
console.log(`\nWrote benchmarks/${outDir}${rerender ? '' : 'latest.json, '}latest.md and latest.svg in ${((Date.now() - started) / 1000).toFixed(0)} s`);

if (flags['update-readme']) {
  const page = benchmarksPage({ results: all, conditions, mode: measuredMode, benchConditions, benchMethods, command: 'pnpm bench:readme' });
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), page);
  const readmeUrl = new URL('../README.md', import.meta.url);
  const readme = readFileSync(readmeUrl, 'utf8');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  if (readme.indexOf(start) < 0 || readme.indexOf(end) < 0) throw new Error('README.md has no bench:results markers');
  const before = readme.slice(0, readme.indexOf(start) + start.length);
  const after = readme.slice(readme.indexOf(end));
  // The README's chart holds its headline rows only; docs/benchmarks.md shows the full one.
  const { rows: headline } = headlineRows(all, HEADLINES);
  writeFileSync(new URL('results/readme.svg', import.meta.url), renderChart([...new Set(headline.map((h) => h.row))], conditions, measuredMode));
  const { text, missing } = headlineTable(all, HEADLINES, conditions, measuredMode);
  for (const spec of missing) console.log(`  headline not found in this run (left out): ${spec.bench} / ${spec.variant} / ${spec.metric}`);
  const image =
    '![The headline rows against the baseline measured in the same run; every row is charted in docs/benchmarks.md](benchmarks/results/readme.svg)\n';
  writeFileSync(readmeUrl, `${before}\n${text}\n${image}${after}`);
  console.log('Updated docs/benchmarks.md, the README headline table and its chart (benchmarks/results/readme.svg)');
}
