// Fault 3: a province down for minutes mid-run, then back. Sichuan (510000) answers 503 to every
// request for FAULTS_PROVINCE_DOWN_MS (default 2 minutes) while cases keep coming in. A case whose
// province call spends its retry budget is not failed: it is flagged for intervention, shows in
// the stuck list, and waits. When the province is back, one bulk retry of the stuck list moves
// them all on; none is lost. The outage is set through the simulator's /_admin API, as an
// operator's test would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, reportAndCheck, settle } from './support/accounting.js';
import { sleep, startFaultStack, type FaultStack } from './support/faultStack.js';
import { submitMany, type Submitted } from './support/load.js';

const DOWN_MS = Number(process.env.FAULTS_PROVINCE_DOWN_MS ?? 120_000);
const BEFORE = 30;
const DURING = 30;

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack({ name: 'province-down', simulatorEnv: { SIMULATOR_REVIEW_DELAY_MS: '1000' } });
});
afterAll(async () => {
  await stack?.stop();
});

interface StuckItem {
  caseId: string;
  stuck?: { reason: string; detail: string }[];
}

describe('a province down for minutes', () => {
  it(`When the handling province is down for ${DOWN_MS / 1000} s mid-run, then its cases are flagged and listed as stuck, and one bulk retry after it is back completes every one`, async () => {
    const began = Date.now();
    const load = (count: number) => submitMany({ apiUrls: stack.apiUrls, token: stack.clerk, count, concurrency: 6 });
    const first = load(BEFORE);
    // Mid-run: while the first cases are still being handed over and reviewed.
    await sleep(3000);
    await setScenario('down');
    const downAt = Date.now();
    const cases: Submitted[] = [...(await first), ...(await load(DURING))];

    // Flagged, not failed: the stuck list shows them with the reason, and no case has closed otherwise.
    const stuck = await waitForStuck(Math.min(DOWN_MS, 90_000));
    expect(stuck.length, 'no case was flagged while the province was down').toBeGreaterThan(0);
    for (const s of stuck) expect(s.stuck?.some((r) => r.reason === 'intervention')).toBe(true);
    const failed = await stack.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE status NOT IN ('active', 'completed')`);
    expect(failed.rows[0]!.n).toBe(0);

    await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
    await setScenario('approve');
    const flagged = await stuckCaseIds();
    const bulk = await postJson<{ bulkId: string; total: number }>('/v1/bulk/retry', { caseIds: flagged.map((s) => s.caseId), reason: '四川系统已恢复，批量重试' });
    expect(bulk.status).toBe(202);
    const progress = await pollBulk(bulk.body.bulkId);
    // A status poll flagged while the province was down clears by itself when its callback comes:
    // its retry then finds nothing stuck (409). Every other case is retried.
    const notRetried = progress.items.filter((i) => i.status === 'failed');
    for (const item of notRetried) expect(item.httpStatus, `${item.caseId}: ${item.detail}`).toBe(409);

    const caseIds = cases.map((c) => c.caseId);
    await settle(stack.pool, caseIds, 5 * 60_000);
    const accounting = await account({ scenario: 'a province down for minutes, then a bulk retry', startedCaseIds: caseIds, client: stack.client, pool: stack.pool, simulatorUrl: stack.procs.simulatorUrl });
    const retries = await stack.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM case_events WHERE type = 'intervention.retry'`);
    reportAndCheck(accounting, {
      provinceDownSeconds: Math.round(DOWN_MS / 1000),
      stuckListed: flagged.length,
      bulkDone: progress.done,
      bulkNotStuckAnyMore: notRetried.length,
      retriesRecorded: retries.rows[0]!.n,
      runSeconds: Math.round((Date.now() - began) / 1000),
    });
    expect(progress).toMatchObject({ total: flagged.length, pending: 0 });
    expect(retries.rows[0]!.n).toBe(progress.done);
  });
});

async function setScenario(scenario: 'down' | 'approve'): Promise<void> {
  const res = await fetch(`${stack.procs.simulatorUrl}/_admin/provinces/510000/scenario`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scenario }) });
  expect(res.status).toBe(200);
}

/** The stuck list as a clerk of the receiving window sees it: cases flagged for intervention. */
async function stuckCaseIds(): Promise<StuckItem[]> {
  const res = await fetch(`${stack.apiUrls()[0]}/v1/cases?stuck=true&reason=intervention`, { headers: { authorization: `Bearer ${stack.clerk}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: StuckItem[] }).items;
}

/** Waits until the flagged cases stop growing (every case that could reach the province has given up). */
async function waitForStuck(timeoutMs: number): Promise<StuckItem[]> {
  const deadline = Date.now() + timeoutMs;
  let last: StuckItem[] = [];
  let sameFor = 0;
  while (Date.now() < deadline) {
    const now = await stuckCaseIds();
    sameFor = now.length === last.length && now.length > 0 ? sameFor + 1 : 0;
    last = now;
    if (sameFor >= 5) break;
    await sleep(2000);
  }
  return last;
}

async function postJson<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.apiUrls()[0]}${path}`, { method: 'POST', headers: { authorization: `Bearer ${stack.clerk}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

interface BulkProgress {
  total: number;
  done: number;
  failed: number;
  pending: number;
  items: { caseId: string; status: string; httpStatus: number | null; detail: string | null }[];
}

async function pollBulk(bulkId: string): Promise<BulkProgress> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await fetch(`${stack.apiUrls()[0]}/v1/bulk/${bulkId}`, { headers: { authorization: `Bearer ${stack.clerk}` } });
    const progress = (await res.json()) as BulkProgress;
    if (progress.pending === 0) return progress;
    if (Date.now() > deadline) throw new Error(`bulk retry ${bulkId} still pending: ${JSON.stringify(progress).slice(0, 1000)}`);
    await sleep(1000);
  }
}
