import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the fault-injection scenarios (test/faults/, docs/operations.md "Fault
// injection"). Each file starts its own Temporal dev server and tongban as separate processes and
// kills or restarts parts of it, so files run one at a time with long timeouts; the global setup
// only bundles the workflow code once for every worker process.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/support/global.ts'],
    fileParallelism: false,
    testTimeout: 12 * 60_000,
    hookTimeout: 5 * 60_000,
    pool: 'forks',
  },
});
