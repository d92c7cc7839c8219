import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

export default defineConfig(
  fluxBuild(['src/index.ts', 'src/validate.ts'], {
    // validate.ts is a second entry (@flux/ring/validate, for the other Flux packages); splitting
    // keeps one copy of errors.ts between the two, in CJS too, so instanceof holds across them.
    splitting: true,
  }),
);
