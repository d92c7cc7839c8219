import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

export default defineConfig(
  fluxBuild(['src/index.ts'], {
    // The loader resolves ../build/Release/flux_uring.node from import.meta.url; in CJS too.
    shims: true,
  }),
);
