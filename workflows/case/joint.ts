// 多地联办 (joint handling), the case's side. After the precheck a joint case does not go to one
// authority: it runs one child workflow per participant (workflows/joint/participantWorkflow.ts) on
// the queue of the participant's province, step by step in the order the item declares (the
// participants of one step in parallel), each with its own transfer, review, correction loop and
// time limit, and decides once on what they decided. The case keeps the one timeline (each
// participant's events as `participant.*`), the one notice to the applicant at a time (a
// participant's correction notice is the case's, and the supplement goes back to that
// participant), and the one statutory clock (art. 42: 45 working days, +15): the clock starts when
// the first authority has the materials and pauses while a notice waits for the applicant.
//
// A rejection (with `onRejection: reject_case`), a supplement deadline missed, or a withdrawal
// ends the participants' work: the ones still running are told to stop and undo their part
// (withdrawn at their authority, or an approval revoked), the ones that had approved are revoked,
// later steps are skipped, and every compensation is recorded with its reason.
//
// Guarded by JOINT_PATCH; only inputs with a joint plan, which no case from before the patch has,
// reach the patched() call.
import {
  CancellationScope,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { CalendarActivities, ProvinceActivities } from '../../activities/index.js';
import type { ProvinceEvent } from '../../domain/case.js';
import { dateInChina } from '../../domain/dates.js';
import { jointSteps, type JointParticipant, type ParticipantState } from '../../domain/joint.js';
import {
  participantEventSignal,
  participantRetrySignal,
  participantStopSignal,
  participantSupplementSignal,
  participantWorkflowId,
  provinceTaskQueue,
  type ParticipantEvent,
  type ParticipantInput,
  type ParticipantOutcome,
  type StaffCommand,
  type SupplementCommand,
} from '../messages.js';
import { participantWorkflow } from '../joint/participantWorkflow.js';
import { applySupplement } from './correction.js';
import { enter, retryBudgetMs, type CaseRun } from './run.js';
import { step } from './step.js';

export const JOINT_PATCH = 'joint-handling';

/** What the rest of the case reaches the participants through (handlers, the withdrawal). */
export interface JointRun {
  forwardSupplement(cmd: SupplementCommand): Promise<void>;
  forwardRetry(cmd: StaffCommand): Promise<void>;
  /** Stops every participant and undoes what each did (the withdrawal); a summary for the record. */
  stopAll(reason: string): Promise<string>;
}

interface Child {
  p: JointParticipant;
  handle: ChildWorkflowHandle<typeof participantWorkflow>;
  result: Promise<ParticipantOutcome>;
  outcome: ParticipantOutcome | null;
  /** Its end is on the record. */
  settled: boolean;
  /** Why it was told to stop, when it was. */
  stopReason: string | null;
}

const calendar = proxyLocalActivities<CalendarActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

export function isJointCase(c: CaseRun): boolean {
  return c.input.joint !== undefined;
}

/** Runs the participants; the decision the case takes (rejections' reasons gathered), or null when it closed meanwhile. */
export async function handleJointly(c: CaseRun): Promise<ProvinceEvent | null> {
  const plan = c.input.joint!;
  const { state } = c;
  state.participants = plan.participants.map(
    (p): ParticipantState => ({
      key: p.key,
      role: p.role,
      regionCode: p.regionCode,
      step: p.step,
      status: 'waiting',
      provinceCaseId: null,
      startedAt: null,
      dueDate: null,
      dueAt: null,
      overdue: false,
      decidedAt: null,
      reasons: [],
      compensation: null,
    }),
  );
  const children = new Map<string, Child>();
  const stuck = new Map<string, ParticipantEvent['needsIntervention']>();
  c.joint = createJointRun(c, children, stuck);
  const waiting: WaitingNotice[] = [];
  setHandler(participantEventSignal, (ev) => onParticipantEvent(c, ev, stuck, waiting));

  enter(c, 'transfer');
  await c.record('joint.started', {
    participants: plan.participants.map(({ key, role, regionCode, step, timeLimitDays }) => ({ key, role, regionCode, step, timeLimitDays })),
    onRejection: plan.onRejection,
  });

  let failure: { child: Child; reasons: string[] } | null = null;
  let closedNotSupplemented = false;
  for (const group of jointSteps(plan)) {
    if (failure) {
      for (const p of group) await compensated(c, p.key, 'skipped', `${failure.child.p.role}未予通过，本步骤不再办理 (not started: ${failure.child.p.key} did not approve)`, null);
      continue;
    }
    await c.record('joint.step_started', { step: group[0]!.step, participants: group.map((p) => p.key) });
    const running: Child[] = [];
    for (const p of group) running.push(await startParticipant(c, p, children));
    const pending = new Set(running);
    while (pending.size > 0) {
      const { child, outcome } = await orCancelled(Promise.race([...pending].map((ch) => ch.result.then((o) => ({ child: ch, outcome: o })))));
      pending.delete(child);
      await settle(c, child, outcome);
      const fails = outcome.outcome === 'not_supplemented' || (outcome.outcome === 'rejected' && plan.onRejection === 'reject_case');
      if (!fails) continue;
      closedNotSupplemented = outcome.outcome === 'not_supplemented';
      failure = { child, reasons: outcome.outcome === 'rejected' ? reasonsOf(outcome.decision) : ['申请人未在补正期限内补齐材料 (not supplemented in time)'] };
      const why = `${child.p.role}（${child.p.regionCode}）${outcome.outcome === 'rejected' ? '不予批准' : '补正逾期'}，联办终止 (the joint case failed at ${child.p.key})`;
      await stopAndSettle(c, [...pending], why);
      pending.clear();
    }
  }

  if (failure) {
    const why = `${failure.child.p.role}（${failure.child.p.regionCode}）未予通过，联办终止 (the joint case failed at ${failure.child.p.key})`;
    await revokeApprovals(c, [...children.values()], why);
    if (closedNotSupplemented) {
      enter(c, 'closed', 'not_supplemented');
      await c.record('case.closed', { outcome: 'not_supplemented' });
      return null;
    }
    const decision = failure.child.outcome!.decision!;
    return { ...decision, type: 'case.rejected', data: { ...decision.data, reasons: failure.reasons.map((r) => `${failure!.child.p.role}：${r}`) } };
  }
  return jointDecision(c, [...children.values()]);
}

/** All steps done: approved when the participant issuing the result approved (continue_others lets others' rejections stand beside it). */
function jointDecision(c: CaseRun, children: Child[]): ProvinceEvent {
  const issuer = children.find((ch) => ch.p.issuesResult) ?? children[children.length - 1]!;
  const decided = children.filter((ch) => ch.outcome?.decision);
  const rejected = decided.filter((ch) => ch.outcome!.outcome === 'rejected');
  const latest = decided.reduce((at, ch) => (ch.outcome!.decision!.at > at ? ch.outcome!.decision!.at : at), '');
  c.state.provinceCaseId = issuer.outcome?.provinceCaseId ?? null;
  const base = issuer.outcome!.decision!;
  if (issuer.outcome!.outcome !== 'approved') {
    return { ...base, type: 'case.rejected', data: { ...base.data, reasons: reasonsOf(base).map((r) => `${issuer.p.role}：${r}`) } };
  }
  return { ...base, at: latest || base.at, data: { ...base.data, reasons: rejected.flatMap((ch) => reasonsOf(ch.outcome!.decision).map((r) => `${ch.p.role}：${r}`)) } };
}

async function startParticipant(c: CaseRun, p: JointParticipant, children: Map<string, Child>): Promise<Child> {
  const ps = participantState(c, p.key);
  const due = await participantDue(c, p.timeLimitDays);
  const input: ParticipantInput = {
    parentWorkflowId: workflowInfo().workflowId,
    caseId: c.caseId,
    participant: p,
    case: {
      ...c.input,
      caseId: p.participantCaseId,
      handlingRegion: p.regionCode,
      callbackUrl: p.callbackUrl,
      materials: [...c.materials],
      // Only the authority issuing the result delivers it; the others' results are the case's own business.
      delivery: p.issuesResult ? c.input.delivery : { method: 'electronic' },
      joint: undefined,
      consultBeforeAcceptance: undefined,
    },
  };
  Object.assign(ps, { status: 'transferring', startedAt: new Date().toISOString(), dueDate: due.dueDate, dueAt: due.dueAt });
  await c.record('participant.started', { participant: p.key, role: p.role, regionCode: p.regionCode, step: p.step, participantCaseId: p.participantCaseId, dueDate: due.dueDate, dueAt: due.dueAt });
  // Started outside the procedure's scope: a withdrawal stops a participant by telling it to (it
  // undoes its part), not by cancelling it half-way through a province call.
  const handle = await CancellationScope.nonCancellable(() =>
    startChild(participantWorkflow, { workflowId: participantWorkflowId(p.participantCaseId), taskQueue: provinceTaskQueue(p.provinceCode), args: [input] }),
  );
  const child: Child = { p, handle, result: handle.result(), outcome: null, settled: false, stopReason: null };
  children.set(p.key, child);
  if (due.dueAt) void watchDeadline(c, child, due.dueAt, due.dueDate);
  return child;
}

/** Its own time limit: overdue is recorded (and shown) once it passes before the participant decided. */
async function watchDeadline(c: CaseRun, child: Child, dueAt: string, dueDate: string | null): Promise<void> {
  try {
    const decided = await condition(() => child.outcome !== null, Math.max(1, Date.parse(dueAt) - Date.now()));
    if (decided) return;
    participantState(c, child.p.key).overdue = true;
    await c.record('participant.overdue', { participant: child.p.key, dueDate, dueAt });
  } catch {
    // The case was withdrawn meanwhile: nothing is overdue any more.
  }
}

async function participantDue(c: CaseRun, days: number): Promise<{ dueDate: string | null; dueAt: string | null }> {
  let dueDate: string | null = null;
  try {
    dueDate = (await calendar.addWorkingDays({ from: dateInChina(new Date()), days })).date;
  } catch {
    // Past the calendar data: no date to show (with the seam the timer does not need one).
  }
  const { workingDayMs } = c.input.timing;
  if (workingDayMs) return { dueDate, dueAt: new Date(Date.now() + days * workingDayMs).toISOString() };
  return { dueDate, dueAt: dueDate ? new Date(Date.parse(`${dueDate}T00:00:00+08:00`) + 24 * 60 * 60 * 1000).toISOString() : null };
}

/** Records how a participant's part ended. */
async function settle(c: CaseRun, child: Child, outcome: ParticipantOutcome): Promise<void> {
  if (child.settled) return;
  child.outcome = outcome;
  child.settled = true;
  const ps = participantState(c, child.p.key);
  if (outcome.provinceCaseId) ps.provinceCaseId = outcome.provinceCaseId;
  if (outcome.outcome === 'stopped') {
    const comp = outcome.compensation!;
    await compensated(c, child.p.key, comp.action, child.stopReason ?? '', comp.province);
    return;
  }
  ps.status = outcome.outcome;
  ps.decidedAt = outcome.decision?.at ?? new Date().toISOString();
  ps.reasons = reasonsOf(outcome.decision);
  await c.record(
    'participant.decided',
    { participant: child.p.key, outcome: outcome.outcome, reasons: ps.reasons, eventId: outcome.decision?.eventId ?? null },
    `province:${child.p.provinceCode}`,
  );
}

/** Tells the running participants to stop and undo their part, and records what each did. */
async function stopAndSettle(c: CaseRun, running: Child[], reason: string): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    for (const child of running) {
      child.stopReason = reason;
      await child.handle.signal(participantStopSignal, { reason });
    }
    for (const child of running) await settle(c, child, await child.result);
  });
}

