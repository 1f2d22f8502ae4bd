// SQL of the SLA report (GET /v1/reports/sla, api/reports.ts, docs/reports.md). Every query is
// scoped by equality (db/scope.ts) and reads the columns of migration 016: `settled_at` (the
// decision, or the closing of a case that ended without one) bounds the period, the generated
// limit states say whether a decision was on time, and case_custody_days holds the working days
// each party held a closed case. Group sets give the groups, the total and the weekly trend from
// one pass over the period's cases. No personal data is read.
import { CUSTODY_EVENT_TYPES, type CustodyHolder } from '../domain/handoffs.js';
import type { EvaluationLevel } from './evaluations.js';
import type { Queryable } from './cases.js';
import { visibleTo } from './scope.js';

export const REPORT_GROUPINGS = ['item', 'handlingRegion', 'receivingRegion', 'pair'] as const;
export type ReportGrouping = (typeof REPORT_GROUPINGS)[number];

/** The group key of a case, per grouping (SQL over `cases`, alias c). */
const GROUP_KEY: Record<ReportGrouping, string> = {
  item: 'c.item_code',
  handlingRegion: 'c.handling_region::text',
  receivingRegion: 'c.receiving_region::text',
  // The province pair: receiving province → handling province.
  pair: `(c.receiving_province::text || '-' || c.handling_province::text)`,
};

/** [from, to) as instants: China dates, midnight in China. */
const PERIOD = (col: string, from: number, to: number) =>
  `${col} >= ($${from}::date::timestamp AT TIME ZONE 'Asia/Shanghai') AND ${col} < ($${to}::date::timestamp AT TIME ZONE 'Asia/Shanghai')`;

export interface SettledRow {
  /** null in the total and weekly rows. */
  key: string | null;
  /** The Monday (China date) of the ISO week; null in group and total rows. */
  week: string | null;
  name: string | null;
  cases: number;
  decided: number;
  approved: number;
  rejected: number;
  promisedMeasured: number;
  promisedOnTime: number;
  statutoryMeasured: number;
  statutoryOnTime: number;
  rounds0: number;
  rounds1: number;
  rounds2: number;
  rounds3plus: number;
  /** Closed cases with their custody counted, and the means over them (two decimals). */
  custodyCases: number;
  receiving: number | null;
  handling: number | null;
  applicant: number | null;
  post: number | null;
  /** Closed cases whose custody is not counted yet (countCustody in api/reports.ts, then read again). */
  uncounted: number;
}

/**
 * The cases whose outcome was fixed in [from, to), per group, per ISO week (China time) and in
 * total. A decided case is measured against a limit when the clock had read it; it is on time
 * unless the limit's state was red at the decision.
 */
export async function settledFigures(db: Queryable, scope: string, groupBy: ReportGrouping, from: string, to: string): Promise<SettledRow[]> {
  const visible = visibleTo(scope, 1, 'c.');
  const { rows } = await db.query<SettledRow & { grouping_key: number; grouping_week: number }>(
    `WITH p AS (
       SELECT ${GROUP_KEY[groupBy]} AS key, c.item_name,
              date_trunc('week', c.settled_at AT TIME ZONE 'Asia/Shanghai')::date::text AS week,
              c.decision IS NOT NULL AS decided, c.decision ->> 'outcome' AS outcome,
              c.sla_promised_state AS promised, c.sla_statutory_state AS statutory,
              coalesce((c.correction_rounds ->> 'receiving')::int, 0) + coalesce((c.correction_rounds ->> 'handling')::int, 0) AS rounds,
              c.closed_at IS NOT NULL AS closed, d.case_id IS NOT NULL AS counted, d.receiving, d.handling, d.applicant, d.post
         FROM cases c LEFT JOIN case_custody_days d ON d.case_id = c.case_id
        WHERE ${visible.sql} AND ${PERIOD('c.settled_at', 2, 3)}
     )
     SELECT key, week, ${groupBy === 'item' ? 'max(item_name)' : 'NULL'} AS name,
            GROUPING(key) AS grouping_key, GROUPING(week) AS grouping_week,
            count(*)::int AS cases,
            count(*) FILTER (WHERE decided)::int AS decided,
            count(*) FILTER (WHERE outcome = 'approved')::int AS approved,
            count(*) FILTER (WHERE outcome = 'rejected')::int AS rejected,
            count(*) FILTER (WHERE decided AND promised IS NOT NULL)::int AS "promisedMeasured",
            count(*) FILTER (WHERE decided AND promised IN ('green', 'yellow'))::int AS "promisedOnTime",
            count(*) FILTER (WHERE decided AND statutory IS NOT NULL)::int AS "statutoryMeasured",
            count(*) FILTER (WHERE decided AND statutory IN ('green', 'yellow'))::int AS "statutoryOnTime",
            count(*) FILTER (WHERE rounds = 0)::int AS rounds0,
            count(*) FILTER (WHERE rounds = 1)::int AS rounds1,
            count(*) FILTER (WHERE rounds = 2)::int AS rounds2,
            count(*) FILTER (WHERE rounds >= 3)::int AS rounds3plus,
            count(*) FILTER (WHERE counted)::int AS "custodyCases",
            round(avg(receiving), 2)::float8 AS receiving, round(avg(handling), 2)::float8 AS handling,
            round(avg(applicant), 2)::float8 AS applicant, round(avg(post), 2)::float8 AS post,
            count(*) FILTER (WHERE closed AND NOT counted)::int AS uncounted
       FROM p
      GROUP BY GROUPING SETS ((key), (week), ())`,
    [visible.param, from, to],
  );
  return rows.map(({ grouping_key, grouping_week, ...r }) => ({ ...r, key: grouping_key ? null : r.key, week: grouping_week ? null : r.week }));
}

