// Reads of the case projection (cases, case_materials, case_events) for the api. Only masked
// columns are selected: sealed values and the identity-number hash never leave the database
// through these queries. Region scoping is domain/regions.ts' rule as an equality on indexed
// columns (db/scope.ts).
import type { SlaState } from '../domain/clock.js';
import type { CaseSla, CaseStage, CaseStatus, Channel, Consultation, CorrectionNotice, CorrectionSide, DeliveryState, Decision, Intervention } from '../domain/case.js';
import type { ParticipantState } from '../domain/joint.js';
import type { Queryable } from './cases.js';
import { scopeColumns, visibleTo } from './scope.js';

export const SUMMARY_COLUMNS = `case_id, item_code, item_version, item_name, receiving_region, handling_region, channel, stage, status,
  needs_intervention, applicant_name_masked, promised_days, statutory_days, sla_state, due_date::text, statutory_due_date::text,
  submitted_at, updated_at, closed_at, participants`;

export interface SummaryRow {
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
  sla_state: SlaState | null;
  due_date: string | null;
  statutory_due_date: string | null;
  submitted_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  participants: ParticipantState[] | null;
}

interface DetailRow extends SummaryRow {
  intervention: Intervention | null;
  id_number_masked: string;
  phone_masked: string;
  delivery: DeliveryState;
  decision: Decision | null;
  province_case_id: string | null;
  correction: CorrectionNotice | null;
  correction_rounds: Record<CorrectionSide, number>;
  sla: CaseSla | null;
  consultations: Consultation[];
}

export interface CaseSummaryRecord {
  caseId: string;
  itemCode: string;
  itemVersion: number;
  itemName: string;
  receivingRegion: string;
  handlingRegion: string;
  channel: Channel;
  stage: CaseStage;
  status: CaseStatus;
  needsIntervention: boolean;
  /** Masked. */
  applicantName: string;
  promisedDays: number;
  statutoryDays: number;
  /** Where the case stands against its limits (null before the clock starts). */
  slaState: SlaState | null;
  /** The promised limit's last day, and the statutory one's. */
  dueDate: string | null;
  statutoryDueDate: string | null;
  submittedAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** 多地联办: each participant's progress and deadline; null for a single authority. */
  participants: ParticipantState[] | null;
}

export interface CaseDetailRecord extends Omit<CaseSummaryRecord, 'applicantName'> {
  intervention: Intervention | null;
  /** Masked. */
  applicant: { name: string; idNumber: string; phone: string };
  delivery: DeliveryState;
  decision: Decision | null;
  provinceCaseId: string | null;
  /** The open one-time notice, or null. */
  correction: CorrectionNotice | null;
  correctionRounds: Record<CorrectionSide, number>;
  /** The SLA clock as the workflow last read it. */
  sla: CaseSla | null;
  /** Video consultations (视频会商), in the order requested. */
  consultations: Consultation[];
  materials: { materialCode: string; fileId: string; sha256: string; size: number; contentType: string; transferredAt: string | null }[];
  timeline: { seq: number; type: string; stage: string; status: string; actor: string; at: string; data: Record<string, unknown> }[];
}

/** Where a case stands and which regions its two sides are (for the role-and-side policy). */
export interface CaseHeader {
  caseId: string;
  status: CaseStatus;
  stage: CaseStage;
  receivingRegion: string;
  handlingRegion: string;
  /** The open correction notice as the projection last recorded it (a supplement is checked against it). */
  correction: CorrectionNotice | null;
  /** The ids of the case's consultations as the projection last recorded them (an outcome names one). */
  consultationIds: string[];
  /** The step the case is stuck on, as the projection last recorded it. */
  intervention: Intervention | null;
}

/** A position in the newest-first list: submitted_at in microseconds (exact, unlike a JS Date), then case id. */
export interface ListPosition {
  submittedAtMicros: string;
  caseId: string;
}

