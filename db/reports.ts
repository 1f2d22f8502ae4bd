// SQL of the SLA report (GET /v1/reports/sla, api/reports.ts, docs/reports.md). The figures are
// sums over the cells of the roll-up that triggers keep in step with every write of the rows they
// summarise (db/migrations/021_sla_rollup.sql): settled cases per China day of `settled_at`
// (the decision, or the closing of a case that ended without one), open cases now, evaluations per
// China day of their recording; each cell per receiving region, handling region and item. A cell
// carries both sides' province and city, so the scope is the equality db/scope.ts writes for cases.
// Group sets give the groups, the total and the weekly trend from one pass over the period's
// cells. The closed cases whose custody (or, kept before migration 023, whose working days per
// stage) no report has counted yet are still found on `cases`, and their figures are kept in
// case_custody_days. No personal data is read.
import { CUSTODY_EVENT_TYPES, type CustodyHolder } from '../domain/handoffs.js';
import { COUNTED_STAGES, type CountedStage } from '../domain/stageDays.js';
import type { EvaluationLevel } from './evaluations.js';
import type { Queryable } from './cases.js';
import { visibleTo } from './scope.js';

export const REPORT_GROUPINGS = ['item', 'handlingRegion', 'receivingRegion', 'pair'] as const;
export type ReportGrouping = (typeof REPORT_GROUPINGS)[number];

/** The group key of a roll-up cell, per grouping (SQL over a roll-up table, alias r). */
const GROUP_KEY: Record<ReportGrouping, string> = {
  item: 'r.item_code',
  handlingRegion: 'r.handling_region::text',
  receivingRegion: 'r.receiving_region::text',
  // The province pair: receiving province → handling province.
  pair: `(r.receiving_province::text || '-' || r.handling_province::text)`,
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
  /**
   * Closed cases with their working days per stage counted, and the means over them (two
   * decimals). Fewer than custodyCases while custody rows kept before migration 023 wait for theirs.
   */
  stageCases: number;
  stages: Record<CountedStage, number | null>;
  /** Closed cases whose custody is counted but whose stage figures are not yet (kept before migration 023). */
  stageUncounted: number;
}

/**
 * The cases whose outcome was fixed in [from, to), per group, per ISO week (China time) and in
 * total, summed from the roll-up's settled cells (China days from, …, to − 1). A decided case is
 * measured against a limit when the clock had read it; it is on time unless the limit's state was
 * red at the decision. Means are sums over counts, as avg() computes them.
 */
export async function settledFigures(db: Queryable, scope: string, groupBy: ReportGrouping, from: string, to: string): Promise<SettledRow[]> {
  const visible = visibleTo(scope, 1, 'r.');
  const key = GROUP_KEY[groupBy];
  const mean = (sum: string, count = 'custody_cases') => `round(sum(${sum})::numeric / nullif(sum(${count}), 0), 2)::float8`;
  const { rows } = await db.query<Omit<SettledRow, 'stages'> & Record<`stage_${CountedStage}`, number | null> & { grouping_key: number; grouping_week: number }>(
    `WITH p AS (
       SELECT ${key} AS key, date_trunc('week', r.day::timestamp)::date::text AS week, r.*
         FROM sla_rollup_settled r
        WHERE ${visible.sql} AND r.day >= $2::date AND r.day < $3::date
     )
     SELECT key, week, ${groupBy === 'item' ? 'max(item_name)' : 'NULL'} AS name,
            GROUPING(key) AS grouping_key, GROUPING(week) AS grouping_week,
            coalesce(sum(cases), 0)::int AS cases,
            coalesce(sum(decided), 0)::int AS decided,
            coalesce(sum(approved), 0)::int AS approved,
            coalesce(sum(rejected), 0)::int AS rejected,
            coalesce(sum(promised_measured), 0)::int AS "promisedMeasured",
            coalesce(sum(promised_on_time), 0)::int AS "promisedOnTime",
            coalesce(sum(statutory_measured), 0)::int AS "statutoryMeasured",
            coalesce(sum(statutory_on_time), 0)::int AS "statutoryOnTime",
            coalesce(sum(rounds_0), 0)::int AS rounds0,
            coalesce(sum(rounds_1), 0)::int AS rounds1,
            coalesce(sum(rounds_2), 0)::int AS rounds2,
            coalesce(sum(rounds_3_plus), 0)::int AS rounds3plus,
            coalesce(sum(custody_cases), 0)::int AS "custodyCases",
            ${mean('days_receiving')} AS receiving, ${mean('days_handling')} AS handling,
            ${mean('days_applicant')} AS applicant, ${mean('days_post')} AS post,
            coalesce(sum(uncounted), 0)::int AS uncounted,
            coalesce(sum(stage_cases), 0)::int AS "stageCases",
            coalesce(sum(stage_uncounted), 0)::int AS "stageUncounted",
            ${COUNTED_STAGES.map((s) => `${mean(`days_${s}`, 'stage_cases')} AS stage_${s}`).join(', ')}
       FROM p
      GROUP BY GROUPING SETS ((key), (week), ())
     HAVING coalesce(sum(cases), 0) > 0 OR GROUPING(key, week) = 3`,
    [visible.param, from, to],
  );
  return rows.map(({ grouping_key, grouping_week, ...r }) => {
    const stages = Object.fromEntries(COUNTED_STAGES.map((s) => [s, r[`stage_${s}`]])) as Record<CountedStage, number | null>;
    const figures = Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('stage_'))) as Omit<SettledRow, 'stages'>;
    return { ...figures, stages, key: grouping_key ? null : r.key, week: grouping_week ? null : r.week };
  });
}

