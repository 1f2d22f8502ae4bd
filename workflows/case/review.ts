// Review (审核) at the handling authority until its decision, then the decision itself: an
// approval goes on to delivery, a rejection closes the case with the authority's reasons.
// Since CORRECTIONS_PATCH the authority may ask for a correction (审查补正) first: the case waits
// for the applicant's supplement, sends each supplemented material as a new revision, answers the
// notice, and the review goes on. Art. 32: a first notice later than 5 working days after the
// authority received the materials is recorded as acceptance by law on the day they arrived.
// Art. 45 procedures the authority reports (review.procedure_started / _ended) are recorded: the
// statutory clock (domain/clock.ts) does not count their working days.
import { patched } from '@temporalio/workflow';
import type { Deficiency, ProvinceEvent, ProvinceEventType } from '../../domain/case.js';
import { applySupplement, awaitSupplement, CORRECTIONS_PATCH, noticeWasLate } from './correction.js';
import { provinceKey } from './keys.js';
import { enter, type CaseRun } from './run.js';
import { step } from './step.js';

const DECISION_TYPES: readonly ProvinceEventType[] = ['case.accepted', 'case.approved', 'case.rejected'];
const REVIEW_STEP_TYPES: readonly ProvinceEventType[] = ['review.correction_required', 'review.procedure_started', 'review.procedure_ended'];

/** Waits for the handling authority's decision; null when the case closed meanwhile (a missed supplement deadline). */
export async function review(c: CaseRun): Promise<ProvinceEvent | null> {
  for (;;) {
    const corrections = patched(CORRECTIONS_PATCH);
    const event = (await c.inbox.next(corrections ? [...DECISION_TYPES, ...REVIEW_STEP_TYPES] : DECISION_TYPES))!;
    if (event.type === 'review.correction_required') {
      if (!(await correct(c, event))) return null;
      continue;
    }
    if (event.type === 'review.procedure_started' || event.type === 'review.procedure_ended') {
      await recordProcedure(c, event);
      continue;
    }
    if (event.type !== 'case.accepted') return event;
    await c.record('review.accepted', { eventId: event.eventId, via: event.via }, `province:${c.provinceCode}`);
  }
}

/** One handling-side correction round; false when the supplement deadline passed. */
async function correct(c: CaseRun, event: ProvinceEvent): Promise<boolean> {
  const { caseId, province, provinceCode, state } = c;
  const noticeId = String(event.data.noticeId);
  const deficiencies = (event.data.deficiencies as Deficiency[]).map(({ materialCode, problem, needed }) => ({ materialCode, problem, needed }));
  if ((state.correctionRounds?.handling ?? 0) === 0) {
    const timing = await noticeWasLate(c, event.at);
    if (timing?.late) {
      await c.record('acceptance.deemed', { acceptedOn: timing.receivedOn, noticeOn: timing.noticeOn, workingDays: timing.workingDays, noticeId }, `province:${provinceCode}`);
    }
  }
  const provinceCaseId = state.provinceCaseId!;
  const supplement = await awaitSupplement(c, 'handling', deficiencies, {
    noticeId,
    // The applicant did not supplement in time: the authority closes its case too.
    onExpiry: async () => {
      const answer = await step(c, 'withdrawProvinceCase', () =>
        province.withdrawProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(c.keyBase, 'withdraw'), provinceCaseId, reason: '申请人未在补正期限内补齐材料 (not supplemented in time)' }),
      );
      return answer.status;
    },
  });
  if (!supplement) return false;
  applySupplement(c, supplement);

  const items: { materialCode: string; sha256: string; revision: number }[] = [];
  for (const item of supplement.items) {
    const revision = (c.revisions[item.materialCode] ?? 0) + 1;
    c.revisions[item.materialCode] = revision;
    const sent = await step(c, `uploadSupplement:${item.materialCode}`, () =>
      province.uploadSupplement({
        caseId,
        provinceCode,
        idempotencyKey: provinceKey(c.keyBase, 'material', item.materialCode, revision),
        provinceCaseId,
        materialCode: item.materialCode,
        sha256: item.sha256,
        contentType: item.contentType,
        revision,
      }),
    );
    items.push({ materialCode: item.materialCode, sha256: sent.sha256, revision });
    await c.record('supplement.transferred', { noticeId, materialCode: item.materialCode, sha256: sent.sha256, size: sent.size, revision });
  }
  await step(c, 'answerCorrection', () => province.answerCorrection({ caseId, provinceCode, idempotencyKey: `${caseId}:answer:${noticeId}`, provinceCaseId, noticeId, items }));
  enter(c, 'review');
  await c.record('correction.answered', { noticeId, round: state.correctionRounds?.handling ?? 1 }, `province:${provinceCode}`);
  return true;
}

/** An art. 45 procedure began or ended at the handling authority. */
async function recordProcedure(c: CaseRun, event: ProvinceEvent): Promise<void> {
  const actor = `province:${c.provinceCode}`;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const procedureId = String(event.data.procedureId);
  if (event.type === 'review.procedure_started') {
    await c.record(
      'procedure.started',
      { procedureId, kind: String(event.data.kind), reason: String(event.data.reason ?? ''), expectedEnd: text(event.data.expectedEnd), noticeRef: text(event.data.noticeRef) },
      actor,
    );
  } else {
    await c.record('procedure.ended', { procedureId, result: text(event.data.result) }, actor);
  }
}

/** Records the decision; true when the case was approved and goes on to delivery. */
export async function decide(c: CaseRun, decisionEvent: ProvinceEvent): Promise<boolean> {
  enter(c, 'decision');
  const approved = decisionEvent.type === 'case.approved';
  const reasons = approved ? [] : stringList(decisionEvent.data.reasons);
  c.state.decision = { outcome: approved ? 'approved' : 'rejected', reasons, at: decisionEvent.at };
  const actor = `province:${c.provinceCode}`;
  if (approved) {
    await c.record('decision.approved', { eventId: decisionEvent.eventId, via: decisionEvent.via, reasons }, actor);
    return true;
  }
  await c.record('decision.rejected', { eventId: decisionEvent.eventId, via: decisionEvent.via, reasons }, actor);
  enter(c, 'closed', 'rejected');
  await c.record('case.closed', { outcome: 'rejected' });
  return false;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
