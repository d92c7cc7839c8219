// The harness every bench shares (lib/harness.mjs) and the packed node:dgram baseline's
// framing (lib/indexed-messages.mjs): the method (warm-up, shuffled order, steal share,
// paired ratios) and the CLI (--help, one-line errors) are what make one bench's figures
// comparable with another's, so they are tested like code.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseArgs, reporter, runInterleaved, seededRandom, selected, shuffled, stealPercent } from './lib/harness.mjs';
import { forEachPacked, IndexChecker, stamp, template } from './lib/indexed-messages.mjs';
import { LENGTH_PREFIX_BYTES, writeLengthPrefix } from './lib/length-prefixed.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
const args = (argv, spec) => parseArgs(spec, argv);
const quiet = { ...args([]), json: true }; // a reporter that prints JSON lines (silenced below)

function silenced(fn) {
  const log = console.log;
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

describe('parseArgs', () => {
  it("reads the common flags in both spellings (--runs 3 and --runs=3), and the bench's own", () => {
    const a = args(['--runs=4', '--json', '--only', 'a,b', '--seed', '9', '--rate', '5'], { options: { rate: { type: 'string', help: 'x' } } });
    expect(a).toMatchObject({ runs: 4, json: true, only: ['a', 'b'], seed: 9, rate: '5', warmup: true });
    expect(args(['--runs', '2', '--no-warmup'])).toMatchObject({ runs: 2, only: null, warmup: false });
  });

  it('--help prints the description, the variants and the flags, and exits 0; a bad flag is one line and exit 2', () => {
    const help = execFileSync(process.execPath, ['bench_transport_comparison.mjs', '--help'], { cwd: dir, encoding: 'utf8' });
    expect(help).toContain('bench_transport_comparison: UDP over loopback');
    expect(help).toContain('--rate');
    expect(help).toContain('dgramPackedSmall');
    for (const bad of [['--bogus'], ['--runs', '0'], ['--runs', 'x'], ['--only', 'nothingmatches'], ['--rate', '12']]) {
      const result = spawnSync(process.execPath, ['bench_transport_comparison.mjs', ...bad], { cwd: dir, encoding: 'utf8' });
      expect(result.status, bad.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), bad.join(' ')).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
  });

  it('selected: every variant without --only; with it, those containing one of its parts', () => {
    expect(selected({ only: null }, 'x')).toBe(true);
    expect(selected({ only: ['udp', 'tcp'] }, 'tcp/loopback')).toBe(true);
    expect(selected({ only: ['udp'] }, 'tcp/loopback')).toBe(false);
  });

  it('selected: a part that is a whole variant name selects that variant alone', () => {
    const variants = ['flux@1', 'flux@16', 'flux@1024', 'port@1'];
    const a = args(['--only', 'flux@1,port'], { variants });
    expect(variants.filter((name) => selected(a, name))).toEqual(['flux@1', 'port@1']);
    const b = args(['--only', 'flux@'], { variants });
    expect(variants.filter((name) => selected(b, name))).toEqual(['flux@1', 'flux@16', 'flux@1024']);
  });
});

describe('the method (runInterleaved)', () => {
  it('discards one warm-up pass, measures each selected variant once per run, in a seeded order that changes between runs', async () => {
    const calls = [];
    const names = ['a', 'b', 'c', 'd', 'e'];
    const { measured, method } = await runInterleaved({ runs: 6, seed: 42, warmup: true, only: null }, names, async (name, run) => {
      calls.push([name, run]);
      return run;
    });
    expect(
      calls
        .filter(([, run]) => run === -1)
        .map(([name]) => name)
        .sort(),
    ).toEqual(names);
    for (const name of names) expect(measured[name]).toEqual([0, 1, 2, 3, 4, 5]); // the warm-up is not kept
    const orders = method.runs.map((r) => r.order.join(''));
    expect(new Set(orders).size).toBeGreaterThan(1);
    for (const order of orders) expect([...order].sort().join('')).toBe('abcde');
    expect(method.runs.every((r) => typeof r.stealPercent === 'number' && typeof r.flagged === 'boolean')).toBe(true);
    // Reproducible from the seed.
    const again = await runInterleaved({ runs: 6, seed: 42, warmup: true, only: null }, names, async () => 0);
    expect(again.method.runs.map((r) => r.order.join(''))).toEqual(orders);
  });

  it('--only leaves variants out entirely, and --no-warmup skips the warm-up', async () => {
    const calls = [];
    const { measured } = await runInterleaved({ runs: 2, seed: 1, warmup: false, only: ['b'] }, ['a', 'b'], async (name, run) => calls.push([name, run]));
    expect(Object.keys(measured)).toEqual(['b']);
    expect(calls).toEqual([
      ['b', 0],
      ['b', 1],
    ]);
  });

  it('seededRandom/shuffled: a permutation, the same for the same seed', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const one = shuffled(items, seededRandom(7));
    expect([...one].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled(items, seededRandom(7))).toEqual(one);
    expect(shuffled(items, seededRandom(8))).not.toEqual(one);
  });

  it('stealPercent: stolen share of all CPU time between two /proc/stat readings', () => {
    expect(stealPercent({ total: 1000, steal: 10 }, { total: 2000, steal: 60 })).toBeCloseTo(5);
    expect(stealPercent(null, { total: 1, steal: 1 })).toBe(0);
  });
});

