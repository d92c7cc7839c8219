// The bench_* harness: command-line flags, printing conditions, repeated runs with medians,
// and the result line format. Every bench measures its baseline in the same process run.
//
//   --json        one JSON object per result line:
//                 {"bench","variant","metric","value","unit","runs","baseline","ratio","min","max",
//                  "ratioMin","ratioMax"}
//                 `ratio` is how many times better than `baseline` (higher is better for a
//                 throughput, lower for a latency; the ratio is oriented so > 1 favours Flux),
//                 the median over runs of (run i / baseline run i): each pair is measured
//                 moments apart, so the host's drift between runs cancels out. ratioMin and
//                 ratioMax are the smallest and largest of those per-run ratios.
//   --runs N      runs per variant (default 3; medians are reported); one more warm-up run
//                 is measured first and discarded (--no-warmup skips it)
//   --seed N      the seed of the per-run variant order (printed; default: from the clock)
//   --quick       shorter runs (the demo suite)
//   --smoke       tiny runs that only check the bench works and verifies (used by the tests)
//   --only A,B    only the variants whose name contains A or B (the names --help lists)
//   --help        this text and the bench's own description
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs as parseNodeArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false, help: 'one JSON object per line (the suite reads these)' },
  runs: { type: 'string', default: '3', help: 'N: measured runs per variant (medians are reported)' },
  seed: { type: 'string', help: 'N: seed of the per-run variant order (default: from the clock)' },
  quick: { type: 'boolean', default: false, help: 'shorter runs (the demo suite)' },
  smoke: { type: 'boolean', default: false, help: 'tiny runs that only check the bench works (the tests)' },
  only: { type: 'string', help: 'A,B: only variants whose name contains A or B (a whole variant name: that one only)' },
  'no-warmup': { type: 'boolean', default: false, help: 'skip the discarded warm-up run' },
  help: { type: 'boolean', short: 'h', default: false, help: 'this text' },
};

/** A run above this share of stolen CPU time (hypervisor steal, /proc/stat) is flagged. */
export const STEAL_FLAG_PERCENT = 5;

function scriptName() {
  return (process.argv[1] ?? 'bench').split('/').pop();
}

/** The bench's own description: the comment block at the top of its script. */
function describeScript() {
  try {
    const lines = readFileSync(process.argv[1], 'utf8').split('\n');
    const comment = [];
    for (const line of lines) {
      if (!line.startsWith('//')) break;
      comment.push(line.replace(/^\/\/ ?/, ''));
    }
    return comment.join('\n');
  } catch {
    return '';
  }
}

/**
 * Parses the common flags (above) and a bench's own (`extra`: node:util.parseArgs option
 * specs, each with a `help` line), with node:util.parseArgs. `--help` prints the bench's
 * description, its variants (`variants`, the names --only matches) and the flags, then
 * exits 0; a bad flag prints one line and exits 2.
 */
