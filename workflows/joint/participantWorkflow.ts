// One participant of a joint case (多地联办): its own transfer, review and correction loop at its
// authority, on the queue of its province (workflows/messages.ts participantWorkflowId). It is the
// case procedure's transfer and review (workflows/case/transfer.ts, review.ts) run for this
// authority: the same province calls, idempotency keys derived from the participant's case id, the
// same inbox of callbacks and polls, the same correction loop. What it records goes to the joint
// case (participantEventSignal), which keeps the one timeline, the one notice to the applicant and
// the one statutory clock, and forwards back the applicant's supplement and staff retries.
//
// A stop order (the case was rejected by another participant, or withdrawn) cancels the procedure
// and undoes what this authority holds: an undecided case is withdrawn, an approval revoked
// (compensation); the outcome says what was done.
import { CancellationScope, getExternalWorkflowHandle, isCancellation, setHandler } from '@temporalio/workflow';
import type { ProvinceEvent } from '../../domain/case.js';
import { provinceKey } from '../case/keys.js';
import { provinceEventProblem } from '../case/inbox.js';
import type { Recorder } from '../case/record.js';
import { review } from '../case/review.js';
import { openCase, type CaseRun } from '../case/run.js';
import { applicantScrubber } from '../case/scrub.js';
import { step } from '../case/step.js';
import { transfer } from '../case/transfer.js';
import {
  getStateQuery,
  participantEventSignal,
  participantRetrySignal,
  participantStopSignal,
  participantSupplementSignal,
  provinceEventSignal,
  type ParticipantInput,
  type ParticipantOutcome,
} from '../messages.js';

export async function participantWorkflow(input: ParticipantInput): Promise<ParticipantOutcome> {
  const c = openCase(input.case, (run) => reportingRecorder(run, input));
  let stopReason: string | null = null;
  registerParticipantHandlers(c, (reason) => {
    stopReason = reason;
    c.scope.cancel();
  });

  let decision: ProvinceEvent | null;
  try {
    decision = await c.scope.run(async () => {
      await transfer(c);
      return review(c);
    });
  } catch (err) {
    if (!(stopReason !== null && isCancellation(err))) throw err;
    return CancellationScope.nonCancellable(() => undo(c, stopReason!));
  }
  const provinceCaseId = c.state.provinceCaseId;
  if (!decision) return { outcome: 'not_supplemented', decision: null, provinceCaseId, compensation: null };
  return { outcome: decision.type === 'case.approved' ? 'approved' : 'rejected', decision, provinceCaseId, compensation: null };
}

/** What the participant records goes to the joint case, in order, whatever cancels the procedure. */
function reportingRecorder(c: CaseRun, input: ParticipantInput): Recorder {
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  const scrub = applicantScrubber(input.case.applicant, input.case.delivery.address);
  let queue: Promise<void> = Promise.resolve();
  // One non-cancellable scope for every send (as the case's recorder does for its writes).
  const sends = new CancellationScope({ cancellable: false });
  return {
    async record(type, data, actor = 'system') {
      c.state.lastSeq += 1;
      const event = {
        participant: input.participant.key,
        type,
        data: scrub(data) as Record<string, unknown>,
        actor,
        at: new Date().toISOString(),
        needsIntervention: c.state.needsIntervention,
      };
      const send = sends.run(() => queue.then(() => parent.signal(participantEventSignal, event)));
      queue = send.catch(() => {});
      await send;
    },
  };
}

function registerParticipantHandlers(c: CaseRun, stop: (reason: string) => void): void {
  setHandler(getStateQuery, () => c.state);
  setHandler(provinceEventSignal, (event) => {
    // The api verified the callback; anything else is dropped (the joint case records nothing of it).
    if (provinceEventProblem(event) === null) c.inbox.receive(event);
  });
  setHandler(participantSupplementSignal, (cmd) => {
    c.supplement = cmd;
  });
  setHandler(participantRetrySignal, () => {
    if (!c.state.needsIntervention) return;
    c.state.needsIntervention = null;
    c.retryRequested = true;
  });
  setHandler(participantStopSignal, ({ reason }) => stop(reason));
}

/**
 * Compensation: the authority is told and its part undone. A case it never received needs
 * nothing; an undecided one is withdrawn; one it had approved is revoked; a rejection stands.
 */
async function undo(c: CaseRun, reason: string): Promise<ParticipantOutcome> {
  const { caseId, province, provinceCode } = c;
  const stopped = (action: 'withdrawn' | 'revoked' | 'nothing_to_undo', provinceStatus: string | null): ParticipantOutcome => ({
    outcome: 'stopped',
    decision: null,
    provinceCaseId: c.state.provinceCaseId,
    compensation: { action, province: provinceStatus },
  });
  if (!c.transferStarted) return stopped('nothing_to_undo', null);
  const provinceCaseId = c.state.provinceCaseId ?? (await step(c, 'findProvinceCase', () => province.findProvinceCase({ caseId, provinceCode })))?.provinceCaseId ?? null;
  if (!provinceCaseId) return stopped('nothing_to_undo', 'not-created');
  c.state.provinceCaseId = provinceCaseId;
  const withdrawal = await step(c, 'withdrawProvinceCase', () =>
    province.withdrawProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(caseId, 'withdraw'), provinceCaseId, reason }),
  );
  if (withdrawal.status === 'withdrawn') return stopped('withdrawn', 'withdrawn');
  if (withdrawal.outcome === 'rejected') return stopped('nothing_to_undo', 'rejected');
  const revoked = await step(c, 'revokeProvinceCase', () => province.revokeProvinceCase({ caseId, provinceCode, idempotencyKey: `${caseId}:revoke`, provinceCaseId, reason }));
  return stopped(revoked.status === 'revoked' ? 'revoked' : 'nothing_to_undo', revoked.status);
}
