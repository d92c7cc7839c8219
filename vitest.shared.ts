import { defineConfig } from 'vitest/config';

/** The vitest settings every package uses (each package's vitest.config.ts re-exports this). */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Multi-thread and multi-process tests spawn their own workers; run files one at a time
    // so two of them never fight over the machine's two cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
