import { defineConfig } from 'tsup';
import { fluxBuild } from '../../tsup.preset.js';

export default defineConfig(fluxBuild(['src/index.ts']));
