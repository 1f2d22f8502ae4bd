// Reroute (改派): the case goes to another handling authority, approved by a second person of the
// receiving side (api/approvals.ts), while the handling side does not yet have its materials (review
// not started). Before the transfer it simply changes where the transfer goes. During the transfer
// (often stuck: the authority refused it as not its competence, or its system is down for good) the
// transfer is stopped, the case the old authority may hold is withdrawn there, and the transfer
// starts again at the new authority under new idempotency keys (c.keyBase).
//
// Cases without a reroute run exactly as before: the transfer runs in a scope of its own, which adds
// no command, and the keys of route 0 are the case id's.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import { isOpenStatus } from '../../domain/case.js';
import { provinceOf } from '../../domain/regions.js';
import { rerouteUpdate, type RerouteCommand } from '../messages.js';
import { isJointCase } from './joint.js';
import { provinceKey } from './keys.js';
import { provinceActivities, type CaseRun } from './run.js';
import { transfer } from './transfer.js';

/** The transfer, started again at the new authority each time a reroute stops it. */
export async function routedTransfer(c: CaseRun): Promise<void> {
  for (;;) {
    c.transferScope = new CancellationScope();
    try {
      await c.transferScope.run(() => transfer(c));
      c.transferScope = null;
      return;
    } catch (err) {
      c.transferScope = null;
      // A withdrawal cancels the procedure's scope, and with it this one: not ours to handle.
      if (!(isCancellation(err) && c.reroute && !c.scope.consideredCancelled)) throw err;
    }
    await moveCase(c, c.reroute);
    c.reroute = null;
  }
}

export function registerRerouteHandler(c: CaseRun): void {
  const { state } = c;
  setHandler(
    rerouteUpdate,
    async (cmd) => {
      if (!c.transferStarted) {
        // Nothing reached the old authority: the transfer, when it comes, goes to the new one.
        await moveCase(c, cmd);
        return state;
      }
      // The transfer stops, the old authority is asked (up to its retry budget) and the case moves:
      // recorded as case.rerouted; the approval does not wait for the old authority.
      c.reroute = cmd;
      c.transferScope?.cancel();
      return state;
    },
    {
      validator: (cmd) => {
        if (!cmd || typeof cmd.reason !== 'string' || !cmd.reason.trim() || typeof cmd.handlingRegion !== 'string' || typeof cmd.callbackUrl !== 'string') {
          throw ApplicationFailure.nonRetryable('a reroute needs a reason, the new handling region and its callback URL', 'RerouteInvalid');
        }
        if (!isOpenStatus(state.status)) throw ApplicationFailure.nonRetryable(`the case is already ${state.status}`, 'CaseClosed');
        if (isJointCase(c)) throw ApplicationFailure.nonRetryable('a joint case (多地联办) is handled by every participating authority; it cannot be rerouted', 'RerouteNotAllowed');
        if (c.materialsReceivedAt || !['intake', 'precheck', 'correction', 'transfer'].includes(state.stage)) {
          throw ApplicationFailure.nonRetryable(`the handling authority already has the materials (the case is at ${state.stage}): it decides the case or refuses it, it is no longer rerouted`, 'RerouteNotAllowed');
        }
        if (c.withdrawal) throw ApplicationFailure.nonRetryable('the case is being withdrawn', 'RerouteNotAllowed');
        if (c.reroute) throw ApplicationFailure.nonRetryable('the case is already being rerouted', 'RerouteNotAllowed');
        if (cmd.handlingRegion === c.handlingRegion) throw ApplicationFailure.nonRetryable(`the case is already handled in ${c.handlingRegion}`, 'RerouteNotAllowed');
      },
    },
  );
}

/**
 * What became of the case at the old authority: `withdrawn` (or its answer), `not-created`, or
 * `unreachable` when it could not be asked within the retry budget (an authority that is down is
 * often why a case is rerouted): the case moves on all the same, and the event says the old office
 * must be told by other means.
 */
async function withdrawAtOldAuthority(c: CaseRun, cmd: RerouteCommand): Promise<string> {
  const { caseId, province, provinceCode, state } = c;
  try {
    // A create cut short may have reached the authority: look it up rather than guess.
    const provinceCaseId = state.provinceCaseId ?? (await province.findProvinceCase({ caseId, provinceCode }))?.provinceCaseId ?? null;
    if (!provinceCaseId) return 'not-created';
    const answer = await province.withdrawProvinceCase({
      caseId,
      provinceCode,
      idempotencyKey: provinceKey(c.keyBase, 'withdraw'),
      provinceCaseId,
      reason: `改派至 ${cmd.handlingRegion} (rerouted): ${cmd.reason}`,
    });
    return answer.status;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
    return `unreachable: ${(cause instanceof Error ? cause.message : String(cause)).slice(0, 300)}`;
  }
}

/** Withdraws the case at the old authority if it may hold it, then points the case at the new one. */
async function moveCase(c: CaseRun, cmd: RerouteCommand): Promise<void> {
  const { caseId, state } = c;
  const from = c.handlingRegion;
  const atOldAuthority = c.transferStarted ? await withdrawAtOldAuthority(c, cmd) : null;
  c.route += 1;
  c.keyBase = `${caseId}@route${c.route}`;
  c.handlingRegion = cmd.handlingRegion;
  c.callbackUrl = cmd.callbackUrl;
  c.provinceCode = provinceOf(cmd.handlingRegion);
  c.province = provinceActivities(c.provinceCode, c.input.timing);
  if (c.transferStarted) {
    // The transfer's step was cancelled with it: nothing waits any more.
    c.transferStarted = false;
    c.stuckStep = null;
    c.offline = null;
    c.retryRequested = false;
    state.provinceCaseId = null;
    state.transferredMaterials = [];
    state.needsIntervention = null;
  }
  // Before the transfer, a precheck step stuck at the old authority still waits: its retry asks the new one.
  // Whatever the old authority still sends is not the new one's.
  c.inbox.forget();
  await c.record(
    'case.rerouted',
    {
      from,
      to: cmd.handlingRegion,
      reason: cmd.reason,
      oldAuthority: atOldAuthority,
      role: cmd.role,
      region: cmd.region,
      approvalId: cmd.approvalId,
      approvedBy: cmd.approvedBy,
      approvalReason: cmd.approvalReason,
    },
    cmd.actor,
  );
}