describe('the reporter', () => {
  it('pairs run i with baseline run i, orients the ratio, and gives the per-run min-max', () => {
    const report = reporter('b', quiet, '', {});
    silenced(() => {
      const base = report.record({ variant: 'base', metric: 'throughput', unit: 'msg/s', values: [100, 200, 400] });
      const fast = report.record({ variant: 'fast', metric: 'throughput', unit: 'msg/s', values: [200, 200, 1200], baseline: base });
      expect(fast.ratio).toBe(2); // per run 2, 1, 3
      expect([fast.ratioMin, fast.ratioMax]).toEqual([1, 3]);
      const latencyBase = report.record({ variant: 'lb', metric: 'p50', unit: 'us', values: [10, 10, 10], better: 'lower' });
      const slow = report.record({ variant: 'slow', metric: 'p50', unit: 'us', values: [20, 40, 5], baseline: latencyBase, better: 'lower' });
      expect(slow.ratio).toBe(0.5); // lower is better: baseline / variant
      expect([slow.ratioMin, slow.ratioMax]).toEqual([0.25, 2]);
    });
  });

  it('records nothing for a variant --only left out, and no ratio against a baseline that was left out', () => {
    const report = reporter('b', quiet, '', {});
    silenced(() => {
      expect(report.record({ variant: 'gone', metric: 'throughput', unit: 'msg/s', values: undefined })).toBeNull();
      const kept = report.record({ variant: 'kept', metric: 'throughput', unit: 'msg/s', values: [1], baseline: null });
      expect(kept.ratio).toBeNull();
    });
    expect(report.results.map((r) => r.variant)).toEqual(['kept']);
  });
});

describe('the packed node:dgram baseline (forEachPacked)', () => {
  const MESSAGE_BYTES = 64;
  const frame = LENGTH_PREFIX_BYTES + MESSAGE_BYTES;

  function datagram(indexes) {
    const bytes = new Uint8Array(frame * indexes.length);
    const source = template(MESSAGE_BYTES);
    indexes.forEach((index, i) => {
      writeLengthPrefix(bytes, i * frame, MESSAGE_BYTES);
      bytes.set(source, i * frame + LENGTH_PREFIX_BYTES);
      stamp(bytes, i * frame + LENGTH_PREFIX_BYTES, MESSAGE_BYTES, index);
    });
    return bytes;
  }

  function flipped(bytes, at) {
    bytes[at] ^= 1;
    return bytes;
  }

  function receive(datagrams) {
    const checker = new IndexChecker(MESSAGE_BYTES, 8);
    let malformed = 0;
    for (const d of datagrams) if (!forEachPacked(d, d.length, checker.check)) malformed++;
    return { ...checker.result(), malformed };
  }

  it('delivers every message of every datagram, in order', () => {
    const r = receive([datagram([0, 1, 2]), datagram([3, 4])]);
    expect(r).toMatchObject({ verified: 5, bad: 0, gaps: 0, malformed: 0 });
  });

  it.each([
    // The checker reads a message's index at its start and the index's complement at its end
    // (the payload between is the sender's template, not checked per message: it costs time).
    ['a corrupted index', () => [flipped(datagram([0, 1, 2]), frame + LENGTH_PREFIX_BYTES)], { bad: 1 }],
    ['a corrupted message end', () => [flipped(datagram([0, 1, 2]), 2 * frame - 1)], { bad: 1 }],
    ['a missing message', () => [datagram([0, 2])], { gaps: 1 }],
    ['a duplicated message', () => [datagram([0, 1]), datagram([1, 2])], { bad: 1 }],
    ['a datagram cut inside a frame', () => [datagram([0, 1]).subarray(0, frame + 10)], { malformed: 1 }],
    ['a length prefix past the datagram', () => [datagram([0]).map((b, i) => (i === 0 ? 200 : b))], { malformed: 1 }],
  ])('catches %s', (_, make, expected) => {
    expect(receive(make())).toMatchObject(expected);
  });
});
