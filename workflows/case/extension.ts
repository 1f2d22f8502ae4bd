// Extensions of the time limit (行政许可法 art. 42): the handling authority's approver asks, the head
// of the authority (a supervisor of the handling side) decides, and an approved extension adds its
// working days to the limits the deadline is counted against (domain/clock.ts). Never beyond what
// the item allows (review.maxExtensionDays, 10 working days for a single authority), one request
// at a time, and only before the decision. The applicant is told the reasons (the approval event
// carries the notice text).
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { isOpenStatus } from '../../domain/case.js';
import { decideExtensionUpdate, requestExtensionUpdate, type ExtensionDecision, type ExtensionRequest } from '../messages.js';
import type { CaseRun } from './run.js';

const DEFAULT_MAX_EXTENSION_DAYS = 10;

export function registerExtensionHandlers(c: CaseRun): void {
  const { state } = c;
  const extensions = () => (state.extensions ??= []);
  const maxDays = () => c.input.item.review?.maxExtensionDays ?? DEFAULT_MAX_EXTENSION_DAYS;
  const committedDays = () => extensions().filter((e) => e.status !== 'refused').reduce((n, e) => n + e.days, 0);

  setHandler(
    requestExtensionUpdate,
    async (req) => {
      const extensionId = `${c.caseId}:ext:${extensions().length + 1}`;
      extensions().push({ extensionId, days: req.days, reason: req.reason, requestedBy: req.actor, requestedAt: new Date().toISOString(), status: 'requested' });
      await c.record('extension.requested', { extensionId, days: req.days, reason: req.reason, role: req.role, region: req.region }, req.actor);
      return state;
    },
    {
      validator: (req: ExtensionRequest) => {
        if (!req || !req.actor || typeof req.reason !== 'string' || req.reason.trim().length < 2) throw notAllowed('an extension needs an actor and a reason');
        if (!Number.isInteger(req.days) || req.days < 1) throw notAllowed('an extension is a whole number of working days, at least 1');
        if (!isOpenStatus(state.status)) throw notAllowed(`the case is already ${state.status}`);
        if (state.decision) throw notAllowed('the handling authority has decided: the limit can no longer be extended');
        if (!state.provinceCaseId) throw notAllowed('the handling authority does not have the case yet: its time limit has not started');
        if (extensions().some((e) => e.status === 'requested')) throw notAllowed('another extension is waiting for a decision');
        const left = maxDays() - committedDays();
        if (req.days > left) throw notAllowed(`the item allows ${maxDays()} working days of extension in all; ${left} left`);
      },
    },
  );

  setHandler(
    decideExtensionUpdate,
    async (d) => {
      const ext = extensions().find((e) => e.extensionId === d.extensionId)!;
      Object.assign(ext, { status: d.approve ? 'approved' : 'refused', decidedBy: d.actor, decidedAt: new Date().toISOString(), decisionReason: d.reason });
      if (d.approve) {
        const applicantNotice = `经负责人批准，办理期限延长${ext.days}个工作日。理由：${ext.reason}`;
        await c.record('extension.approved', { extensionId: ext.extensionId, days: ext.days, reason: d.reason, applicantNotice }, d.actor);
      } else {
        await c.record('extension.refused', { extensionId: ext.extensionId, days: ext.days, reason: d.reason }, d.actor);
      }
      return state;
    },
    {
      validator: (d: ExtensionDecision) => {
        if (!d || !d.actor || typeof d.reason !== 'string' || d.reason.trim().length < 2) throw notPending('a decision needs an actor and a reason');
        const ext = extensions().find((e) => e.extensionId === d.extensionId);
        if (!ext) throw notPending(`no extension ${d.extensionId}`);
        if (ext.status !== 'requested') throw notPending(`extension ${d.extensionId} is already ${ext.status}`);
        if (!isOpenStatus(state.status)) throw notPending(`the case is already ${state.status}`);
      },
    },
  );
}

function notAllowed(message: string) {
  return ApplicationFailure.nonRetryable(message, 'ExtensionNotAllowed');
}

function notPending(message: string) {
  return ApplicationFailure.nonRetryable(message, 'ExtensionNotPending');
}
