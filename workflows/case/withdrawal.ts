// Withdrawal (撤回) on the applicant's request, before a decision. The procedure is stopped first
// (an in-flight province call is cancelled and waited for), then the province is asked. If it has
// already decided, the withdrawal is refused and the case takes its decision; if it cannot be
// reached past the retry budget, the case is flagged for intervention rather than closed. A
// province case is never created just to withdraw it: a create cut short is looked up instead.
//
// Cases started before WITHDRAWAL_PATCH keep the earlier behaviour (withdrawn on our side whatever
// the province answered), so their histories replay unchanged.
import { ActivityFailure, CancellationScope, patched } from '@temporalio/workflow';
import { createCaseRequestOf } from '../../domain/case.js';
import type { StaffCommand } from '../messages.js';
import { provinceKey } from './keys.js';
import { enter, type CaseRun } from './run.js';
import { step } from './step.js';

export const WITHDRAWAL_PATCH = 'withdrawal-asks-province';

/** `withdrawn`: the case is closed; `refused`: the province had decided, the case goes on. */
export type WithdrawalOutcome = 'withdrawn' | 'refused';

export function carryOutWithdrawal(c: CaseRun, cmd: StaffCommand): Promise<WithdrawalOutcome> {
  return CancellationScope.nonCancellable(async () => {
    c.withdrawing = true;
    c.state.needsIntervention = null;
    await c.record('case.withdrawal_requested', { reason: cmd.reason, role: cmd.role, region: cmd.region }, cmd.actor);
    const outcome = patched(WITHDRAWAL_PATCH) ? await askProvince(c, cmd) : await legacyWithdrawal(c, cmd);
    c.withdrawing = false;
    return outcome;
  });
}

async function askProvince(c: CaseRun, cmd: StaffCommand): Promise<WithdrawalOutcome> {
  const { caseId, provinceCode, province } = c;
  let provinceResult: string | null = null;
  // 多地联办: every participant is told to stop and undoes its part (workflows/case/joint.ts).
  if (c.joint) provinceResult = await c.joint.stopAll(`申请人撤回申请 (withdrawn by the applicant): ${cmd.reason}`);
  if (c.transferStarted) {
    const provinceCaseId =
      c.state.provinceCaseId ?? (await step(c, 'findProvinceCase', () => province.findProvinceCase({ caseId, provinceCode })))?.provinceCaseId ?? null;
    if (!provinceCaseId) {
      provinceResult = 'not-created';
    } else {
      c.state.provinceCaseId = provinceCaseId;
      const answer = await step(c, 'withdrawProvinceCase', () =>
        province.withdrawProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(c.keyBase, 'withdraw'), provinceCaseId, reason: cmd.reason }),
      );
      if (answer.status === 'decided') {
        c.withdrawalRefused = true;
        await c.record('withdrawal.refused', { reason: cmd.reason, provinceOutcome: answer.outcome ?? null }, `province:${provinceCode}`);
        return 'refused';
      }
      provinceResult = answer.status;
    }
  }
  enter(c, 'closed', 'withdrawn');
  await c.record('case.withdrawn', { reason: cmd.reason, province: provinceResult }, cmd.actor);
  return 'withdrawn';
}

/** Before WITHDRAWAL_PATCH: tell the province if it may have the case, and close whatever it says. */
async function legacyWithdrawal(c: CaseRun, cmd: StaffCommand): Promise<WithdrawalOutcome> {
  const { caseId, provinceCode, province, input } = c;
  let provinceResult: string | null = null;
  if (c.transferStarted) {
    try {
      const provinceCaseId =
        c.state.provinceCaseId ?? (await province.createProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(c.keyBase, 'create'), request: createCaseRequestOf(input) })).provinceCaseId;
      c.state.provinceCaseId = provinceCaseId;
      const res = await province.withdrawProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(c.keyBase, 'withdraw'), provinceCaseId, reason: cmd.reason });
      provinceResult = res.status;
    } catch (err) {
      const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
      provinceResult = `failed: ${cause instanceof Error ? cause.message : String(cause)}`;
    }
  }
  enter(c, 'closed', 'withdrawn');
  await c.record('case.withdrawn', { reason: cmd.reason, province: provinceResult }, cmd.actor);
  return 'withdrawn';
}