export interface OpenRow {
  key: string | null;
  name: string | null;
  open: number;
  atRisk: number;
  overdue: number;
}

/** The cases still running undecided now (settled_at NULL), per group and in total, with their SLA state: the roll-up's open cells. */
export async function openFigures(db: Queryable, scope: string, groupBy: ReportGrouping): Promise<OpenRow[]> {
  const visible = visibleTo(scope, 1, 'r.');
  const key = GROUP_KEY[groupBy];
  const { rows } = await db.query<OpenRow & { grouping_key: number }>(
    `SELECT ${key} AS key, ${groupBy === 'item' ? 'max(r.item_name)' : 'NULL'} AS name, GROUPING(${key}) AS grouping_key,
            coalesce(sum(r.open), 0)::int AS open,
            coalesce(sum(r.at_risk), 0)::int AS "atRisk",
            coalesce(sum(r.overdue), 0)::int AS overdue
       FROM sla_rollup_open r
      WHERE ${visible.sql}
      GROUP BY GROUPING SETS ((${key}), ())
     HAVING coalesce(sum(r.open), 0) > 0 OR GROUPING(${key}) = 1`,
    [visible.param],
  );
  return rows.map(({ grouping_key, ...r }) => ({ ...r, key: grouping_key ? null : r.key }));
}

/** A closed case whose figures a report must count: its closing, the events custody reads, and every change of stage. */
export interface UncountedCase {
  caseId: string;
  closedAt: Date;
  events: { type: string; at: Date; data: Record<string, unknown> }[];
  /** The case's events where its stage changes (the first event included), in seq order. */
  stageEvents: { stage: string; at: Date }[];
}

/**
 * The period's closed cases whose custody has not been counted yet, or whose custody was kept
 * without working days per stage (before migration 023): id, closing instant, the events custody
 * reads and the changes of stage.
 */
