// Intake (收件): a validated submission becomes an idempotency record, a running workflow, a case
// row and an audit entry. The case id is derived from the Idempotency-Key, so a retry after any
// failure (a lost answer, a failed commit, a start that timed out but happened) converges on the
// same workflow instead of starting a second case; see submitCase for the steps.
import { nameBasedUuid } from '../crypto/ids.js';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type pg from 'pg';
import { untraced, type StepTracer } from '../clients/tracing.js';
import { caseTiming, type Config } from '../config/index.js';
import type { Secrets } from '../config/secrets.js';
import { sha256Hex } from '../crypto/signing.js';
import { findFiles, type FileRecord } from '../db/files.js';
import { claimIntake, findIntake, recordIntakeCase, type IntakeClaim, type IntakeRecord } from '../db/intake.js';
import { caseItemOf, type CaseInput, type CaseStage, type CaseStatus, type MaterialRef } from '../domain/case.js';
import { canonicalJson } from '../domain/canonicalJson.js';
import { missingRequiredMaterials } from '../domain/itemMaterials.js';
import type { ItemDefinition } from '../domain/items.js';
import { applicationFieldProblems, resolveParticipants, type JointPlan } from '../domain/joint.js';
import { mayAct } from '../domain/policy.js';
import { provinceOf, regionCovers } from '../domain/regions.js';
import type { caseWorkflow } from '../workflows/index.js';
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
import { itemForIntake, publishedItemForIntake } from './items.js';
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
  /** Spans for the database waits when tracing is on (the start has its own, from the client interceptor). */
  traceStep?: StepTracer;
}

