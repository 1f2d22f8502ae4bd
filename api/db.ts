// Small Postgres helpers shared by the api's use cases.
export { withTransaction } from '../db/transaction.js';
import type pg from 'pg';

/**
 * A LIKE pattern with regionCovers' semantics (domain/regions.ts), for SQL: a province (xx0000)
 * covers every code starting with xx, a city (xxyy00) every code starting with xxyy, anything
 * else only itself. Scopes come from verified tokens and are six digits, so no escaping is needed.
 */
export function scopePattern(scope: string): string {
  if (scope.endsWith('0000')) return `${scope.slice(0, 2)}%`;
  if (scope.endsWith('00')) return `${scope.slice(0, 4)}%`;
  return scope;
}

export interface AuditEntry {
  actor: string;
  role: string;
  region: string;
  action: string;
  caseId?: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

export async function writeAudit(db: pg.Pool | pg.PoolClient, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor, role, region, action, case_id, reason, detail) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
    [entry.actor, entry.role, entry.region, entry.action, entry.caseId ?? null, entry.reason ?? null, JSON.stringify(entry.detail ?? {})],
  );
}