export interface CaseListFilter {
  stage?: CaseStage;
  status?: CaseStatus;
  itemCode?: string;
  handlingRegion?: string;
  receivingRegion?: string;
  needsIntervention?: boolean;
  sla?: SlaState;
  /** The applicant's identity number's keyed hash (crypto/pii.ts lookupHash). */
  idNumberHash?: string;
  after?: ListPosition;
  limit: number;
}

const iso = (d: Date) => d.toISOString();

export function summaryOf(r: SummaryRow): CaseSummaryRecord {
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
    slaState: r.sla_state,
    dueDate: r.due_date,
    statutoryDueDate: r.statutory_due_date,
    submittedAt: iso(r.submitted_at),
    updatedAt: iso(r.updated_at),
    closedAt: r.closed_at ? iso(r.closed_at) : null,
    participants: r.participants,
  };
}

/** The case's header whoever asks; the caller applies domain/policy.ts. */
export async function findCaseHeader(db: Queryable, caseId: string): Promise<CaseHeader | null> {
  const { rows } = await db.query<{
    case_id: string; status: CaseStatus; stage: CaseStage; receiving_region: string; handling_region: string; correction: CorrectionNotice | null; consultation_ids: string[];
    intervention: Intervention | null;
  }>(
    `SELECT case_id, status, stage, receiving_region, handling_region, correction, intervention,
            ARRAY(SELECT k->>'consultationId' FROM jsonb_array_elements(consultations) k) AS consultation_ids
       FROM cases WHERE case_id = $1`,
    [caseId],
  );
  const r = rows[0];
  return r
    ? {
        caseId: r.case_id, status: r.status, stage: r.stage, receivingRegion: r.receiving_region, handlingRegion: r.handling_region, correction: r.correction,
        consultationIds: r.consultation_ids, intervention: r.intervention,
      }
    : null;
}

