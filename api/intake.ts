// Intake (收件): a validated submission becomes a case row, an idempotency record, an audit entry
// and a running workflow — all or nothing. The database transaction stays open while the
// workflow starts, so a failed start leaves nothing behind and the clerk retries with the same key.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type pg from 'pg';
import { caseTiming, type Config } from '../config/index.js';
import type { Secrets } from '../config/secrets.js';
import { sha256Hex } from '../crypto/signing.js';
import { insertCase } from '../db/cases.js';
import type { CaseInput, CaseStage, CaseStatus, MaterialRef } from '../domain/case.js';
import { findBuiltinItem } from '../domain/builtinItems.js';
import { missingRequiredMaterials, type ItemDefinition } from '../domain/items.js';
import { provinceOf, regionCovers } from '../domain/regions.js';
import {
  CASE_STAGE_KEY,
  CASE_STATUS_KEY,
  CASE_TASK_QUEUE,
  caseWorkflowId,
  HANDLING_REGION_KEY,
  ITEM_CODE_KEY,
  NEEDS_INTERVENTION_KEY,
  RECEIVING_REGION_KEY,
} from '../workflows/messages.js';
import type { StaffClaims } from './auth.js';
import { withTransaction, writeAudit } from './db.js';
import type { Metrics } from './metrics.js';
import { problem, type FieldError } from './problem.js';
import { IDEMPOTENCY_KEY, type CaseSubmission } from './schemas.js';

export interface IntakeDeps {
  pool: pg.Pool;
  temporal: Client;
  config: Config;
  secrets: Secrets;
  metrics: Metrics;
  /** How long starting the workflow may take before the intake is rolled back. */
  startTimeoutMs?: number;
}