export interface OpenRow {
  key: string | null;
  name: string | null;
  open: number;
  atRisk: number;
  overdue: number;
}

/** The cases still running undecided now (settled_at NULL), per group and in total, with their SLA state. */
export async function openFigures(db: Queryable, scope: string, groupBy: ReportGrouping): Promise<OpenRow[]> {
  const visible = visibleTo(scope, 1, 'c.');
  const { rows } = await db.query<OpenRow & { grouping_key: number }>(
    `SELECT ${GROUP_KEY[groupBy]} AS key, ${groupBy === 'item' ? 'max(c.item_name)' : 'NULL'} AS name, GROUPING(${GROUP_KEY[groupBy]}) AS grouping_key,
            count(*)::int AS open,
            count(*) FILTER (WHERE c.sla_state = 'yellow')::int AS "atRisk",
            count(*) FILTER (WHERE c.sla_state = 'red')::int AS overdue
       FROM cases c
      WHERE ${visible.sql} AND c.settled_at IS NULL
      GROUP BY GROUPING SETS ((${GROUP_KEY[groupBy]}), ())`,
    [visible.param],
  );
  return rows.map(({ grouping_key, ...r }) => ({ ...r, key: grouping_key ? null : r.key }));
}

/** The period's closed cases whose custody has not been counted yet: id, closing instant and the events custody reads. */
export async function uncountedCustody(db: Queryable, scope: string, from: string, to: string): Promise<{ caseId: string; closedAt: Date; events: { type: string; at: Date; data: Record<string, unknown> }[] }[]> {
  const visible = visibleTo(scope, 1, 'c.');
  const { rows: missing } = await db.query<{ case_id: string; closed_at: Date }>(
    `SELECT c.case_id, c.closed_at FROM cases c
      WHERE ${visible.sql} AND ${PERIOD('c.settled_at', 2, 3)} AND c.closed_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM case_custody_days d WHERE d.case_id = c.case_id)`,
    [visible.param, from, to],
  );
  if (missing.length === 0) return [];
  const { rows: events } = await db.query<{ case_id: string; type: string; at: Date; data: Record<string, unknown> }>(
    `SELECT case_id, type, at, data FROM case_events WHERE case_id = ANY($1::uuid[]) AND type = ANY($2::text[]) ORDER BY case_id, seq`,
    [missing.map((m) => m.case_id), CUSTODY_EVENT_TYPES],
  );
  const byCase = new Map<string, { type: string; at: Date; data: Record<string, unknown> }[]>();
  for (const e of events) {
    const list = byCase.get(e.case_id) ?? [];
    list.push({ type: e.type, at: e.at, data: e.data });
    byCase.set(e.case_id, list);
  }
  return missing.map((m) => ({ caseId: m.case_id, closedAt: m.closed_at, events: byCase.get(m.case_id) ?? [] }));
}

/** Keeps closed cases' custody (computed once; a concurrent report's row wins). */
export async function saveCustody(db: Queryable, rows: { caseId: string; days: Record<CustodyHolder, number>; calendarGap: boolean }[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO case_custody_days (case_id, receiving, handling, applicant, post, calendar_gap)
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::int[], $6::boolean[])
     ON CONFLICT (case_id) DO NOTHING`,
    [
      rows.map((r) => r.caseId),
      rows.map((r) => r.days.receiving),
      rows.map((r) => r.days.handling),
      rows.map((r) => r.days.applicant),
      rows.map((r) => r.days.post),
      rows.map((r) => r.calendarGap),
    ],
  );
}

export interface EvaluationGroupRow {
  key: string;
  level: EvaluationLevel;
  n: number;
  /** Of those, 差评 whose follow-up is still open, open past its due date, escalated, closed resolved, closed unresolved. */
  openFollowUps: number;
  overdue: number;
  escalated: number;
  resolved: number;
  unresolved: number;
}

/**
 * Evaluations recorded in [from, to) per group and level, with their follow-ups (the same counts as
 * db/evaluations.ts' evaluationReport, which answers GET /v1/evaluations/report, split by group).
 */
export async function evaluationsByGroup(db: Queryable, scope: string, groupBy: ReportGrouping, from: string, to: string, today: string): Promise<EvaluationGroupRow[]> {
  const visible = visibleTo(scope, 1, 'c.');
  const { rows } = await db.query<EvaluationGroupRow>(
    `SELECT ${GROUP_KEY[groupBy]} AS key, e.level, count(*)::int AS n,
            count(f.case_id) FILTER (WHERE f.closed_at IS NULL)::int AS "openFollowUps",
            count(f.case_id) FILTER (WHERE f.closed_at IS NULL AND f.due_date < $4::date)::int AS overdue,
            count(f.case_id) FILTER (WHERE f.escalated_at IS NOT NULL)::int AS escalated,
            count(f.case_id) FILTER (WHERE f.outcome = 'resolved')::int AS resolved,
            count(f.case_id) FILTER (WHERE f.outcome = 'unresolved')::int AS unresolved
       FROM case_evaluations e JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id)
      WHERE ${visible.sql} AND ${PERIOD('e.recorded_at', 2, 3)}
      GROUP BY 1, 2`,
    [visible.param, from, to, today],
  );
  return rows;
}
