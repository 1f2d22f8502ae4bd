// Composes worker and api against a Temporal server and a PostgreSQL database. Used by
// `npm start` (with the embedded defaults) and by the tests (with the test server and database),
// so both exercise the same wiring.
import pino from 'pino';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loggerOptions } from '../config/logger.js';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Config } from '../config/index.js';
import type { Secrets } from '../config/secrets.js';
import { createProjectionActivities, createProvinceActivities } from '../activities/index.js';
import { createPool } from '../clients/postgres.js';
import { connectTemporalClient } from '../clients/temporal.js';
import { createFilesystemStore } from '../materials/store.js';
import { createWorkers, runWorkers } from '../worker/workers.js';
import { startApi } from '../api/server.js';

export interface SystemOptions {
  config: Config;
  secrets: Secrets;
  temporalAddress: string;
  databaseUrl: string;
  workflowBundle?: { codePath: string };
  /** Fastify logger option for the api; default: pino at config.LOG_LEVEL. */
  apiLogger?: boolean;
}

export interface System {
  apiUrl: string;
  client: Client;
  pool: pg.Pool;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Messages of the SDK that say nothing useful here (province queues run activities only). */
const EXPECTED_SDK_NOISE = /^No workflows registered, not polling for workflow tasks/;

/**
 * Temporal's runtime (worker and core) logs warnings and errors through pino, so they get the
 * same redaction as everything else. Once per process.
 */
export function installTemporalRuntime(level = 'info'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const log = pino(loggerOptions(level, 'tongban-worker'));
  try {
    Runtime.install({
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

/** Province queues this process serves: WORKER_PROVINCES, or every configured province. */
export function workerProvinces(config: Config, secrets: Secrets): string[] {
  return config.WORKER_PROVINCES ? config.WORKER_PROVINCES.split(',').map((s) => s.trim()).filter(Boolean) : secrets.provinces.map((p) => p.code);
}

export async function startSystem(opts: SystemOptions): Promise<System> {
  const { config, secrets } = opts;
  installTemporalRuntime(config.LOG_LEVEL);
  const log = pino(loggerOptions(config.LOG_LEVEL, 'tongban'));
  const pool = createPool(opts.databaseUrl, (err) => log.error({ err }, 'idle database client failed'));
  const store = createFilesystemStore(config.MATERIALS_DIR);
  const connection = await NativeConnection.connect({ address: opts.temporalAddress });
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    caseQueue: { activities: createProjectionActivities({ pool, pii: { keyring: secrets.payloadKeys, hashKey: secrets.piiHashKey } }) },
    provinces: workerProvinces(config, secrets),
    provinceActivities: createProvinceActivities({ store, provinces: secrets.provinces, callTimeoutMs: config.PROVINCE_CALL_TIMEOUT_MS }),
    provinceRateLimit: config.PROVINCE_RATE_LIMIT,
    workflowBundle: opts.workflowBundle,
  });
  const running = runWorkers(workers);
  running.catch(() => {});
  const client = await connectTemporalClient({ address: opts.temporalAddress, namespace: config.TEMPORAL_NAMESPACE, keyring: secrets.payloadKeys });
  const api = await startApi({ config, secrets, pool, temporal: client, store, host: config.HOST, port: config.PORT, logger: opts.apiLogger });

  return {
    apiUrl: api.url,
    client,
    pool,
    async stop() {
      await api.close();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => {});
      await connection.close();
      await client.connection.close();
      await pool.end();
    },
  };
}
