// Staff decisions on a running case (withdraw, retry a stuck step, confirm delivery, take in a
// supplement to a correction notice, extensions, video consultations and their outcomes) are
// Temporal updates: domain/policy.ts decides who may ask (role and side of the case), the
// workflow's validator decides whether the case allows it now, and its rejection reaches the
// clerk as a 409 (a supplement's gap, a malformed consultation as a 400) in the workflow's own
// words. A supplement is first checked against the open notice in the projection, so the clerk
// gets every problem at once without waiting on the workflow.
import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcDeadlineError,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import { isOpenStatus, type CaseState, type Consultation, type CorrectionNotice } from '../domain/case.js';
import { regionCovers } from '../domain/regions.js';
import {
  caseWorkflowId,
  confirmDeliveryUpdate,
  decideExtensionUpdate,
  recordConsultationOutcomeUpdate,
  requestConsultationUpdate,
  requestExtensionUpdate,
  recordOfflineUpdate,
  rerouteUpdate,
  retryUpdate,
  supplementUpdate,
  withdrawUpdate,
  type OfflineStepCommand,
  type RerouteCommand,
  type ConsultationOutcomeCommand,
  type ConsultationRequest,
  type DeliveryConfirmation,
  type ExtensionDecision,
  type ExtensionRequest,
  type StaffCommand,
  type SupplementCommand,
  type SupplementItem,
} from '../workflows/messages.js';
import type { StaffClaims } from './auth.js';
import { writeAudit } from '../db/audit.js';
import { findFiles } from '../db/files.js';
import type { CaseHeader } from '../db/caseQueries.js';
import type { CaseAction } from '../domain/policy.js';
import { authorizeCaseAction, caseNotFound } from './caseReads.js';
import { AppError, problem, type FieldError } from './problem.js';
import type { ConsultationOutcomeBody, ConsultationRequestBody, SupplementBody } from './schemas.js';

export interface CommandDeps {
  pool: pg.Pool;
  temporal: Client;
  /** How long to wait for the workflow to accept and run the update. */
  updateTimeoutMs: number;
}

export interface CaseActionResult {
  caseId: string;
  stage: CaseState['stage'];
  status: CaseState['status'];
  needsIntervention: boolean;
  /** The extension a request created or a decision decided. */
  extension?: NonNullable<CaseState['extensions']>[number];
  /** The consultation a request created or an outcome completed. */
  consultation?: Consultation;
}

export type CaseCommand =
  | { kind: 'withdraw'; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'confirmDelivery'; method: 'window' | 'mail'; note?: string }
  | { kind: 'supplement'; noticeId: string; items: SupplementBody['items'] }
  | { kind: 'requestExtension'; days: number; reason: string }
  | { kind: 'decideExtension'; extensionId: string; approve: boolean; reason: string }
  | ({ kind: 'requestConsultation' } & ConsultationRequestBody)
  | ({ kind: 'recordConsultationOutcome'; consultationId: string } & ConsultationOutcomeBody)
  // The four-eyes actions, carried out when the second staff member (the caller) approves them (api/staffActions.ts).
  | ({ kind: 'recordOffline'; step: string; evidence: OfflineStepCommand['evidence']; provinceCaseId?: string } & ApprovedRequest)
  | ({ kind: 'reroute'; handlingRegion: string; callbackUrl: string } & ApprovedRequest);

/** A request approved by the caller: who asked, why, and the approval's id and reason. */
export interface ApprovedRequest {
  reason: string;
  approvalId: string;
  approvalReason: string;
  requestedBy: { actor: string; role: string; region: string };
}

/** The policy action each command is (domain/policy.ts). */
export const COMMAND_ACTION: Record<CaseCommand['kind'], CaseAction> = {
  withdraw: 'case.withdraw',
  retry: 'case.retry',
  confirmDelivery: 'case.confirmDelivery',
  supplement: 'case.supplement',
  requestExtension: 'case.extend',
  decideExtension: 'case.decideExtension',
  requestConsultation: 'case.consult',
  recordConsultationOutcome: 'case.consultationOutcome',
  recordOffline: 'case.approveOffline',
  reroute: 'case.approveReroute',
};

const AUDIT_ACTION: Record<CaseCommand['kind'], string> = {
  withdraw: 'case.withdraw',
  retry: 'case.retry',
  confirmDelivery: 'case.confirm-delivery',
  supplement: 'case.supplement',
  requestExtension: 'case.extension-request',
  decideExtension: 'case.extension-decision',
  requestConsultation: 'case.consultation-request',
  recordConsultationOutcome: 'case.consultation-outcome',
  recordOffline: 'case.record-offline',
  reroute: 'case.reroute',
};

