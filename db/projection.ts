// The projection's writes from the workflow's events: one event row per (case, seq) and the case
// row, which only moves forward. Shared by the projection activity and nothing else.
//
// applyCaseEvent is the write of cases started before the projection carried only changes (the
// whole state each time); applyCaseEventChanges is the current one, which also follows the
// workflow's current run after a reset (db/migrations/003_projection_runs.sql).
//
// Each event row inserted also appends the hand-offs it records to the case's ledger (db/handoffs.ts)
// and queues the SMS it gives the applicant (db/notifications.ts), in the same transaction; a
// repeated write inserts no row and so appends and queues nothing.
import type { CaseEvent, CaseState, Intervention } from '../domain/case.js';
import type { CaseRowChanges, ProjectionWriteResult } from '../domain/projection.js';
import type { Queryable } from './cases.js';
import { recordLicence } from './elicences.js';
import { appendEventHandoffs } from './handoffs.js';
import { queueSmsForEvent } from './notifications.js';

/**
 * Records one state change: the event row (once per (case, seq)) and the case row, which only
 * moves forward, so a retried or late activity never overwrites a newer state.
 */
export async function applyCaseEvent(db: Queryable, event: CaseEvent, state: CaseState): Promise<void> {
  const inserted = await db.query(
    `INSERT INTO case_events (case_id, seq, type, stage, status, actor, at, data)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id, seq) DO NOTHING`,
    [state.caseId, event.seq, event.type, event.stage, event.status, event.actor, event.at, JSON.stringify(event.data)],
  );
  // The hand-off ledger, as in applyCaseEventChanges; this write carries no run id (source_run_id NULL).
  if (inserted.rowCount === 1) await appendEventHandoffs(db, state.caseId, event, null);
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

export interface CaseEventChanges {
  caseId: string;
  runId: string;
  event: CaseEvent;
  changes: CaseRowChanges;
}

/**
 * Records one event and the case-row fields that changed, in one transaction (the caller's).
 * Idempotent: a repeated (case, seq) changes nothing. A write from a run other than the one the
 * row follows means the workflow was reset: the new run takes the case over from this seq on,
 * unless it has itself been superseded.
 */
export async function applyCaseEventChanges(db: Queryable, w: CaseEventChanges): Promise<ProjectionWriteResult> {
  const { caseId, runId, event, changes } = w;
  const { rows } = await db.query<{ run_id: string | null; superseded: boolean }>(
    `SELECT run_id, EXISTS (SELECT 1 FROM superseded_runs s WHERE s.case_id = c.case_id AND s.run_id = $2) AS superseded
       FROM cases c WHERE case_id = $1 FOR UPDATE`,
    [caseId, runId],
  );
  const row = rows[0];
  if (!row) throw new Error(`case ${caseId} has no projection row yet`);
  if (row.superseded) return 'superseded';
  if (row.run_id !== null && row.run_id !== runId) {
    if (!isSnapshot(changes)) return 'snapshot-required';
    await db.query(`INSERT INTO superseded_runs (case_id, run_id, superseded_by, at_seq) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`, [caseId, row.run_id, runId, event.seq]);
    await db.query(`DELETE FROM case_events WHERE case_id = $1 AND seq >= $2`, [caseId, event.seq]);
    await db.query(`UPDATE case_materials SET transferred_at = NULL WHERE case_id = $1 AND transferred_at >= $2`, [caseId, event.at]);
    await db.query(`UPDATE cases SET last_seq = $2 WHERE case_id = $1`, [caseId, event.seq - 1]);
  }
  const inserted = await db.query(
    `INSERT INTO case_events (case_id, seq, type, stage, status, actor, at, data)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id, seq) DO NOTHING`,
    [caseId, event.seq, event.type, event.stage, event.status, event.actor, event.at, JSON.stringify(event.data)],
  );
  // The hand-off ledger (db/handoffs.ts): only when this write inserted the event row, so a retry
  // appends nothing. A reset above deletes event rows but never ledger entries: the superseded
  // run's entries stay (their source_run_id names it) and the new run's entries follow them, so
  // the chain stays append-only and verifiable.
  if (inserted.rowCount === 1) await appendEventHandoffs(db, caseId, event, runId);
  // What the event tells the applicant by SMS, queued with it (db/notifications.ts, sent by activities/notifications.ts).
  if (inserted.rowCount === 1) await queueSmsForEvent(db, caseId, event);
  const sets = ['stage = $2', 'status = $3', 'updated_at = $4', 'last_seq = $5', 'run_id = $6', `closed_at = CASE WHEN $3 NOT IN ('active', 'awaiting_supplement') THEN $4::timestamptz ELSE NULL END`];
  const params: unknown[] = [caseId, event.stage, event.status, event.at, event.seq, runId];
  const set = (column: string, value: unknown) => {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  };
  // When the case last heard from an authority (the stuck cases' "waiting on a province", domain/stuck.ts).
  if (heardFromAuthority(event)) set('last_province_at', event.at);
  if ('needsIntervention' in changes) {
    set('needs_intervention', changes.needsIntervention != null);
    set('intervention', changes.needsIntervention ? JSON.stringify(changes.needsIntervention) : null);
  }
  if ('decision' in changes) set('decision', changes.decision ? JSON.stringify(changes.decision) : null);
  if ('delivery' in changes) set('delivery', JSON.stringify(changes.delivery));
  if ('provinceCaseId' in changes) set('province_case_id', changes.provinceCaseId ?? null);
  if ('correction' in changes) set('correction', changes.correction ? JSON.stringify(changes.correction) : null);
  if ('correctionRounds' in changes && changes.correctionRounds) set('correction_rounds', JSON.stringify(changes.correctionRounds));
  if ('consultations' in changes) set('consultations', JSON.stringify(changes.consultations ?? []));
  if ('participants' in changes) set('participants', changes.participants ? JSON.stringify(changes.participants) : null);
  if ('sla' in changes) {
    const sla = changes.sla ?? null;
    set('sla', sla ? JSON.stringify(sla) : null);
    set('sla_state', sla?.state ?? null);
    set('due_date', sla?.promised.dueDate ?? null);
    set('statutory_due_date', sla?.statutory.dueDate ?? null);
    set('sla_escalated_at', sla?.escalatedAt ?? null);
  }
  await db.query(`UPDATE cases SET ${sets.join(', ')} WHERE case_id = $1 AND last_seq < $5`, params);
  if (event.type === 'material.transferred' && typeof event.data.materialCode === 'string') {
    await db.query(
      `UPDATE case_materials SET transferred_at = $3 WHERE case_id = $1 AND material_code = $2 AND transferred_at IS NULL`,
      [caseId, event.data.materialCode, event.at],
    );
  }
  if (event.type === 'correction.supplemented') await recordSupplement(db, caseId, event);
  if (event.type === 'material.fetched') await recordFetchedMaterial(db, caseId, event);
  if (event.type === 'participant.started') await recordParticipant(db, caseId, event);
  if (event.type === 'case.rerouted') await recordReroute(db, caseId, event);
  // An electronic result's licence, for the public verification (db/elicences.ts).
  if (event.type === 'delivery.issued') await recordLicence(db, caseId, event);
  return 'written';
}

/**
 * 改派: the case is the new authority's from here on (its callbacks, its scope, its side of every
 * rule); what was sent to the old one is to be sent again.
 */
async function recordReroute(db: Queryable, caseId: string, event: CaseEvent): Promise<void> {
  if (typeof event.data.to !== 'string') return;
  await db.query(`UPDATE cases SET handling_region = $2 WHERE case_id = $1`, [caseId, event.data.to]);
  await db.query(`UPDATE case_materials SET transferred_at = NULL WHERE case_id = $1`, [caseId]);
}

/** A joint case's participant: the id its authority calls back with leads to the case (api/callbacks.ts). */
async function recordParticipant(db: Queryable, caseId: string, event: CaseEvent): Promise<void> {
  const d = event.data as { participant: string; participantCaseId: string; regionCode: string };
  await db.query(
    `INSERT INTO case_participants (participant_case_id, case_id, participant_key, region_code, started_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
    [d.participantCaseId, caseId, d.participant, d.regionCode, event.at],
  );
}

/** An event an authority's system reported, or the materials reaching it: the province is not silent then. */
function heardFromAuthority(event: CaseEvent): boolean {
  return event.actor.startsWith('province:') || event.type === 'review.started' || event.type === 'transfer.created';
}

/** A material fetched from the data-sharing hub (免提交) becomes one of the case's materials, as if taken in. */
async function recordFetchedMaterial(db: Queryable, caseId: string, event: CaseEvent): Promise<void> {
  const d = event.data as { materialCode: string; fileId: string; sha256: string; size: number; contentType: string };
  await db.query(
    `INSERT INTO case_materials (case_id, material_code, file_id, sha256, size, content_type) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING`,
    [caseId, d.materialCode, d.fileId, d.sha256, d.size, d.contentType],
  );
}

/** The supplemented files of a notice, kept with the case (and so never swept as unattached). */
async function recordSupplement(db: Queryable, caseId: string, event: CaseEvent): Promise<void> {
  const noticeId = String(event.data.noticeId);
  const items = (event.data.items ?? []) as { materialCode: string; fileId?: string; sha256: string; size: number; contentType?: string }[];
  for (const item of items) {
    if (!item.fileId) continue;
    await db.query(
      `INSERT INTO case_supplements (case_id, notice_id, material_code, file_id, sha256, size, content_type, supplemented_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`,
      [caseId, noticeId, item.materialCode, item.fileId, item.sha256, item.size, item.contentType ?? 'application/octet-stream', event.at],
    );
  }
}

function isSnapshot(changes: CaseRowChanges): boolean {
  return 'needsIntervention' in changes && 'decision' in changes && 'delivery' in changes && 'provinceCaseId' in changes;
}

/** Marks a case stuck when its events cannot be written (the simplest write that may still go through). */
export async function flagProjectionFailure(db: Queryable, caseId: string, intervention: Intervention): Promise<void> {
  await db.query(`UPDATE cases SET needs_intervention = true, intervention = $2 WHERE case_id = $1`, [caseId, JSON.stringify(intervention)]);
}
