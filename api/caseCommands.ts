// Staff decisions on a running case (withdraw, retry a stuck step, confirm delivery) are Temporal
// updates: domain/policy.ts decides who may ask (role and side of the case), the workflow's
// validator decides whether the case allows it now, and its rejection reaches the clerk as a 409
// with the workflow's own words.
import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcDeadlineError,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import type { CaseState } from '../domain/case.js';
import {
  caseWorkflowId,
  confirmDeliveryUpdate,
  retryUpdate,
  withdrawUpdate,
  type DeliveryConfirmation,
  type StaffCommand,
} from '../workflows/messages.js';
import type { StaffClaims } from './auth.js';
import { writeAudit } from '../db/audit.js';
import type { CaseAction } from '../domain/policy.js';
import { authorizeCaseAction, caseNotFound } from './caseReads.js';
import { AppError, problem } from './problem.js';

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
}

export type CaseCommand =
  | { kind: 'withdraw'; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'confirmDelivery'; method: 'window' | 'mail'; note?: string };

/** The policy action each command is (domain/policy.ts). */
export const COMMAND_ACTION: Record<CaseCommand['kind'], CaseAction> = {
  withdraw: 'case.withdraw',
  retry: 'case.retry',
  confirmDelivery: 'case.confirmDelivery',
};

const AUDIT_ACTION: Record<CaseCommand['kind'], string> = {
  withdraw: 'case.withdraw',
  retry: 'case.retry',
  confirmDelivery: 'case.confirm-delivery',
};

/** What became of a command, for the audit log. */
type Outcome = 'done' | 'rejected' | 'unanswered' | 'failed';

export async function runCaseCommand(deps: CommandDeps, staff: StaffClaims, caseId: string, command: CaseCommand): Promise<CaseActionResult> {
  const found = await authorizeCaseAction(deps.pool, staff, caseId, COMMAND_ACTION[command.kind]);
  if (found.status !== 'active') throw problem(409, `the case is already ${found.status}`, { slug: 'case-closed' });

  const audit = (outcome: Outcome) =>
    writeAudit(deps.pool, {
      actor: staff.sub, role: staff.role, region: staff.region, action: AUDIT_ACTION[command.kind], caseId,
      reason: command.kind === 'confirmDelivery' ? command.note : command.reason,
      detail: { outcome, ...(command.kind === 'confirmDelivery' ? { method: command.method } : {}) },
    });
  let state: CaseState;
  try {
    state = await executeUpdate(deps, staff, caseId, command);
  } catch (e) {
    // Every attempt that may have reached the workflow is audited: an update that timed out
    // here can still be applied once a worker picks it up.
    if (!(e instanceof AppError && e.status === 404)) {
      await audit(e instanceof AppError && e.status === 409 ? 'rejected' : e instanceof AppError && e.status === 503 ? 'unanswered' : 'failed');
    }
    throw e;
  }
  await audit('done');
  return { caseId, stage: state.stage, status: state.status, needsIntervention: state.needsIntervention !== null };
}

async function executeUpdate(deps: CommandDeps, staff: StaffClaims, caseId: string, command: CaseCommand): Promise<CaseState> {
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
      }
    });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      throw problem(409, e.cause.message, { slug: 'case-rejected-command' });
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
