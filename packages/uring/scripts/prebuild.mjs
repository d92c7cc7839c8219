// Builds the prebuilds the package ships, on one x86-64 Linux machine, with zig as the cross
// compiler (zig.mjs) driving the same CMakeLists.txt as the from-source build:
//
//   npm/linux-x64-gnu/flux_uring.node     x86_64-linux-gnu.2.17    @flux/uring-linux-x64-gnu
//   npm/linux-arm64-gnu/flux_uring.node   aarch64-linux-gnu.2.17   @flux/uring-linux-arm64-gnu
//   npm/linux-x64-musl/flux_uring.node    x86_64-linux-musl        @flux/uring-linux-x64-musl
//
// Each npm/<target>/ is a package of its own with os, cpu and libc fields, which @flux/uring
// lists as optional dependencies (napi-rs's layout): a user installs the one that matches.
// Beside each file, build-info.json: the sources' hash, the compiler and target, its sha256.
//
// glibc 2.17 is the manylinux2014 baseline (RHEL 7, Amazon Linux 2, Ubuntu 14.04 on): zig
// links against that version's symbols, so nothing newer can be imported. libc++ is linked
// statically (no GLIBCXX versions), and each file is stripped.
//
//   node scripts/prebuild.mjs [--target linux-arm64-gnu ...]   build (all by default)
//   node scripts/prebuild.mjs --if-stale                        build what is missing or stale
//   node scripts/prebuild.mjs --check                           fail unless every prebuild is
//                                                               there and built from these
//                                                               sources (the pack guard)
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cmakeJsCompile, nativeDir, packageDir } from './cmake-js.mjs';
import { ensureZig, ZIG_PACKAGE } from './zig.mjs';

export const GLIBC_BASELINE = '2.17';
export const TARGETS = {
  'linux-x64-gnu': { zig: `x86_64-linux-gnu.${GLIBC_BASELINE}`, processor: 'x86_64', arch: 'x64', libc: 'glibc' },
  'linux-arm64-gnu': { zig: `aarch64-linux-gnu.${GLIBC_BASELINE}`, processor: 'aarch64', arch: 'arm64', libc: 'glibc' },
  'linux-x64-musl': { zig: 'x86_64-linux-musl', processor: 'x86_64', arch: 'x64', libc: 'musl' },
};
/** npm/<target>/: the target's package directory. */
export const targetDir = (name) => join(packageDir, 'npm', name);

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** A hash over native/'s sources and CMakeLists.txt, names included: what a prebuild was built from. */
export function sourceHash() {
  const hash = createHash('sha256');
  const files = [
    'CMakeLists.txt',
    ...readdirSync(join(nativeDir, 'src'))
      .sort()
      .map((name) => `src/${name}`),
  ];
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(nativeDir, file)))
      .update('\0');
  return hash.digest('hex');
}

/** What is wrong with the prebuilds of `names` against these sources: empty when each is present and current. */
export function checkPrebuilds(names = Object.keys(TARGETS)) {
  const problems = [];
  const hash = sourceHash();
  for (const name of names) {
    const addon = join(targetDir(name), 'flux_uring.node');
    const infoPath = join(targetDir(name), 'build-info.json');
    if (!existsSync(addon) || !existsSync(infoPath)) {
      problems.push(`npm/${name}/flux_uring.node is not built: run node scripts/prebuild.mjs --target ${name}`);
      continue;
    }
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    if (info.sourceHash !== hash)
      problems.push(`npm/${name} was built from other sources than native/ holds now: run node scripts/prebuild.mjs --target ${name}`);
    else if (info.sha256 !== sha256(readFileSync(addon))) problems.push(`npm/${name}/flux_uring.node is not the file its build-info.json describes`);
  }
  return problems;
}

function build(names) {
  const zig = ensureZig(join(packageDir, 'node_modules/.cache/flux'));
  const hash = sourceHash();
  for (const name of names) {
    const target = TARGETS[name];
    const out = join(packageDir, 'build/prebuild', name);
    mkdirSync(out, { recursive: true });
    const compiler = join(out, 'c++');
    writeFileSync(compiler, `#!/bin/sh\nexec '${zig}' c++ -target ${target.zig} "$@"\n`);
    chmodSync(compiler, 0o755);
    console.log(`@flux/uring: prebuild ${name} (zig c++ -target ${target.zig})`);
    const status = cmakeJsCompile({
      out,
      defines: {
        CMAKE_CXX_COMPILER: compiler,
        CMAKE_SYSTEM_NAME: 'Linux',
        CMAKE_SYSTEM_PROCESSOR: target.processor,
        CMAKE_SHARED_LINKER_FLAGS: '-s',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (status !== 0) throw new Error(`prebuild ${name} failed (cmake-js exit ${status})`);
    const destination = join(targetDir(name), 'flux_uring.node');
    copyFileSync(join(out, 'Release/flux_uring.node'), destination);
    const bytes = readFileSync(destination);
    const info = {
      target: name,
      zigTarget: target.zig,
      compiler: `zig ${ZIG_PACKAGE.version}`,
      glibcBaseline: target.libc === 'glibc' ? GLIBC_BASELINE : undefined,
      sourceHash: hash,
      bytes: bytes.length,
      sha256: sha256(bytes),
    };
    writeFileSync(join(targetDir(name), 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, check: { type: 'boolean' }, 'if-stale': { type: 'boolean' } } });
  const names = values.target ?? Object.keys(TARGETS);
  for (const name of names) if (!TARGETS[name]) throw new Error(`unknown target ${name} (targets: ${Object.keys(TARGETS).join(', ')})`);
  if (values.check) {
    const problems = checkPrebuilds(names);
    for (const problem of problems) console.error(`@flux/uring: ${problem}`);
    process.exit(problems.length === 0 ? 0 : 1);
  }
  // --if-stale: build only the targets that are missing or older than the sources.
  build(values['if-stale'] ? names.filter((name) => checkPrebuilds([name]).length > 0) : names);
}
