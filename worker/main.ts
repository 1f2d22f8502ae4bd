// `npm run worker`: a worker process on its own, against TEMPORAL_ADDRESS and DATABASE_URL.
// Serves the case queue and the province queues in WORKER_PROVINCES (default: all configured).
// A province hosting its own worker sets WORKER_PROVINCES to its code only.
import pino from 'pino';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { loggerOptions } from '../config/logger.js';
import { createActivities } from '../activities/index.js';
import { createPool } from '../clients/postgres.js';
import { createFilesystemStore } from '../materials/store.js';
import { installTemporalRuntime, workerProvinces } from '../scripts/system.js';
import { createWorkers, runWorkers } from './workers.js';

async function main() {
  const config = loadConfig();
  const log = pino(loggerOptions(config.LOG_LEVEL, 'tongban-worker'));
  if (!config.DATABASE_URL) throw new ConfigError(['DATABASE_URL: required for a standalone worker (npm start embeds one)']);
  const secrets = loadSecrets(config);
  installTemporalRuntime(config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, (err) => log.error({ err }, 'idle database client failed'));
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const connection = await NativeConnection.connect({ address });
  const provinces = workerProvinces(config, secrets);
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    keyring: secrets.payloadKeys,
    activities: createActivities({
      pool,
      store: createFilesystemStore(config.MATERIALS_DIR),
      provinces: secrets.provinces,
      pii: { keyring: secrets.payloadKeys, hashKey: secrets.piiHashKey },
      callTimeoutMs: config.PROVINCE_CALL_TIMEOUT_MS,
    }),
    provinces,
    provinceRateLimit: config.PROVINCE_RATE_LIMIT,
  });
  const stop = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  log.info({ address, namespace: config.TEMPORAL_NAMESPACE, provinces }, 'worker running');
  await runWorkers(workers);
  await connection.close();
  await pool.end();
}

main().catch((e) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
