// SQL of the staff actions that live beside the workflow (migration 022): four-eyes approvals,
// notes, assignees per side, and bulk retries with their progress.
import { scopeColumns } from './scope.js';
import type { Queryable } from './cases.js';

export type ApprovalStatus = 'pending' | 'deciding' | 'approved' | 'refused' | 'failed';

export interface ApprovalRow {
  approvalId: string;
  caseId: string;
  action: 'record-offline' | 'reroute';
  params: Record<string, unknown>;
  side: 'receiving' | 'handling';
  effects: unknown;
  reason: string;
  requestedBy: string;
  requestedRole: string;
  requestedRegion: string;
  requestedAt: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedRole: string | null;
  decidedRegion: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  failure: string | null;
}

const APPROVAL_COLUMNS = `approval_id, case_id, action, params, side, effects, reason, requested_by, requested_role, requested_region, requested_at,
  status, decided_by, decided_role, decided_region, decision_reason, decided_at, failure`;

interface ApprovalDbRow {
  approval_id: string;
  case_id: string;
  action: ApprovalRow['action'];
  params: Record<string, unknown>;
  side: ApprovalRow['side'];
  effects: unknown;
  reason: string;
  requested_by: string;
  requested_role: string;
  requested_region: string;
  requested_at: Date;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_role: string | null;
  decided_region: string | null;
  decision_reason: string | null;
  decided_at: Date | null;
  failure: string | null;
}

function approvalOf(r: ApprovalDbRow): ApprovalRow {
  return {
    approvalId: r.approval_id,
    caseId: r.case_id,
    action: r.action,
    params: r.params,
    side: r.side,
    effects: r.effects,
    reason: r.reason,
    requestedBy: r.requested_by,
    requestedRole: r.requested_role,
    requestedRegion: r.requested_region,
    requestedAt: r.requested_at.toISOString(),
    status: r.status,
    decidedBy: r.decided_by,
    decidedRole: r.decided_role,
    decidedRegion: r.decided_region,
    decisionReason: r.decision_reason,
    decidedAt: r.decided_at?.toISOString() ?? null,
    failure: r.failure,
  };
}

export type NewApproval = Pick<ApprovalRow, 'approvalId' | 'caseId' | 'action' | 'params' | 'side' | 'effects' | 'reason' | 'requestedBy' | 'requestedRole' | 'requestedRegion'>;

/** The new request, or null when one for this case and action is already open. */
export async function insertApproval(db: Queryable, a: NewApproval): Promise<ApprovalRow | null> {
  const { rows } = await db.query<ApprovalDbRow>(
    `INSERT INTO case_approvals (approval_id, case_id, action, params, side, effects, reason, requested_by, requested_role, requested_region)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
     ON CONFLICT (case_id, action) WHERE status IN ('pending', 'deciding') DO NOTHING
     RETURNING ${APPROVAL_COLUMNS}`,
    [a.approvalId, a.caseId, a.action, JSON.stringify(a.params), a.side, JSON.stringify(a.effects), a.reason, a.requestedBy, a.requestedRole, a.requestedRegion],
  );
  return rows[0] ? approvalOf(rows[0]) : null;
}

export async function findOpenApproval(db: Queryable, caseId: string, action: ApprovalRow['action']): Promise<ApprovalRow | null> {
  const { rows } = await db.query<ApprovalDbRow>(`SELECT ${APPROVAL_COLUMNS} FROM case_approvals WHERE case_id = $1 AND action = $2 AND status IN ('pending', 'deciding')`, [caseId, action]);
  return rows[0] ? approvalOf(rows[0]) : null;
}

export async function findApproval(db: Queryable, caseId: string, approvalId: string): Promise<ApprovalRow | null> {
  const { rows } = await db.query<ApprovalDbRow>(`SELECT ${APPROVAL_COLUMNS} FROM case_approvals WHERE case_id = $1 AND approval_id = $2`, [caseId, approvalId]);
  return rows[0] ? approvalOf(rows[0]) : null;
}

export async function listApprovals(db: Queryable, caseId: string): Promise<ApprovalRow[]> {
  const { rows } = await db.query<ApprovalDbRow>(`SELECT ${APPROVAL_COLUMNS} FROM case_approvals WHERE case_id = $1 ORDER BY requested_at DESC`, [caseId]);
  return rows.map(approvalOf);
}

