// `npm start`: the whole system on one machine with embedded defaults. Temporal dev server
// (SQLite under .data/), PostgreSQL (embedded unless DATABASE_URL), migrations, the province
// simulator (unless PROVINCES names real gateways), the worker and the api; then the URLs.
// With TEMPORAL_ADDRESS / DATABASE_URL set, those are used instead of the embedded ones.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { migrate } from '../db/migrate.js';
import { startSimulator } from '../simulator/server.js';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { startEmbeddedPostgres } from './postgres.js';
import { startSystem } from './system.js';
import { startTemporalDevServer } from './temporal-server.js';

const say = (line: string) => process.stdout.write(`[tongban] ${line}\n`);
/** The servers' own chatter is left out unless it reports a problem. */
const sayServer = (line: string) => {
  if (!/^\[(postgres|temporal)\]/.test(line) || /\b(ERROR|FATAL|PANIC|error)\b|level=ERROR/.test(line)) say(line);
};

async function main() {
  const started = Date.now();
  const config = loadConfig();
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  const secrets = loadSecrets(config);
  const stops: (() => Promise<void>)[] = [];
  const shutdown = async (code: number) => {
    say('stopping…');
    for (const stop of stops.reverse()) await stop().catch((e) => say(`while stopping: ${(e as Error).message}`));
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    let temporalAddress: string;
    let temporalUi: string | null = null;
    if (config.TEMPORAL_ADDRESS) {
      temporalAddress = config.TEMPORAL_ADDRESS;
    } else {
      say(`starting the Temporal dev server (SQLite under ${path.relative(process.cwd(), path.join(config.DATA_DIR, 'temporal')) || '.'})…`);
      const server = await startTemporalDevServer({
        dbFile: path.join(config.DATA_DIR, 'temporal', 'dev.sqlite'),
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        searchAttributes: { ...SEARCH_ATTRIBUTES },
        log: sayServer,
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalUi = server.uiUrl;
    }

    let databaseUrl: string;
    if (config.DATABASE_URL) {
      databaseUrl = config.DATABASE_URL;
    } else {
      say(`starting embedded PostgreSQL (${path.relative(process.cwd(), path.join(config.DATA_DIR, 'postgres'))})…`);
      const pg = await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT, log: sayServer });
      stops.push(() => pg.stop());
      databaseUrl = pg.connectionString;
    }
    const applied = await migrate(databaseUrl, { log: say });
    say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema up to date');

    let simulatorUrl: string | null = null;
    if (!config.provinces) {
      const simulator = await startSimulator({
        provinces: secrets.provinces.map(({ code, secret }) => ({ code, secret })),
        port: config.SIMULATOR_PORT,
        reviewDelayMs: config.SIMULATOR_REVIEW_DELAY_MS,
      });
      stops.push(() => simulator.close());
      simulatorUrl = simulator.url;
    }

    const system = await startSystem({ config, secrets, temporalAddress, databaseUrl });
    stops.push(() => system.stop());

    const api = system.apiUrl;
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    say(`API              ${api}/v1   (OpenAPI: ${api}/docs)`);
    say(`health           ${api}/healthz  ${api}/readyz  ${api}/metrics`);
    say(`Temporal         ${temporalAddress}${temporalUi ? `   (Web UI: ${temporalUi})` : ''}`);
    say(`PostgreSQL       ${redactPassword(databaseUrl)}`);
    if (simulatorUrl) say(`simulator        ${simulatorUrl}   (provinces ${secrets.provinces.map((p) => p.code).join(', ')})`);
    say('a development token:  npm run token -- --role clerk --region 440100');
    say('press Ctrl+C to stop');
  } catch (e) {
    say(e instanceof ConfigError ? e.message : `failed to start: ${(e as Error).stack ?? e}`);
    await shutdown(1);
  }
}

function redactPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
