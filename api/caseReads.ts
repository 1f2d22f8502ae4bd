// Reads come from the Postgres projection (rule 6 of docs/architecture.md), scoped to what the
// staff member's region covers: a case outside it answers 404 as if it did not exist. The SQL
// lives in db/caseQueries.ts; this module decides who may see what (domain/policy.ts). A read of
// a case's personal data is recorded in the audit log before it is answered (api/accessLog.ts).
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { lookupHash } from '../crypto/pii.js';
import { listCaseAudit, type AuditRow } from '../db/audit.js';
import { findCaseHeader, findVisibleCaseDetail, listVisibleCases, type CaseHeader } from '../db/caseQueries.js';
import { mayAct, type CaseAction } from '../domain/policy.js';
import { recordCaseReads } from './accessLog.js';
import type { StaffClaims } from './auth.js';
import { problem } from './problem.js';
import { receiptFor } from './progress.js';
import { encodeCursor, type CaseDetail, type CaseListQuery, type CaseSummary } from './schemas.js';

export function caseNotFound(caseId: string) {
  return problem(404, `no case ${caseId}`);
}

/**
 * The case if `staff` may do `action` to it: 404 when they cannot see it at all, 403 (saying why)
 * when they can but have the wrong role or stand on the wrong side.
 */
export async function authorizeCaseAction(pool: pg.Pool, staff: StaffClaims, caseId: string, action: CaseAction): Promise<CaseHeader> {
  const found = await findCaseHeader(pool, caseId);
  if (!found) throw caseNotFound(caseId);
  const decision = mayAct(staff, action, found);
  if (!decision.ok) throw decision.status === 404 ? caseNotFound(caseId) : problem(403, decision.detail);
  return found;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * preValidation hook: on a route whose config names a `caseAction`, authorizeCaseAction runs before
 * the body is validated, so a caller who may not act on the case gets 404 (on neither side) or 403
 * (wrong side), never a 400 about a body it may not send (the authorisation matrix,
 * test/hostile/authzMatrix.test.ts). The handler checks again with what only the body tells (a
 * record-offline's step, a message's addressee). A malformed case id is left to the params check:
 * it names no case.
 */
export function authorizeCaseBeforeBody(pool: pg.Pool) {
  return async function caseBeforeBody(request: FastifyRequest): Promise<void> {
    const action = request.routeOptions.config.caseAction;
    const caseId = (request.params as { caseId?: unknown } | undefined)?.caseId;
    if (!action || !request.staff || typeof caseId !== 'string' || !UUID.test(caseId)) return;
    await authorizeCaseAction(pool, request.staff, caseId, action);
  };
}

/** The case view, with the receipt (its query code is derived under `hashKey`, api/progress.ts). */
export async function getCase(pool: pg.Pool, staff: StaffClaims, caseId: string, hashKey: string): Promise<CaseDetail> {
  const found = await findVisibleCaseDetail(pool, staff.region, caseId);
  if (!found) throw caseNotFound(caseId);
  const decision = mayAct(staff, 'case.read', found);
  if (!decision.ok) throw decision.status === 404 ? caseNotFound(caseId) : problem(403, decision.detail);
  await recordCaseReads(pool, staff, 'case', [found]);
  return { ...found, receipt: receiptFor(hashKey, caseId) };
}

/** The staff search; an identity number is matched by its keyed hash under `hashKey`, never by itself. */
export async function listCases(pool: pg.Pool, staff: StaffClaims, q: CaseListQuery, hashKey: string): Promise<{ items: CaseSummary[]; nextCursor: string | null }> {
  const { cursor, limit, idNumber, ...filters } = q;
  const { items, next } = await listVisibleCases(pool, staff.region, {
    ...filters,
    limit,
    ...(idNumber ? { idNumberHash: lookupHash(hashKey, idNumber) } : {}),
    ...(cursor ? { after: cursor } : {}),
  });
  return { items, nextCursor: next ? encodeCursor(next) : null };
}

export interface AccessLogPage {
  caseId: string;
  items: AuditRow[];
  nextCursor: string | null;
}

/** The case's audit rows, newest first: a supervisor of either side (case.readAccessLog). The read itself is recorded first. */
export async function getAccessLog(pool: pg.Pool, staff: StaffClaims, caseId: string, q: { cursor?: string | undefined; limit: number }): Promise<AccessLogPage> {
  const header = await authorizeCaseAction(pool, staff, caseId, 'case.readAccessLog');
  await recordCaseReads(pool, staff, 'access-log', [header]);
  const { rows, more } = await listCaseAudit(pool, caseId, { ...(q.cursor ? { beforeId: q.cursor } : {}), limit: q.limit });
  return { caseId, items: rows, nextCursor: more ? rows[rows.length - 1]!.id : null };
}

