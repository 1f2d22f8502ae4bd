// Worker composition: which activities each queue runs, how the worker reaches Temporal, the
// schedules the system relies on, and `startSystem`, which brings worker and api up against a
// Temporal server and a PostgreSQL database. `npm start` (scripts/start.ts), `npm run worker`
// (worker/main.ts), the harness (harness/stack.ts: tests, benchmark, history recording) all
// compose through these functions, so every one of them exercises the same wiring.
import pino from 'pino';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { ScheduleAlreadyRunning, type Client, type ScheduleOptionsAction, type ScheduleSpec } from '@temporalio/client';
import type pg from 'pg';
import { loggerOptions } from '../config/logger.js';
import type { Config } from '../config/index.js';
import type { Secrets } from '../config/secrets.js';
import { createCalendarActivities, createMaintenanceActivities, createProjectionActivities, createProvinceActivities } from '../activities/index.js';
import { createLiaisonActivities } from '../activities/liaison.js';
import { createDatahubActivities } from '../activities/datahub.js';
import { createVideoActivities } from '../activities/video.js';
import { createNotificationActivities } from '../activities/notifications.js';
import { shippedCalendar } from '../calendar/load.js';
import { CALENDAR_RUNWAY_WARN_DAYS, dateInChina, type WorkingCalendar } from '../domain/calendar.js';
import { createPool } from '../clients/postgres.js';
import { connectTemporalClient, temporalConnectionOptions } from '../clients/temporal.js';
import { createFilesystemStore } from '../materials/store.js';
import { CASE_TASK_QUEUE } from '../workflows/messages.js';
import type { SweepUnattachedFilesInput } from '../workflows/maintenance/sweepUnattachedFiles.js';
import { createWorkers, runWorkers, type CaseQueueActivities, type ProvinceQueueActivities } from './workers.js';
import { startApi } from '../api/server.js';
import { startApiTracing, startWorkerTracing } from '../clients/tracing.js';
import { startMetricsServer, type MetricsServer } from '../api/metrics.js';
import { createProvinceGateway } from '../activities/gateway.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';

export interface SystemOptions {
  config: Config;
  secrets: Secrets;
  temporalAddress: string;
  databaseUrl: string;
  workflowBundle?: { codePath: string };
  /** Fastify logger option for the api; default: pino at config.LOG_LEVEL. */
  apiLogger?: boolean;
  /** The working-day calendar the activities answer from; default: the data shipped under calendar/. */
  calendar?: WorkingCalendar;
}

export interface System {
  apiUrl: string;
  /** `…/metrics` on METRICS_PORT when set; null when metrics are on the api (behind a token). */
  metricsUrl: string | null;
  /** The worker's metrics (province calls, projection lag), served on WORKER_METRICS_PORT when set. */
  workerMetrics: WorkerMetrics;
  /** `…/metrics` on WORKER_METRICS_PORT when set, else null. */
  workerMetricsUrl: string | null;
  /** The Temporal SDK's own metrics on TEMPORAL_METRICS_PORT when set (the first system of the process installs the runtime), else null. */
  temporalMetricsUrl: string | null;
  client: Client;
  pool: pg.Pool;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Messages of the SDK that say nothing useful here (province queues run activities only). */
const EXPECTED_SDK_NOISE = /^No workflows registered, not polling for workflow tasks/;

/**
 * Temporal's runtime (worker and core) logs warnings and errors through pino, so they get the
 * same redaction as everything else. With `metrics` (TEMPORAL_METRICS_PORT), the Core runtime's
 * own Prometheus exporter serves the SDK's worker metrics (task latencies and failures, slots,
 * pollers) at `http://host:port/metrics`: counters with `_total`, durations in seconds, as
 * Prometheus names them. Once per process: the first caller's options stay.
 */
export function installTemporalRuntime(level = 'info', metrics?: { host: string; port: number }): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const log = pino(loggerOptions(level, 'tongban-worker'));
  try {
    Runtime.install({
      ...(metrics && {
        telemetryOptions: {
          metrics: { prometheus: { bindAddress: `${metrics.host}:${metrics.port}`, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } },
        },
      }),
      logger: new DefaultLogger('WARN', (entry) => {
        if (EXPECTED_SDK_NOISE.test(entry.message)) return;
        // pino serialises an Error only under `err`; the task token is an opaque blob.
        const { error, taskToken: _taskToken, ...meta } = entry.meta ?? {};
        const fields = error instanceof Error ? { ...meta, err: error } : error === undefined ? meta : { ...meta, error };
        if (entry.level === 'ERROR') log.error(fields, entry.message);
        else log.warn(fields, entry.message);
      }),
    });
  } catch {
    // Already installed by someone else in this process: keep theirs.
  }
}