export interface IntakeResult {
  caseId: string;
  status: CaseStatus;
  stage: CaseStage;
  /** True when the answer repeats an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

const INTAKE_ROLES = new Set(['clerk', 'supervisor']);

/** Keys sorted at every level, so the hash does not depend on the order a client wrote them in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function checkIdempotencyKey(key: string | string[] | undefined): string {
  const value = Array.isArray(key) ? key[0] : key;
  if (!value) throw problem(400, 'the Idempotency-Key header is required', { errors: [{ path: 'headers.idempotency-key', message: 'is required' }] });
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw problem(400, 'the Idempotency-Key header is malformed', {
      errors: [{ path: 'headers.idempotency-key', message: 'must be 8 to 128 characters of A-Z a-z 0-9 _ . : -' }],
    });
  }
  return value;
}

export async function submitCase(deps: IntakeDeps, staff: StaffClaims, idempotencyKey: string, body: CaseSubmission): Promise<IntakeResult> {
  if (!INTAKE_ROLES.has(staff.role)) throw problem(403, `the role ${staff.role} may not submit cases`);
  if (!regionCovers(staff.region, body.receivingRegion)) {
    throw problem(403, `a token for region ${staff.region} may not take in cases for receiving region ${body.receivingRegion}`);
  }
  const requestHash = sha256Hex(canonicalJson(body));
  const earlier = await findIntake(deps.pool, idempotencyKey);
  if (earlier) return answerRepeat(earlier, requestHash, staff);

  const item = findBuiltinItem(body.itemCode);
  if (!item) throw problem(422, `no service item ${body.itemCode}`, { errors: [{ path: 'itemCode', message: 'is not a known service item' }] });
  const materials = await checkSubmission(deps, staff, item, body);

  const input = caseInputOf(deps.config, staff, item, body, materials);
  const claimed = await withTransaction(deps.pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO intake_requests (idempotency_key, request_hash, case_id, actor) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING case_id`,
      [idempotencyKey, requestHash, input.caseId, staff.sub],
    );
    // A concurrent request with the same key won the race (and has committed: the insert
    // waited for it); nothing was written here.
    if (inserted.rowCount === 0) return false;
    await insertCase(client, input, { keyring: deps.secrets.payloadKeys, hashKey: deps.secrets.piiHashKey });
    await writeAudit(client, {
      actor: staff.sub, role: staff.role, region: staff.region, action: 'case.submit', caseId: input.caseId,
      detail: { itemCode: item.code, itemVersion: item.version, receivingRegion: input.receivingRegion, handlingRegion: input.handlingRegion },
    });
    await startCaseWorkflow(deps, input);
    return true;
  });
  if (!claimed) {
    const winner = await findIntake(deps.pool, idempotencyKey);
    if (!winner) throw problem(503, 'the intake could not be recorded; retry with the same Idempotency-Key');
    return answerRepeat(winner, requestHash, staff);
  }
  deps.metrics.casesSubmitted.inc({ item_code: item.code });
  return { caseId: input.caseId, status: 'active', stage: 'intake', replayed: false };
}

interface IntakeRecord {
  requestHash: string;
  caseId: string;
  actor: string;
  status: CaseStatus | null;
  stage: CaseStage | null;
}

async function findIntake(pool: pg.Pool, key: string): Promise<IntakeRecord | null> {
  const { rows } = await pool.query<{ request_hash: string; case_id: string; actor: string; status: CaseStatus | null; stage: CaseStage | null }>(
    `SELECT r.request_hash, r.case_id, r.actor, c.status, c.stage
       FROM intake_requests r LEFT JOIN cases c ON c.case_id = r.case_id
      WHERE r.idempotency_key = $1`,
    [key],
  );
  const row = rows[0];
  return row ? { requestHash: row.request_hash, caseId: row.case_id, actor: row.actor, status: row.status, stage: row.stage } : null;
}

function answerRepeat(earlier: IntakeRecord, requestHash: string, staff: StaffClaims): IntakeResult {
  // A key belongs to the clerk who used it first: another clerk's identical body is a different request.
  if (earlier.requestHash !== requestHash || earlier.actor !== staff.sub) {
    throw problem(409, 'this Idempotency-Key was already used for a different request', { slug: 'idempotency-key-reused' });
  }
  return { caseId: earlier.caseId, status: earlier.status ?? 'active', stage: earlier.stage ?? 'intake', replayed: true };
}

interface FileRow {
  file_id: string;
  sha256: string;
  size: string;
  content_type: string;
  uploaded_region: string;
}

/** Every semantic problem at once (一次性告知), or the materials enriched from the files table. */
async function checkSubmission(deps: IntakeDeps, staff: StaffClaims, item: ItemDefinition, body: CaseSubmission): Promise<MaterialRef[]> {
  const errors: FieldError[] = [];
  const known = new Set(item.materials.map((m) => m.code));
  body.materials.forEach((m, i) => {
    if (!known.has(m.materialCode)) errors.push({ path: `materials.${i}.materialCode`, message: `${item.code} has no material ${m.materialCode}` });
  });
  const missing = missingRequiredMaterials(item, body.materials);
  if (missing.length) errors.push({ path: 'materials', message: `required materials missing: ${missing.join(', ')}` });

  const { rows } = await deps.pool.query<FileRow>(
    `SELECT file_id, sha256, size, content_type, uploaded_region FROM files WHERE file_id = ANY($1::uuid[])`,
    [body.materials.map((m) => m.fileId)],
  );
  // A file uploaded outside the staff member's region is treated as absent: file ids must not
  // become a way to attach (or probe for) another region's uploads.
  const files = new Map(rows.filter((f) => regionCovers(staff.region, f.uploaded_region)).map((f) => [f.file_id, f]));
  body.materials.forEach((m, i) => {
    if (!files.has(m.fileId)) errors.push({ path: `materials.${i}.fileId`, message: `no uploaded file ${m.fileId}` });
  });

  if (!item.deliveryMethods.includes(body.delivery.method)) {
    errors.push({ path: 'delivery.method', message: `${item.code} is delivered by ${item.deliveryMethods.join(', ')}` });
  }
  const province = provinceOf(body.handlingRegion);
  if (!deps.secrets.provinces.some((p) => p.code === province)) {
    errors.push({ path: 'handlingRegion', message: `no gateway configured for province ${province}` });
  }
  if (errors.length) throw problem(422, `the submission has ${errors.length} problem${errors.length === 1 ? '' : 's'}`, { errors });

  return body.materials.map((m) => {
    const f = files.get(m.fileId)!;
    return { materialCode: m.materialCode, fileId: m.fileId, sha256: f.sha256, size: Number(f.size), contentType: f.content_type };
  });
}

function caseInputOf(config: Config, staff: StaffClaims, item: ItemDefinition, body: CaseSubmission, materials: MaterialRef[]): CaseInput {
  return {
    caseId: randomUUID(),
    item,
    applicant: { name: body.applicant.name, idNumber: body.applicant.idNumber, phone: body.applicant.phone },
    receivingRegion: body.receivingRegion,
    handlingRegion: body.handlingRegion,
    channel: body.channel,
    materials,
    delivery: body.delivery.address ? { method: body.delivery.method, address: body.delivery.address } : { method: body.delivery.method },
    submittedAt: new Date().toISOString(),
    submittedBy: { id: staff.sub, role: staff.role, region: staff.region },
    callbackUrl: `${config.PUBLIC_URL}/v1/province-callbacks/${provinceOf(body.handlingRegion)}`,
    timing: caseTiming(config),
  };
}

async function startCaseWorkflow(deps: IntakeDeps, input: CaseInput): Promise<void> {
  const deadline = Date.now() + (deps.startTimeoutMs ?? 10_000);
  try {
    await deps.temporal.connection.withDeadline(deadline, () =>
      deps.temporal.workflow.start('caseWorkflow', {
        taskQueue: CASE_TASK_QUEUE,
        workflowId: caseWorkflowId(input.caseId),
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: ITEM_CODE_KEY, value: input.item.code },
          { key: HANDLING_REGION_KEY, value: input.handlingRegion },
          { key: RECEIVING_REGION_KEY, value: input.receivingRegion },
          { key: CASE_STAGE_KEY, value: 'intake' },
          { key: CASE_STATUS_KEY, value: 'active' },
          { key: NEEDS_INTERVENTION_KEY, value: false },
        ],
      }),
    );
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return;
    throw Object.assign(problem(503, 'the case could not be started; nothing was recorded; retry with the same Idempotency-Key'), { cause: e });
  }
}
