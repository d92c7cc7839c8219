// Builds native/ (the io_uring addon) from source into build/Release/flux_uring.node, which
// the loader prefers to a prebuild. In the repo `pnpm build` runs it; in an installed copy
// `npx @flux/sdk build-native` does (a C++17 compiler, cmake and Node's headers needed).
//
// Not Linux: nothing to build (the package falls back to node:dgram), exit 0.
// FLUX_URING_BUILD=skip: skip the build (the loader then uses a prebuild, if one matches).
// A failed build fails: a silent fallback would hide it.
import { join } from 'node:path';
import { cmakeJsCompile, packageDir } from './cmake-js.mjs';

if (process.platform !== 'linux') {
  console.log(`@flux/uring: ${process.platform} is not Linux; no native build (node:dgram is used)`);
  process.exit(0);
}
if (process.env.FLUX_URING_BUILD === 'skip') {
  console.log('@flux/uring: FLUX_URING_BUILD=skip; no native build');
  process.exit(0);
}
const status = cmakeJsCompile({ out: join(packageDir, 'build') });
if (status !== 0) {
  console.error('@flux/uring: the native build failed (set FLUX_URING_BUILD=skip to build without it)');
  process.exit(status);
}
