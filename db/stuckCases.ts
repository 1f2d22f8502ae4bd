// The candidates for the stuck list (domain/stuck.ts decides and explains): open cases the staff
// member's scope covers that are flagged, overdue, idle, silent at the authority, or have a missed
// consultation or an unanswered liaison message. Each condition is one indexed comparison against
// an instant the api computed (migration 018), so the list stays fast as the projection grows.
import type { CaseSla, Consultation, Intervention } from '../domain/case.js';
import type { StuckCandidate } from '../domain/stuck.js';
import type { Queryable } from './cases.js';
import { SUMMARY_COLUMNS, summaryOf, type CaseSummaryRecord, type SummaryRow } from './caseQueries.js';
import { scopeColumns } from './scope.js';

export interface StuckQuery {
  scope: string;
  provinceSilentBefore: Date;
  idleBefore: Date;
  liaisonDueBefore: Date;
  /** At most this many candidates (the list is sorted in the api by how long each has waited). */
  limit: number;
}

export interface StuckRow {
  summary: CaseSummaryRecord;
  candidate: Omit<StuckCandidate, 'workflowProblem'>;
}

export async function findStuckCandidates(db: Queryable, q: StuckQuery): Promise<StuckRow[]> {
  const { receiving, handling, code } = scopeColumns(q.scope);
  // Each side walks its own index of open cases (migration 024) in updated_at order and stops at
  // the limit, so a province with tens of thousands of open cases reads only a page of them; the
  // unanswered message is looked up for the picked cases only.
  const stuck = `c.status IN ('active', 'awaiting_supplement')
        AND (c.needs_intervention
             OR c.sla_state = 'red'
             OR (c.status = 'active' AND c.updated_at < $2)
             OR (c.status = 'active' AND c.stage IN ('transfer', 'review') AND c.last_province_at < $3)
             OR EXISTS (SELECT 1 FROM case_messages u WHERE u.case_id = c.case_id AND u.acknowledged_at IS NULL AND u.sent_at < $4)
             OR EXISTS (SELECT 1 FROM jsonb_array_elements(c.consultations) k WHERE k->>'status' = 'missed' AND k->'outcome' = 'null'::jsonb))`;
  const side = (column: string) => `(SELECT c.case_id, c.updated_at FROM cases c WHERE c.${column} = $1 AND ${stuck} ORDER BY c.updated_at LIMIT $5)`;
  const { rows } = await db.query<
    SummaryRow & {
      intervention: Intervention | null;
      sla: CaseSla | null;
      last_province_at: Date | null;
      consultations: Consultation[];
      unanswered_sent_at: Date | null;
      unanswered_to: string | null;
    }
  >(
    `WITH picked AS (SELECT case_id, updated_at FROM (${side(receiving)} UNION ${side(handling)}) s ORDER BY updated_at, case_id LIMIT $5)
     SELECT ${SUMMARY_COLUMNS.split(',').map((col) => `c.${col.trim()}`).join(', ')},
            c.intervention, c.sla, c.last_province_at, c.consultations, m.sent_at AS unanswered_sent_at, m.to_side AS unanswered_to
       FROM picked p JOIN cases c ON c.case_id = p.case_id
       LEFT JOIN LATERAL (
         SELECT sent_at, to_side FROM case_messages WHERE case_id = c.case_id AND acknowledged_at IS NULL ORDER BY sent_at LIMIT 1
       ) m ON true
      ORDER BY p.updated_at, p.case_id`,
    [code, q.idleBefore, q.provinceSilentBefore, q.liaisonDueBefore, q.limit],
  );
  return rows.map((r) => ({
    summary: summaryOf(r),
    candidate: {
      status: r.status,
      stage: r.stage,
      needsIntervention: r.needs_intervention,
      intervention: r.intervention,
      sla: r.sla,
      updatedAt: r.updated_at.toISOString(),
      lastProvinceAt: r.last_province_at ? r.last_province_at.toISOString() : null,
      consultations: r.consultations ?? [],
      oldestUnanswered: r.unanswered_sent_at ? { sentAt: r.unanswered_sent_at.toISOString(), to: r.unanswered_to ?? '' } : null,
    },
  }));
}
