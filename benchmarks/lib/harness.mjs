// The bench_* harness: command-line flags, printing conditions, repeated runs with medians,
// and the result line format. Every bench measures its baseline in the same process run.
//
//   --json        one JSON object per result line:
//                 {"bench","variant","metric","value","unit","runs","baseline","ratio","min","max"}
//                 `ratio` is how many times better than `baseline` (higher is better for a
//                 throughput, lower for a latency; the ratio is oriented so > 1 favours Flux),
//                 the median over runs of (run i / baseline run i): each pair is measured
//                 moments apart, so the host's drift between runs cancels out.
//   --runs N      runs per variant (default 3; medians are reported)
//   --quick       shorter runs (the demo suite)
//   --smoke       tiny runs that only check the bench works and verifies (used by the tests)
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export function parseArgs(argv = process.argv.slice(2)) {
  const args = { json: false, runs: 3, quick: false, smoke: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--smoke') args.smoke = true;
    else if (arg === '--runs') {
      args.runs = Number(argv[++i]);
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new RangeError(`--runs needs a whole number >= 1, got ${argv[i]}`);
    } else if (arg === '--only') {
      args.only = argv[++i];
      if (!args.only) throw new TypeError('--only needs a variant substring, e.g. --only reliable/');
    } else throw new TypeError(`unknown argument ${arg} (known: --json, --runs N, --quick, --smoke, --only SUBSTRING)`);
  }
  return args;
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
  }
  return {
    /**
     * Records one variant: `values` holds one number per run. `baseline` is another
     * recorded result (or null); `better` says which way is better ('higher' | 'lower').
     */
    record({ variant, metric, unit, values, baseline = null, better = 'higher' }) {
      const value = median(values);
      // Paired: run i of this variant against run i of its baseline (measured moments apart),
      // so a host that speeds up or slows down between runs moves both sides of each ratio.
      const ratio = baseline ? median(values.map((v, i) => (better === 'higher' ? v / baseline.values[i] : baseline.values[i] / v))) : null;
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
      };
      Object.defineProperty(result, 'values', { value: values, enumerable: false });
      results.push(result);
      if (args.json) console.log(JSON.stringify(result));
      else {
        const ratioText = ratio === null ? '' : `  ${formatRatio(ratio)} vs ${baseline.variant}`;
        console.log(
          `  ${variant.padEnd(46)} ${metric.padEnd(10)} ${format(value).padStart(10)} ${unit.padEnd(6)}` +
            ` (min ${format(result.min)}, max ${format(result.max)}, ${values.length} runs)${ratioText}`,
        );
      }
      return result;
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
