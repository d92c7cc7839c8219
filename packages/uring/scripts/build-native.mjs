// Builds native/ (the io_uring addon) into build/Release/flux_uring.node with cmake-js in
// Node-API mode: headers come from node-api-headers and node-addon-api, libuv's uv.h from
// this Node's own headers; nothing is downloaded.
//
// Not Linux: nothing to build (the package falls back to node:dgram), exit 0.
// FLUX_URING_BUILD=skip: skip the build (the capability report then says "build missing").
// A failed build on Linux fails the workspace build: a silent fallback would hide it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = resolve(packageDir, '../../native');
const require = createRequire(join(packageDir, 'package.json'));

if (process.platform !== 'linux') {
  console.log(`@flux/uring: ${process.platform} is not Linux; no native build (node:dgram is used)`);
  process.exit(0);
}
if (process.env.FLUX_URING_BUILD === 'skip') {
  console.log('@flux/uring: FLUX_URING_BUILD=skip; no native build');
  process.exit(0);
}

const nodeHeaders = [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node'),
  join(dirname(dirname(process.execPath)), 'include/node'),
  '/usr/include/node',
].find((dir) => dir && existsSync(join(dir, 'uv.h')));

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin/cmake-js');
const args = [
  cmakeJs,
  'compile',
  '--directory',
  nativeDir,
  '--out',
  join(packageDir, 'build'),
  `--CDNODE_ADDON_API_DIR=${dirname(require.resolve('node-addon-api/package.json'))}`,
  ...(nodeHeaders ? [`--CDNODE_INCLUDE_HINT=${nodeHeaders}`] : []),
];
const result = spawnSync(process.execPath, args, { cwd: packageDir, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('@flux/uring: the native build failed (set FLUX_URING_BUILD=skip to build without io_uring)');
  process.exit(result.status ?? 1);
}
