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

  it.each(benches)('%s runs, verifies and prints the --json format', (script) => {
    const output = execFileSync(process.execPath, [script, '--json', '--smoke', '--runs', '1'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const [header, ...results] = output.trim().split('\n').map((line) => JSON.parse(line));
    expect(header.conditions.node).toBe(process.version);
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) {
      expect(Object.keys(result)).toEqual(['bench', 'variant', 'metric', 'value', 'unit', 'runs', 'baseline', 'ratio', 'min', 'max']);
      expect(result.value).toBeGreaterThan(0);
      expect(result.runs).toBe(1);
      if (result.baseline !== null) expect(result.ratio).toBeGreaterThan(0);
    }
    expect(results.some((r) => r.baseline === null)).toBe(true);
  });
});
