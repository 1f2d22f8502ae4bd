// `npm run ledger -- verify <caseId>` / `npm run ledger -- verify --all`: recomputes the hash chain
// of a case's hand-off ledger (交接台账, domain/handoffs.ts) from the stored rows and prints OK with
// the head hash, or the first bad entry and why. Exit code 0 when every chain checked verifies,
// 1 when one does not (or the case does not exist), 2 for a wrong command line or configuration.
//
// The database: DATABASE_URL, else the embedded PostgreSQL that `npm start` runs on
// EMBEDDED_PG_PORT (config/index.ts, dev/postgres.ts), as the other processes find it.
import { parseArgs } from 'node:util';
import { createPool } from '../clients/postgres.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { casesWithHandoffs, verifyChain, type ChainCheck } from '../db/handoffs.js';

const USAGE = 'usage: npm run ledger -- verify <caseId>\n       npm run ledger -- verify --all';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function databaseUrl(): Promise<string> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    usage(e instanceof ConfigError ? e.message : String(e));
  }
  if (config.DATABASE_URL) return config.DATABASE_URL;
  // Development only (production requires DATABASE_URL): the embedded server of `npm start`.
  const { DEV_PG_USER, DEV_PG_PASSWORD, DEV_PG_DATABASE } = await import('../dev/postgres.js');
  return `postgres://${DEV_PG_USER}:${DEV_PG_PASSWORD}@127.0.0.1:${config.EMBEDDED_PG_PORT}/${DEV_PG_DATABASE}`;
}

function describe(caseId: string, check: ChainCheck): string {
  if (check.ok) return `OK ${caseId}: ${check.length} entr${check.length === 1 ? 'y' : 'ies'}, head ${check.headHash}`;
  return `BROKEN ${caseId}: entry ${check.firstBadSeq}: ${check.problem}`;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { all: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  } catch (e) {
    usage((e as Error).message);
  }
  const [command, caseId, ...rest] = parsed.positionals;
  if (command !== 'verify') usage(command ? `unknown command ${command}` : 'no command');
  if (rest.length > 0) usage(`unexpected ${rest.join(' ')}`);
  if (parsed.values.all === (caseId !== undefined)) usage('give one case id, or --all');
  if (caseId !== undefined && !UUID.test(caseId)) usage(`${caseId} is not a case id (a UUID)`);

  const pool = createPool(await databaseUrl());
  try {
    if (caseId !== undefined) {
      const exists = await pool.query(`SELECT 1 FROM cases WHERE case_id = $1`, [caseId]);
      if (exists.rowCount === 0) {
        process.stderr.write(`no case ${caseId}\n`);
        return 1;
      }
      const check = await verifyChain(pool, caseId);
      (check.ok ? process.stdout : process.stderr).write(`${describe(caseId, check)}\n`);
      return check.ok ? 0 : 1;
    }
    const ids = await casesWithHandoffs(pool);
    let broken = 0;
    for (const id of ids) {
      const check = await verifyChain(pool, id);
      if (!check.ok) {
        broken += 1;
        process.stderr.write(`${describe(id, check)}\n`);
      }
    }
    process.stdout.write(`${broken === 0 ? 'OK' : 'BROKEN'}: ${ids.length} ledger${ids.length === 1 ? '' : 's'} verified, ${broken} broken\n`);
    return broken === 0 ? 0 : 1;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`ledger: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
