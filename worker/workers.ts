// Worker bootstrap: one process can host the case queue and any number of province queues.
// A province may instead run its own worker for its queue inside its own network; the case
// workflow does not care where its province activities execute.
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Keyring } from '../config/secrets.js';
import { encryptedDataConverter } from '../crypto/payloadCodec.js';
import type { Activities } from '../activities/index.js';
import { CASE_TASK_QUEUE, provinceTaskQueue } from '../workflows/messages.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  keyring: Keyring;
  activities: Activities;
  /** Province codes whose queues this process serves. */
  provinces: readonly string[];
  /** Server-side limit of activities per second on each province queue. */
  provinceRateLimit: number;
  /** Whether this process runs the case workflows (and their projection activities). */
  caseQueue?: boolean;
  /** A prebuilt bundle (production, tests); otherwise workflows/ is bundled at start. */
  workflowBundle?: { codePath: string } | { code: string };
}

export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const common: Pick<WorkerOptions, 'connection' | 'namespace' | 'dataConverter'> = {
    connection: setup.connection,
    namespace: setup.namespace,
    dataConverter: encryptedDataConverter(setup.keyring),
  };
  const workers: Worker[] = [];
  if (setup.caseQueue ?? true) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: CASE_TASK_QUEUE,
        ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        activities: { recordCaseEvent: setup.activities.recordCaseEvent },
      }),
    );
  }
  for (const code of setup.provinces) {
    const { recordCaseEvent: _projection, ...provinceActivities } = setup.activities;
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: provinceTaskQueue(code),
        activities: provinceActivities,
        maxTaskQueueActivitiesPerSecond: setup.provinceRateLimit,
      }),
    );
  }
  return workers;
}

/** Runs the workers until shutdown() is called on them (or one fails, which stops the rest). */
export async function runWorkers(workers: readonly Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((w) => w.run()));
  } catch (e) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    throw e;
  }
}