export function parseArgs({ options: extra = {}, variants = [] } = {}, argv = process.argv.slice(2)) {
  const specs = { ...COMMON_OPTIONS, ...extra };
  const fail = (message) => {
    console.error(`${scriptName()}: ${message} (see --help)`);
    process.exit(2);
  };
  let values;
  try {
    const parserOptions = Object.fromEntries(Object.entries(specs).map(([name, { help, ...spec }]) => [name, spec]));
    ({ values } = parseNodeArgs({ args: argv, options: parserOptions, strict: true, allowPositionals: false }));
  } catch (error) {
    fail(error.message.split('\n')[0]);
  }
  if (values.help) {
    const flags = Object.entries(specs).map(([name, spec]) => `  --${name.padEnd(12)} ${spec.help ?? ''}`);
    const variantLines = variants.length > 0 ? ['', 'Variants (for --only):', ...variants.map((v) => `  ${v}`)] : [];
    console.log([describeScript(), '', `Usage: node ${scriptName()} [flags]`, '', 'Flags:', ...flags, ...variantLines].join('\n'));
    process.exit(0);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs needs a whole number >= 1, got ${values.runs}`);
  const seed = values.seed === undefined ? Date.now() % 0x7fffffff : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) fail(`--seed needs a whole number >= 0, got ${values.seed}`);
  if (values.only !== undefined && values.only.trim() === '') fail('--only needs a variant name or part of one, e.g. --only reliable/');
  const only = values.only === undefined ? null : values.only.split(',').filter((part) => part !== '');
  if (only && variants.length > 0 && !variants.some((v) => only.some((part) => v.includes(part)))) {
    fail(`--only ${values.only} matches no variant (known: ${variants.join(', ')})`);
  }
  const { 'no-warmup': noWarmup, help, ...rest } = values;
  // A part that is a variant's whole name selects that variant only (--only flux@1 is not flux@16).
  const onlyExact = only ? only.filter((part) => variants.includes(part)) : [];
  return { ...rest, runs, seed, only, onlyExact, warmup: !noWarmup };
}

/**
 * Whether `--only` selects the variant named `name` (everything is selected without --only):
 * a part selects the variants whose name contains it, or, when it is a variant's whole name,
 * that variant alone.
 */
export function selected(args, name) {
  if (args.only === null || args.only === undefined) return true;
  const exact = args.onlyExact ?? [];
  return args.only.some((part) => (exact.includes(part) ? name === part : name.includes(part)));
}

/** CPU time counters from /proc/stat (all CPUs), or null where there is none. */
export function readCpuTimes() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [, ...fields] = line.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = fields.map(Number);
    return { total: user + nice + system + idle + iowait + irq + softirq + steal, steal };
  } catch {
    return null;
  }
}

/** The share (percent) of CPU time the hypervisor stole between two readCpuTimes(). */
export function stealPercent(before, after) {
  if (!before || !after || after.total === before.total) return 0;
  return ((after.steal - before.steal) / (after.total - before.total)) * 100;
}

/** A small seeded PRNG (mulberry32) for the variant order: the order is reproducible from --seed. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates with `random`. */
export function shuffled(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * The method every bench follows: the variants `names` (filtered by --only), one discarded
 * warm-up run, then args.runs runs, each in its own seeded random order, with the steal
 * time of each run read from /proc/stat. `measure(name, run)` measures one variant once.
 * Returns { measured: { name: [result per run] }, method } where `method` records the order,
 * steal share and flag of each run (print it with report.method).
 */
export async function runInterleaved(args, names, measure) {
  const chosen = names.filter((name) => selected(args, name));
  const random = seededRandom(args.seed);
  const measured = Object.fromEntries(chosen.map((name) => [name, []]));
  const runs = [];
  if (args.warmup && chosen.length > 0) {
    for (const name of shuffled(chosen, random)) await measure(name, -1);
  }
  for (let run = 0; run < args.runs; run++) {
    const order = shuffled(chosen, random);
    const before = readCpuTimes();
    for (const name of order) measured[name].push(await measure(name, run));
    const steal = stealPercent(before, readCpuTimes());
    runs.push({ run, order, stealPercent: Number(steal.toFixed(2)), flagged: steal > STEAL_FLAG_PERCENT });
  }
  return { measured, method: { seed: args.seed, warmup: args.warmup, stealFlagPercent: STEAL_FLAG_PERCENT, runs } };
}

/** How much of a full-length run to do. */
export function scaleOf(args) {
  return args.smoke ? 0.005 : args.quick ? 0.25 : 1;
}

export function conditions(extra = {}) {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    ...extra,
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** How every ratio is defined; printed in each bench's header. */
export const RATIO_DEFINITION =
  'ratio = median over runs of (this run / the baseline run measured in the same run), oriented so > 1 favours the variant; min-max are the per-run ratios';

/** Reporter: prints a header with the topology and conditions, then one line per result. */
export function reporter(bench, args, topology, extraConditions) {
  const results = [];
  const info = conditions(extraConditions);
  if (args.json) console.log(JSON.stringify({ bench, conditions: info }));
  else {
    console.log(`\n${bench}\n${topology}`);
    console.log(
      Object.entries(info)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n'),
    );
    console.log(`  ${RATIO_DEFINITION}`);
  }
  return {
    /**
     * Records one variant: `values` holds one number per run. `baseline` is another
     * recorded result (or null); `better` says which way is better ('higher' | 'lower').
     * A variant --only left out (no values) is not recorded: returns null, and a result
     * whose baseline was left out is recorded without a ratio.
     */
    record({ variant, metric, unit, values, baseline = null, better = 'higher' }) {
      if (!values || values.length === 0) return null;
      const value = median(values);
      // Paired: run i of this variant against run i of its baseline (measured moments apart),
      // so a host that speeds up or slows down between runs moves both sides of each ratio.
      const perRun = baseline ? values.map((v, i) => (better === 'higher' ? v / baseline.values[i] : baseline.values[i] / v)) : null;
      const ratio = perRun ? median(perRun) : null;
      const result = {
        bench,
        variant,
        metric,
        value,
        unit,
        runs: values.length,
        baseline: baseline ? baseline.variant : null,
        ratio,
        min: Math.min(...values),
        max: Math.max(...values),
        ratioMin: perRun ? Math.min(...perRun) : null,
        ratioMax: perRun ? Math.max(...perRun) : null,
      };
      Object.defineProperty(result, 'values', { value: values, enumerable: false });
      results.push(result);
      if (args.json) console.log(JSON.stringify(result));
      else {
        const ratioText =
          ratio === null ? '' : `  ${formatRatio(ratio)} (${formatRatio(result.ratioMin)}-${formatRatio(result.ratioMax)}) vs ${baseline.variant}`;
        console.log(
          `  ${variant.padEnd(46)} ${metric.padEnd(10)} ${format(value).padStart(10)} ${unit.padEnd(6)}` +
            ` (min ${format(result.min)}, max ${format(result.max)}, ${values.length} runs)${ratioText}`,
        );
      }
      return result;
    },
    /** Prints (or, with --json, emits as {"bench","method"}) the order and steal share of each run. */
    method(method) {
      if (args.json) console.log(JSON.stringify({ bench, method }));
      else {
        console.log(`  method: seed ${method.seed}, ${method.warmup ? 'one warm-up run discarded' : 'no warm-up run'}, order shuffled per run`);
        for (const r of method.runs) {
          console.log(
            `    run ${r.run + 1}: steal ${r.stealPercent.toFixed(1)}%${r.flagged ? ` (FLAGGED: above ${method.stealFlagPercent}%)` : ''}; order ${r.order.join(', ')}`,
          );
        }
      }
    },
    results,
  };
}

/** A ratio with two decimals below 10x (0.89x, not 0.9x), one above. */
export function formatRatio(ratio) {
  return `${ratio.toFixed(ratio < 10 ? 2 : 1)}x`;
}

export function format(value) {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** Starts a worker on `url` with `workerData`; resolves with its first message. */
export function runWorker(url, workerData, transferList = []) {
  const worker = new Worker(url, { workerData, transferList });
  return new Promise((resolve, reject) => {
    worker.once('message', (message) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`benchmark worker exited with code ${code} before reporting`)));
  });
}

/** Throws if a benchmark's own check failed: a fast wrong result is never reported. */
export function verify(condition, message) {
  if (!condition) throw new Error(`benchmark verification failed: ${message}`);
}
