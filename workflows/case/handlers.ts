// The case's messages: the state query, province events (signal), and the staff updates whose
// validators decide whether the case allows them now (a rejection reaches staff as a 409); the
// extensions' and the video consultations' live in their own modules.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { isOpenStatus } from '../../domain/case.js';
import { confirmDeliveryUpdate, getStateQuery, provinceEventSignal, recordOfflineUpdate, retryUpdate, supplementUpdate, withdrawUpdate, type OfflineStepCommand, type StaffCommand, type SupplementCommand } from '../messages.js';
import { registerConsultationHandlers } from './consultation.js';
import { registerExtensionHandlers } from './extension.js';
import { provinceEventProblem } from './inbox.js';
import { registerRerouteHandler } from './reroute.js';
import type { CaseRun } from './run.js';

export function registerHandlers(c: CaseRun): void {
  const { state } = c;
  setHandler(getStateQuery, () => state);

  setHandler(provinceEventSignal, async (event) => {
    // The API and the gateway validate events; anything else (e.g. a payload that was not
    // encrypted with our key, see crypto/payloadCodec.ts) is dropped on the record.
    const problem = provinceEventProblem(event);
    if (problem) {
      const eventId = typeof (event as { eventId?: unknown })?.eventId === 'string' ? String((event as { eventId: string }).eventId).slice(0, 200) : null;
      await c.record('province.event_rejected', { eventId, problem });
      return;
    }
    c.inbox.receive(event);
  });

  setHandler(
    withdrawUpdate,
    async (cmd) => {
      c.withdrawal = cmd;
      c.scope.cancel();
      await condition(() => !isOpenStatus(state.status) || c.withdrawalRefused || (c.withdrawing && state.needsIntervention !== null));
      if (c.withdrawalRefused) {
        throw ApplicationFailure.nonRetryable('the handling authority had already decided the case: it can no longer be withdrawn and takes that decision', 'ProvinceDecided');
      }
      return state;
    },
    {
      validator: (cmd) => {
        requireReason(cmd);
        if (!isOpenStatus(state.status)) throw ApplicationFailure.nonRetryable(`the case is already ${state.status}`, 'CaseClosed');
        if (state.decision || c.withdrawalRefused) throw ApplicationFailure.nonRetryable('a decision has been made; the case can no longer be withdrawn', 'DecisionMade');
        if (c.withdrawal) throw ApplicationFailure.nonRetryable('the case is already being withdrawn', 'WithdrawalPending');
      },
    },
  );

  setHandler(
    retryUpdate,
    async (cmd) => {
      const stuck = state.needsIntervention!;
      c.retryRequested = true;
      // 多地联办: the stuck steps are the participants'; their workflows retry them.
      if (c.joint) await c.joint.forwardRetry(cmd);
      // A projection that would not write cannot record the retry either; the API audits it.
      if (stuck.kind === 'projection') return state;
      // Cleared here, so the projection shows the case as no longer stuck while the step runs
      // again; a failure past the budget flags it anew.
      state.needsIntervention = null;
      await c.record('intervention.retry', { step: stuck.step, reason: cmd.reason, role: cmd.role, region: cmd.region }, cmd.actor);
      return state;
    },
    {
      validator: (cmd) => {
        requireReason(cmd);
        if (!state.needsIntervention) throw ApplicationFailure.nonRetryable('the case is not waiting for an intervention', 'NothingToRetry');
      },
    },
  );

  setHandler(
    recordOfflineUpdate,
    async (cmd) => {
      c.offline = cmd;
      // Cleared here like a retry: the step takes the record and the case moves on.
      state.needsIntervention = null;
      await c.record(
        'step.recorded_offline',
        {
          step: cmd.step,
          reason: cmd.reason,
          evidence: cmd.evidence,
          provinceCaseId: cmd.provinceCaseId ?? null,
          role: cmd.role,
          region: cmd.region,
          approvalId: cmd.approvalId,
          approvedBy: cmd.approvedBy,
          approvalReason: cmd.approvalReason,
        },
        cmd.actor,
      );
      return state;
    },
    { validator: (cmd) => checkOffline(c, cmd) },
  );

  setHandler(
    supplementUpdate,
    async (cmd) => {
      c.supplement = cmd;
      // 多地联办: the notice is a participant's; its workflow takes the supplement.
      if (c.joint) await c.joint.forwardSupplement(cmd);
      // Until the case has taken it (the notice closes) or ended meanwhile.
      await condition(() => state.correction?.noticeId !== cmd.noticeId || !isOpenStatus(state.status));
      return state;
    },
    { validator: (cmd) => checkSupplement(c, cmd) },
  );

  registerRerouteHandler(c);
  registerExtensionHandlers(c);
  registerConsultationHandlers(c);

  setHandler(
    confirmDeliveryUpdate,
    async (cmd) => {
      c.confirmation = cmd;
      await condition(() => state.status !== 'active');
      return state;
    },
    {
      validator: (cmd) => {
        if (state.stage !== 'delivery' || state.status !== 'active') {
          throw ApplicationFailure.nonRetryable(`nothing to deliver: the case is at ${state.stage} (${state.status})`, 'NotInDelivery');
        }
        // Mail that came back undelivered waits at the receiving window: collected there.
        const expected = state.delivery.status === 'returned' ? 'window' : state.delivery.method;
        if (cmd.method !== expected) {
          throw ApplicationFailure.nonRetryable(
            state.delivery.status === 'returned' ? `the mail came back undelivered: the result waits at the window, so confirm its collection there (window), not ${cmd.method}` : `the result goes out by ${state.delivery.method}, not ${cmd.method}`,
            'WrongDeliveryMethod',
          );
        }
      },
    },
  );
}