/** Where the Core runtime exports Temporal's worker metrics: TEMPORAL_METRICS_PORT on HOST, or nowhere. */
export function temporalMetricsOf(config: Config): { host: string; port: number } | undefined {
  return config.TEMPORAL_METRICS_PORT === undefined ? undefined : { host: config.HOST, port: config.TEMPORAL_METRICS_PORT };
}

function temporalMetricsUrlOf(config: Config): string | null {
  const at = temporalMetricsOf(config);
  return at ? `http://${at.host === '0.0.0.0' ? '127.0.0.1' : at.host}:${at.port}/metrics` : null;
}

/** The worker's own /metrics on WORKER_METRICS_PORT (HOST), or none. */
export function serveWorkerMetrics(config: Config, metrics: WorkerMetrics, log: pino.Logger): Promise<MetricsServer | null> {
  if (config.WORKER_METRICS_PORT === undefined) return Promise.resolve(null);
  return startMetricsServer(metrics.registry, { host: config.HOST, port: config.WORKER_METRICS_PORT, onError: (err) => log.error({ err }, 'worker metrics could not be collected') });
}

/** Province queues this process serves: WORKER_PROVINCES, or every configured province. */
export function workerProvinces(config: Config, secrets: Secrets): string[] {
  return config.WORKER_PROVINCES ? config.WORKER_PROVINCES.split(',').map((s) => s.trim()).filter(Boolean) : secrets.provinces.map((p) => p.code);
}

/** The Temporal frontend: TEMPORAL_ADDRESS, or the local dev server's port. */
export function temporalAddressOf(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
}

/** The worker's connection, secured as configured (TEMPORAL_TLS_*, TEMPORAL_API_KEY; see clients/temporal.ts). */
export function connectWorker(config: Config, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(address, config));
}

/**
 * The activity sets of both kinds of queue. The case queue's (projection and housekeeping) need
 * the database, so they exist only with a pool; the province queues' need the gateway endpoints
 * and the materials store, never the database.
 */
export function buildActivities(
  config: Config,
  secrets: Secrets,
  pool: pg.Pool | null,
  calendar: WorkingCalendar = shippedCalendar(),
  metrics?: WorkerMetrics,
): { caseQueue: CaseQueueActivities | null; province: ProvinceQueueActivities } {
  const store = createFilesystemStore(config.MATERIALS_DIR);
  return {
    caseQueue: pool
      ? {
          ...createProjectionActivities({ pool, pii: { keyring: secrets.piiSealKeys, hashKey: secrets.piiHashKey }, metrics: metrics?.projection }),
          ...createMaintenanceActivities({ pool, store }),
          ...createLiaisonActivities({ pool }),
          // The video-meeting service of 视频会商 (VIDEO_SERVICE_URL; the simulator's in development and tests).
          ...createVideoActivities({
            service: config.VIDEO_SERVICE_URL && config.VIDEO_SERVICE_API_KEY ? { baseUrl: config.VIDEO_SERVICE_URL, apiKey: config.VIDEO_SERVICE_API_KEY } : null,
            callTimeoutMs: config.PROVINCE_CALL_TIMEOUT_MS,
          }),
          ...createNotificationActivities({
            pool,
            pii: { keyring: secrets.piiSealKeys, hashKey: secrets.piiHashKey },
            calendar,
            gateway: config.SMS_GATEWAY_URL && config.SMS_API_KEY ? { url: config.SMS_GATEWAY_URL.replace(/\/$/, ''), apiKey: config.SMS_API_KEY } : null,
            supplementReminderDays: config.SMS_SUPPLEMENT_REMINDER_DAYS,
            pickupReminderDays: config.PICKUP_REMINDER_DAYS,
          }),
          // The data-sharing hub of 免提交 (DATAHUB_URL; the simulator's in development and tests).
          ...createDatahubActivities({
            pool,
            store,
            hub: config.DATAHUB_URL && config.DATAHUB_SECRET ? { baseUrl: config.DATAHUB_URL, secret: config.DATAHUB_SECRET } : null,
            callTimeoutMs: config.PROVINCE_CALL_TIMEOUT_MS,
            maxBytes: config.UPLOAD_MAX_BYTES,
          }),
          // The working-day calendar, read once here; a malformed data file stops the start (calendar/load.ts).
          ...createCalendarActivities(calendar, { warnDaysLeft: config.SLA_WARN_DAYS_LEFT, warnUsedRatio: config.SLA_WARN_USED_RATIO }),
        }
      : null,
    province: {
      ...createProvinceActivities({
        store,
        provinces: secrets.provinces,
        callTimeoutMs: config.PROVINCE_CALL_TIMEOUT_MS,
        gateway: createProvinceGateway(secrets.provinces, metrics?.provinceCalls),
      }),
      // The participants of joint cases read the calendar as local activities on their province's queue.
      ...createCalendarActivities(calendar, { warnDaysLeft: config.SLA_WARN_DAYS_LEFT, warnUsedRatio: config.SLA_WARN_USED_RATIO }),
    },
  };
}

