// `npm start`: the whole system on one machine with embedded defaults. Temporal dev server
// (SQLite under .data/), PostgreSQL (embedded unless DATABASE_URL), migrations, the province
// simulator (unless PROVINCES names real gateways), the development identity provider for staff
// sign-in (unless OIDC_ISSUER names a real one; its accounts are printed), the worker and the api;
// then the URLs. With TEMPORAL_ADDRESS / DATABASE_URL set, those are used instead of the embedded ones.
// The embedded PostgreSQL is watched and restarted if it dies (dev/postgres.ts). Ctrl+C stops
// everything in reverse order, each step bounded, the servers always last; a second Ctrl+C
// kills the servers and exits at once.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/index.js';
import { devLicenceKeys, loadSecrets } from '../config/secrets.js';
import { migrate } from '../db/migrate.js';
import { startSimulator } from '../simulator/server.js';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { startEmbeddedPostgres, watchEmbeddedPostgres } from '../dev/postgres.js';
import { bounded, startSystem } from '../worker/system.js';
import { startTemporalDevServer } from '../dev/temporal-server.js';
import { DEV_ACCOUNTS, DEV_PASSWORD } from '../identity/devAccounts.js';
import { loadDevIdentityKeys, startDevIdentityProvider } from '../identity/devProvider.js';

