// startStack on the run's Temporal dev server, database and workflow bundle (test/setup/global.ts).
import { inject } from 'vitest';
import { startStack, type StackOptions, type TestStack } from '../../harness/stack.js';

export { eventually, type TestStack } from '../../harness/stack.js';

export function startTestStack(opts: Omit<StackOptions, 'temporalAddress' | 'databaseUrl' | 'workflowBundle'> = {}): Promise<TestStack> {
  return startStack({
    ...opts,
    temporalAddress: inject('temporalAddress'),
    databaseUrl: inject('databaseUrl'),
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
}