/** The Temporal Schedule of the unattached-files sweep (workflows/maintenance/sweepUnattachedFiles.ts). */
export const SWEEP_UNATTACHED_FILES_SCHEDULE_ID = 'tongban-sweep-unattached-files';

/** The Temporal Schedule sending the SMS outbox (workflows/maintenance/sendNotifications.ts). */
export const SEND_NOTIFICATIONS_SCHEDULE_ID = 'tongban-send-notifications';

/** The Temporal Schedule of the escalation of overdue follow-ups (workflows/maintenance/escalateFollowUps.ts). */
export const ESCALATE_FOLLOW_UPS_SCHEDULE_ID = 'tongban-escalate-follow-ups';

/**
 * Creates the housekeeping schedules, or brings existing ones to the configured intervals and
 * inputs. Idempotent: every process that serves the case queue calls it when it starts.
 */
export async function ensureSchedules(client: Client, config: Config): Promise<void> {
  const input: SweepUnattachedFilesInput = { ttlHours: config.UNATTACHED_FILE_TTL_HOURS };
  await ensureSchedule(client, SWEEP_UNATTACHED_FILES_SCHEDULE_ID, config.FILE_SWEEP_INTERVAL_MINUTES, 'sweepUnattachedFilesWorkflow', [input]);
  await ensureSchedule(client, ESCALATE_FOLLOW_UPS_SCHEDULE_ID, config.FOLLOW_UP_SWEEP_INTERVAL_MINUTES, 'escalateFollowUpsWorkflow', []);
  await ensureSchedule(client, SEND_NOTIFICATIONS_SCHEDULE_ID, config.SMS_OUTBOX_INTERVAL_SECONDS / 60, 'sendNotificationsWorkflow', []);
}

async function ensureSchedule(client: Client, scheduleId: string, everyMinutes: number, workflowType: string, args: unknown[]): Promise<void> {
  const spec: ScheduleSpec = { intervals: [{ every: `${Math.round(everyMinutes * 60)} seconds` }] };
  const action: ScheduleOptionsAction = { type: 'startWorkflow', workflowType, workflowId: scheduleId, taskQueue: CASE_TASK_QUEUE, args };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: 'SKIP' } });
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    const handle = client.schedule.getHandle(scheduleId);
    try {
      await handle.update((previous) => ({ ...previous, spec, action }));
    } catch (updateError) {
      // The existing action cannot be decoded (it was sealed with a payload key this keyring no
      // longer holds, e.g. another test stack's): the schedule holds no case data, so replace it.
      if (!(updateError instanceof Error) || !/authenticate|unknown encryption key/i.test(updateError.message)) throw updateError;
      await handle.delete();
      await client.schedule.create({ scheduleId, spec, action, policies: { overlap: 'SKIP' } });
    }
  }
}