export interface IntakeResult {
  caseId: string;
  status: CaseStatus;
  stage: CaseStage;
  /** True when the answer repeats an earlier request with the same Idempotency-Key. */
  replayed: boolean;
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

/**
 * The case id for an Idempotency-Key, per submitting staff member: a UUID (version nibble 5,
 * RFC 4122 variant) made of the first 16 bytes of sha256("<sub>\n<key>"). Deterministic, so every
 * retry of one submission, whatever became of the earlier attempts, names the same workflow.
 */
export function caseIdFor(staffSub: string, idempotencyKey: string): string {
  return nameBasedUuid(`${staffSub}\n${idempotencyKey}`);
}

/**
 * Takes a submission in, in three steps that never hold a database transaction open across a
 * Temporal call and that any retry with the same key can repeat:
 *   1. record the key with its request hash and the case id derived from it (committed);
 *   2. start the workflow with that id ("already started" counts as started);
 *   3. in one statement, the case row and its materials (if absent) and the intake audit entry (once).
 * A failure in 2 answers 503 and leaves only the key's row, which is what makes the retry converge
 * on the same case; a failure in 3 leaves a running workflow whose projection writes the case row
 * anyway, and the retry finishes 3.
 */
/** Where the handling authority of `handlingRegion` calls back: its province's callback route. */
export function callbackUrlFor(config: Pick<Config, 'PUBLIC_URL'>, handlingRegion: string): string {
  return `${config.PUBLIC_URL}/v1/province-callbacks/${provinceOf(handlingRegion)}`;
}

export async function submitCase(deps: IntakeDeps, staff: StaffClaims, idempotencyKey: string, body: CaseSubmission): Promise<IntakeResult> {
  const allowed = mayAct(staff, 'case.submit', body);
  if (!allowed.ok) throw problem(403, allowed.detail);
  const requestHash = sha256Hex(canonicalJson(body));
  const step = deps.traceStep ?? untraced;
  // The key, the published item and the files do not depend on one another: one wait for three
  // reads. The item's refusal (422) is held until it matters, since a repeat does not need it.
  const [found, published, files] = await step('intake read', () =>
    Promise.all([
      findIntake(deps.pool, idempotencyKey),
      publishedItemForIntake(deps.pool, body.itemCode).then(
        (definition) => ({ definition }),
        (refusal: unknown) => ({ refusal }),
      ),
      findFiles(deps.pool, body.materials.map((m) => m.fileId)),
    ]),
  );
  let earlier = found;
  if (earlier) checkRepeat(earlier, requestHash, staff);
  // A repeat whose case row exists has nothing left to do.
  if (earlier?.status && earlier.stage) return { caseId: earlier.caseId, status: earlier.status, stage: earlier.stage, replayed: true };

  // The code's published version, pinned whole into the case (422 naming itemCode when there is
  // none); a retry keeps the version its first attempt pinned, whatever was published since.
  const pinnedItem = async (version: number | null): Promise<ItemDefinition> => {
    if (version !== null && !('definition' in published && published.definition.version === version)) return itemForIntake(deps.pool, body.itemCode, version);
    if ('refusal' in published) throw published.refusal;
    return published.definition;
  };
  let item = await pinnedItem(earlier?.itemVersion ?? null);
  let materials = checkSubmission(deps, staff, item, body, files);

  let claimed: IntakeClaim | null = earlier;
  if (!earlier) {
    const claim = { idempotencyKey, requestHash, caseId: caseIdFor(staff.sub, idempotencyKey), actor: staff.sub, submittedAt: new Date().toISOString(), itemVersion: item.version };
    if (await step('intake claim', () => claimIntake(deps.pool, claim))) {
      claimed = claim;
    } else {
      // A concurrent request with the same key claimed it first (and has committed: the insert
      // waited for it). Finish its work idempotently, as any retry would.
      earlier = await findIntake(deps.pool, idempotencyKey);
      if (!earlier) throw problem(503, 'the intake could not be recorded; retry with the same Idempotency-Key');
      checkRepeat(earlier, requestHash, staff);
      claimed = earlier;
    }
  }
  if (!claimed) throw problem(503, 'the intake could not be recorded; retry with the same Idempotency-Key');
  // A concurrent first attempt may have pinned another version (one was published in between).
  if (claimed.itemVersion !== null && claimed.itemVersion !== item.version) {
    item = await pinnedItem(claimed.itemVersion);
    materials = checkSubmission(deps, staff, item, body, files);
  }

  const input = caseInputOf(deps, staff, item, body, materials, claimed);
  await startCaseWorkflow(deps, input);
  const inserted = await step('intake case row', () =>
    recordIntakeCase(deps.pool, input, { keyring: deps.secrets.piiSealKeys, hashKey: deps.secrets.piiHashKey }, {
      actor: staff.sub, role: staff.role, region: staff.region,
      detail: { itemCode: item.code, itemVersion: item.version, receivingRegion: input.receivingRegion, handlingRegion: input.handlingRegion },
    }),
  );
  if (inserted) {
    deps.metrics.casesSubmitted.inc({ item_code: item.code });
    return { caseId: input.caseId, status: 'active', stage: 'intake', replayed: earlier !== null };
  }
  // The projection wrote the case row first (the workflow was already running): report where it is.
  const now = await findIntake(deps.pool, idempotencyKey);
  return { caseId: input.caseId, status: now?.status ?? 'active', stage: now?.stage ?? 'intake', replayed: earlier !== null };
}

/** A key belongs to the staff member who used it first, for one body: anything else is 409. */
function checkRepeat(earlier: IntakeRecord, requestHash: string, staff: StaffClaims): void {
  if (earlier.requestHash !== requestHash || earlier.actor !== staff.sub) {
    throw problem(409, 'this Idempotency-Key was already used for a different request', { slug: 'idempotency-key-reused' });
  }
}

/** Every semantic problem at once (一次性告知), or the materials enriched from their file rows. */
function checkSubmission(deps: IntakeDeps, staff: StaffClaims, item: ItemDefinition, body: CaseSubmission, rows: readonly FileRecord[]): MaterialRef[] {
  const errors: FieldError[] = [];
  const known = new Set(item.materials.map((m) => m.code));
  body.materials.forEach((m, i) => {
    if (!known.has(m.materialCode)) errors.push({ path: `materials.${i}.materialCode`, message: `${item.code} has no material ${m.materialCode}` });
  });
  const missing = missingRequiredMaterials(item, body.materials);
  if (missing.length) errors.push({ path: 'materials', message: `required materials missing: ${missing.join(', ')}` });

  // A file uploaded outside the staff member's region is treated as absent: file ids must not
  // become a way to attach (or probe for) another region's uploads.
  const files = new Map(rows.filter((f) => regionCovers(staff.region, f.uploadedRegion)).map((f) => [f.fileId, f]));
  body.materials.forEach((m, i) => {
    if (!files.has(m.fileId)) errors.push({ path: `materials.${i}.fileId`, message: `no uploaded file ${m.fileId}` });
  });

  // The application's fields, and for a joint item (多地联办) every participant's region and gateway.
  const fields = body.fields ?? {};
  errors.push(...applicationFieldProblems(item, fields));
  if (item.joint) {
    const resolved = resolveParticipants(item, { caseId: NO_CASE_YET, receivingRegion: body.receivingRegion, handlingRegion: body.handlingRegion, fields }, participantOptions(deps));
    if (!resolved.ok) errors.push(...resolved.problems.filter((p) => !errors.some((e) => e.path === p.path)));
  }
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
    return { materialCode: m.materialCode, fileId: m.fileId, sha256: f.sha256, size: f.size, contentType: f.contentType };
  });
}