export async function uncountedCustody(db: Queryable, scope: string, from: string, to: string): Promise<UncountedCase[]> {
  const visible = visibleTo(scope, 1, 'c.');
  const { rows: missing } = await db.query<{ case_id: string; closed_at: Date }>(
    `SELECT c.case_id, c.closed_at FROM cases c
      WHERE ${visible.sql} AND ${PERIOD('c.settled_at', 2, 3)} AND c.closed_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM case_custody_days d WHERE d.case_id = c.case_id AND d.days_intake IS NOT NULL)`,
    [visible.param, from, to],
  );
  if (missing.length === 0) return [];
  // Only the events either count reads: custody's types (with their data), and where the stage
  // changes (the stage count reads nothing else of the others).
  const { rows: events } = await db.query<{ case_id: string; type: string; stage: string; at: Date; data: Record<string, unknown> | null; custody: boolean; stage_change: boolean }>(
    `SELECT case_id, type, stage, at, CASE WHEN custody THEN data END AS data, custody, stage_change
       FROM (SELECT case_id, seq, type, stage, at, data, type = ANY($2::text[]) AS custody,
                    stage IS DISTINCT FROM lag(stage) OVER (PARTITION BY case_id ORDER BY seq) AS stage_change
               FROM case_events WHERE case_id = ANY($1::uuid[])) e
      WHERE custody OR stage_change
      ORDER BY case_id, seq`,
    [missing.map((m) => m.case_id), CUSTODY_EVENT_TYPES],
  );
  const byCase = new Map<string, Pick<UncountedCase, 'events' | 'stageEvents'>>();
  for (const e of events) {
    let c = byCase.get(e.case_id);
    if (!c) byCase.set(e.case_id, (c = { events: [], stageEvents: [] }));
    if (e.custody) c.events.push({ type: e.type, at: e.at, data: e.data ?? {} });
    if (e.stage_change) c.stageEvents.push({ stage: e.stage, at: e.at });
  }
  return missing.map((m) => ({ caseId: m.case_id, closedAt: m.closed_at, events: [], stageEvents: [], ...byCase.get(m.case_id) }));
}

/**
 * Keeps closed cases' custody and working days per stage (computed once; a concurrent report's row
 * wins). A row kept without stage figures (before migration 023, or saved without them) gets them
 * filled in; its custody figures stay as they were.
 */
export async function saveCustody(db: Queryable, rows: { caseId: string; days: Record<CustodyHolder, number>; stageDays?: Record<CountedStage, number>; calendarGap: boolean }[]): Promise<void> {
  if (rows.length === 0) return;
  const stage = (s: CountedStage) => rows.map((r) => r.stageDays?.[s] ?? null);
  await db.query(
    `INSERT INTO case_custody_days AS d (case_id, receiving, handling, applicant, post, calendar_gap,
            days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery)
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::int[], $6::boolean[],
                          $7::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[])
     ON CONFLICT (case_id) DO UPDATE SET
       days_intake = EXCLUDED.days_intake, days_precheck = EXCLUDED.days_precheck, days_correction = EXCLUDED.days_correction,
       days_transfer = EXCLUDED.days_transfer, days_review = EXCLUDED.days_review, days_decision = EXCLUDED.days_decision,
       days_delivery = EXCLUDED.days_delivery, calendar_gap = d.calendar_gap OR EXCLUDED.calendar_gap
     WHERE d.days_intake IS NULL AND EXCLUDED.days_intake IS NOT NULL`,
    [
      rows.map((r) => r.caseId),
      rows.map((r) => r.days.receiving),
      rows.map((r) => r.days.handling),
      rows.map((r) => r.days.applicant),
      rows.map((r) => r.days.post),
      rows.map((r) => r.calendarGap),
      ...COUNTED_STAGES.map(stage),
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
 * db/evaluations.ts' evaluationReport, which answers GET /v1/evaluations/report, split by group),
 * from the roll-up's evaluation cells: a follow-up still open is overdue when its cell's due date
 * is before today.
 */
export async function evaluationsByGroup(db: Queryable, scope: string, groupBy: ReportGrouping, from: string, to: string, today: string): Promise<EvaluationGroupRow[]> {
  const visible = visibleTo(scope, 1, 'r.');
  const { rows } = await db.query<EvaluationGroupRow>(
    `SELECT ${GROUP_KEY[groupBy]} AS key, r.level, sum(r.evaluations)::int AS n,
            sum(r.open_follow_ups)::int AS "openFollowUps",
            coalesce(sum(r.open_follow_ups) FILTER (WHERE r.open_due < $4::date), 0)::int AS overdue,
            sum(r.escalated)::int AS escalated,
            sum(r.resolved)::int AS resolved,
            sum(r.unresolved)::int AS unresolved
       FROM sla_rollup_evaluations r
      WHERE ${visible.sql} AND r.day >= $2::date AND r.day < $3::date
      GROUP BY 1, 2
     HAVING sum(r.evaluations) > 0`,
    [visible.param, from, to, today],
  );
  return rows;
}
