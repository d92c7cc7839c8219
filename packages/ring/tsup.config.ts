import { defineConfig } from 'tsup';

export default defineConfig({
  // validate.ts is a second entry (@flux/ring/validate, for the other Flux packages); splitting
  // keeps one copy of errors.ts between the two, in CJS too, so instanceof holds across them.
  entry: ['src/index.ts', 'src/validate.ts'],
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