/** Slug of the 409 for a supplement to a notice that is not the open one (from the projection or the workflow). */
export const NOTICE_NOT_OPEN_SLUG = 'notice-not-open';

/** The supplement's workflow rejections (ApplicationFailure types, workflows/messages.ts) and how the api answers them. */
const SUPPLEMENT_REJECTIONS: Record<string, (message: string) => AppError> = {
  NoticeNotOpen: (message) => problem(409, message, { slug: NOTICE_NOT_OPEN_SLUG, title: 'Notice not open' }),
  SupplementIncomplete: (message) => problem(400, message, { errors: [{ path: 'items', message }] }),
};

/**
 * A consultation request or outcome the workflow finds malformed (ConsultationInvalid: e.g. a
 * deficiency naming a material the item does not have) is a 400 naming the field its message
 * starts with; every other rejection (ConsultationNotAllowed, ConsultationNotOpen) a 409.
 */
function consultationInvalid(message: string): AppError {
  const field = /^(\w+):/.exec(message)?.[1];
  return problem(400, message, { errors: [{ path: field ?? '(body)', message }] });
}

/** What became of a command, for the audit log. */
type Outcome = 'done' | 'rejected' | 'unanswered' | 'failed';

export async function runCaseCommand(deps: CommandDeps, staff: StaffClaims, caseId: string, command: CaseCommand): Promise<CaseActionResult> {
  const found = await authorizeCaseAction(deps.pool, staff, caseId, COMMAND_ACTION[command.kind]);
  // A case waiting for a supplement is still running: it can be withdrawn, retried, supplemented.
  if (!isOpenStatus(found.status)) throw problem(409, `the case is already ${found.status}`, { slug: 'case-closed' });
  if (command.kind === 'recordConsultationOutcome' && !found.consultationIds.includes(command.consultationId)) {
    throw problem(404, `no consultation ${command.consultationId} on case ${caseId}`);
  }
  const update: UpdateArgs = command.kind === 'supplement' ? { ...command, items: await checkSupplement(deps, staff, found, command) } : command;

  const audit = (outcome: Outcome) => writeAudit(deps.pool, { actor: staff.sub, role: staff.role, region: staff.region, action: AUDIT_ACTION[command.kind], caseId, ...auditOf(command, outcome) });
  let state: CaseState;
  try {
    state = await executeUpdate(deps, staff, caseId, update);
  } catch (e) {
    // Every attempt that may have reached the workflow is audited: an update that timed out
    // here can still be applied once a worker picks it up.
    if (!(e instanceof AppError && e.status === 404)) {
      await audit(e instanceof AppError && (e.status === 409 || e.status === 400) ? 'rejected' : e instanceof AppError && e.status === 503 ? 'unanswered' : 'failed');
    }
    throw e;
  }
  await audit('done');
  const extension =
    command.kind === 'requestExtension' ? state.extensions?.at(-1) : command.kind === 'decideExtension' ? state.extensions?.find((x) => x.extensionId === command.extensionId) : undefined;
  // A request is answered once it is on record; only one consultation can be open, so it is the last.
  const consultation =
    command.kind === 'requestConsultation'
      ? state.consultations?.at(-1)
      : command.kind === 'recordConsultationOutcome'
        ? state.consultations?.find((k) => k.consultationId === command.consultationId)
        : undefined;
  return {
    caseId,
    stage: state.stage,
    status: state.status,
    needsIntervention: state.needsIntervention !== null,
    ...(extension ? { extension } : {}),
    ...(consultation ? { consultation } : {}),
  };
}

/** A command as the workflow gets it: a supplement's items carry their files' hashes, sizes and types. */
type UpdateArgs = Exclude<CaseCommand, { kind: 'supplement' }> | { kind: 'supplement'; noticeId: string; items: SupplementItem[] };