/** Approvals given before the case failed are revoked at their authorities. */
async function revokeApprovals(c: CaseRun, children: Child[], reason: string): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    for (const child of children) {
      if (child.outcome?.outcome !== 'approved' || !child.outcome.provinceCaseId) continue;
      const { p } = child;
      const provinceCaseId = child.outcome.provinceCaseId;
      const province = provinceProxy(c, p.provinceCode);
      const answer = await step(c, `revokeProvinceCase:${p.key}`, () =>
        province.revokeProvinceCase({ caseId: p.participantCaseId, provinceCode: p.provinceCode, idempotencyKey: `${p.participantCaseId}:revoke`, provinceCaseId, reason }),
      );
      await compensated(c, p.key, answer.status === 'revoked' ? 'revoked' : 'nothing_to_undo', reason, answer.status);
    }
  });
}

async function compensated(c: CaseRun, key: string, action: 'withdrawn' | 'revoked' | 'skipped' | 'nothing_to_undo', reason: string, province: string | null): Promise<void> {
  const ps = participantState(c, key);
  if (action === 'withdrawn' || action === 'revoked' || action === 'skipped') ps.status = action;
  ps.compensation = action;
  // Its notice, if one was open, is no longer the applicant's to answer.
  if (c.state.correction?.participant === key) c.state.correction = null;
  await c.record('participant.compensated', { participant: key, action, reason, province });
}

