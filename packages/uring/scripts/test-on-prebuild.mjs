// The second pass of @flux/uring's tests: the whole suite again, on the prebuild this
// machine can load (FLUX_URING_ADDON points the loader at it) instead of the from-source
// build, so the file users install is the file tested. Says why and exits 0 where no
// prebuild matches this machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageDir } from './cmake-js.mjs';

const target = process.platform === 'linux' && process.arch === 'x64' ? 'linux-x64-gnu' : undefined;
const addon = target && join(packageDir, 'npm', target, 'flux_uring.node');
if (!addon || !existsSync(addon)) {
  console.log(`@flux/uring: no prebuild to run the suite on here (${process.platform}-${process.arch}); skipped`);
  process.exit(0);
}
console.log(`@flux/uring: the suite again, on the prebuild ${addon}`);
const vitest = join(dirname(createRequire(join(packageDir, 'package.json')).resolve('vitest/package.json')), 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run'], { cwd: packageDir, stdio: 'inherit', env: { ...process.env, FLUX_URING_ADDON: addon } });
process.exit(result.status ?? 1);
