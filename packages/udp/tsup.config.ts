import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

// dgram-as-promised ships ESM only; Node 20 cannot require() it, so the CJS build bundles
// it and the ESM build imports it. The two builds share dist/: only the first one cleans it.
export default defineConfig([
  fluxBuild(['src/index.ts'], { format: ['esm'] }),
  fluxBuild(['src/index.ts'], { format: ['cjs'], clean: false, noExternal: ['dgram-as-promised'] }),
]);
