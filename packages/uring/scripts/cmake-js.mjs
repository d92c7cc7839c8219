// One way to run cmake-js over native/ (the addon's sources and CMakeLists.txt), shared by
// the from-source build (build-native.mjs) and the prebuilds (prebuild.mjs). Node-API mode:
// headers come from node-api-headers (cmake-js's) and node-addon-api, libuv's uv.h from
// Node's own headers; nothing is downloaded. cmake-js is this package's devDependency; in
// an installed copy, where it is absent, npm exec fetches the pinned version.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const nativeDir = join(packageDir, 'native');
const CMAKE_JS_VERSION = '8.0.0';
const require = createRequire(join(packageDir, 'package.json'));

function resolveOrUndefined(specifier) {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
}

/** The directory holding uv.h: npm_config_nodedir, this Node's own include/node, or /usr/include/node. */
export function nodeHeadersDir() {
  return [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node'),
    join(dirname(dirname(process.execPath)), 'include/node'),
    '/usr/include/node',
  ].find((dir) => dir && existsSync(join(dir, 'uv.h')));
}

/**
 * Compiles native/ into `out`/Release/flux_uring.node; `defines` are extra -D settings for
 * CMake (a cross compiler, a system processor). Returns the exit status.
 */
export function cmakeJsCompile({ out, defines = {}, stdio = 'inherit' }) {
  const addonApi = resolveOrUndefined('node-addon-api/package.json');
  if (!addonApi) throw new Error('node-addon-api is not installed beside @flux/uring');
  const headers = nodeHeadersDir();
  const settings = [
    `--CDNODE_ADDON_API_DIR=${dirname(addonApi)}`,
    ...(headers ? [`--CDNODE_INCLUDE_HINT=${headers}`] : []),
    ...Object.entries(defines).map(([name, value]) => `--CD${name}=${value}`),
  ];
  const local = resolveOrUndefined('cmake-js/package.json');
  const [command, prefix] = local
    ? [process.execPath, [join(dirname(local), 'bin/cmake-js')]]
    : ['npm', ['exec', '--yes', `--package=cmake-js@${CMAKE_JS_VERSION}`, '--', 'cmake-js']];
  const args = [...prefix, 'compile', '--directory', nativeDir, '--out', out, ...settings];
  const result = spawnSync(command, args, { cwd: packageDir, stdio });
  return result.status ?? 1;
}
