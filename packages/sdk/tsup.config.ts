import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

// index: the facade's public surface; each subpath (@flux/sdk/ring, ...) is one package whole.
export default defineConfig(
  fluxBuild({
    index: 'src/index.ts',
    ring: 'src/subpaths/ring.ts',
    udp: 'src/subpaths/udp.ts',
    reliable: 'src/subpaths/reliable.ts',
    uring: 'src/subpaths/uring.ts',
    journal: 'src/subpaths/journal.ts',
  }),
);
