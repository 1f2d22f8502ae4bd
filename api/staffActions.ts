// The console's actions on a case (POST /v1/cases/:caseId/actions/<action>), each with a mandatory
// reason, the actor, and an audit row:
// - retry, withdraw, extend: the workflow's own updates (api/caseCommands.ts);
// - note, reassign: records beside the case (db/staffActions.ts), audited;
// - record-offline, reroute: they change the legal record, so the request is held for a second
//   staff member (four eyes): 202 with an approvalId and what it will do; a supervisor of the
//   deciding side other than the requester approves or refuses it, and an approval is carried out
//   by the workflow, which checks again that the case still allows it.
// An action that does not fit the case's state is a 409 saying why.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.js';
import type { Secrets } from '../config/secrets.js';
import { writeAudit } from '../db/audit.js';
import type { CaseHeader } from '../db/caseQueries.js';
import { findFiles } from '../db/files.js';
import {
  assignCase,
  claimApproval,
  findApproval,
  findOpenApproval,
  insertApproval,
  insertNote,
  listApprovals,
  listAssignees,
  listNotes,
  listPendingApprovals,
  releaseApproval,
  settleApproval,
  type ApprovalRow,
  type Assignee,
  type NoteRow,
} from '../db/staffActions.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { isOpenStatus } from '../domain/case.js';
import { mayAct, sidesOf, type CaseAction } from '../domain/policy.js';
import { provinceOf, regionCovers } from '../domain/regions.js';
import { effectsOf, offlineStepOf, refusalFor, type ActionEffects, type EffectCase, type FourEyesAction, type StaffAction } from '../domain/staffActions.js';
import type { StaffClaims } from './auth.js';
import { runCaseCommand, type CaseActionResult, type CommandDeps } from './caseCommands.js';
import { authorizeCaseAction } from './caseReads.js';
import { caseDeadlines } from './deadlines.js';
import { callbackUrlFor } from './intake.js';
import { AppError, problem, type FieldError } from './problem.js';

export interface ActionDeps extends CommandDeps {
  config: Config;
  secrets: Secrets;
  calendar: WorkingCalendar;
}

/** An action's body as the route validated it (api/schemas.ts staffActionBodies). */
export interface ActionBody {
  reason: string;
  step?: string;
  evidenceFileId?: string;
  provinceCaseId?: string;
  handlingRegion?: string;
  days?: number;
  assignee?: string;
}

export type ActionAnswer =
  | { status: 200; body: CaseActionResult & { action: StaffAction; note?: NoteRow; assignee?: Assignee } }
  | { status: 202; body: ApprovalView };

export interface ApprovalView {
  approvalId: string;
  caseId: string;
  action: FourEyesAction;
  status: ApprovalRow['status'];
  params: Record<string, unknown>;
  side: 'receiving' | 'handling';
  reason: string;
  requestedBy: string;
  requestedAt: string;
  effects: ActionEffects;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  failure: string | null;
}

export function approvalView(a: ApprovalRow): ApprovalView {
  return {
    approvalId: a.approvalId,
    caseId: a.caseId,
    action: a.action,
    status: a.status,
    params: a.params,
    side: a.side,
    reason: a.reason,
    requestedBy: a.requestedBy,
    requestedAt: a.requestedAt,
    effects: a.effects as ActionEffects,
    decidedBy: a.decidedBy,
    decisionReason: a.decisionReason,
    decidedAt: a.decidedAt,
    failure: a.failure,
  };
}

const ACTION_POLICY: Record<StaffAction, CaseAction> = {
  retry: 'case.retry',
  withdraw: 'case.withdraw',
  extend: 'case.extend',
  note: 'case.note',
  reassign: 'case.reassign',
  'record-offline': 'case.recordOffline',
  reroute: 'case.reroute',
};

/** The policy action an action's route gates its roles on. */
export function actionPolicy(action: StaffAction): CaseAction {
  return ACTION_POLICY[action];
}

