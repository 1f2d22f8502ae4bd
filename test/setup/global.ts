// Once per `npm test`: a real Temporal dev server (its persistence a SQLite file under .data/test,
// with our search attributes), a fresh database on the machine's PostgreSQL with every migration
// applied and the item files published, and one workflow bundle shared by every test file's
// workers. Torn down at the end: first the personal-data scan (harness/piiScan.ts) of Temporal's
// persistence, the database and the log files under .data/test, which fails the run on any
// applicant's name, identity number, phone or address in clear; then the database is dropped and
// the SQLite file deleted (kept when the scan found something, to look at).
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer } from '../../dev/temporal-server.js';
import { loadItemFolder } from '../../catalog/files.js';
import { publishItemFolder } from '../../catalog/sync.js';
import { createPool } from '../../clients/postgres.js';
import { migrate } from '../../db/migrate.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { WORKFLOWS_PATH } from '../../worker/workers.js';
import { createDatabase } from '../../harness/database.js';
import { collectKnownPii, formatFindings, logFilesUnder, scanTargets } from '../../harness/piiScan.js';

export default async function setup(project: TestProject) {
  // The dev server's own warnings (poller churn at shutdown) are noise here; errors still show.
  const log = (line: string) => {
    if (!/level=(WARN|INFO|DEBUG)/.test(line)) process.stderr.write(`[test setup] ${line}\n`);
  };
  // One file per run, so concurrent runs on one machine never share a server's persistence.
  const temporalDb = path.resolve(`.data/test/temporal-${process.pid}.sqlite`);
  removeSqlite(temporalDb);
  const [temporal, database, bundlePath] = await Promise.all([
    startTemporalDevServer({ headless: true, dbFile: temporalDb, searchAttributes: { ...SEARCH_ATTRIBUTES }, log }),
    createDatabase(),
    bundle(),
  ]);
  await migrate(database.url);
  await publishSeedCatalog(database.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', database.url);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await temporal.stop();
    let clean = false;
    try {
      clean = await scanForPersonalData(temporalDb, database.url);
    } finally {
      await database.drop();
      fs.rmSync(bundlePath, { force: true });
      // TEST_KEEP_DATABASE keeps the run's database (harness/database.ts) and Temporal's file alike.
      if (clean && !process.env.TEST_KEEP_DATABASE) removeSqlite(temporalDb);
    }
  };
}

/**
 * The scan of issue 10: Temporal's persistence, the run's database and the logs under .data/test
 * (the tests write none today; a CI run that tees its output there is scanned too). Throws, which
 * fails the run, on any finding. TEST_PII_SCAN=0 skips it (e.g. while bisecting something else).
 */
async function scanForPersonalData(temporalDb: string, databaseUrl: string): Promise<boolean> {
  if (process.env.TEST_PII_SCAN === '0') return true;
  const known = collectKnownPii();
  const logs = logFilesUnder(path.resolve('.data/test'));
  const findings = await scanTargets([temporalDb, databaseUrl, ...logs], known);
  process.stderr.write(`[test teardown] personal-data scan of Temporal's persistence, the database and ${logs.length} log file(s): ${findings.length} finding(s)\n`);
  if (findings.length === 0) return true;
  throw new Error(`${formatFindings(findings)}\n(Temporal's SQLite kept at ${temporalDb})`);
}

function removeSqlite(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}.pid`]) fs.rmSync(f, { force: true });
}

/** The item files, published as a start of the api publishes them (api/server.ts): api tests build the app without starting it. */
async function publishSeedCatalog(databaseUrl: string): Promise<void> {
  const pool = createPool(databaseUrl);
  try {
    await publishItemFolder(pool, loadItemFolder(), { info: noop, error: (_obj, msg) => process.stderr.write(`[test setup] ${msg}\n`) });
  } finally {
    await pool.end();
  }
}

async function bundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  // One file per run, so concurrent runs on one machine never read each other's half-written bundle.
  const file = path.resolve(`.data/test/workflow-bundle-${process.pid}.js`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, code);
  return file;
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => process.stderr.write(`${m}\n`), log: noop };

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
  }
}
