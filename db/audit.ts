// The audit log (append-only: db/migrations/017_audit_append_only.sql): every staff decision,
// intake, payload decode and read of a case's personal data leaves a row here with its actor, role
// and region. Shared by the api's use cases and the codec route; the access log and the applicant's
// data-access trail read it back (api/accessLog.ts).
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

/** One staff read of a case's personal data (action `case.read`, or `payload.decode` for the codec). */
export interface CaseReadEntry {
  actor: string;
  role: string;
  region: string;
  action: 'case.read' | 'payload.decode';
  caseId: string;
  detail: Record<string, unknown>;
}

/** Writes one row per read in one statement (a list route reads many cases at once). */
export async function writeCaseReads(db: Queryable, entries: readonly CaseReadEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO audit_log (actor, role, region, action, case_id, detail)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::jsonb[])`,
    [
      entries.map((e) => e.actor),
      entries.map((e) => e.role),
      entries.map((e) => e.region),
      entries.map((e) => e.action),
      entries.map((e) => e.caseId),
      entries.map((e) => JSON.stringify(e.detail)),
    ],
  );
}

/** An audit row of a case as the access log shows it. */
export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  role: string;
  region: string;
  action: string;
  reason: string | null;
  detail: Record<string, unknown>;
}

type AuditDbRow = Omit<AuditRow, 'at'> & { at: Date };

const auditRowOf = (r: AuditDbRow): AuditRow => ({ id: r.id, at: r.at.toISOString(), actor: r.actor, role: r.role, region: r.region, action: r.action, reason: r.reason, detail: r.detail });

/**
 * One page of the case's audit rows, newest first (by id, the order they were written), and
 * whether there are more: rows with an id below `beforeId` when given.
 */
export async function listCaseAudit(db: Queryable, caseId: string, page: { beforeId?: string; limit: number }): Promise<{ rows: AuditRow[]; more: boolean }> {
  const { rows } = await db.query<AuditDbRow>(
    `SELECT id::text, at, actor, role, region, action, reason, detail FROM audit_log
      WHERE case_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
      ORDER BY id DESC LIMIT $3`,
    [caseId, page.beforeId ?? null, page.limit + 1],
  );
  return { rows: rows.slice(0, page.limit).map(auditRowOf), more: rows.length > page.limit };
}

/** The case's reads of personal data (case.read, payload.decode), newest first, at most `limit`. */
export async function listCaseDataAccess(db: Queryable, caseId: string, limit: number): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditDbRow>(
    `SELECT id::text, at, actor, role, region, action, reason, detail FROM audit_log
      WHERE case_id = $1 AND action IN ('case.read', 'payload.decode')
      ORDER BY id DESC LIMIT $2`,
    [caseId, limit],
  );
  return rows.map(auditRowOf);
}