function createJointRun(c: CaseRun, children: Map<string, Child>, stuck: Map<string, ParticipantEvent['needsIntervention']>): JointRun {
  return {
    async forwardSupplement(cmd) {
      const key = c.state.correction?.participant;
      const child = key ? children.get(key) : undefined;
      if (!child) return;
      // Later steps receive the materials as supplemented.
      applySupplement(c, cmd);
      await child.handle.signal(participantSupplementSignal, cmd);
    },
    async forwardRetry(cmd) {
      for (const [key, flag] of stuck) {
        if (!flag) continue;
        stuck.set(key, null);
        await children.get(key)?.handle.signal(participantRetrySignal, cmd);
      }
    },
    async stopAll(reason) {
      const running = [...children.values()].filter((ch) => !ch.settled);
      await stopAndSettle(c, running, reason);
      await revokeApprovals(c, [...children.values()].filter((ch) => !running.includes(ch)), reason);
      for (const ps of c.state.participants ?? []) {
        if (ps.status === 'waiting') await compensated(c, ps.key, 'skipped', reason, null);
      }
      return (c.state.participants ?? []).map((ps) => `${ps.key}: ${ps.compensation ?? ps.status}`).join('; ');
    },
  };
}

/** What a participant recorded, on the case's record; its notices are the case's. */
interface ParticipantNotice {
  noticeId: string;
  round: number;
  deficiencies: { materialCode: string; problem: string; needed: string }[];
  supplementDue: string | null;
}

