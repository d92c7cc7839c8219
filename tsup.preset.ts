import type { Options } from 'tsup';

/**
 * The build every Flux package shares: ESM + CJS, each with its .d.ts and source maps, for
 * Node 20, the output folder cleaned first. A package's tsup.config.ts passes its entries and
 * only what differs (ring's splitting, uring's shims, udp's per-format bundling).
 */
export function fluxBuild(entry: NonNullable<Options['entry']>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    ...overrides,
  };
}
