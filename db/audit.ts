// The audit log's writes: every staff decision, intake and payload decode leaves a row here with
// its actor, role and region. Shared by the api's use cases and the codec route.
import type { Queryable } from './cases.js';

export interface AuditEntry {
  actor: string;
  role: string;
  region: string;
  action: string;
  caseId?: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

export async function writeAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor, role, region, action, case_id, reason, detail) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
    [entry.actor, entry.role, entry.region, entry.action, entry.caseId ?? null, entry.reason ?? null, JSON.stringify(entry.detail ?? {})],
  );
}

/**
 * Writes the entry unless the case already has one for this action (intake, which a retry may
 * repeat). Call inside a transaction that holds lockCase, so two retries cannot both write.
 */
export async function writeAuditOnce(db: Queryable, entry: AuditEntry & { caseId: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO audit_log (actor, role, region, action, case_id, reason, detail)
     SELECT $1,$2,$3,$4,$5,$6,$7
      WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE case_id = $5 AND action = $4)`,
    [entry.actor, entry.role, entry.region, entry.action, entry.caseId, entry.reason ?? null, JSON.stringify(entry.detail ?? {})],
  );
  return rowCount === 1;
}
