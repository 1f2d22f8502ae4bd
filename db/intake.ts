// Intake requests: one row per Idempotency-Key, written (and committed) before the workflow is
// started, so every retry with the key finds the case id it was given and converges on the same
// workflow. A row whose case row is missing means an earlier attempt stopped between claiming the
// key and recording the case; the retry finishes the job (api/intake.ts).
import type { CaseStage, CaseStatus } from '../domain/case.js';
import type { Queryable } from './cases.js';

export interface IntakeClaim {
  idempotencyKey: string;
  requestHash: string;
  caseId: string;
  actor: string;
  /** When the case was submitted: pinned by the first attempt, reused by every retry. */
  submittedAt: string;
  /** The item version the first attempt pinned (null for requests recorded before it was kept). */
  itemVersion: number | null;
}

export interface IntakeRecord extends IntakeClaim {
  /** The case row's status and stage, or null while the case row is not written yet. */
  status: CaseStatus | null;
  stage: CaseStage | null;
}

/** Records the key; false when a row for it already exists (another attempt claimed it first). */
export async function claimIntake(db: Queryable, claim: IntakeClaim): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO intake_requests (idempotency_key, request_hash, case_id, actor, created_at, item_version) VALUES ($1,$2,$3,$4,$5,$6)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [claim.idempotencyKey, claim.requestHash, claim.caseId, claim.actor, claim.submittedAt, claim.itemVersion],
  );
  return rowCount === 1;
}

export async function findIntake(db: Queryable, idempotencyKey: string): Promise<IntakeRecord | null> {
  const { rows } = await db.query<{ request_hash: string; case_id: string; actor: string; created_at: Date; item_version: number | null; status: CaseStatus | null; stage: CaseStage | null }>(
    `SELECT r.request_hash, r.case_id, r.actor, r.created_at, r.item_version, c.status, c.stage
       FROM intake_requests r LEFT JOIN cases c ON c.case_id = r.case_id
      WHERE r.idempotency_key = $1`,
    [idempotencyKey],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    idempotencyKey,
    requestHash: r.request_hash.trim(),
    caseId: r.case_id,
    actor: r.actor,
    submittedAt: r.created_at.toISOString(),
    itemVersion: r.item_version,
    status: r.status,
    stage: r.stage,
  };
}