/** A participant's notice becomes the case's open notice: the clock pauses, the window answers it. */
async function issueNotice(c: CaseRun, participant: string, notice: ParticipantNotice, at: string, actor: string): Promise<void> {
  const { state } = c;
  const rounds = state.correctionRounds ?? { receiving: 0, handling: 0 };
  state.correctionRounds = { ...rounds, handling: rounds.handling + 1 };
  state.correction = { noticeId: notice.noticeId, side: 'handling', round: notice.round, deficiencies: notice.deficiencies, issuedAt: at, supplementDue: notice.supplementDue, participant };
  enter(c, 'correction', 'awaiting_supplement');
  await c.record('correction.notice_issued', { noticeId: notice.noticeId, side: 'handling', round: notice.round, deficiencies: notice.deficiencies, supplementDue: notice.supplementDue, participant }, actor);
}

async function issueNextNotice(c: CaseRun, waiting: WaitingNotice[]): Promise<void> {
  const next = waiting.shift();
  if (next && !c.state.correction) await issueNotice(c, next.participant, next.notice, new Date().toISOString(), next.actor);
}

interface WaitingNotice {
  participant: string;
  notice: ParticipantNotice;
  at: string;
  actor: string;
}

async function onParticipantEvent(c: CaseRun, ev: ParticipantEvent, stuck: Map<string, ParticipantEvent['needsIntervention']>, waiting: WaitingNotice[]): Promise<void> {
  const { state } = c;
  const ps = state.participants?.find((p) => p.key === ev.participant);
  if (!ps) return;
  const participant = ps.key;
  const d = ev.data;
  stuck.set(participant, ev.needsIntervention);
  const flagged = [...stuck.entries()].find(([, flag]) => flag);
  state.needsIntervention = flagged ? { ...flagged[1]!, step: `${flagged[0]}:${flagged[1]!.step}` } : null;
  switch (ev.type) {
    case 'transfer.created':
      ps.provinceCaseId = String(d.provinceCaseId);
      break;
    case 'review.started':
      ps.status = 'reviewing';
      // The first authority with the materials starts the case's clock.
      if (!c.materialsReceivedAt) {
        c.materialsReceivedAt = ev.at;
        enter(c, 'review');
        await c.record('review.started', { provinceCaseId: String(d.provinceCaseId), materials: Number(d.materials) }, ev.actor);
      }
      break;
    case 'correction.notice_issued': {
      ps.status = 'awaiting_supplement';
      const notice = d as unknown as ParticipantNotice;
      // One notice before the applicant at a time: another participant's waits until this one is answered.
      if (state.correction) waiting.push({ participant, notice, at: ev.at, actor: ev.actor });
      else await issueNotice(c, participant, notice, ev.at, ev.actor);
      return;
    }
    case 'correction.supplemented': {
      ps.status = 'reviewing';
      state.correction = null;
      enter(c, 'review', 'active');
      const s = d as { noticeId: string; round: number; items: { materialCode: string; fileId: string; sha256: string; size: number; contentType: string }[] };
      await c.record('correction.supplemented', { noticeId: s.noticeId, side: 'handling', round: s.round, items: s.items, participant }, ev.actor);
      await issueNextNotice(c, waiting);
      return;
    }
    case 'correction.expired': {
      const e = d as { noticeId: string; round: number; supplementDue: string | null; province: string | null };
      const queued = waiting.findIndex((w) => w.notice.noticeId === e.noticeId);
      if (queued >= 0) waiting.splice(queued, 1);
      else if (state.correction?.noticeId === e.noticeId) state.correction = null;
      await c.record('correction.expired', { noticeId: e.noticeId, side: 'handling', round: e.round, supplementDue: e.supplementDue, province: e.province, participant }, ev.actor);
      await issueNextNotice(c, waiting);
      return;
    }
  }
  await c.record('participant.progress', { participant, type: ev.type, data: d }, ev.actor);
}

function participantState(c: CaseRun, key: string): ParticipantState {
  return c.state.participants!.find((p) => p.key === key)!;
}

/** Province calls of the case itself on a participant's queue (revoking an approval). */
function provinceProxy(c: CaseRun, provinceCode: string): ProvinceActivities {
  const { timing } = c.input;
  return proxyActivities<ProvinceActivities>({
    taskQueue: provinceTaskQueue(provinceCode),
    startToCloseTimeout: timing.callTimeoutMs,
    scheduleToCloseTimeout: retryBudgetMs(timing),
    retry: { initialInterval: timing.retryInitialIntervalMs, maximumInterval: timing.retryMaximumIntervalMs, backoffCoefficient: 2, maximumAttempts: timing.retryMaximumAttempts },
  });
}

function reasonsOf(decision: ProvinceEvent | null | undefined): string[] {
  const r = decision?.data.reasons;
  return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
}

/** The promise, or the cancellation of the procedure's scope (a withdrawal), whichever comes first. */
function orCancelled<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, CancellationScope.current().cancelRequested]);
}
