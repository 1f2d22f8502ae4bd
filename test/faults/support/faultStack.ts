// One scenario's tongban, for killing and restarting: its own Temporal dev server (a SQLite file in
// the scenario's folder, so a restart keeps its persistence), its own database (on the machine's
// PostgreSQL unless the scenario brings one), every migration, and the simulator, api instances
// and workers as operating-system processes (harness/processes.ts). The test process holds a
// Temporal client (the processes' payload keys) and a pool, for the accounting only.
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { startTemporalDevServer, findFreePort, type TemporalDevServer } from '../../../dev/temporal-server.js';
import { createDatabase } from '../../../harness/database.js';
import { collectKnownPii, formatFindings, logFilesUnder, scanTargets, type PiiFinding } from '../../../harness/piiScan.js';
import { startProcessStack, type ProcessStack, type ProcessStackOptions } from '../../../harness/processes.js';
import { migrate } from '../../../db/migrate.js';
import { createPool } from '../../../clients/postgres.js';
import { connectTemporalClient } from '../../../clients/temporal.js';
import { loadConfig } from '../../../config/index.js';
import { loadSecrets } from '../../../config/secrets.js';
import { SEARCH_ATTRIBUTES } from '../../../workflows/messages.js';

export interface FaultStackOptions extends Pick<ProcessStackOptions, 'apis' | 'caseWorkers' | 'provinceWorkers' | 'simulatorEnv' | 'env'> {
  /** The scenario's name: its folder under .data/faults. */
  name: string;
  /** A database of the scenario's own (scenario 4's embedded PostgreSQL); default: a fresh one on 127.0.0.1:5432. */
  databaseUrl?: string;
}

export interface FaultStack {
  /** The scenario's folder: Temporal's SQLite, the processes' DATA_DIR and logs. */
  dir: string;
  procs: ProcessStack;
  databaseUrl: string;
  pool: pg.Pool;
  client: Client;
  temporalAddress: string;
  /** A clerk of the Guangzhou window (440100), whose cases go to Sichuan (510000) by default. */
  clerk: string;
  apiUrls(): string[];
  /** Stops the Temporal server (its SQLite kept), waits `downMs`, starts it again on the same port. */
  restartTemporal(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Settings every scenario shares over the test timings of harness/stack.ts. */
export const FAULT_ENV: Record<string, string> = {
  // The SMS outbox is sent every few seconds, so the run's SMS are counted.
  SMS_OUTBOX_INTERVAL_SECONDS: '3',
  // A province call's retry budget (workflows/case/run.ts retryBudgetMs) shaped like production's
  // rather than the unit tests' few hundred milliseconds: about 100 s, which a worker or Temporal
  // restart on a loaded machine fits in (the unit tests' budget would flag a case for a person
  // whenever a restart took longer than it), while a province that answers 503 still flags its
  // cases in about 30 s (8 quick attempts and their backoff).
  PROVINCE_CALL_TIMEOUT_MS: '10000',
  PROVINCE_RETRY_INITIAL_MS: '500',
  PROVINCE_RETRY_MAX_MS: '5000',
  PROVINCE_RETRY_ATTEMPTS: '8',
};

export async function startFaultStack(opts: FaultStackOptions): Promise<FaultStack> {
  const dir = path.resolve(`.data/faults/${opts.name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const cliPath = inject('temporalCliPath');
  const temporalPort = await findFreePort();
  const startTemporal = () =>
    startTemporalDevServer({
      headless: true,
      port: temporalPort,
      dbFile: path.join(dir, 'temporal.sqlite'),
      searchAttributes: { ...SEARCH_ATTRIBUTES },
      ...(cliPath ? { cli: { kind: 'binary' as const, path: cliPath, source: 'env' as const } } : {}),
      log: (line) => {
        // Its errors, without what a loaded server or a killed client makes it say (a cancelled call).
        if (/level=(ERROR|FATAL)/.test(line) && !/context (canceled|deadline exceeded)/.test(line)) process.stderr.write(`[temporal ${opts.name}] ${line}\n`);
      },
    });
  let temporal: TemporalDevServer = await startTemporal();
  const database = opts.databaseUrl ? null : await createDatabase('tongban_faults');
  const databaseUrl = opts.databaseUrl ?? database!.url;
  let procs: ProcessStack | undefined;
  let pool: pg.Pool | undefined;
  let client: Client | undefined;
  const stop = async () => {
    await procs?.stop().catch((e: unknown) => process.stderr.write(`stopping processes: ${String(e)}\n`));
    await client?.connection.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await temporal.stop();
    let findings: PiiFinding[] = [];
    try {
      findings = await scanForPersonalData(dir, database?.url ?? null);
    } finally {
      await database?.drop();
      // The processes' logs are kept when asked to (FAULTS_KEEP), on CI, where a scenario that
      // fails once in several runs is read afterwards from the clone's .data/faults/, and when the
      // scan found something.
      if (process.env.FAULTS_KEEP || process.env.CI || findings.length > 0) process.stderr.write(`fault stack ${opts.name}: logs kept in ${dir}\n`);
      else fs.rmSync(dir, { recursive: true, force: true });
    }
    if (findings.length > 0) throw new Error(`personal data in clear after fault scenario ${opts.name}:\n${formatFindings(findings)}`);
  };
  try {
    await migrate(databaseUrl);
    procs = await startProcessStack({
      temporalAddress: temporal.address,
      databaseUrl,
      dataDir: path.join(dir, 'data'),
      workflowBundlePath: inject('faultsBundlePath'),
      apis: opts.apis,
      caseWorkers: opts.caseWorkers,
      provinceWorkers: opts.provinceWorkers,
      simulatorEnv: opts.simulatorEnv,
      env: { ...FAULT_ENV, ...opts.env },
    });
    pool = createPool(databaseUrl);
    // The processes' payload keys (DATA_DIR's dev secrets), to read the cases' results.
    const config = loadConfig(procs.env);
    client = await connectTemporalClient({ address: temporal.address, namespace: config.TEMPORAL_NAMESPACE, keyring: loadSecrets(config).payloadKeys });
    const clerk = await procs.token('clerk', '440100');
    const stack: FaultStack = {
      dir,
      procs,
      databaseUrl,
      pool,
      client,
      temporalAddress: temporal.address,
      clerk,
      apiUrls: () => procs!.apis.map((a) => a.url),
      async restartTemporal(downMs) {
        await temporal.stop();
        await sleep(downMs);
        temporal = await startTemporal();
      },
      async stop() {
        await stop();
      },
    };
    return stack;
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The personal-data scan of issue 10 over what a scenario's real processes left: Temporal's SQLite,
 * the scenario's database (not a database a scenario brings and stops itself) and the logs of the
 * api instances, workers and simulator, restarts and kills included.
 */
async function scanForPersonalData(dir: string, databaseUrl: string | null): Promise<PiiFinding[]> {
  const known = collectKnownPii();
  const sqlite = path.join(dir, 'temporal.sqlite');
  const logs = logFilesUnder(path.join(dir, 'data'));
  const findings = await scanTargets([...(fs.existsSync(sqlite) ? [sqlite] : []), ...(databaseUrl ? [databaseUrl] : []), ...logs], known);
  process.stderr.write(`personal-data scan of ${path.basename(dir)}: Temporal's persistence, ${databaseUrl ? 'the database, ' : ''}${logs.length} log file(s): ${findings.length} finding(s)\n`);
  return findings;
}
