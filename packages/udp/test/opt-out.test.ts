/**
 * The node:dgram fallback as a user without io_uring gets it: a child process with
 * FLUX_URING=0 (the opt-out variable) imports the built package, and 'auto' must pick
 * node:dgram, say why, and deliver; asking for io_uring there must fail with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('FLUX_URING=0', () => {
  it("makes 'auto' use node:dgram with the reason, and 'io_uring' refuse", () => {
    const output = execFileSync(process.execPath, [new URL('./children/opted-out.mjs', import.meta.url).pathname], {
      env: { ...process.env, FLUX_URING: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const report = JSON.parse(output.trim().split('\n').pop()!);
    expect(report.publication).toEqual(['dgram', 'opted out by FLUX_URING=0']);
    expect(report.subscription).toEqual(['dgram', 'opted out by FLUX_URING=0']);
    expect(report.received).toBe(1000);
    expect(report.refused).toMatchObject({ name: 'UringUnavailableError', code: 'ERR_FLUX_URING_UNAVAILABLE' });
    expect(report.refused.message).toMatch(/opted out by FLUX_URING=0/);
  });

  it("says so once on stderr with NODE_DEBUG=flux, however many sockets 'auto' opens on node:dgram", () => {
    const child = spawnSync(process.execPath, [new URL('./children/opted-out.mjs', import.meta.url).pathname], {
      env: { ...process.env, FLUX_URING: '0', NODE_DEBUG: 'flux' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status).toBe(0);
    // The fallback line, once; the other FLUX lines are the endpoints opening and closing (diagnostics.ts in @flux/ring).
    const lines = child.stderr.split('\n').filter((line) => line.startsWith('FLUX ') && line.includes('backend'));
    expect(lines).toEqual([`FLUX ${child.pid}: backend 'auto' is using node:dgram: opted out by FLUX_URING=0`]);
  });
});
