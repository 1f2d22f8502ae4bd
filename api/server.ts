// Listens. `startApi` publishes the item files into the catalog (catalog/sync.ts), then serves an
// app built from resources the caller owns (worker/system.ts, tests); run directly
// (`npm run api`), this module creates those resources itself and closes them on SIGINT/SIGTERM.
// With METRICS_PORT set, a second, tiny server serves only /metrics on that port, so a scraper
// inside the network needs no token and the public port shows nothing.
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadItemFolder } from '../catalog/files.js';
import { publishItemFolder } from '../catalog/sync.js';
import { createPool } from '../clients/postgres.js';
import { connectTemporalClient } from '../clients/temporal.js';
import { startApiTracing } from '../clients/tracing.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { buildApp, type AppDeps } from './app.js';
import { startMetricsServer, urlOf, type MetricsServer } from './metrics.js';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  /** `http://host:port/metrics` when METRICS_PORT is set; null otherwise (metrics need a token on the api). */
  metricsUrl: string | null;
  /** Stops listening; the pool and the Temporal client stay open (the caller owns them). */
  close(): Promise<void>;
}

export async function startApi(deps: AppDeps & { host: string; port: number }): Promise<RunningApi> {
  const { host, port, ...appDeps } = deps;
  const app = await buildApp(appDeps);
  try {
    // The item files (items/) are in the catalog before the first request: intake pins from it.
    await publishItemFolder(appDeps.pool, loadItemFolder(), app.log);
  } catch (e) {
    await app.close();
    throw e;
  }
  await app.listen({ host, port });
  const metricsPort = appDeps.config.METRICS_PORT;
  let metrics: MetricsServer | null = null;
  try {
    if (metricsPort !== undefined) {
      metrics = await startMetricsServer(app.metrics.registry, { host, port: metricsPort, onError: (err) => app.log.error({ err }, 'metrics could not be collected') });
    }
  } catch (e) {
    await app.close();
    throw e;
  }
  return {
    app,
    url: urlOf(app.server.address() as AddressInfo),
    metricsUrl: metrics?.url ?? null,
    async close() {
      await metrics?.close();
      await app.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError(['DATABASE_URL: required by `npm run api` (or use `npm start`, which provides an embedded PostgreSQL)']);
  const secrets = loadSecrets(config);
  const pool = createPool(config.DATABASE_URL, (err) => console.error(`postgres pool error: ${err.message}`));
  // Traces (OTEL_EXPORTER_OTLP_ENDPOINT; clients/tracing.ts): null, and nothing loaded, when unset.
  const tracing = await startApiTracing(config);
  const temporal = await connectTemporalClient({
    address: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    security: config,
    workflowInterceptors: tracing?.workflowClientInterceptors,
  });
  const api = await startApi({ config, secrets, pool, temporal, host: config.HOST, port: config.PORT, tracing });
  api.app.log.info(`tongban api on ${api.url} (docs at ${api.url}/docs${api.metricsUrl ? `, metrics at ${api.metricsUrl}` : ''})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    api.app.log.info(`${signal}: shutting down`);
    await api.close();
    await temporal.connection.close();
    await pool.end();
    await tracing?.shutdown();
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
