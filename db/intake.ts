// Intake requests: one row per Idempotency-Key, written (and committed) before the workflow is
// started, so every retry with the key finds the case id it was given and converges on the same
// workflow. A row whose case row is missing means an earlier attempt stopped between claiming the
// key and recording the case; the retry finishes the job (api/intake.ts).
import type { CaseInput, CaseStage, CaseStatus } from '../domain/case.js';
import type { AuditEntry } from './audit.js';
import { CASE_ROW_CTES, caseRowParams, type PiiKeys, type Queryable } from './cases.js';

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

/**
 * Intake's write of the case: the case row and its materials unless they exist (db/cases.ts) and
 * the `case.submit` audit entry (by `audit`'s actor) unless the case has one, in one statement, so one round trip and
 * one commit. A retry, a concurrent attempt with the same key or the projection activity may have
 * written any of them first; each insert gives way (the audit entry to the unique index of
 * migration 026), so there is no lock to take. True when this call inserted the case row.
 */
export async function recordIntakeCase(db: Queryable, input: CaseInput, keys: PiiKeys, audit: Omit<AuditEntry, 'action' | 'caseId'>): Promise<boolean> {
  const params = caseRowParams(input, keys);
  const n = params.length;
  const { rows } = await db.query<{ inserted: number }>(
    `WITH ${CASE_ROW_CTES}, audit_row AS (
       INSERT INTO audit_log (actor, role, region, action, case_id, reason, detail)
       VALUES ($${n + 1}, $${n + 2}, $${n + 3}, 'case.submit', $1, $${n + 4}, $${n + 5})
       ON CONFLICT (case_id) WHERE action = 'case.submit' DO NOTHING
     )
     SELECT count(*)::int AS inserted FROM case_row`,
    [...params, audit.actor, audit.role, audit.region, audit.reason ?? null, JSON.stringify(audit.detail ?? {})],
  );
  return rows[0]!.inserted === 1;
}
