import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: the production shape on one machine (test/cluster/, docs/deployment.md).
// The test file builds its own Temporal cluster (the server binary is built once with Go and
// cached, minutes the first time), database and tongban processes, so there is no global setup
// and the hook timeout covers a cold build.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 30 * 60_000,
    pool: 'forks',
  },
});