/** The console's client id at the development identity provider. */
const DEV_OIDC_CLIENT_ID = 'tongban-console';

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
  // What to stop, in start order; stopped in reverse. Each step has a bound, so one that hangs
  // (a server that already died, a worker waiting on a dead database) cannot block the rest.
  const stops: { name: string; ms: number; stop: () => Promise<void> }[] = [];
  // The servers' kill switches, for a forced exit.
  const kills: (() => void)[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping… (Ctrl+C again to force)');
    for (const { name, ms, stop } of [...stops].reverse()) {
      await bounded(name, ms, stop).catch((e: Error) => say(`while stopping: ${e.message}`));
    }
    process.exit(code);
  };
  const onSignal = () => {
    if (!stopping) return void shutdown(0);
    say('forced exit: killing the servers');
    for (const kill of kills) {
      try {
        kill();
      } catch {
        // already gone
      }
    }
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
      stops.push({ name: 'stopping the Temporal dev server', ms: 15_000, stop: () => server.stop() });
      kills.push(() => server.kill());
      temporalAddress = server.address;
      temporalUi = server.uiUrl;
    }

    let databaseUrl: string;
    if (config.DATABASE_URL) {
      databaseUrl = config.DATABASE_URL;
    } else {
      say(`starting embedded PostgreSQL (${path.relative(process.cwd(), path.join(config.DATA_DIR, 'postgres'))})…`);
      const pg = await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT, log: sayServer });
      stops.push({ name: 'stopping PostgreSQL', ms: 25_000, stop: () => pg.stop() });
      kills.push(() => pg.kill());
      // Stopped before PostgreSQL (reverse order), so a shutdown is never mistaken for a crash.
      const watchdog = watchEmbeddedPostgres(pg, { log: say });
      stops.push({ name: 'stopping the PostgreSQL watchdog', ms: 1_000, stop: async () => watchdog.stop() });
      databaseUrl = pg.connectionString;
    }
    const applied = await migrate(databaseUrl, { log: say });
    say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema up to date');

    let simulatorUrl: string | null = null;
    let smsGateway: { SMS_GATEWAY_URL?: string; SMS_API_KEY?: string } = {};
    let videoService: { VIDEO_SERVICE_URL?: string; VIDEO_SERVICE_API_KEY?: string } = {};
    let datahub: { DATAHUB_URL?: string; DATAHUB_SECRET?: string } = {};
    if (!config.provinces) {
      const simulator = await startSimulator({
        provinces: secrets.provinces.map(({ code, secret }) => ({ code, secret })),
        port: config.SIMULATOR_PORT,
        reviewDelayMs: config.SIMULATOR_REVIEW_DELAY_MS,
        correctionDelayMs: config.SIMULATOR_CORRECTION_DELAY_MS,
        procedureDelayMs: config.SIMULATOR_PROCEDURE_DELAY_MS,
        // Its provinces' cases and event ids survive a restart of npm start.
        stateFile: path.join(config.DATA_DIR, 'simulator', 'state.json'),
        // It plays the provinces' issuing authorities: their private keys (tongban's secrets hold the public ones).
        licenceKeys: devLicenceKeys(config.DATA_DIR),
      });
      stops.push({ name: 'closing the simulator', ms: 5_000, stop: () => simulator.close() });
      simulatorUrl = simulator.url;
      // Without a real SMS gateway, the simulator plays it.
      if (!config.SMS_GATEWAY_URL) smsGateway = { SMS_GATEWAY_URL: simulator.smsBaseUrl, SMS_API_KEY: simulator.serviceApiKey };
      // Without a real video-meeting service, the simulator plays it (视频会商).
      if (!config.VIDEO_SERVICE_URL) videoService = { VIDEO_SERVICE_URL: simulator.videoBaseUrl, VIDEO_SERVICE_API_KEY: simulator.serviceApiKey };
      // Without a real data-sharing hub, the simulator plays it (免提交).
      if (!config.DATAHUB_URL) datahub = { DATAHUB_URL: simulator.datahubBaseUrl, DATAHUB_SECRET: simulator.datahubSecret };
    }

    // Staff sign-in: without a real identity platform, the development provider with seeded accounts.
    let identity: { OIDC_ISSUER?: string; OIDC_CLIENT_ID?: string; OIDC_CLIENT_SECRET?: string } = {};
    const publicUrl = config.PUBLIC_URL.replace(/\/$/, '');
    if (!config.OIDC_ISSUER) {
      const dir = path.join(config.DATA_DIR, 'identity');
      const { clientSecret } = loadDevIdentityKeys(dir);
      // The browser reaches the provider under the API's host name: same site, so the console's cookies work.
      const idp = await startDevIdentityProvider({
        port: config.DEV_IDP_PORT,
        host: config.HOST,
        issuer: `http://${new URL(publicUrl).hostname}:${config.DEV_IDP_PORT}`,
        dataDir: dir,
        clients: [{ clientId: DEV_OIDC_CLIENT_ID, clientSecret, clientName: '跨省通办 tongban', redirectUris: [`${publicUrl}/auth/callback`], postLogoutRedirectUris: [`${publicUrl}/console/`] }],
        log: say,
      });
      stops.push({ name: 'stopping the identity provider', ms: 5_000, stop: () => idp.stop() });
      identity = { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: DEV_OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: clientSecret };
    }

    const system = await startSystem({ config: { ...config, ...smsGateway, ...videoService, ...datahub, ...identity }, secrets, temporalAddress, databaseUrl });
    stops.push({ name: 'stopping the worker and the api', ms: 40_000, stop: () => system.stop() });

    const api = system.apiUrl;
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    say(`API              ${api}/v1   (OpenAPI: ${api}/docs)`);
    say(`health           ${api}/healthz  ${api}/readyz  ${system.metricsUrl ?? `${api}/metrics (needs a supervisor or manager token)`}`);
    say(`Temporal         ${temporalAddress}${temporalUi ? `   (Web UI: ${temporalUi})` : ''}`);
    say(`PostgreSQL       ${redactPassword(databaseUrl)}`);
    if (simulatorUrl) say(`simulator        ${simulatorUrl}   (provinces ${secrets.provinces.map((p) => p.code).join(', ')})`);
    say(`console          ${publicUrl}/console/   (staff sign in at ${identity.OIDC_ISSUER ?? config.OIDC_ISSUER})`);
    if (identity.OIDC_ISSUER) {
      say(`development accounts (password for all: ${DEV_PASSWORD}):`);
      for (const a of DEV_ACCOUNTS) say(`  ${a.login.padEnd(14)} ${String(a.claims.tongban_role).padEnd(11)} ${a.claims.tongban_region}  ${a.claims.name}`);
    }
    if (temporalUi) {
      say(`Web UI decoding  in the Web UI's codec settings: endpoint ${publicUrl}/v1/codec, "include cross-origin credentials" on;`);
      say('                 signed in to the console as a supervisor or approver, payloads of your cases open (docs/operations.md)');
    }
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
