// `npm run worker`: a worker process on its own, against TEMPORAL_ADDRESS.
//  - WORKER_CASE_QUEUE=true (default): the case workflows, the projection and the scheduled
//    housekeeping (whose Temporal Schedule it creates or updates); needs DATABASE_URL.
//  - WORKER_PROVINCES: the province queues to serve (default: every configured province).
// A province hosting its own worker runs WORKER_CASE_QUEUE=false WORKER_PROVINCES=<its code>:
// it needs its gateway's endpoint and secret and the materials store, but no database.
// The wiring is worker/system.ts's, the same as `npm start` and the tests use.
import pino from 'pino';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { loggerOptions } from '../config/logger.js';
import { createPool } from '../clients/postgres.js';
import { connectTemporalClient } from '../clients/temporal.js';
import { buildActivities, connectWorker, ensureSchedules, installTemporalRuntime, serveWorkerMetrics, temporalAddressOf, temporalMetricsOf, workerProvinces } from './system.js';
import { createWorkerMetrics } from './metrics.js';
import { createWorkers, runWorkers } from './workers.js';
import { startWorkerTracing } from '../clients/tracing.js';

async function main() {
  const config = loadConfig();
  const log = pino(loggerOptions(config.LOG_LEVEL, 'tongban-worker'));
  if (config.WORKER_CASE_QUEUE && !config.DATABASE_URL) {
    throw new ConfigError(['DATABASE_URL: required for the case queue (or set WORKER_CASE_QUEUE=false for a province-only worker)']);
  }
  const secrets = loadSecrets(config);
  installTemporalRuntime(config.LOG_LEVEL, temporalMetricsOf(config));
  const pool = config.WORKER_CASE_QUEUE && config.DATABASE_URL ? createPool(config.DATABASE_URL, (err) => log.error({ err }, 'idle database client failed')) : null;
  const address = temporalAddressOf(config);
  const connection = await connectWorker(config, address);
  const provinces = workerProvinces(config, secrets);
  const metrics = createWorkerMetrics();
  const activities = buildActivities(config, secrets, pool, undefined, metrics);
  // Traces (OTEL_EXPORTER_OTLP_ENDPOINT; clients/tracing.ts): null, and nothing loaded, when unset.
  const tracing = await startWorkerTracing(config);
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    caseQueue: activities.caseQueue ? { activities: activities.caseQueue } : undefined,
    provinces,
    provinceActivities: activities.province,
    provinceRateLimit: config.PROVINCE_RATE_LIMIT,
    ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
    tracing,
  });
  if (activities.caseQueue) {
    const client = await connectTemporalClient({ address, namespace: config.TEMPORAL_NAMESPACE, keyring: secrets.payloadKeys, security: config });
    try {
      await ensureSchedules(client, config);
    } finally {
      await client.connection.close();
    }
  }
  const stop = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  log.info({ address, namespace: config.TEMPORAL_NAMESPACE, caseQueue: pool !== null, provinces }, 'worker running');
  // WORKER_METRICS_PORT: province calls and projection lag; TEMPORAL_METRICS_PORT: the SDK's own.
  const metricsServer = await serveWorkerMetrics(config, metrics, log);
  if (metricsServer) log.info({ url: metricsServer.url }, 'worker metrics');
  await runWorkers(workers);
  await metricsServer?.close();
  await connection.close();
  await pool?.end();
  await tracing?.shutdown();
}

main().catch((e) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
