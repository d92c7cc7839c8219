import { defineConfig } from 'tsup';

// dgram-as-promised ships ESM only; Node 20 cannot require() it, so the CJS build bundles
// it and the ESM build imports it.
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    noExternal: ['dgram-as-promised'],
  },
]);
