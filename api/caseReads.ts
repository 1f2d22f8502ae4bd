// Reads come from the Postgres projection (rule 6), scoped to what the staff member's region
// covers. Only masked columns are selected: sealed values and the identity-number hash never
// leave the database through these queries.
import type pg from 'pg';
import type { CaseStage, CaseStatus, Channel, DeliveryState, Decision, Intervention } from '../domain/case.js';
import type { StaffClaims } from './auth.js';
import { scopePattern } from './db.js';
import { problem } from './problem.js';
import { encodeCursor, type CaseDetail, type CaseListQuery, type CaseSummary } from './schemas.js';

const SUMMARY_COLUMNS = `case_id, item_code, item_version, item_name, receiving_region, handling_region, channel, stage, status,
  needs_intervention, applicant_name_masked, promised_days, statutory_days, submitted_at, updated_at, closed_at`;

interface SummaryRow {
  case_id: string;
  item_code: string;
  item_version: number;
  item_name: string;
  receiving_region: string;
  handling_region: string;
  channel: Channel;
  stage: CaseStage;
  status: CaseStatus;
  needs_intervention: boolean;
  applicant_name_masked: string;
  promised_days: number;
  statutory_days: number;
  submitted_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

interface DetailRow extends SummaryRow {
  intervention: Intervention | null;
  id_number_masked: string;
  phone_masked: string;
  delivery: DeliveryState;
  decision: Decision | null;
  province_case_id: string | null;
}

const iso = (d: Date) => d.toISOString();

function summaryOf(r: SummaryRow): CaseSummary {
  return {
    caseId: r.case_id,
    itemCode: r.item_code,
    itemVersion: r.item_version,
    itemName: r.item_name,
    receivingRegion: r.receiving_region,
    handlingRegion: r.handling_region,
    channel: r.channel,
    stage: r.stage,
    status: r.status,
    needsIntervention: r.needs_intervention,
    applicantName: r.applicant_name_masked,
    promisedDays: r.promised_days,
    statutoryDays: r.statutory_days,
    submittedAt: iso(r.submitted_at),
    updatedAt: iso(r.updated_at),
    closedAt: r.closed_at ? iso(r.closed_at) : null,
  };
}

/** The visibility rule; parameter $n holds scopePattern(staff.region). */
const visible = (n: number) => `(receiving_region LIKE $${n} OR handling_region LIKE $${n})`;

export interface VisibleCase {
  caseId: string;
  status: CaseStatus;
  stage: CaseStage;
  receivingRegion: string;
  handlingRegion: string;
}

/** The case if the staff member's region covers its receiving or handling region; 404 otherwise. */
export async function findVisibleCase(pool: pg.Pool, staff: StaffClaims, caseId: string): Promise<VisibleCase> {
  const { rows } = await pool.query<{ case_id: string; status: CaseStatus; stage: CaseStage; receiving_region: string; handling_region: string }>(
    `SELECT case_id, status, stage, receiving_region, handling_region FROM cases WHERE case_id = $1 AND ${visible(2)}`,
    [caseId, scopePattern(staff.region)],
  );
  const r = rows[0];
  if (!r) throw caseNotFound(caseId);
  return { caseId: r.case_id, status: r.status, stage: r.stage, receivingRegion: r.receiving_region, handlingRegion: r.handling_region };
}

export function caseNotFound(caseId: string) {
  return problem(404, `no case ${caseId}`);
}

export async function getCase(pool: pg.Pool, staff: StaffClaims, caseId: string): Promise<CaseDetail> {
  const { rows } = await pool.query<DetailRow>(
    `SELECT ${SUMMARY_COLUMNS}, intervention, id_number_masked, phone_masked, delivery, decision, province_case_id
       FROM cases WHERE case_id = $1 AND ${visible(2)}`,
    [caseId, scopePattern(staff.region)],
  );
  const r = rows[0];
  if (!r) throw caseNotFound(caseId);
  const [materials, events] = await Promise.all([
    pool.query<{ material_code: string; file_id: string; sha256: string; size: string; content_type: string; transferred_at: Date | null }>(
      `SELECT material_code, file_id, sha256, size, content_type, transferred_at FROM case_materials WHERE case_id = $1 ORDER BY material_code`,
      [caseId],
    ),
    pool.query<{ seq: number; type: string; stage: string; status: string; actor: string; at: Date; data: Record<string, unknown> }>(
      `SELECT seq, type, stage, status, actor, at, data FROM case_events WHERE case_id = $1 ORDER BY seq`,
      [caseId],
    ),
  ]);
  const { applicantName, ...summary } = summaryOf(r);
  return {
    ...summary,
    intervention: r.intervention,
    applicant: { name: applicantName, idNumber: r.id_number_masked, phone: r.phone_masked },
    delivery: r.delivery,
    decision: r.decision,
    provinceCaseId: r.province_case_id,
    materials: materials.rows.map((m) => ({
      materialCode: m.material_code,
      fileId: m.file_id,
      sha256: m.sha256,
      size: Number(m.size),
      contentType: m.content_type,
      transferredAt: m.transferred_at ? iso(m.transferred_at) : null,
    })),
    timeline: events.rows.map((e) => ({ seq: e.seq, type: e.type, stage: e.stage, status: e.status, actor: e.actor, at: iso(e.at), data: e.data })),
  };
}

export async function listCases(pool: pg.Pool, staff: StaffClaims, q: CaseListQuery): Promise<{ items: CaseSummary[]; nextCursor: string | null }> {
  const params: unknown[] = [scopePattern(staff.region)];
  const where = [visible(1)];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(sql(params.length));
  };
  if (q.stage) add((n) => `stage = $${n}`, q.stage);
  if (q.status) add((n) => `status = $${n}`, q.status);
  if (q.itemCode) add((n) => `item_code = $${n}`, q.itemCode);
  if (q.handlingRegion) add((n) => `handling_region = $${n}`, q.handlingRegion);
  if (q.receivingRegion) add((n) => `receiving_region = $${n}`, q.receivingRegion);
  if (q.needsIntervention !== undefined) add((n) => `needs_intervention = $${n}`, q.needsIntervention);
  if (q.cursor) {
    params.push(q.cursor.submittedAtMicros, q.cursor.caseId);
    const t = params.length - 1;
    where.push(`(submitted_at, case_id) < (timestamptz 'epoch' + $${t}::bigint * interval '1 microsecond', $${t + 1}::uuid)`);
  }
  params.push(q.limit + 1);
  const { rows } = await pool.query<SummaryRow & { submitted_micros: string }>(
    `SELECT ${SUMMARY_COLUMNS}, (extract(epoch FROM submitted_at) * 1000000)::bigint AS submitted_micros
       FROM cases WHERE ${where.join(' AND ')}
      ORDER BY submitted_at DESC, case_id DESC
      LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > q.limit && last ? encodeCursor({ submittedAtMicros: last.submitted_micros, caseId: last.case_id }) : null;
  return { items: page.map(summaryOf), nextCursor };
}
