// Where a case's database transactions go: `npm run bench:transactions -- [--cases=20] [--log=<file>]`.
//
// docs/benchmarks.md counts "commits to tongban's database per case" from pg_stat_database's
// xact_commit, which counts every transaction that ends without error, the read-only ones and
// every autocommit statement included. This names them. It runs the benchmark's happy path (the
// same case body, the same three materials for every case, the same process stack and
// production pacing as `npm run bench`) one case at a time on a fresh database whose statements
// PostgreSQL logs (`ALTER DATABASE … SET log_statement = 'all'`, bind parameters not logged), reads
// that database's lines back from the server's log, groups them per backend into transactions
// (BEGIN … COMMIT, else one per statement) and counts each kind of transaction per case, next to
// xact_commit's own count over the same window as a check.
//
// It needs the PostgreSQL tests use (harness/database.ts, a superuser) and read access to that
// server's log: `--log`, else pg_current_logfile() when the logging collector runs, else
// Debian's /var/log/postgresql/postgresql-<major>-main.log. It prints a table for
// docs/benchmarks.md and drops its database; nothing here is a test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../db/migrate.js';
import { startTemporalDevServer } from '../dev/temporal-server.js';
import { ADMIN_URL, createDatabase } from '../harness/database.js';
import { startProcessStack } from '../harness/processes.js';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { benchCases } from './lib/cases.js';
import { markdownTable } from './lib/stats.js';
import { progressBar } from './lib/progress.js';
import { benchOptions, SIMULATOR_ENV, STACK_ENV } from './lib/settings.js';

const args = benchOptions('--cases=N and --log=<file>');
const CASES = Number(args.cases ?? 20);
const WARM_UP = 3;

/** The server's log file: --log, the collector's current file, or Debian's per-cluster file. */
async function serverLog(admin: pg.Client): Promise<string> {
  if (args.log) return args.log;
  const current = await admin.query<{ f: string | null; dir: string; version: string }>(
    "SELECT pg_current_logfile() AS f, current_setting('data_directory') AS dir, current_setting('server_version_num') AS version",
  );
  const { f, dir, version } = current.rows[0]!;
  if (f) return path.isAbsolute(f) ? f : path.join(dir, f);
  return `/var/log/postgresql/postgresql-${Math.floor(Number(version) / 10000)}-main.log`;
}

interface Transaction {
  statements: string[];
  ended: 'commit' | 'rollback' | 'autocommit';
}

// Debian's default log_line_prefix: time, [pid], user@database.
const LOG_LINE_PREFIX = '%m [%p] %q%u@%d ';
const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(\d+)\] (?:\S*@(\S+) )?(\w+):\s+(.*)$/;

/** The database's statements in the log between two offsets, grouped per backend into transactions. */
function transactionsIn(logFile: string, from: number, to: number, database: string): Transaction[] {
  const fd = fs.openSync(logFile, 'r');
  const buffer = Buffer.alloc(to - from);
  try {
    fs.readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    fs.closeSync(fd);
  }
  const open = new Map<string, string[]>();
  const done: Transaction[] = [];
  let last: { statements: string[]; index: number } | null = null;
  for (const line of buffer.toString('utf8').split('\n')) {
    const m = LINE.exec(line);
    if (!m) {
      // A statement's further lines carry no prefix.
      if (last && line.length > 0) last.statements[last.index] += ` ${line.trim()}`;
      continue;
    }
    last = null;
    const [, pid, db, level, message] = m as unknown as [string, string, string | undefined, string, string];
    if (db !== database || level !== 'LOG') continue;
    const s = /^(?:statement|execute [^:]*):\s+(.*)$/.exec(message);
    if (!s) continue;
    const sql = s[1]!.trim();
    const verb = sql.split(/\s+/)[0]!.toUpperCase().replace(/;$/, '');
    const inTx = open.get(pid);
    if (verb === 'BEGIN' || (verb === 'START' && /^start\s+transaction/i.test(sql))) {
      open.set(pid, []);
    } else if (verb === 'COMMIT' || verb === 'END' || verb === 'ROLLBACK' || verb === 'ABORT') {
      if (inTx) done.push({ statements: inTx, ended: verb === 'ROLLBACK' || verb === 'ABORT' ? 'rollback' : 'commit' });
      open.delete(pid);
    } else if (inTx) {
      inTx.push(sql);
      last = { statements: inTx, index: inTx.length - 1 };
    } else {
      const statements = [sql];
      done.push({ statements, ended: 'autocommit' });
      last = { statements, index: 0 };
    }
  }
  return done;
}

