// The exact accounting every fault scenario ends with (issue 10): what was started, what
// completed, and every way a case could have been lost or done twice, each counted from the party
// that would know: Temporal for the cases (each workflow's closed status and result), the
// simulator for the province submissions (its request log per idempotency key, replays marked)
// and the SMS (its gateway's messages per key), PostgreSQL for the projection (rows against the
// workflows). Printed as a table, then asserted: every fault count must be 0.
import type pg from 'pg';
import { expect } from 'vitest';
import type { Client } from '@temporalio/client';
import type { CaseState } from '../../../domain/case.js';
import { caseWorkflowId } from '../../../workflows/messages.js';
import { DEV_PROVINCES } from '../../../config/secrets.js';

/** The simulator's records a restart forgets (requests and SMS live in its memory). */
export interface SimulatorRecords {
  requests: RequestRecord[];
  sms: SmsRecord[];
}

interface RequestRecord {
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  replayed?: boolean;
}

interface SmsRecord {
  idempotencyKey: string;
  caseId?: string;
  template: string;
}

export interface Accounting {
  scenario: string;
  /** Cases intake answered for (distinct case ids). */
  started: number;
  /** Workflows closed as completed with the case completed. */
  completed: number;
  /** Started but not completed. */
  lost: number;
  /** Province requests executed (not answered from the idempotency store) more than once per key, plus extra keys per case and step. */
  duplicatedProvinceSubmissions: number;
  /** Started cases without a row in `cases`. */
  missingCaseRows: number;
  /** Rows in `cases` no intake answered for (a second case for one submission). */
  duplicatedCaseRows: number;
  /** Event rows the workflows recorded but the projection lacks (`last_seq` of the result against the rows, gaps in seq). */
  missingEventRows: number;
  /** The same province event (case, type, eventId) projected twice. */
  duplicatedEventRows: number;
  /** Rows whose status or last_seq differ from the workflow's final state. */
  projectionBehind: number;
  /** SMS the gateway accepted for the run's cases. */
  smsSent: number;
  /** SMS sent more than once (per idempotency key, and per case and template). */
  duplicatedSms: number;
  /** Queued in the outbox and not sent. */
  smsUnsent: number;
}

export async function simulatorRecords(simulatorUrl: string): Promise<SimulatorRecords> {
  const requests: RequestRecord[] = [];
  for (const code of DEV_PROVINCES) requests.push(...(await getJson<RequestRecord[]>(`${simulatorUrl}/_admin/provinces/${code}/requests`)));
  const sms = await getJson<SmsRecord[]>(`${simulatorUrl}/_admin/sms/messages`);
  return { requests, sms };
}

export interface AccountingInput {
  scenario: string;
  startedCaseIds: readonly string[];
  client: Client;
  pool: pg.Pool;
  simulatorUrl: string;
  /** Records of earlier lives of the simulator, taken just before it was restarted. */
  earlier?: SimulatorRecords[];
}

