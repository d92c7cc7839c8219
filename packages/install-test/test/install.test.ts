/**
 * The packages as a user gets them: every published package packed (its prepack guard
 * runs), the tarballs installed into a fresh project outside the workspace, once with npm
 * and once with pnpm, and used there as an app would: the quick start the README links (a worker
 * ring and a reliable UDP stream), `npx @flux/sdk info`, a CommonJS require(), and a TypeScript check
 * of a small consumer. No install script runs (pnpm 10 runs none; npm is told to run none):
 * the addon must come from the platform package its os/cpu/libc fields select.
 *
 * The tarballs stand in for the registry: the fresh project's package.json maps every
 * @flux/* name to its tarball (overrides), as the registry would resolve each version.
 * Third-party dependencies (node-addon-api) come from the npm registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CONSUMER = new URL('../consumer/', import.meta.url).pathname;
/** The quick start the README links (examples/quick-start.mjs), run as it is from the installed packages. */
const QUICK_START = new URL('../../../examples/quick-start.mjs', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const TSC = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc');
const TYPES_NODE = dirname(require.resolve('@types/node/package.json'));

/** The published packages, by directory. */
const PACKAGES = [
  'packages/ring',
  'packages/udp',
  'packages/reliable',
  'packages/uring',
  'packages/uring/npm/linux-x64-gnu',
  'packages/uring/npm/linux-arm64-gnu',
  'packages/uring/npm/linux-x64-musl',
  'packages/journal',
  'packages/sdk',
];
const THIS_TARGET = 'linux-x64-gnu';
const supported = process.platform === 'linux' && process.arch === 'x64';

const scratch = mkdtempSync(join(tmpdir(), 'flux-install-'));
const tarballs = new Map<string, string>();
afterAll(() => (process.env.FLUX_KEEP_INSTALL ? undefined : rmSync(scratch, { recursive: true, force: true })));

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} in ${cwd} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** A fresh project in `scratch`/`name` whose @flux/* names all resolve to the tarballs. */
function project(name: string): string {
  const directory = join(scratch, name);
  mkdirSync(directory);
  const files = Object.fromEntries([...tarballs].map(([pkg, path]) => [pkg, `file:${path}`]));
  writeFileSync(
    join(directory, 'package.json'),
    JSON.stringify(
      {
        name: `flux-consumer-${name}`,
        private: true,
        type: 'module',
        dependencies: { '@flux/sdk': files['@flux/sdk'] },
        overrides: files,
        pnpm: { overrides: files },
      },
      null,
      2,
    ),
  );
  for (const file of readdirSync(CONSUMER)) cpSync(join(CONSUMER, file), join(directory, file));
  cpSync(QUICK_START, join(directory, 'quick-start.mjs'));
  return directory;
}

describe.runIf(supported)('installed from the packed tarballs', () => {
  beforeAll(() => {
    // The platform packages need their prebuilds (built by @flux/uring's test, which turbo
    // runs first; built here when this file runs alone).
    run(process.execPath, ['scripts/prebuild.mjs', '--if-stale'], join(ROOT, 'packages/uring'));
    const out = join(scratch, 'tarballs');
    mkdirSync(out);
    for (const directory of PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(ROOT, directory, 'package.json'), 'utf8'));
      run('pnpm', ['pack', '--pack-destination', out], join(ROOT, directory));
      const file = readdirSync(out).find(
        (name) =>
          name.startsWith(manifest.name.replace('@', '').replace('/', '-')) &&
          name.endsWith(`-${manifest.version}.tgz`) &&
          ![...tarballs.values()].includes(join(out, name)),
      );
      if (!file) throw new Error(`no tarball for ${manifest.name} in ${out}`);
      tarballs.set(manifest.name, join(out, file));
    }
  }, 900_000);

  it('packs each package with its own files only (the addon only in its platform package)', () => {
    const list = (tarball: string) => execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const uring = list(tarballs.get('@flux/uring') as string);
    expect(uring).toContain('package/native/CMakeLists.txt');
    expect(uring).toContain('package/scripts/build-native.mjs');
    expect(uring.filter((path) => path.endsWith('.node'))).toEqual([]);
    expect(list(tarballs.get(`@flux/uring-${THIS_TARGET}`) as string).sort()).toEqual([
      'package/CHANGELOG.md',
      'package/LICENSE',
      'package/README.md',
      'package/build-info.json',
      'package/flux_uring.node',
      'package/package.json',
    ]);
    const packed = JSON.parse(execFileSync('tar', ['xzOf', tarballs.get('@flux/uring') as string, 'package/package.json'], { encoding: 'utf8' }));
    expect(packed.optionalDependencies[`@flux/uring-${THIS_TARGET}`]).toBe('0.0.0'); // workspace:* rewritten
  });

  for (const manager of ['npm', 'pnpm'] as const) {
    describe(`with ${manager}`, () => {
      let directory = '';
      beforeAll(() => {
        directory = project(manager);
        if (manager === 'npm') run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], directory);
        else run('pnpm', ['install', '--config.confirmModulesPurge=false', '--loglevel=error'], directory);
      }, 600_000);

      it('installs the prebuild for this machine (and, with npm, not the others: os, cpu, libc)', () => {
        const installed = (name: string) =>
          existsSync(join(directory, 'node_modules', name)) || existsSync(join(directory, 'node_modules/.pnpm/node_modules', name));
        expect(installed(`@flux/uring-${THIS_TARGET}`)).toBe(true);
        // pnpm installs optional dependencies given as local tarballs whatever their os/cpu/libc
        // (seen here); npm applies the fields to them as to the registry's.
        if (manager === 'npm') {
          expect(installed('@flux/uring-linux-arm64-gnu')).toBe(false);
          expect(installed('@flux/uring-linux-x64-musl')).toBe(false);
        }
      });

      it('runs the quick start (examples/quick-start.mjs), with no warning', () => {
        const result = run(process.execPath, ['quick-start.mjs'], directory);
        expect(result.stdout).toMatch(
          /^worker -> main thread through a ring: 100000 messages, in order\npublication -> subscription over UDP: 100000 messages, in order, \d+ NAKs\n$/,
        );
        expect(result.stderr).toBe(''); // no FLUX_URING_ADDON warning: the prebuild loaded
      });

      it('answers `npx @flux/sdk info`', () => {
        const result = run('npx', ['--no-install', '@flux/sdk', 'info', '--json'], directory);
        const report = JSON.parse(result.stdout);
        expect(report.ioUring.usable).toBe(true);
        expect(report.ioUring.addon.source).toBe('prebuild');
        expect(report.ioUring.addon.path).toMatch(new RegExp(`@flux/uring-${THIS_TARGET}/flux_uring\\.node$`));
      });

      it('loads from CommonJS', () => {
        expect(JSON.parse(run(process.execPath, ['require.cjs'], directory).stdout)).toEqual({ read: 1, uring: 'function', addon: 'prebuild', sameRing: true });
      });

      it('type-checks a TypeScript consumer against the published types', () => {
        writeFileSync(
          join(directory, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              module: 'nodenext',
              moduleResolution: 'nodenext',
              target: 'es2022',
              strict: true,
              noEmit: true,
              skipLibCheck: false,
              types: ['node'],
              typeRoots: [dirname(TYPES_NODE)],
            },
            files: ['consumer.ts'],
          }),
        );
        run(process.execPath, [TSC, '-p', 'tsconfig.json'], directory);
      });
    });
  }
});

describe.skipIf(supported)('installed from the packed tarballs, elsewhere', () => {
  it(`skipped: the tarballs are installed and run on linux-x64 (this is ${process.platform}-${process.arch})`, () => {});
});