/** The case with its materials and timeline if `scope` covers one of its sides; null otherwise. */
export async function findVisibleCaseDetail(db: Queryable, scope: string, caseId: string): Promise<CaseDetailRecord | null> {
  const visible = visibleTo(scope, 2);
  const { rows } = await db.query<DetailRow>(
    `SELECT ${SUMMARY_COLUMNS}, intervention, id_number_masked, phone_masked, delivery, decision, province_case_id,
            correction, correction_rounds, sla, consultations
       FROM cases WHERE case_id = $1 AND ${visible.sql}`,
    [caseId, visible.param],
  );
  const r = rows[0];
  if (!r) return null;
  const [materials, events] = await Promise.all([
    db.query<{ material_code: string; file_id: string; sha256: string; size: string; content_type: string; transferred_at: Date | null }>(
      `SELECT material_code, file_id, sha256, size, content_type, transferred_at FROM case_materials WHERE case_id = $1 ORDER BY material_code`,
      [caseId],
    ),
    db.query<{ seq: number; type: string; stage: string; status: string; actor: string; at: Date; data: Record<string, unknown> }>(
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
    correction: r.correction,
    correctionRounds: r.correction_rounds,
    sla: r.sla,
    consultations: r.consultations,
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

/**
 * One page of the cases `scope` may see, newest first, and the position after it (null on the
 * last page). The scope covers either side of a case. Unfiltered, each side is read by its own
 * index in the list's order and the two pages are merged, a case on both sides counted once (an
 * OR of the two makes PostgreSQL read and sort every case of the scope: a city with few cases
 * waited for the whole city). Filtered, the OR stays: walking a side's index in order until a page
 * of rare matches turns up would read the whole province (docs/benchmarks.md).
 */
export async function listVisibleCases(db: Queryable, scope: string, f: CaseListFilter): Promise<{ items: CaseSummaryRecord[]; next: ListPosition | null }> {
  const { receiving, handling, code } = scopeColumns(scope);
  const params: unknown[] = [code];
  const where: string[] = [];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(sql(params.length));
  };
  if (f.stage) add((n) => `stage = $${n}`, f.stage);
  if (f.status) add((n) => `status = $${n}`, f.status);
  if (f.itemCode) add((n) => `item_code = $${n}`, f.itemCode);
  if (f.handlingRegion) add((n) => `handling_region = $${n}`, f.handlingRegion);
  if (f.receivingRegion) add((n) => `receiving_region = $${n}`, f.receivingRegion);
  if (f.needsIntervention !== undefined) add((n) => `needs_intervention = $${n}`, f.needsIntervention);
  if (f.sla) add((n) => `sla_state = $${n}`, f.sla);
  if (f.idNumberHash) add((n) => `id_number_hash = $${n}`, f.idNumberHash);
  if (f.after) {
    params.push(f.after.submittedAtMicros, f.after.caseId);
    const t = params.length - 1;
    where.push(`(submitted_at, case_id) < (timestamptz 'epoch' + $${t}::bigint * interval '1 microsecond', $${t + 1}::uuid)`);
  }
  params.push(f.limit + 1);
  const limit = `$${params.length}`;
  const select = (scoped: string) =>
    `SELECT ${SUMMARY_COLUMNS}, (extract(epoch FROM submitted_at) * 1000000)::bigint AS submitted_micros
       FROM cases WHERE ${[scoped, ...where].join(' AND ')}
      ORDER BY submitted_at DESC, case_id DESC LIMIT ${limit}`;
  // With filters, the matches are found through their own indexes (a bitmap of item, stage, state…)
  // and the OR of the two sides costs nothing; without, each side's index walks only one page.
  const filtered = where.length > (f.after ? 1 : 0);
  const sql = filtered
    ? select(`(${receiving} = $1 OR ${handling} = $1)`)
    : `SELECT * FROM ((${select(`${receiving} = $1`)}) UNION (${select(`${handling} = $1`)})) u ORDER BY u.submitted_micros DESC, u.case_id DESC LIMIT ${limit}`;
  const { rows } = await db.query<SummaryRow & { submitted_micros: string }>(sql, params);
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  const next = rows.length > f.limit && last ? { submittedAtMicros: last.submitted_micros, caseId: last.case_id } : null;
  return { items: page.map(summaryOf), next };
}

/** What the public progress lookup may show of a case: no personal data beyond the masked name. */
export interface ProgressRecord {
  caseId: string;
  itemCode: string;
  itemName: string;
  /** Masked. */
  applicantName: string;
  stage: CaseStage;
  status: CaseStatus;
  delivery: DeliveryState;
  correction: CorrectionNotice | null;
  /** The promised limit's last day, when the clock runs. */
  dueDate: string | null;
  submittedAt: string;
  closedAt: string | null;
}

export async function findProgress(db: Queryable, caseId: string): Promise<ProgressRecord | null> {
  const { rows } = await db.query<{
    case_id: string; item_code: string; item_name: string; applicant_name_masked: string; stage: CaseStage; status: CaseStatus;
    delivery: DeliveryState; correction: CorrectionNotice | null; due_date: string | null; submitted_at: Date; closed_at: Date | null;
  }>(
    `SELECT case_id, item_code, item_name, applicant_name_masked, stage, status, delivery, correction, due_date::text, submitted_at, closed_at
       FROM cases WHERE case_id = $1`,
    [caseId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    caseId: r.case_id, itemCode: r.item_code, itemName: r.item_name, applicantName: r.applicant_name_masked, stage: r.stage, status: r.status,
    delivery: r.delivery, correction: r.correction, dueDate: r.due_date, submittedAt: iso(r.submitted_at), closedAt: r.closed_at ? iso(r.closed_at) : null,
  };
}

/** The material codes the case was taken in with. */
export async function caseMaterialCodes(db: Queryable, caseId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ material_code: string }>(`SELECT material_code FROM case_materials WHERE case_id = $1`, [caseId]);
  return new Set(rows.map((r) => r.material_code));
}