/** "INSERT case_events", "SELECT cases", "WITH … / SELECT" for a statement: its verb and first table. */
function statementKind(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  const verb = s.split(' ')[0]!.toUpperCase();
  const table =
    /^insert into ([\w."]+)/i.exec(s)?.[1] ??
    /^update ([\w."]+)/i.exec(s)?.[1] ??
    /^delete from ([\w."]+)/i.exec(s)?.[1] ??
    /\bfrom ([\w."]+)/i.exec(s)?.[1] ??
    /^select ([\w.]+)\(/i.exec(s)?.[1] ??
    '';
  if (verb === 'WITH') {
    const writes = [...s.matchAll(/\b(insert into|update|delete from) ([\w."]+)/gi)].map((w) => `${w[1]!.split(' ')[0]!.toUpperCase()} ${w[2]}`);
    return writes.length ? `WITH ${[...new Set(writes)].join(', ')}` : `WITH … SELECT ${table}`.trim();
  }
  return `${verb} ${table}`.trim();
}

function transactionKind(t: Transaction): string {
  const kinds = [...new Set(t.statements.map(statementKind))];
  const shown = kinds.length > 4 ? [...kinds.slice(0, 4), `… ${kinds.length - 4} more`] : kinds;
  return `${t.ended === 'autocommit' ? '' : 'BEGIN; '}${shown.join('; ')}${t.ended === 'rollback' ? '; ROLLBACK' : t.ended === 'commit' ? '; COMMIT' : ''}`;
}

const isWrite = (t: Transaction) => t.statements.some((s) => /^\s*(insert|update|delete|with\b[\s\S]*\b(insert|update|delete)\b)/i.test(s));

async function xactCommits(admin: pg.Client, database: string): Promise<number> {
  // Statistics reach pg_stat_database when a backend goes idle; wait out the flush interval.
  await new Promise((r) => setTimeout(r, 1200));
  const r = await admin.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [database]);
  return Number(r.rows[0]?.n ?? 0);
}

async function main(): Promise<void> {
  const adminClient = new pg.Client({ connectionString: ADMIN_URL });
  await adminClient.connect();
  const logFile = await serverLog(adminClient);
  try {
    fs.accessSync(logFile, fs.constants.R_OK);
  } catch (err) {
    throw new Error(`cannot read the PostgreSQL server's log ${logFile} (${(err as Error).message}); name it with --log=<file>`);
  }
  const prefix = (await adminClient.query<{ p: string }>("SELECT current_setting('log_line_prefix') AS p")).rows[0]!.p;
  if (prefix !== LOG_LINE_PREFIX) throw new Error(`the server's log_line_prefix is '${prefix}'; this reads lines of Debian's default, '${LOG_LINE_PREFIX}'`);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-bench-transactions-'));
  const temporal = await startTemporalDevServer({ headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: () => {} });
  const db = await createDatabase('tongban_txn');
  const database = new URL(db.url).pathname.slice(1);
  let stack: Awaited<ReturnType<typeof startProcessStack>> | undefined;
  try {
    await migrate(db.url);
    // Sessions opened from now on log every statement; bind parameters (applicants' data) stay out.
    await adminClient.query(`ALTER DATABASE ${database} SET log_statement = 'all'`);
    await adminClient.query(`ALTER DATABASE ${database} SET log_parameter_max_length = 0`);
    stack = await startProcessStack({
      temporalAddress: temporal.address,
      databaseUrl: db.url,
      dataDir: path.join(runDir, 'stack'),
      // As `npm run bench` runs it (bench/run.ts).
      env: STACK_ENV,
      simulatorEnv: SIMULATOR_ENV,
    });
    const cases = await benchCases(stack, temporal.address);
    for (let i = 0; i < WARM_UP; i++) await cases.run();

    const commitsBefore = await xactCommits(adminClient, database);
    const from = fs.statSync(logFile).size;
    const bar = progressBar('cases, one at a time', CASES);
    for (let i = 0; i < CASES; i++) {
      await cases.run();
      bar.tick(i + 1);
    }
    bar.finish();
    const commitsAfter = await xactCommits(adminClient, database);
    const to = fs.statSync(logFile).size;

    const transactions = transactionsIn(logFile, from, to, database);
    if (transactions.length === 0) throw new Error(`no statement of database ${database} in ${logFile} between bytes ${from} and ${to}: is it the server's log?`);
    const byKind = new Map<string, { n: number; write: boolean }>();
    for (const t of transactions) {
      const kind = transactionKind(t);
      const entry = byKind.get(kind) ?? { n: 0, write: isWrite(t) };
      entry.n += 1;
      byKind.set(kind, entry);
    }
    const committed = transactions.filter((t) => t.ended !== 'rollback');
    const rows = [...byKind.entries()]
      .sort((a, b) => b[1].n - a[1].n)
      .map(([kind, { n, write }]) => [kind.length > 110 ? `${kind.slice(0, 107)}…` : kind, write ? 'write' : 'read', (n / CASES).toFixed(2)]);
    process.stdout.write(`\n${CASES} happy-path cases, one at a time, after ${WARM_UP} warm-up cases; database ${database}\n\n`);
    process.stdout.write(`${markdownTable(['transaction (statements in it)', 'kind', 'per case'], rows)}\n\n`);
    process.stdout.write(
      `${markdownTable(
        ['per case', 'transactions'],
        [
          ['from the log: committed (explicit and autocommit)', (committed.length / CASES).toFixed(2)],
          ['… of them writing', (committed.filter(isWrite).length / CASES).toFixed(2)],
          ['… read-only', (committed.filter((t) => !isWrite(t)).length / CASES).toFixed(2)],
          ['rolled back', (transactions.filter((t) => t.ended === 'rollback').length / CASES).toFixed(2)],
          ["pg_stat_database's xact_commit over the same window", ((commitsAfter - commitsBefore) / CASES).toFixed(2)],
        ],
      )}\n`,
    );
  } finally {
    await stack?.stop();
    await adminClient.end();
    await db.drop();
    await temporal.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

await main();
