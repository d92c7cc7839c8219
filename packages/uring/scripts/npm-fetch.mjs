// Fetches one pinned npm package into a cache directory, checked against the integrity npm
// published, without installing it (no scripts run, nothing added to a lockfile). For tools
// too big to be devDependencies every install pays for: zig (prebuilds) and an arm64 Node
// (running the arm64 prebuild under qemu-user in the tests).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.error?.message || ''}`);
  }
}

/** The directory of `pin` ({ name, version, integrity }) unpacked under `cacheRoot`, fetched when not there. */
export function fetchNpmPackage(pin, cacheRoot) {
  const directory = join(cacheRoot, `${pin.name.replace('/', '+')}@${pin.version}`);
  if (existsSync(join(directory, 'package.json'))) return directory;
  const scratch = mkdtempSync(join(tmpdir(), 'flux-npm-fetch-'));
  try {
    console.log(`fetching ${pin.name}@${pin.version} into ${directory}`);
    run('npm', ['pack', `${pin.name}@${pin.version}`, '--pack-destination', scratch, '--silent']);
    const tarball = join(
      scratch,
      readdirSync(scratch).find((name) => name.endsWith('.tgz')),
    );
    const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (digest !== pin.integrity) throw new Error(`${tarball}: integrity ${digest}, expected ${pin.integrity}`);
    run('tar', ['xzf', tarball, '-C', scratch]);
    mkdirSync(cacheRoot, { recursive: true });
    rmSync(directory, { recursive: true, force: true });
    renameSync(join(scratch, 'package'), directory);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return directory;
}
