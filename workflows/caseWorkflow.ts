// One durable workflow per case (办件). It reads like the procedure: intake → precheck (with the
// video consultations before acceptance and the shared data fetched) → transfer → review →
// decision → delivery, each stage in its own module under workflows/case/, driven by the item
// definition pinned in the input. A joint case (多地联办) runs its participants' transfers and
// reviews as child workflows in their regions (workflows/case/joint.ts) and decides once.
// Everything that can change (province endpoints, secrets, the stores) lives behind activities;
// staff and provinces reach the case through the messages in workflows/messages.ts.
import { allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, patched } from '@temporalio/workflow';
import type { CaseInput, CaseState } from '../domain/case.js';
import { settleConsultations } from './case/consultation.js';
import { deliver } from './case/delivery.js';
import { registerHandlers } from './case/handlers.js';
import { handleJointly, isJointCase, JOINT_PATCH } from './case/joint.js';
import { precheck } from './case/precheck.js';
import { routedTransfer } from './case/reroute.js';
import { decide, review } from './case/review.js';
import { enter, openCase, type CaseRun } from './case/run.js';
import { runSlaClock, SLA_PATCH } from './case/sla.js';
import { carryOutWithdrawal } from './case/withdrawal.js';

export async function caseWorkflow(input: CaseInput): Promise<CaseState> {
  requireCaseInput(input);
  const c = openCase(input);
  registerHandlers(c);
  // The SLA clock runs beside the procedure, outside its scope: a withdrawal does not stop it.
  const sla = patched(SLA_PATCH) ? runSlaClock(c) : Promise.resolve();

  let from: 'intake' | 'review' = 'intake';
  for (;;) {
    try {
      await c.scope.run(() => procedure(c, from));
      break;
    } catch (err) {
      if (!(c.withdrawal && isCancellation(err))) throw err;
    }
    if ((await carryOutWithdrawal(c, c.withdrawal)) === 'withdrawn') break;
    // The province had already decided: the case goes on to take that decision, polled at once.
    c.withdrawal = null;
    c.scope = new CancellationScope();
    c.inbox.pollNow();
    from = 'review';
  }
  await sla;
  // A booking in flight when the case closed is still recorded; the watches end with the case.
  await settleConsultations(c);
  await condition(allHandlersFinished);
  return c.state;
}

async function procedure(c: CaseRun, from: 'intake' | 'review'): Promise<void> {
  if (from === 'intake') {
    await intake(c);
    // Accepted once the precheck passes and the consultations asked for before acceptance
    // (视频会商收件) have their outcome; it may end in a notice to the applicant or not accepted.
    if (!(await precheck(c))) return;
    // 多地联办: one child workflow per participating authority, then one decision (workflows/case/joint.ts).
    if (isJointCase(c) && patched(JOINT_PATCH)) {
      const joint = await handleJointly(c);
      if (joint && (await decide(c, joint))) await deliver(c, joint);
      return;
    }
    await routedTransfer(c);
  } else {
    enter(c, 'review');
  }
  const decision = await review(c);
  if (!decision || !(await decide(c, decision))) return;
  await deliver(c, decision);
}

/** Intake (收件): the case is on record as submitted. */
async function intake(c: CaseRun): Promise<void> {
  const { input } = c;
  await c.record(
    'case.submitted',
    {
      itemCode: input.item.code,
      itemVersion: input.item.version,
      channel: input.channel,
      receivingRegion: input.receivingRegion,
      handlingRegion: input.handlingRegion,
      materials: input.materials.map((m) => m.materialCode),
    },
    input.submittedBy.id,
  );
}

/** A start whose input is not a case (e.g. a payload not encrypted with our key) fails at once. */
function requireCaseInput(input: CaseInput): void {
  const ok =
    input && typeof input === 'object' && typeof input.caseId === 'string' && input.item && typeof input.item === 'object' &&
    input.applicant && Array.isArray(input.materials) && input.timing && typeof input.handlingRegion === 'string';
  if (!ok) throw ApplicationFailure.nonRetryable('the workflow input is not a case input', 'InvalidCaseInput');
}
