// The projection's writes from the workflow's events: one event row per (case, seq) and the case
// row, which only moves forward. Shared by the projection activity and nothing else.
import type { CaseEvent, CaseState } from '../domain/case.js';
import type { Queryable } from './cases.js';

/**
 * Records one state change: the event row (once per (case, seq)) and the case row, which only
 * moves forward, so a retried or late activity never overwrites a newer state.
 */
export async function applyCaseEvent(db: Queryable, event: CaseEvent, state: CaseState): Promise<void> {
  await db.query(
    `INSERT INTO case_events (case_id, seq, type, stage, status, actor, at, data)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id, seq) DO NOTHING`,
    [state.caseId, event.seq, event.type, event.stage, event.status, event.actor, event.at, JSON.stringify(event.data)],
  );
  await db.query(
    `UPDATE cases SET stage = $2, status = $3, needs_intervention = $4, intervention = $5, decision = $6,
       delivery = $7, province_case_id = $8, updated_at = $9, last_seq = $10,
       closed_at = CASE WHEN $3 <> 'active' THEN $9::timestamptz ELSE NULL END
     WHERE case_id = $1 AND last_seq < $10`,
    [
      state.caseId, state.stage, state.status, state.needsIntervention !== null,
      state.needsIntervention ? JSON.stringify(state.needsIntervention) : null,
      state.decision ? JSON.stringify(state.decision) : null, JSON.stringify(state.delivery),
      state.provinceCaseId, event.at, event.seq,
    ],
  );
  if (event.type === 'material.transferred' && typeof event.data.materialCode === 'string') {
    await db.query(
      `UPDATE case_materials SET transferred_at = $3 WHERE case_id = $1 AND material_code = $2 AND transferred_at IS NULL`,
      [state.caseId, event.data.materialCode, event.at],
    );
  }
}