/** Only the step the case is stuck on, when it can be done offline, with its evidence. */
function checkOffline(c: CaseRun, cmd: OfflineStepCommand): void {
  requireReason(cmd);
  if (!cmd.step || !cmd.evidence?.sha256 || !cmd.approvalId) throw ApplicationFailure.nonRetryable('a step recorded offline needs the step, its evidence and the approval', 'OfflineInvalid');
  const stuck = c.stuckStep;
  if (!stuck || !c.state.needsIntervention) throw ApplicationFailure.nonRetryable('the case is not stuck on a step: nothing to record as done offline', 'OfflineNotAllowed');
  if (stuck.name !== cmd.step) throw ApplicationFailure.nonRetryable(`the case is stuck on ${stuck.name}, not ${cmd.step}`, 'OfflineNotAllowed');
  if (!stuck.offline) throw ApplicationFailure.nonRetryable(`${stuck.name} cannot be done outside the system: retry it, or reroute or withdraw the case`, 'OfflineNotAllowed');
  if (c.offline) throw ApplicationFailure.nonRetryable(`${stuck.name} is already recorded as done offline`, 'OfflineNotAllowed');
  if (stuck.name === 'createProvinceCase' && !cmd.provinceCaseId) {
    throw ApplicationFailure.nonRetryable('a case created at the authority outside the system needs the number it gave (provinceCaseId)', 'OfflineInvalid');
  }
}

/** The supplement must answer the open notice, every deficiency of it. */
function checkSupplement(c: CaseRun, cmd: SupplementCommand): void {
  if (!cmd || !cmd.actor || !Array.isArray(cmd.items)) throw ApplicationFailure.nonRetryable('a supplement needs an actor and items', 'SupplementInvalid');
  const open = c.state.correction;
  if (!open || open.noticeId !== cmd.noticeId || c.state.status !== 'awaiting_supplement') {
    throw ApplicationFailure.nonRetryable(open ? `the open notice is ${open.noticeId}, not ${cmd.noticeId}` : 'no correction notice is open', 'NoticeNotOpen');
  }
  if (c.supplement?.noticeId === cmd.noticeId) throw ApplicationFailure.nonRetryable(`notice ${cmd.noticeId} is already being supplemented`, 'NoticeNotOpen');
  const answered = new Set(cmd.items.map((i) => i.materialCode));
  const unanswered = open.deficiencies.map((d) => d.materialCode).filter((code) => !answered.has(code));
  if (unanswered.length > 0) {
    throw ApplicationFailure.nonRetryable(`the supplement leaves deficiencies unanswered: ${unanswered.join(', ')}`, 'SupplementIncomplete');
  }
}

function requireReason(cmd: StaffCommand): void {
  if (!cmd || !cmd.actor || typeof cmd.reason !== 'string' || cmd.reason.trim().length < 2) {
    throw ApplicationFailure.nonRetryable('a staff action needs an actor and a reason', 'ReasonRequired');
  }
}