function auditOf(command: CaseCommand, outcome: Outcome): { reason?: string; detail: Record<string, unknown> } {
  switch (command.kind) {
    case 'withdraw':
    case 'retry':
      return { reason: command.reason, detail: { outcome } };
    case 'confirmDelivery':
      return { ...(command.note ? { reason: command.note } : {}), detail: { outcome, method: command.method } };
    case 'requestExtension':
      return { reason: command.reason, detail: { outcome, days: command.days } };
    case 'decideExtension':
      return { reason: command.reason, detail: { outcome, extensionId: command.extensionId, approve: command.approve } };
    case 'requestConsultation':
      return { reason: command.topic, detail: { outcome, participants: command.participants, proposedTimes: command.proposedTimes } };
    case 'recordConsultationOutcome':
      // The minutes stay with the case (scrubbed there); the audit keeps what was decided.
      return {
        reason: `consultation ${command.agreed}${command.held ? '' : ' (not held)'}`,
        detail: { outcome, consultationId: command.consultationId, held: command.held, agreed: command.agreed, deficiencies: command.deficiencies?.map((d) => d.materialCode) ?? null },
      };
    case 'recordOffline':
    case 'reroute':
      return {
        reason: command.approvalReason,
        detail: {
          outcome,
          approvalId: command.approvalId,
          requestedBy: command.requestedBy.actor,
          requestReason: command.reason,
          ...(command.kind === 'reroute' ? { handlingRegion: command.handlingRegion } : { step: command.step, evidenceFileId: command.evidence.fileId }),
        },
      };
    case 'supplement': {
      // The clerk's notes when there are any, else the notice answered; both are in the detail.
      const notes = command.items.flatMap((i) => (i.note ? [`${i.materialCode}: ${i.note}`] : []));
      return {
        reason: notes.length ? notes.join('; ') : `supplement to notice ${command.noticeId}`,
        detail: { outcome, noticeId: command.noticeId, items: command.items.map((i) => ({ materialCode: i.materialCode, fileId: i.fileId })) },
      };
    }
  }
}

/**
 * A supplement checked against the open notice as the projection last recorded it (the workflow's
 * validator has the final word): a notice that is not open is a 409 naming the open one; every
 * other problem comes back at once in one 400, one error per field, as a one-time notice would
 * (an unanswered deficiency, an item for a material the notice did not ask for, a file that is not
 * an upload of the staff member's region). Answers the items with their files' hashes.
 */
async function checkSupplement(deps: CommandDeps, staff: StaffClaims, found: CaseHeader, command: Extract<CaseCommand, { kind: 'supplement' }>): Promise<SupplementItem[]> {
  const open = found.correction;
  if (!open || open.noticeId !== command.noticeId) {
    const which = open ? `the open notice is ${open.noticeId}` : 'no correction notice is open on this case';
    throw problem(409, `notice ${command.noticeId} is not open: ${which}`, { slug: NOTICE_NOT_OPEN_SLUG, title: 'Notice not open' });
  }
  const errors: FieldError[] = [];
  const unanswered = unansweredDeficiencies(open, command.items);
  if (unanswered.length) errors.push({ path: 'items', message: `leaves deficiencies unanswered: ${unanswered.join(', ')}` });
  const asked = new Set(open.deficiencies.map((d) => d.materialCode));
  command.items.forEach((item, i) => {
    if (!asked.has(item.materialCode)) errors.push({ path: `items.${i}.materialCode`, message: `notice ${open.noticeId} did not ask for ${item.materialCode}` });
  });
  // As at intake (api/intake.ts): a file uploaded outside the staff member's region counts as not
  // uploaded, so file ids cannot attach (or probe for) another region's uploads.
  const rows = await findFiles(deps.pool, command.items.map((item) => item.fileId));
  const files = new Map(rows.filter((f) => regionCovers(staff.region, f.uploadedRegion)).map((f) => [f.fileId, f]));
  command.items.forEach((item, i) => {
    if (!files.has(item.fileId)) errors.push({ path: `items.${i}.fileId`, message: `no uploaded file ${item.fileId}` });
  });
  if (errors.length) throw problem(400, `the supplement has ${errors.length} problem${errors.length === 1 ? '' : 's'}`, { errors });

  return command.items.map((item) => {
    const f = files.get(item.fileId)!;
    return { materialCode: item.materialCode, fileId: item.fileId, sha256: f.sha256, size: f.size, contentType: f.contentType, ...(item.note ? { note: item.note } : {}) };
  });
}

/** The material codes of the notice's deficiencies that no item answers, in the notice's order. */
export function unansweredDeficiencies(notice: CorrectionNotice, items: readonly { materialCode: string }[]): string[] {
  const answered = new Set(items.map((i) => i.materialCode));
  return [...new Set(notice.deficiencies.map((d) => d.materialCode))].filter((code) => !answered.has(code));
}

