import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capability } from '../src/index.js';

const child = (name: string) => fileURLToPath(new URL(`./children/${name}`, import.meta.url));
const native = capability().usable ? it : it.skip;

describe('buffer lifetime', () => {
  native('sends and receives intact after JavaScript drops its references and GC runs mid-flight', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', child('lifetime.mjs')], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({ sends: 64, good: 64, bad: 0, closed: [true, true] });
  });
});

describe('fallback (FLUX_URING=0)', () => {
  it('reports the opt-out as the reason, refuses sockets with it, and hints say so', () => {
    const out = execFileSync(process.execPath, [child('fallback.mjs')], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, FLUX_URING: '0' },
    });
    const report = JSON.parse(out);
    expect(report).toMatchObject({
      usable: false,
      reason: 'opted out by FLUX_URING=0',
      source: 'none',
      createError: { name: 'UringUnavailableError', code: 'ERR_FLUX_URING_UNAVAILABLE', reason: 'opted out by FLUX_URING=0' },
      affinity: { applied: false, reason: 'opted out by FLUX_URING=0' },
      numa: 'opted out by FLUX_URING=0',
    });
  });
});

describe('an install without its addon', () => {
  it('falls back with the reason, and says so once per process on stderr (a FLUX_URING_ADDON warning)', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [child('fallback.mjs')], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
    const missing = run({ FLUX_URING_ADDON: '/nonexistent/flux_uring.node' });
    expect(JSON.parse(missing.stdout)).toMatchObject({
      usable: false,
      source: 'none',
      reason: 'build missing: FLUX_URING_ADDON names /nonexistent/flux_uring.node, which does not exist',
    });
    // capability(), UringUdpSocket.create() and the hints each asked; one warning.
    expect(missing.stderr.match(/\[FLUX_URING_ADDON\]/g)).toHaveLength(1);
    expect(missing.stderr).toMatch(/node:dgram is used/);
    // Opting out is deliberate: no warning.
    expect(run({ FLUX_URING_ADDON: '/nonexistent/flux_uring.node', FLUX_URING: '0' }).stderr).not.toMatch(/FLUX_URING_ADDON/);
  });
});

describe('forgotten sockets', () => {
  native('are finalized without blocking the event loop, and the process still exits', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', child('forgotten.mjs')], { encoding: 'utf8', timeout: 30_000 });
    const report = JSON.parse(out);
    // The old finalizer could wait up to 2 s per socket; now no loop turn comes near that.
    expect(report.longestTurnMs).toBeLessThan(1000);
  });
});
