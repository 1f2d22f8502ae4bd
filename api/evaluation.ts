// Evaluation (好差评): once a case has closed, the applicant rates the service once, on their own with
// the receipt's query code or through the receiving window (a clerk or supervisor records it on the
// applicant's behalf). 不满意 and 非常不满意 (差评) open a follow-up (回访 and 整改) owned by the
// supervisors of the side responsible, due EVALUATION_FOLLOW_UP_DAYS working days later; the
// supervisor closes it with what the applicant said when called back, what was changed and the
// outcome. An open follow-up past its due date is escalated to the province's supervisors by the
// scheduled sweep (workflows/maintenance/escalateFollowUps.ts). Ratings and follow-ups are
// reportable per region and period.
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { queryCodeMatches } from '../crypto/queryCode.js';
import { writeAudit } from '../db/audit.js';
import { findCaseHeader } from '../db/caseQueries.js';
import { closeFollowUp, EVALUATION_LEVELS, evaluationReport, findEvaluation, insertEvaluation, insertFollowUp, listFollowUps, NEGATIVE_LEVELS, type Evaluation, type EvaluationLevel, type FollowUp, type Side } from '../db/evaluations.js';
import { withTransaction } from '../db/transaction.js';
import { CalendarRangeError, dateInChina, type WorkingCalendar } from '../domain/calendar.js';
import { isOpenStatus, type CaseStatus } from '../domain/case.js';
import { mayAct } from '../domain/policy.js';
import { regionCovers, regionLikePattern } from '../domain/regions.js';
import type { StaffClaims } from './auth.js';
import { recordCaseReads, recordReads } from './accessLog.js';
import { caseNotFound } from './caseReads.js';
import { problem } from './problem.js';

export interface EvaluationDeps {
  pool: pg.Pool;
  config: Config;
  calendar: WorkingCalendar;
  hashKey: string;
}

export interface EvaluationBody {
  level: EvaluationLevel;
  comment?: string | undefined;
  channel: string;
  /** Which office the rating is about; default the receiving window, which served the applicant. */
  concerns?: Side | undefined;
  /** The receipt's query code, when the applicant evaluates on their own. */
  queryCode?: string | undefined;
}

/**
 * Records the evaluation: by the applicant with the query code (no login), or by staff of the
 * receiving side for the applicant. A wrong code is the same 404 as an unknown case.
 */
export async function evaluate(deps: EvaluationDeps, staff: StaffClaims | null, caseId: string, body: EvaluationBody): Promise<{ evaluation: Evaluation; followUp: FollowUp | null }> {
  const header = await findCaseHeader(deps.pool, caseId);
  let recordedBy: string;
  if (staff) {
    if (!header) throw caseNotFound(caseId);
    const allowed = mayAct(staff, 'case.evaluate', header);
    if (!allowed.ok) throw allowed.status === 404 ? caseNotFound(caseId) : problem(403, allowed.detail);
    recordedBy = staff.sub;
  } else {
    if (!body.queryCode) throw problem(401, 'the receipt’s query code (queryCode), or a staff token, is required', { errors: [{ path: 'queryCode', message: 'is required without a staff token' }] });
    if (!header || !queryCodeMatches(deps.hashKey, caseId, body.queryCode)) throw problem(404, 'no case with this number and query code');
    recordedBy = 'applicant';
  }
  if (isOpenStatus(header.status as CaseStatus)) throw problem(409, `the case is ${header.status}: it can be evaluated once it has closed`, { slug: 'case-not-closed' });

  const concerns: Side = body.concerns ?? 'receiving';
  const evaluation: Evaluation = {
    caseId,
    level: body.level,
    comment: body.comment ?? null,
    channel: body.channel,
    concerns,
    recordedBy,
    recordedAt: new Date().toISOString(),
  };
  const negative = NEGATIVE_LEVELS.includes(body.level);
  const dueDate = negative ? followUpDueDate(deps) : null;
  const created = await withTransaction(deps.pool, async (client) => {
    if (!(await insertEvaluation(client, evaluation))) return false;
    if (negative) {
      await insertFollowUp(client, { caseId, side: concerns, region: concerns === 'receiving' ? header.receivingRegion : header.handlingRegion, openedAt: evaluation.recordedAt, dueDate: dueDate! });
    }
    await writeAudit(client, {
      actor: recordedBy, role: staff?.role ?? 'applicant', region: staff?.region ?? header.receivingRegion, action: 'case.evaluate', caseId,
      detail: { level: body.level, channel: body.channel, concerns, followUp: negative },
    });
    return true;
  });
  const stored = (await findEvaluation(deps.pool, caseId))!;
  if (!created) throw problem(409, `the case was already evaluated (${stored.evaluation.level}, ${stored.evaluation.recordedAt}): one evaluation per case`, { slug: 'already-evaluated' });
  return stored;
}

