import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/**/*.test.ts', 'core/**/*.test.ts', 'probes/**/*.test.ts', 'runner/**/*.test.ts', 'fixtures/**/*.test.ts', 'e2e/**/*.test.ts'],
    exclude: ['node_modules/**', 'reports/**'],
    expect: { requireAssertions: true },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Stack-backed tests start real servers; two cores, so keep files from piling up.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
