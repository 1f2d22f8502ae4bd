import { defineConfig } from 'vitest/config';

// Tests run against the real Temporal dev server and the real PostgreSQL on this machine.
// test/setup/global.ts starts the dev server once and creates a fresh database for the run.
// Files run one at a time: each starts workers on the shared task queues.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault-injection scenarios and the production shape run on their own: `npm run test:faults`
    // (vitest.faults.config.ts) and `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: ['**/node_modules/**', 'test/faults/**', 'test/cluster/**'],
    globalSetup: ['test/setup/global.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: '.data/test-results.json' },
  },
});