export async function account(input: AccountingInput): Promise<Accounting> {
  const started = [...new Set(input.startedCaseIds)];
  const startedSet = new Set(started);

  // Temporal: each case's workflow and, once closed, its final state.
  const finals = new Map<string, CaseState>();
  await inBatches(started, 20, async (caseId) => {
    const handle = input.client.workflow.getHandle(caseWorkflowId(caseId));
    const description = await handle.describe().catch(() => null);
    if (description?.status.name !== 'COMPLETED') return;
    finals.set(caseId, (await handle.result()) as CaseState);
  });
  const completed = [...finals.values()].filter((s) => s.status === 'completed').length;

  // The simulator: requests that did something, per idempotency key and per case and step.
  const now = await simulatorRecords(input.simulatorUrl);
  const records = [now, ...(input.earlier ?? [])];
  const executed = records.flatMap((r) => r.requests).filter((r) => (r.method === 'POST' || r.method === 'PUT') && r.status < 300 && r.replayed !== true && r.idempotencyKey);
  const perKey = countBy(executed, (r) => r.idempotencyKey!);
  // Keys are `<caseId>[@route<n>]:<step>[:<material>]`: two keys for one step of one case would be a
  // key made from the attempt, which the store could not catch.
  const perStep = new Map<string, Set<string>>();
  for (const r of executed) {
    const [base, step, material] = r.idempotencyKey!.split(':');
    const id = `${base!.split('@')[0]}:${step}:${material ?? ''}`;
    perStep.set(id, (perStep.get(id) ?? new Set()).add(r.idempotencyKey!));
  }
  const duplicatedProvinceSubmissions = excess(perKey.values()) + excess([...perStep.values()].map((s) => s.size));

  // PostgreSQL: the projection against the workflows.
  const { rows } = await input.pool.query<{ case_id: string; status: string; last_seq: number; events: number; max_seq: number | null }>(
    `SELECT c.case_id, c.status, c.last_seq, count(e.seq)::int AS events, max(e.seq) AS max_seq
       FROM cases c LEFT JOIN case_events e USING (case_id) GROUP BY c.case_id`,
  );
  const byId = new Map(rows.map((r) => [r.case_id, r]));
  const missingCaseRows = started.filter((id) => !byId.has(id)).length;
  const duplicatedCaseRows = rows.filter((r) => !startedSet.has(r.case_id)).length;
  let missingEventRows = 0;
  let projectionBehind = 0;
  for (const [caseId, final] of finals) {
    const row = byId.get(caseId);
    if (!row) continue;
    missingEventRows += Math.max(0, final.lastSeq - row.events) + Math.max(0, (row.max_seq ?? 0) - row.events);
    if (row.status !== final.status || row.last_seq !== final.lastSeq) projectionBehind++;
  }
  const duplicated = await input.pool.query<{ extra: number }>(
    `SELECT coalesce(sum(n - 1), 0)::int AS extra FROM (
       SELECT count(*) AS n FROM case_events WHERE data ? 'eventId' AND data->>'eventId' IS NOT NULL
        GROUP BY case_id, type, data->>'eventId') g`,
  );

  // SMS: the gateway's messages for the run's cases, against the outbox.
  const sms = records.flatMap((r) => r.sms).filter((m) => !m.caseId || startedSet.has(m.caseId));
  const duplicatedSms = excess(countBy(sms, (m) => m.idempotencyKey).values()) + excess(countBy(sms.filter((m) => m.caseId), (m) => `${m.caseId}:${m.template}`).values());
  const unsent = await input.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sms_outbox WHERE sent_at IS NULL AND failed_at IS NULL`);

  return {
    scenario: input.scenario,
    started: started.length,
    completed,
    lost: started.length - completed,
    duplicatedProvinceSubmissions,
    missingCaseRows,
    duplicatedCaseRows,
    missingEventRows,
    duplicatedEventRows: duplicated.rows[0]!.extra,
    projectionBehind,
    smsSent: new Set(sms.map((m) => m.idempotencyKey)).size,
    duplicatedSms,
    smsUnsent: unsent.rows[0]!.n,
  };
}

/** The counts that must be 0 whatever the fault. */
export const FAULT_COUNTS = [
  'lost',
  'duplicatedProvinceSubmissions',
  'missingCaseRows',
  'duplicatedCaseRows',
  'missingEventRows',
  'duplicatedEventRows',
  'projectionBehind',
  'duplicatedSms',
  'smsUnsent',
] as const satisfies readonly (keyof Accounting)[];

/** Prints the table (with the run time and what the scenario adds), then asserts the accounting is exact. */
export function reportAndCheck(a: Accounting, extra: Record<string, string | number> = {}): void {
  const lines = [
    `── fault accounting: ${a.scenario}`,
    ...Object.entries(a)
      .filter(([k]) => k !== 'scenario')
      .map(([k, v]) => `   ${k.padEnd(30)} ${String(v).padStart(8)}${(FAULT_COUNTS as readonly string[]).includes(k) ? '   (must be 0)' : ''}`),
    ...Object.entries(extra).map(([k, v]) => `   ${k.padEnd(30)} ${String(v).padStart(8)}`),
  ];
  console.log(lines.join('\n'));
  expect(a.started, 'no case was started').toBeGreaterThan(0);
  expect(a.completed).toBe(a.started);
  // Every SMS the outbox holds was sent; the run's cases each told their applicant.
  expect(a.smsSent, 'no SMS reached the gateway').toBeGreaterThan(0);
  expect(Object.fromEntries(FAULT_COUNTS.map((k) => [k, a[k]]))).toEqual(Object.fromEntries(FAULT_COUNTS.map((k) => [k, 0])));
}

/**
 * Waits until every started case's workflow has completed and its projection row says so, and
 * the SMS outbox is empty; returns how many are still open when `timeoutMs` runs out (the
 * accounting then counts them as lost).
 */
export async function settle(pool: pg.Pool, caseIds: readonly string[], timeoutMs: number): Promise<number> {
  const began = Date.now();
  const deadline = began + timeoutMs;
  let told = began;
  for (;;) {
    const open = await pool.query<{ n: number }>(`SELECT $2::int - count(*)::int AS n FROM cases WHERE case_id = ANY($1::uuid[]) AND status = 'completed'`, [caseIds, new Set(caseIds).size]);
    const unsent = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sms_outbox WHERE sent_at IS NULL AND failed_at IS NULL`);
    const left = open.rows[0]!.n + unsent.rows[0]!.n;
    if (left === 0 || Date.now() > deadline) return left;
    // A line now and then, so a slow run shows it is moving.
    if (Date.now() - told > 15_000) {
      told = Date.now();
      console.log(`   … ${open.rows[0]!.n} of ${new Set(caseIds).size} cases not completed yet, ${unsent.rows[0]!.n} SMS unsent (${Math.round((told - began) / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

function excess(counts: Iterable<number>): number {
  let n = 0;
  for (const c of counts) n += Math.max(0, c - 1);
  return n;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}
