// Once per `npm test`: a real Temporal dev server (in memory, with our search attributes), a
// fresh database on the machine's PostgreSQL with every migration applied and the item files
// published, and one workflow bundle shared by every test file's workers. Torn down (database dropped) at the end.
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

export default async function setup(project: TestProject) {
  // The dev server's own warnings (poller churn at shutdown) are noise here; errors still show.
  const log = (line: string) => {
    if (!/level=(WARN|INFO|DEBUG)/.test(line)) process.stderr.write(`[test setup] ${line}\n`);
  };
  const [temporal, database, bundlePath] = await Promise.all([
    startTemporalDevServer({ headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, log }),
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
    await database.drop();
    fs.rmSync(bundlePath, { force: true });
  };
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