function caseInputOf(deps: Pick<IntakeDeps, 'config' | 'secrets'>, staff: StaffClaims, item: ItemDefinition, body: CaseSubmission, materials: MaterialRef[], claim: IntakeClaim): CaseInput {
  const { config } = deps;
  const joint = jointPlanOf(deps, item, body, claim.caseId);
  return {
    caseId: claim.caseId,
    item: caseItemOf(item),
    applicant: { name: body.applicant.name, idNumber: body.applicant.idNumber, phone: body.applicant.phone },
    receivingRegion: body.receivingRegion,
    handlingRegion: body.handlingRegion,
    channel: body.channel,
    materials,
    delivery: body.delivery.address ? { method: body.delivery.method, address: body.delivery.address } : { method: body.delivery.method },
    submittedAt: claim.submittedAt,
    submittedBy: { id: staff.sub, role: staff.role, region: staff.region },
    callbackUrl: callbackUrlFor(config, body.handlingRegion),
    timing: caseTiming(config),
    ...(body.consultBeforeAcceptance ? { consultBeforeAcceptance: true as const } : {}),
    ...(body.fields && Object.keys(body.fields).length ? { application: { ...body.fields } } : {}),
    ...(joint ? { joint } : {}),
  };
}

const NO_CASE_YET = '00000000-0000-4000-8000-000000000000';

function participantOptions(deps: Pick<IntakeDeps, 'config' | 'secrets'>) {
  return {
    hasProvince: (code: string) => deps.secrets.provinces.some((p) => p.code === code),
    callbackUrlFor: (code: string) => `${deps.config.PUBLIC_URL}/v1/province-callbacks/${code}`,
    participantCaseId,
  };
}

/** The joint plan pinned in the input (checkSubmission has already refused an application it does not resolve for). */
function jointPlanOf(deps: Pick<IntakeDeps, 'config' | 'secrets'>, item: ItemDefinition, body: CaseSubmission, caseId: string): JointPlan | null {
  if (!item.joint) return null;
  const resolved = resolveParticipants(item, { caseId, receivingRegion: body.receivingRegion, handlingRegion: body.handlingRegion, fields: body.fields ?? {} }, participantOptions(deps));
  if (!resolved.ok) throw problem(422, 'the joint participants could not be resolved', { errors: resolved.problems });
  return resolved.plan;
}

/**
 * The case id a participant's authority knows a joint case by: a UUID derived from the case and
 * the participant, so every retry derives the same one and two participants never share one.
 */
export function participantCaseId(caseId: string, participantKey: string): string {
  return nameBasedUuid(`tongban-participant\n${caseId}\n${participantKey}`);
}

async function startCaseWorkflow(deps: IntakeDeps, input: CaseInput): Promise<void> {
  const deadline = Date.now() + (deps.startTimeoutMs ?? 10_000);
  try {
    await deps.temporal.connection.withDeadline(deadline, () =>
      deps.temporal.workflow.start<typeof caseWorkflow>('caseWorkflow', {
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
    throw Object.assign(problem(503, 'the case could not be started; retry with the same Idempotency-Key'), { cause: e });
  }
}
