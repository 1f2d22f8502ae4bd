// SQL of evaluations (好差评) and their follow-ups (migration 009_evaluations.sql).
import type { Queryable } from './cases.js';
import { visibleTo } from './scope.js';

export const EVALUATION_LEVELS = ['非常满意', '满意', '基本满意', '不满意', '非常不满意'] as const;
export type EvaluationLevel = (typeof EVALUATION_LEVELS)[number];
/** 差评: the levels that open a follow-up. */
export const NEGATIVE_LEVELS: readonly EvaluationLevel[] = ['不满意', '非常不满意'];

export type Side = 'receiving' | 'handling';

export interface Evaluation {
  caseId: string;
  level: EvaluationLevel;
  comment: string | null;
  channel: string;
  concerns: Side;
  recordedBy: string;
  recordedAt: string;
}

export interface FollowUp {
  caseId: string;
  side: Side;
  region: string;
  openedAt: string;
  dueDate: string;
  revisit: string | null;
  rectification: string | null;
  outcome: 'resolved' | 'unresolved' | null;
  closedAt: string | null;
  closedBy: string | null;
  escalatedAt: string | null;
  escalatedTo: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

interface EvaluationRow {
  case_id: string;
  level: EvaluationLevel;
  comment: string | null;
  channel: string;
  concerns: Side;
  recorded_by: string;
  recorded_at: Date;
}

interface FollowUpRow {
  case_id: string;
  side: Side;
  region: string;
  opened_at: Date;
  due_date: string;
  revisit: string | null;
  rectification: string | null;
  outcome: 'resolved' | 'unresolved' | null;
  closed_at: Date | null;
  closed_by: string | null;
  escalated_at: Date | null;
  escalated_to: string | null;
}

const evaluationOf = (r: EvaluationRow): Evaluation => ({
  caseId: r.case_id, level: r.level, comment: r.comment, channel: r.channel, concerns: r.concerns, recordedBy: r.recorded_by, recordedAt: r.recorded_at.toISOString(),
});

const followUpOf = (r: FollowUpRow): FollowUp => ({
  caseId: r.case_id, side: r.side, region: r.region, openedAt: r.opened_at.toISOString(), dueDate: r.due_date, revisit: r.revisit, rectification: r.rectification,
  outcome: r.outcome, closedAt: iso(r.closed_at), closedBy: r.closed_by, escalatedAt: iso(r.escalated_at), escalatedTo: r.escalated_to,
});

const FOLLOW_UP_COLUMNS = `case_id, side, region, opened_at, due_date::text, revisit, rectification, outcome, closed_at, closed_by, escalated_at, escalated_to`;

/** Records the case's one evaluation; false when it already has one. */
export async function insertEvaluation(db: Queryable, e: Evaluation): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO case_evaluations (case_id, level, comment, channel, concerns, recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (case_id) DO NOTHING`,
    [e.caseId, e.level, e.comment, e.channel, e.concerns, e.recordedBy, e.recordedAt],
  );
  return res.rowCount === 1;
}

export async function insertFollowUp(db: Queryable, f: { caseId: string; side: Side; region: string; openedAt: string; dueDate: string }): Promise<void> {
  await db.query(`INSERT INTO evaluation_follow_ups (case_id, side, region, opened_at, due_date) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`, [
    f.caseId, f.side, f.region, f.openedAt, f.dueDate,
  ]);
}

export async function findEvaluation(db: Queryable, caseId: string): Promise<{ evaluation: Evaluation; followUp: FollowUp | null } | null> {
  const { rows } = await db.query<EvaluationRow>(`SELECT * FROM case_evaluations WHERE case_id = $1`, [caseId]);
  if (!rows[0]) return null;
  const f = await db.query<FollowUpRow>(`SELECT ${FOLLOW_UP_COLUMNS} FROM evaluation_follow_ups WHERE case_id = $1`, [caseId]);
  return { evaluation: evaluationOf(rows[0]), followUp: f.rows[0] ? followUpOf(f.rows[0]) : null };
}

/** Closes an open follow-up; null when there is none open for the case. */
export async function closeFollowUp(db: Queryable, caseId: string, c: { revisit: string; rectification: string; outcome: 'resolved' | 'unresolved'; by: string; at: string }): Promise<FollowUp | null> {
  const { rows } = await db.query<FollowUpRow>(
    `UPDATE evaluation_follow_ups SET revisit = $2, rectification = $3, outcome = $4, closed_by = $5, closed_at = $6
      WHERE case_id = $1 AND closed_at IS NULL RETURNING ${FOLLOW_UP_COLUMNS}`,
    [caseId, c.revisit, c.rectification, c.outcome, c.by, c.at],
  );
  return rows[0] ? followUpOf(rows[0]) : null;
}

/** Follow-ups whose region the scope covers (a LIKE pattern), open ones first by due date. */
export async function listFollowUps(db: Queryable, regionPattern: string, f: { state?: 'open' | 'overdue' | 'closed'; today: string; limit: number }): Promise<(FollowUp & { evaluation: Evaluation })[]> {
  const where = ['(f.region LIKE $1 OR f.escalated_to LIKE $1)'];
  if (f.state === 'open') where.push('f.closed_at IS NULL');
  if (f.state === 'closed') where.push('f.closed_at IS NOT NULL');
  if (f.state === 'overdue') where.push('f.closed_at IS NULL AND f.due_date < $2::date');
  const { rows } = await db.query<FollowUpRow & { e_level: EvaluationLevel; e_comment: string | null; e_channel: string; e_concerns: Side; e_recorded_by: string; e_recorded_at: Date }>(
    `SELECT f.case_id, f.side, f.region, f.opened_at, f.due_date::text, f.revisit, f.rectification, f.outcome, f.closed_at, f.closed_by, f.escalated_at, f.escalated_to,
            e.level AS e_level, e.comment AS e_comment, e.channel AS e_channel, e.concerns AS e_concerns, e.recorded_by AS e_recorded_by, e.recorded_at AS e_recorded_at
       FROM evaluation_follow_ups f JOIN case_evaluations e USING (case_id)
      WHERE ${where.join(' AND ')} AND $2::date IS NOT NULL
      ORDER BY (f.closed_at IS NOT NULL), f.due_date, f.case_id
      LIMIT $3`,
    [regionPattern, f.today, f.limit],
  );
  return rows.map((r) => ({
    ...followUpOf(r),
    evaluation: { caseId: r.case_id, level: r.e_level, comment: r.e_comment, channel: r.e_channel, concerns: r.e_concerns, recordedBy: r.e_recorded_by, recordedAt: r.e_recorded_at.toISOString() },
  }));
}

/**
 * Escalates every open follow-up past its due date that is not escalated yet to the province of
 * its region; returns what it escalated (each once).
 */
export async function escalateOverdueFollowUps(db: Queryable, today: string): Promise<{ caseId: string; region: string; escalatedTo: string; dueDate: string }[]> {
  const { rows } = await db.query<{ case_id: string; region: string; escalated_to: string; due_date: string }>(
    `UPDATE evaluation_follow_ups SET escalated_at = now(), escalated_to = substr(region, 1, 2) || '0000'
      WHERE closed_at IS NULL AND escalated_at IS NULL AND due_date < $1::date
      RETURNING case_id, region, escalated_to, due_date::text`,
    [today],
  );
  return rows.map((r) => ({ caseId: r.case_id, region: r.region, escalatedTo: r.escalated_to, dueDate: r.due_date }));
}

/** Counts per level and of follow-ups, for the evaluations whose case the scope covers, recorded in [from, to) (China dates: midnight is China's midnight). */
export async function evaluationReport(db: Queryable, scope: string, from: string, to: string, today: string) {
  const visible = visibleTo(scope, 1, 'c.');
  const levels = await db.query<{ level: EvaluationLevel; n: number }>(
    `SELECT e.level, count(*)::int AS n FROM case_evaluations e JOIN cases c USING (case_id)
      WHERE ${visible.sql} AND e.recorded_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai') AND e.recorded_at < ($3::date::timestamp AT TIME ZONE 'Asia/Shanghai')
      GROUP BY e.level`,
    [visible.param, from, to],
  );
  const followUps = await db.query<{ open: number; overdue: number; escalated: number; resolved: number; unresolved: number }>(
    `SELECT count(*) FILTER (WHERE f.closed_at IS NULL)::int AS open,
            count(*) FILTER (WHERE f.closed_at IS NULL AND f.due_date < $4::date)::int AS overdue,
            count(*) FILTER (WHERE f.escalated_at IS NOT NULL)::int AS escalated,
            count(*) FILTER (WHERE f.outcome = 'resolved')::int AS resolved,
            count(*) FILTER (WHERE f.outcome = 'unresolved')::int AS unresolved
       FROM evaluation_follow_ups f JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)
      WHERE ${visible.sql} AND e.recorded_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai') AND e.recorded_at < ($3::date::timestamp AT TIME ZONE 'Asia/Shanghai')`,
    [visible.param, from, to, today],
  );
  return { levels: levels.rows, followUps: followUps.rows[0]! };
}