async function executeUpdate(deps: CommandDeps, staff: StaffClaims, caseId: string, command: UpdateArgs): Promise<CaseState> {
  const handle = deps.temporal.workflow.getHandle(caseWorkflowId(caseId));
  const who = { actor: staff.sub, role: staff.role, region: staff.region };
  const deadline = Date.now() + deps.updateTimeoutMs;
  try {
    return await deps.temporal.connection.withDeadline(deadline, () => {
      switch (command.kind) {
        case 'withdraw':
          return handle.executeUpdate(withdrawUpdate, { args: [{ ...who, reason: command.reason } satisfies StaffCommand] });
        case 'retry':
          return handle.executeUpdate(retryUpdate, { args: [{ ...who, reason: command.reason } satisfies StaffCommand] });
        case 'confirmDelivery':
          return handle.executeUpdate(confirmDeliveryUpdate, {
            args: [{ ...who, method: command.method, ...(command.note ? { note: command.note } : {}) } satisfies DeliveryConfirmation],
          });
        case 'supplement':
          return handle.executeUpdate(supplementUpdate, { args: [{ ...who, noticeId: command.noticeId, items: command.items } satisfies SupplementCommand] });
        case 'requestExtension':
          return handle.executeUpdate(requestExtensionUpdate, { args: [{ ...who, days: command.days, reason: command.reason } satisfies ExtensionRequest] });
        case 'decideExtension':
          return handle.executeUpdate(decideExtensionUpdate, {
            args: [{ ...who, extensionId: command.extensionId, approve: command.approve, reason: command.reason } satisfies ExtensionDecision],
          });
        case 'requestConsultation':
          return handle.executeUpdate(requestConsultationUpdate, {
            args: [{ ...who, topic: command.topic, participants: command.participants, proposedTimes: command.proposedTimes } satisfies ConsultationRequest],
          });
        case 'recordConsultationOutcome':
          return handle.executeUpdate(recordConsultationOutcomeUpdate, {
            args: [
              {
                ...who,
                consultationId: command.consultationId,
                held: command.held,
                minutes: command.minutes,
                agreed: command.agreed,
                ...(command.deficiencies ? { deficiencies: command.deficiencies } : {}),
              } satisfies ConsultationOutcomeCommand,
            ],
          });
        case 'recordOffline':
        case 'reroute': {
          // The requester did it (or asks it); the caller approves it. The approval id makes the
          // update idempotent: a decision repeated after a timeout is the same update.
          const approved = {
            ...command.requestedBy,
            reason: command.reason,
            approvalId: command.approvalId,
            approvedBy: staff.sub,
            approvedRole: staff.role,
            approvedRegion: staff.region,
            approvalReason: command.approvalReason,
          };
          const updateId = `approval:${command.approvalId}`;
          return command.kind === 'recordOffline'
            ? handle.executeUpdate(recordOfflineUpdate, {
                updateId,
                args: [{ ...approved, step: command.step, evidence: command.evidence, ...(command.provinceCaseId ? { provinceCaseId: command.provinceCaseId } : {}) } satisfies OfflineStepCommand],
              })
            : handle.executeUpdate(rerouteUpdate, { updateId, args: [{ ...approved, handlingRegion: command.handlingRegion, callbackUrl: command.callbackUrl } satisfies RerouteCommand] });
        }
      }
    });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      const mapped =
        command.kind === 'supplement' && e.cause.type
          ? SUPPLEMENT_REJECTIONS[e.cause.type]
          : e.cause.type === 'ConsultationInvalid' && (command.kind === 'requestConsultation' || command.kind === 'recordConsultationOutcome')
            ? consultationInvalid
            : undefined;
      throw mapped ? mapped(e.cause.message) : problem(409, e.cause.message, { slug: 'case-rejected-command' });
    }
    if (e instanceof WorkflowNotFoundError) {
      // Temporal answers "not found" for an update to a workflow that has ended, too: that is a
      // case whose projection has not caught up yet (409), not a missing one (404).
      const ended = await handle.describe().then(() => true, () => false);
      throw ended ? problem(409, 'the case has already ended', { slug: 'case-closed' }) : caseNotFound(caseId);
    }
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(e)) {
      throw Object.assign(problem(503, 'the case did not answer in time; the command may still take effect, so check the case before repeating it'), { cause: e });
    }
    throw e;
  }
}