/** Runs `step`, but gives up waiting after `ms` (the step may still finish in the background). */
export async function bounded(step: string, ms: number, fn: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${step}: gave up after ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A calendar about to run out makes deadlines fail for a person to handle: say so at start. */
function warnIfCalendarEndsSoon(calendar: WorkingCalendar, log: pino.Logger): void {
  const runway = calendar.runway(dateInChina(new Date()));
  if (runway < CALENDAR_RUNWAY_WARN_DAYS) {
    log.warn(
      { calendarEnds: calendar.covered.to, workingDaysLeft: runway },
      `the working-day calendar ends ${calendar.covered.to}, ${runway} working days from today: add the next year's State Council notice under calendar/ (docs/calendar.md); until then deadlines counted past its end wait for a person`,
    );
  }
}

export async function startSystem(opts: SystemOptions): Promise<System> {
  const { config, secrets } = opts;
  installTemporalRuntime(config.LOG_LEVEL, temporalMetricsOf(config));
  const log = pino(loggerOptions(config.LOG_LEVEL, 'tongban'));
  const pool = createPool(opts.databaseUrl, (err) => log.error({ err }, 'idle database client failed'));
  const store = createFilesystemStore(config.MATERIALS_DIR);
  const connection = await connectWorker(config, opts.temporalAddress);
  const calendar = opts.calendar ?? shippedCalendar();
  warnIfCalendarEndsSoon(calendar, log);
  const workerMetrics = createWorkerMetrics();
  const activities = buildActivities(config, secrets, pool, calendar, workerMetrics);
  // Traces (OTEL_EXPORTER_OTLP_ENDPOINT; clients/tracing.ts): null each, and nothing loaded, when unset.
  const tracing = { worker: await startWorkerTracing(config), api: await startApiTracing(config) };
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    caseQueue: { activities: activities.caseQueue! },
    provinces: workerProvinces(config, secrets),
    provinceActivities: activities.province,
    provinceRateLimit: config.PROVINCE_RATE_LIMIT,
    workflowBundle: opts.workflowBundle,
    tracing: tracing.worker,
  });
  const running = runWorkers(workers);
  running.catch(() => {});
  const client = await connectTemporalClient({
    address: opts.temporalAddress,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    security: config,
    workflowInterceptors: tracing.api?.workflowClientInterceptors,
  });
  await ensureSchedules(client, config);
  const api = await startApi({ config, secrets, pool, temporal: client, store, calendar, host: config.HOST, port: config.PORT, logger: opts.apiLogger, tracing: tracing.api });
  const workerMetricsServer = await serveWorkerMetrics(config, workerMetrics, log).catch(async (e: unknown) => {
    await api.close();
    throw e;
  });

  let stopped: Promise<void> | null = null;
  return {
    apiUrl: api.url,
    metricsUrl: api.metricsUrl,
    workerMetrics,
    workerMetricsUrl: workerMetricsServer?.url ?? null,
    temporalMetricsUrl: temporalMetricsUrlOf(config),
    client,
    pool,
    // Every step is bounded and runs even if an earlier one failed, so a dead database or
    // Temporal server cannot make the stop hang; the first failure is reported at the end.
    stop: () =>
      (stopped ??= (async () => {
        const failures: Error[] = [];
        const step = async (name: string, ms: number, fn: () => Promise<unknown>) => {
          await bounded(name, ms, fn).catch((e: Error) => failures.push(e));
        };
        await step('closing the api', 5_000, () => api.close());
        if (workerMetricsServer) await step('closing the worker metrics', 5_000, () => workerMetricsServer.close());
        await step('stopping the workers', 15_000, async () => {
          for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
          await running.catch(() => {});
        });
        await step('closing the worker connection', 5_000, () => connection.close());
        await step('closing the Temporal client', 5_000, () => client.connection.close());
        // Last, so the spans of the requests and tasks just finished are flushed.
        await step('flushing the traces', 10_000, () => Promise.all([tracing.api?.shutdown(), tracing.worker?.shutdown()]));
        await step('closing the database pool', 5_000, () => pool.end());
        if (failures.length) throw new Error(failures.map((f) => f.message).join('; '));
      })()),
  };
}