export async function runStaffAction(deps: ActionDeps, staff: StaffClaims, caseId: string, action: StaffAction, body: ActionBody): Promise<ActionAnswer> {
  switch (action) {
    case 'retry':
    case 'withdraw': {
      const result = await runCaseCommand(deps, staff, caseId, { kind: action, reason: body.reason });
      return { status: 200, body: { ...result, action } };
    }
    case 'extend': {
      const result = await runCaseCommand(deps, staff, caseId, { kind: 'requestExtension', days: body.days!, reason: body.reason });
      return { status: 200, body: { ...result, action } };
    }
    case 'note':
      return { status: 200, body: await addNote(deps, staff, caseId, body.reason) };
    case 'reassign':
      return { status: 200, body: await reassign(deps, staff, caseId, body.assignee!, body.reason) };
    case 'record-offline':
    case 'reroute':
      return { status: 202, body: await requestApproval(deps, staff, caseId, action, body) };
  }
}

/** The side a staff member acts for on this case: the receiving side when their region covers both. */
function sideOf(staff: StaffClaims, found: CaseHeader): 'receiving' | 'handling' {
  return sidesOf(staff, found).receiving ? 'receiving' : 'handling';
}

async function addNote(deps: ActionDeps, staff: StaffClaims, caseId: string, text: string) {
  const found = await authorizeCaseAction(deps.pool, staff, caseId, 'case.note');
  const note = await insertNote(deps.pool, caseId, { author: staff.sub, role: staff.role, region: staff.region, side: sideOf(staff, found), text });
  await writeAudit(deps.pool, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.note', caseId, reason: text, detail: { noteId: note.noteId } });
  return { ...summaryOf(found), action: 'note' as const, note };
}

async function reassign(deps: ActionDeps, staff: StaffClaims, caseId: string, assignee: string, reason: string) {
  const found = await authorizeCaseAction(deps.pool, staff, caseId, 'case.reassign');
  if (!isOpenStatus(found.status)) throw problem(409, `the case is already ${found.status}: there is nothing left to work on`, { slug: 'case-closed' });
  const side = sideOf(staff, found);
  const previous = await assignCase(deps.pool, caseId, side, assignee, staff.sub);
  await writeAudit(deps.pool, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.reassign', caseId, reason, detail: { side, assignee, previous } });
  const assignees = await listAssignees(deps.pool, caseId);
  return { ...summaryOf(found), action: 'reassign' as const, assignee: assignees.find((a) => a.side === side)! };
}

function summaryOf(found: CaseHeader): CaseActionResult {
  return { caseId: found.caseId, stage: found.stage, status: found.status, needsIntervention: found.intervention !== null };
}

/** The case as the effects and refusals read it, with its current due dates. */
async function effectCase(deps: ActionDeps, found: CaseHeader): Promise<EffectCase> {
  const d = await caseDeadlines(deps.pool, deps.calendar, { warnDaysLeft: deps.config.SLA_WARN_DAYS_LEFT, warnUsedRatio: deps.config.SLA_WARN_USED_RATIO }, found.caseId);
  return {
    caseId: found.caseId,
    stage: found.stage,
    status: found.status,
    receivingRegion: found.receivingRegion,
    handlingRegion: found.handlingRegion,
    intervention: found.intervention,
    promisedDue: d.promised?.dueDate ?? null,
    statutoryDue: d.statutory?.dueDate ?? null,
    clockStarted: d.started,
  };
}

interface Checked {
  found: CaseHeader;
  effects: ActionEffects;
  side: 'receiving' | 'handling';
  params: Record<string, unknown>;
}

/**
 * A four-eyes request checked as far as the projection allows: who may ask (role, side; for a
 * record-offline the step's side), the fields (every problem at once), and whether the case's
 * state fits (409). Answers what the action will do.
 */
async function checkFourEyes(deps: ActionDeps, staff: StaffClaims, caseId: string, action: FourEyesAction, body: ActionBody): Promise<Checked> {
  const found = await authorizeCaseAction(deps.pool, staff, caseId, action === 'reroute' ? 'case.reroute' : 'case.recordOffline');
  const c = await effectCase(deps, found);
  const errors: FieldError[] = [];
  let side: 'receiving' | 'handling' = 'receiving';
  let params: Record<string, unknown>;
  if (action === 'reroute') {
    const to = body.handlingRegion!;
    if (!deps.secrets.provinces.some((p) => p.code === provinceOf(to))) errors.push({ path: 'handlingRegion', message: `no gateway configured for province ${provinceOf(to)}` });
    params = { handlingRegion: to, from: found.handlingRegion };
  } else {
    const step = offlineStepOf(body.step!);
    if (step) {
      side = step.side;
      if (!sidesOf(staff, found)[side]) {
        throw problem(403, `${body.step} is the ${side} side's step: only its staff may record it as done offline; a token for region ${staff.region} is not on it`);
      }
      if (step.needsProvinceCaseId && !body.provinceCaseId) errors.push({ path: 'provinceCaseId', message: `required for ${body.step}: the number the authority gave the case it created` });
    }
    const [file] = await findFiles(deps.pool, [body.evidenceFileId!]);
    // As for supplements: an upload from outside the staff member's region counts as not uploaded.
    if (!file || !regionCovers(staff.region, file.uploadedRegion)) errors.push({ path: 'evidenceFileId', message: `no uploaded file ${body.evidenceFileId}` });
    params = {
      step: body.step,
      evidence: file ? { fileId: file.fileId, sha256: file.sha256, contentType: file.contentType, size: file.size } : null,
      ...(body.provinceCaseId ? { provinceCaseId: body.provinceCaseId } : {}),
    };
  }
  if (errors.length) throw problem(400, `the ${action} request has ${errors.length} problem${errors.length === 1 ? '' : 's'}`, { errors });
  const refusal = refusalFor(action, c, { step: body.step, handlingRegion: body.handlingRegion });
  if (refusal) throw problem(409, refusal, { slug: 'action-not-allowed', title: 'Action not allowed in this state' });
  return { found, side, params, effects: effectsOf(action, c, { step: body.step, handlingRegion: body.handlingRegion, provinceCaseId: body.provinceCaseId }) };
}

/** POST .../actions/<action>/preview: what the action would do, without doing anything. */
export async function previewAction(deps: ActionDeps, staff: StaffClaims, caseId: string, action: FourEyesAction, body: ActionBody): Promise<{ effects: ActionEffects }> {
  const { effects } = await checkFourEyes(deps, staff, caseId, action, body);
  return { effects };
}

async function requestApproval(deps: ActionDeps, staff: StaffClaims, caseId: string, action: FourEyesAction, body: ActionBody): Promise<ApprovalView> {
  const { side, params, effects } = await checkFourEyes(deps, staff, caseId, action, body);
  const approval = await insertApproval(deps.pool, {
    approvalId: randomUUID(),
    caseId,
    action,
    params,
    side,
    effects,
    reason: body.reason,
    requestedBy: staff.sub,
    requestedRole: staff.role,
    requestedRegion: staff.region,
  });
  if (!approval) {
    const open = await findOpenApproval(deps.pool, caseId, action);
    throw problem(409, `a ${action} of this case is already waiting for approval${open ? ` (${open.approvalId}, asked by ${open.requestedBy})` : ''}`, { slug: 'approval-pending' });
  }
  await writeAudit(deps.pool, {
    actor: staff.sub,
    role: staff.role,
    region: staff.region,
    action: `case.${action}-request`,
    caseId,
    reason: body.reason,
    detail: { approvalId: approval.approvalId, ...params },
  });
  return approvalView(approval);
}

/** The decider's policy action for each request. */
const DECIDE_POLICY: Record<FourEyesAction, CaseAction> = { reroute: 'case.approveReroute', 'record-offline': 'case.approveOffline' };

/**
 * A second staff member decides a request. The requester may not (403); the decider must be a
 * supervisor on the request's side. An approval runs the action in the workflow: if the case no
 * longer allows it the request ends `failed` (409 with the workflow's reason); if the workflow does
 * not answer in time the request goes back to pending (503) and may be decided again, and the
 * update's id (the approval's) keeps a late first attempt from being applied twice.
 */
export async function decideApproval(deps: ActionDeps, staff: StaffClaims, caseId: string, approvalId: string, decision: { approve: boolean; reason: string }): Promise<ApprovalView> {
  // Only supervisors decide, of either side to begin with (404 for one on neither: the case "does not exist").
  const found = await authorizeCaseAction(deps.pool, staff, caseId, 'case.approveOffline');
  const approval = await findApproval(deps.pool, caseId, approvalId);
  if (!approval) throw problem(404, `no approval ${approvalId} on case ${caseId}`);
  const rule = mayAct(staff, DECIDE_POLICY[approval.action], found);
  if (!rule.ok) throw problem(403, rule.detail);
  if (!sidesOf(staff, found)[approval.side]) {
    throw problem(403, `this ${approval.action} is decided by a supervisor of the ${approval.side} side; a token for region ${staff.region} is not on it`);
  }
  if (approval.requestedBy === staff.sub) throw problem(403, 'you asked for this action: a second staff member must decide it (four eyes)');
  if (approval.status !== 'pending') throw problem(409, `the request is already ${approval.status}${approval.decidedBy ? ` (by ${approval.decidedBy})` : ''}`, { slug: 'approval-decided' });
  if (!(await claimApproval(deps.pool, approvalId))) throw problem(409, 'another staff member is deciding this request now', { slug: 'approval-decided' });

  const who = { by: staff.sub, role: staff.role, region: staff.region, reason: decision.reason };
  const audit = (outcome: string, extra: Record<string, unknown> = {}) =>
    writeAudit(deps.pool, {
      actor: staff.sub,
      role: staff.role,
      region: staff.region,
      action: `case.${approval.action}-decision`,
      caseId,
      reason: decision.reason,
      detail: { approvalId, approve: decision.approve, outcome, requestedBy: approval.requestedBy, ...extra },
    });
  if (!decision.approve) {
    const refused = await settleApproval(deps.pool, approvalId, { status: 'refused', ...who });
    await audit('refused');
    return approvalView(refused);
  }
  const requestedBy = { actor: approval.requestedBy, role: approval.requestedRole, region: approval.requestedRegion };
  const approved = { reason: approval.reason, approvalId, approvalReason: decision.reason, requestedBy };
  try {
    if (approval.action === 'reroute') {
      const to = String(approval.params.handlingRegion);
      await runCaseCommand(deps, staff, caseId, { kind: 'reroute', handlingRegion: to, callbackUrl: callbackUrlFor(deps.config, to), ...approved });
    } else {
      const p = approval.params as { step: string; evidence: { fileId: string; sha256: string; contentType: string; size: number }; provinceCaseId?: string };
      await runCaseCommand(deps, staff, caseId, { kind: 'recordOffline', step: p.step, evidence: p.evidence, ...(p.provinceCaseId ? { provinceCaseId: p.provinceCaseId } : {}), ...approved });
    }
  } catch (e) {
    if (e instanceof AppError && e.status === 409) {
      await settleApproval(deps.pool, approvalId, { status: 'failed', ...who, failure: e.message });
      await audit('failed', { failure: e.message });
      throw problem(409, `approved, but the case no longer allows it: ${e.message}`, { slug: 'action-not-allowed', title: 'Action not allowed in this state' });
    }
    await releaseApproval(deps.pool, approvalId);
    throw e;
  }
  const done = await settleApproval(deps.pool, approvalId, { status: 'approved', ...who });
  await audit('approved');
  return approvalView(done);
}

export async function caseApprovals(deps: ActionDeps, staff: StaffClaims, caseId: string): Promise<{ caseId: string; items: ApprovalView[] }> {
  await authorizeCaseAction(deps.pool, staff, caseId, 'case.read');
  return { caseId, items: (await listApprovals(deps.pool, caseId)).map(approvalView) };
}

/** The requests waiting for a supervisor of the caller's region (oldest first); others get an empty list. */
export async function pendingApprovals(deps: ActionDeps, staff: StaffClaims, limit: number): Promise<{ items: ApprovalView[] }> {
  if (staff.role !== 'supervisor') return { items: [] };
  const rows = await listPendingApprovals(deps.pool, staff.region, limit);
  return { items: rows.map(approvalView) };
}

export async function caseNotes(deps: ActionDeps, staff: StaffClaims, caseId: string): Promise<{ caseId: string; notes: NoteRow[]; assignees: Assignee[] }> {
  await authorizeCaseAction(deps.pool, staff, caseId, 'case.read');
  const [notes, assignees] = await Promise.all([listNotes(deps.pool, caseId), listAssignees(deps.pool, caseId)]);
  return { caseId, notes, assignees };
}
