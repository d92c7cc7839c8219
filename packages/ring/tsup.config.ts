import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

export default defineConfig(
  fluxBuild(['src/index.ts', 'src/validate.ts', 'src/mapped.ts'], {
    // validate.ts and mapped.ts are further entries (@flux/ring/validate and /mapped, for the other Flux packages); splitting
    // keeps one copy of errors.ts between the two, in CJS too, so instanceof holds across them.
    splitting: true,
  }),
);