/**
 * The pending requests on cases whose deciding side the caller's region covers (by the scope
 * columns, like every list: db/scope.ts), oldest first.
 */
export async function listPendingApprovals(db: Queryable, staffRegion: string, limit: number): Promise<ApprovalRow[]> {
  const { receiving, handling, code } = scopeColumns(staffRegion);
  const { rows } = await db.query<ApprovalDbRow>(
    `SELECT ${APPROVAL_COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ')}
       FROM case_approvals a JOIN cases c USING (case_id)
      WHERE a.status = 'pending'
        AND ((a.side = 'receiving' AND c.${receiving} = $1) OR (a.side = 'handling' AND c.${handling} = $1))
      ORDER BY a.requested_at LIMIT $2`,
    [code, limit],
  );
  return rows.map(approvalOf);
}

/** Claims a pending request for a decider: false when another decided it or is deciding it. */
export async function claimApproval(db: Queryable, approvalId: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE case_approvals SET status = 'deciding' WHERE approval_id = $1 AND status = 'pending'`, [approvalId]);
  return rowCount === 1;
}

/** Back to pending: the workflow did not answer, so the decision may be taken again. */
export async function releaseApproval(db: Queryable, approvalId: string): Promise<void> {
  await db.query(`UPDATE case_approvals SET status = 'pending' WHERE approval_id = $1 AND status = 'deciding'`, [approvalId]);
}

export async function settleApproval(
  db: Queryable,
  approvalId: string,
  outcome: { status: 'approved' | 'refused' | 'failed'; by: string; role: string; region: string; reason: string; failure?: string },
): Promise<ApprovalRow> {
  const { rows } = await db.query<ApprovalDbRow>(
    `UPDATE case_approvals SET status = $2, decided_by = $3, decided_role = $4, decided_region = $5, decision_reason = $6, decided_at = now(), failure = $7
      WHERE approval_id = $1 RETURNING ${APPROVAL_COLUMNS}`,
    [approvalId, outcome.status, outcome.by, outcome.role, outcome.region, outcome.reason, outcome.failure ?? null],
  );
  return approvalOf(rows[0]!);
}

export interface NoteRow {
  noteId: string;
  author: string;
  role: string;
  region: string;
  side: 'receiving' | 'handling';
  text: string;
  createdAt: string;
}

export async function insertNote(db: Queryable, caseId: string, n: Omit<NoteRow, 'noteId' | 'createdAt'>): Promise<NoteRow> {
  const { rows } = await db.query<{ note_id: string; created_at: Date }>(
    `INSERT INTO case_notes (case_id, author, role, region, side, text) VALUES ($1,$2,$3,$4,$5,$6) RETURNING note_id, created_at`,
    [caseId, n.author, n.role, n.region, n.side, n.text],
  );
  return { ...n, noteId: String(rows[0]!.note_id), createdAt: rows[0]!.created_at.toISOString() };
}

export async function listNotes(db: Queryable, caseId: string): Promise<NoteRow[]> {
  const { rows } = await db.query<{ note_id: string; author: string; role: string; region: string; side: NoteRow['side']; text: string; created_at: Date }>(
    `SELECT note_id, author, role, region, side, text, created_at FROM case_notes WHERE case_id = $1 ORDER BY created_at, note_id`,
    [caseId],
  );
  return rows.map((r) => ({ noteId: String(r.note_id), author: r.author, role: r.role, region: r.region, side: r.side, text: r.text, createdAt: r.created_at.toISOString() }));
}

export interface Assignee {
  side: 'receiving' | 'handling';
  assignee: string;
  assignedBy: string;
  assignedAt: string;
}

/** Sets the side's assignee; answers the previous one (null when none). */
export async function assignCase(db: Queryable, caseId: string, side: Assignee['side'], assignee: string, by: string): Promise<string | null> {
  const { rows } = await db.query<{ previous: string | null }>(
    `WITH old AS (SELECT assignee FROM case_assignees WHERE case_id = $1 AND side = $2)
     INSERT INTO case_assignees (case_id, side, assignee, assigned_by) VALUES ($1,$2,$3,$4)
     ON CONFLICT (case_id, side) DO UPDATE SET assignee = EXCLUDED.assignee, assigned_by = EXCLUDED.assigned_by, assigned_at = now()
     RETURNING (SELECT assignee FROM old) AS previous`,
    [caseId, side, assignee, by],
  );
  return rows[0]?.previous ?? null;
}

export async function listAssignees(db: Queryable, caseId: string): Promise<Assignee[]> {
  const { rows } = await db.query<{ side: Assignee['side']; assignee: string; assigned_by: string; assigned_at: Date }>(
    `SELECT side, assignee, assigned_by, assigned_at FROM case_assignees WHERE case_id = $1 ORDER BY side DESC`,
    [caseId],
  );
  return rows.map((r) => ({ side: r.side, assignee: r.assignee, assignedBy: r.assigned_by, assignedAt: r.assigned_at.toISOString() }));
}

// ---------------------------------------------------------------------------------------------
// Bulk retries

export interface BulkItem {
  caseId: string;
  status: 'pending' | 'done' | 'failed';
  httpStatus: number | null;
  detail: string | null;
}

export interface Bulk {
  bulkId: string;
  action: 'retry';
  reason: string;
  actor: string;
  role: string;
  region: string;
  createdAt: string;
  items: BulkItem[];
}

export async function insertBulk(db: Queryable, b: Omit<Bulk, 'createdAt' | 'items'>, caseIds: string[]): Promise<void> {
  await db.query(`INSERT INTO bulk_actions (bulk_id, action, reason, actor, role, region) VALUES ($1,$2,$3,$4,$5,$6)`, [b.bulkId, b.action, b.reason, b.actor, b.role, b.region]);
  await db.query(
    `INSERT INTO bulk_action_items (bulk_id, position, case_id) SELECT $1, ord::int, id FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, ord)`,
    [b.bulkId, caseIds],
  );
}

export async function findBulk(db: Queryable, bulkId: string): Promise<Bulk | null> {
  const head = await db.query<{ bulk_id: string; action: 'retry'; reason: string; actor: string; role: string; region: string; created_at: Date }>(
    `SELECT bulk_id, action, reason, actor, role, region, created_at FROM bulk_actions WHERE bulk_id = $1`,
    [bulkId],
  );
  const h = head.rows[0];
  if (!h) return null;
  const items = await db.query<{ case_id: string; status: BulkItem['status']; http_status: number | null; detail: string | null }>(
    `SELECT case_id, status, http_status, detail FROM bulk_action_items WHERE bulk_id = $1 ORDER BY position`,
    [bulkId],
  );
  return {
    bulkId: h.bulk_id,
    action: h.action,
    reason: h.reason,
    actor: h.actor,
    role: h.role,
    region: h.region,
    createdAt: h.created_at.toISOString(),
    items: items.rows.map((r) => ({ caseId: r.case_id, status: r.status, httpStatus: r.http_status, detail: r.detail })),
  };
}

/** Takes (or renews) the lease on working through a bulk action: false while another instance holds it. */
export async function leaseBulk(db: Queryable, bulkId: string, seconds: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE bulk_actions SET lease_until = now() + make_interval(secs => $2) WHERE bulk_id = $1 AND (lease_until IS NULL OR lease_until < now())`,
    [bulkId, seconds],
  );
  return rowCount === 1;
}

export async function renewBulkLease(db: Queryable, bulkId: string, seconds: number): Promise<void> {
  await db.query(`UPDATE bulk_actions SET lease_until = now() + make_interval(secs => $2) WHERE bulk_id = $1`, [bulkId, seconds]);
}

export async function releaseBulkLease(db: Queryable, bulkId: string): Promise<void> {
  await db.query(`UPDATE bulk_actions SET lease_until = NULL WHERE bulk_id = $1`, [bulkId]);
}

export async function finishBulkItem(db: Queryable, bulkId: string, caseId: string, status: 'done' | 'failed', httpStatus: number, detail: string | null): Promise<void> {
  await db.query(
    `UPDATE bulk_action_items SET status = $3, http_status = $4, detail = $5, finished_at = now() WHERE bulk_id = $1 AND case_id = $2 AND status = 'pending'`,
    [bulkId, caseId, status, httpStatus, detail],
  );
}
