// Listens. `startApi` publishes the item files into the catalog (catalog/sync.ts), then serves an
// app built from resources the caller owns (worker/system.ts, tests); run directly
// (`npm run api`), this module creates those resources itself and closes them on SIGINT/SIGTERM.
// With METRICS_PORT set, a second, tiny server serves only /metrics on that port, so a scraper
// inside the network needs no token and the public port shows nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadItemFolder } from '../catalog/files.js';
import { publishItemFolder } from '../catalog/sync.js';
import { createPool } from '../clients/postgres.js';
import { connectTemporalClient } from '../clients/temporal.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { buildApp, type AppDeps } from './app.js';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  /** `http://host:port/metrics` when METRICS_PORT is set; null otherwise (metrics need a token on the api). */
  metricsUrl: string | null;
  /** Stops listening; the pool and the Temporal client stay open (the caller owns them). */
  close(): Promise<void>;
}

function urlOf(address: AddressInfo): string {
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost === '[::]' ? '[::1]' : shownHost}:${address.port}`;
}

/** Serves GET /metrics from the app's registry and 404 for anything else. */
async function startMetricsServer(app: FastifyInstance, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    app.metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': app.metrics.registry.contentType }).end(body),
      (err: unknown) => {
        app.log.error({ err }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
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
  let metrics: http.Server | null = null;
  try {
    if (metricsPort !== undefined) metrics = await startMetricsServer(app, host, metricsPort);
  } catch (e) {
    await app.close();
    throw e;
  }
  return {
    app,
    url: urlOf(app.server.address() as AddressInfo),
    metricsUrl: metrics ? `${urlOf(metrics.address() as AddressInfo)}/metrics` : null,
    async close() {
      if (metrics) {
        const server = metrics;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      await app.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError(['DATABASE_URL: required by `npm run api` (or use `npm start`, which provides an embedded PostgreSQL)']);
  const secrets = loadSecrets(config);
  const pool = createPool(config.DATABASE_URL, (err) => console.error(`postgres pool error: ${err.message}`));
  const temporal = await connectTemporalClient({
    address: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    security: config,
  });
  const api = await startApi({ config, secrets, pool, temporal, host: config.HOST, port: config.PORT });
  api.app.log.info(`tongban api on ${api.url} (docs at ${api.url}/docs${api.metricsUrl ? `, metrics at ${api.metricsUrl}` : ''})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    api.app.log.info(`${signal}: shutting down`);
    await api.close();
    await temporal.connection.close();
    await pool.end();
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
