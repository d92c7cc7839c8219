// prepack: refuses to pack a @flux/uring that would install broken. `pnpm pack` before
// `pnpm build` once packed no dist/ and no addon without a word; now it fails, naming what
// is missing. The prebuilds are checked too (scripts/prebuild.mjs --check): they ship in
// their own packages, but they must be current when this one is published beside them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nativeDir, packageDir } from './cmake-js.mjs';
import { checkPrebuilds } from './prebuild.mjs';

const problems = [
  ...['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts']
    .filter((file) => !existsSync(join(packageDir, file)))
    .map((file) => `${file} is missing: run pnpm build`),
  ...(existsSync(join(nativeDir, 'CMakeLists.txt')) ? [] : ['native/CMakeLists.txt is missing: the from-source build would fail']),
  ...(process.env.FLUX_PACK_WITHOUT_PREBUILDS === '1' ? [] : checkPrebuilds()),
];
for (const problem of problems) console.error(`@flux/uring: cannot pack: ${problem}`);
process.exit(problems.length === 0 ? 0 : 1);
