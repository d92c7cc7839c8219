import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

// The hot worker is an entry of its own: hot.ts starts it from the built file beside it (shims: import.meta.url in the CJS build too).
export default defineConfig(fluxBuild({ index: 'src/index.ts', chaos: 'src/chaos/index.ts', 'hot-worker': 'src/hot-worker.ts' }, { shims: true }));
