// Listens. `startApi` serves an app built from resources the caller owns (scripts/system.ts,
// tests); run directly (`npm run api`), this module creates those resources itself and closes
// them on SIGINT/SIGTERM.
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createPool } from '../clients/postgres.js';
import { connectTemporalClient } from '../clients/temporal.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { buildApp, type AppDeps } from './app.js';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  /** Stops listening; the pool and the Temporal client stay open (the caller owns them). */
  close(): Promise<void>;
}

export async function startApi(deps: AppDeps & { host: string; port: number }): Promise<RunningApi> {
  const { host, port, ...appDeps } = deps;
  const app = await buildApp(appDeps);
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`, close: () => app.close() };
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
  });
  const api = await startApi({ config, secrets, pool, temporal, host: config.HOST, port: config.PORT });
  api.app.log.info(`tongban api on ${api.url} (docs at ${api.url}/docs)`);

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