/** The follow-up's due date: EVALUATION_FOLLOW_UP_DAYS working days from today. */
function followUpDueDate(deps: EvaluationDeps): string {
  try {
    return deps.calendar.addWorkingDays(dateInChina(new Date()), deps.config.EVALUATION_FOLLOW_UP_DAYS).date;
  } catch (e) {
    if (e instanceof CalendarRangeError) throw problem(503, `the follow-up's due date cannot be counted: ${e.message}; the year's State Council notice must be added (docs/calendar.md)`);
    throw e;
  }
}

export async function getEvaluation(deps: EvaluationDeps, staff: StaffClaims, caseId: string) {
  const header = await findCaseHeader(deps.pool, caseId);
  if (!header) throw caseNotFound(caseId);
  const allowed = mayAct(staff, 'case.read', header);
  if (!allowed.ok) throw allowed.status === 404 ? caseNotFound(caseId) : problem(403, allowed.detail);
  const found = await findEvaluation(deps.pool, caseId);
  if (!found) throw problem(404, `case ${caseId} has not been evaluated`);
  // The applicant's comment and what they said when called back are personal data: audited first.
  await recordCaseReads(deps.pool, staff, 'evaluation', [header]);
  return { ...found, followUp: found.followUp ? withOverdue(found.followUp) : null };
}

/** Closes the case's follow-up: a supervisor of the side responsible (or of the province it was escalated to). */
export async function closeCaseFollowUp(
  deps: EvaluationDeps,
  staff: StaffClaims,
  caseId: string,
  body: { revisit: string; rectification: string; outcome: 'resolved' | 'unresolved' },
): Promise<FollowUp & { overdue: boolean }> {
  const found = await findEvaluation(deps.pool, caseId);
  const header = await findCaseHeader(deps.pool, caseId);
  if (!header || !mayAct(staff, 'case.read', header).ok) throw caseNotFound(caseId);
  const followUp = found?.followUp;
  if (!followUp) throw problem(404, `case ${caseId} has no follow-up: only 不满意 and 非常不满意 open one`);
  const owns = staff.role === 'supervisor' && (regionCovers(staff.region, followUp.region) || (followUp.escalatedTo !== null && regionCovers(staff.region, followUp.escalatedTo)));
  if (!owns) throw problem(403, `the follow-up belongs to the supervisors of the ${followUp.side} side (${followUp.region})${followUp.escalatedTo ? ` or, escalated, of ${followUp.escalatedTo}` : ''}`);
  if (followUp.closedAt) throw problem(409, `the follow-up was closed at ${followUp.closedAt} (${followUp.outcome})`, { slug: 'follow-up-closed' });
  const closed = await withTransaction(deps.pool, async (client) => {
    const result = await closeFollowUp(client, caseId, { ...body, by: staff.sub, at: new Date().toISOString() });
    if (result) await writeAudit(client, { actor: staff.sub, role: staff.role, region: staff.region, action: 'followUp.close', caseId, reason: body.rectification, detail: { outcome: body.outcome } });
    return result;
  });
  if (!closed) throw problem(409, 'the follow-up was closed meanwhile', { slug: 'follow-up-closed' });
  return withOverdue(closed);
}

function withOverdue<F extends FollowUp>(f: F, today = dateInChina(new Date())): F & { overdue: boolean } {
  return { ...f, overdue: f.closedAt === null && f.dueDate < today };
}

export async function followUpList(deps: EvaluationDeps, staff: StaffClaims, q: { state?: 'open' | 'overdue' | 'closed' | undefined; limit: number }) {
  const today = dateInChina(new Date());
  const items = await listFollowUps(deps.pool, regionLikePattern(staff.region), { ...(q.state ? { state: q.state } : {}), today, limit: q.limit });
  // Each listed evaluation carries the applicant's words: one audited read per case, in one insert.
  await recordReads(deps.pool, staff, 'follow-ups', items.map((i) => ({ caseId: i.caseId, side: i.side })));
  return { items: items.map((i) => withOverdue(i, today)) };
}

export async function report(deps: EvaluationDeps, staff: StaffClaims, q: { from: string; to: string }) {
  const today = dateInChina(new Date());
  const { levels, followUps } = await evaluationReport(deps.pool, staff.region, q.from, q.to, today);
  const byLevel = Object.fromEntries(EVALUATION_LEVELS.map((l) => [l, levels.find((x) => x.level === l)?.n ?? 0])) as Record<EvaluationLevel, number>;
  const total = Object.values(byLevel).reduce((a, b) => a + b, 0);
  const negative = byLevel['不满意'] + byLevel['非常不满意'];
  return { region: staff.region, from: q.from, to: q.to, total, byLevel, negative, negativeRate: total ? Math.round((negative / total) * 10000) / 10000 : 0, followUps };
}
