// Worker bootstrap: one process can host the case queue and any number of province queues.
// A province may instead run its own worker for its queue inside its own network; the case
// workflow does not care where its province activities execute.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Keyring } from '../config/secrets.js';
import { bundleHasTracing, type WorkerTracing } from '../clients/tracing.js';
import { encryptedDataConverter } from '../crypto/payloadCodec.js';
import type { CalendarActivities, MaintenanceActivities, ProjectionActivities, ProvinceActivities } from '../activities/index.js';
import type { LiaisonActivities } from '../activities/liaison.js';
import type { DatahubActivities } from '../activities/datahub.js';
import type { VideoActivities } from '../activities/video.js';
import type { NotificationActivities } from '../activities/notifications.js';
import { CASE_TASK_QUEUE, provinceTaskQueue } from '../workflows/messages.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** What the case queue runs besides the workflows: the projection, the calendar, liaison bookkeeping, the video-meeting service, the data-sharing hub and the scheduled housekeeping. */
export type CaseQueueActivities = ProjectionActivities & MaintenanceActivities & CalendarActivities & LiaisonActivities & NotificationActivities & VideoActivities & DatahubActivities;

/** What a province queue runs: the gateway calls, and the participant workflows of joint cases (多地联办) with their calendar. */
export type ProvinceQueueActivities = ProvinceActivities & CalendarActivities;

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  keyring: Keyring;
  /** The case workflows and their activities; absent in a province-only worker. */
  caseQueue?: { activities: CaseQueueActivities };
  /** Province codes whose queues this process serves, with the gateway activities. */
  provinces: readonly string[];
  /** The gateway activities, and the calendar the participants of joint cases read (local activities). */
  provinceActivities?: ProvinceQueueActivities;
  /** Server-side limit of activities per second on each province queue. */
  provinceRateLimit: number;
  /** A prebuilt bundle (production, tests); otherwise workflows/ is bundled at start. */
  workflowBundle?: { codePath: string } | { code: string };
  /**
   * Traces (clients/tracing.ts), when OTEL_EXPORTER_OTLP_ENDPOINT is set: the activity and workflow
   * interceptors and the workflow's span sink. A prebuilt bundle must then include the workflow
   * interceptor modules (`tracingWorkflowModules()`); without tracing, nothing here changes.
   */
  tracing?: WorkerTracing | null;
}

export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  if (setup.tracing && setup.workflowBundle) {
    // Without them the workflow would neither continue the api's traces nor pass them to its activities.
    const code = 'code' in setup.workflowBundle ? setup.workflowBundle.code : fs.readFileSync(setup.workflowBundle.codePath, 'utf8');
    if (!bundleHasTracing(code)) {
      const which = 'codePath' in setup.workflowBundle ? ` ${setup.workflowBundle.codePath}` : '';
      throw new Error(
        `OTEL_EXPORTER_OTLP_ENDPOINT is set but the prebuilt workflow bundle${which} has no tracing interceptors: build it with bundleWorkflowCode({ workflowInterceptorModules: tracingWorkflowModules() }) (clients/tracing.ts), or let the worker bundle at start`,
      );
    }
  }
  const common: Pick<WorkerOptions, 'connection' | 'namespace' | 'dataConverter' | 'interceptors' | 'sinks'> = {
    connection: setup.connection,
    namespace: setup.namespace,
    dataConverter: encryptedDataConverter(setup.keyring),
    ...setup.tracing?.workerOptions(!setup.workflowBundle),
  };
  const workers: Worker[] = [];
  if (setup.caseQueue) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: CASE_TASK_QUEUE,
        ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        activities: setup.caseQueue.activities,
      }),
    );
  }
  if (setup.provinces.length > 0 && !setup.provinceActivities) throw new Error('province queues need the province activities');
  for (const code of setup.provinces) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: provinceTaskQueue(code),
        // The participants of joint cases run here, in their region (workflows/joint/).
        ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
        activities: setup.provinceActivities,
        maxTaskQueueActivitiesPerSecond: setup.provinceRateLimit,
      }),
    );
  }
  if (workers.length === 0) throw new Error('nothing to run: no case queue and no province queue');
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

