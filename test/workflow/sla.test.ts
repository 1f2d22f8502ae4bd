// The SLA clock of a running case on the real dev server (workflows/case/sla.ts): a warning and an
// overdue escalation when the limits pass, an approved extension moving the due dates, a pause
// stopping the clock, and the figures reaching the projection's columns, the list's ?sla= filter,
// the case view and the SlaState / DueDate search attributes. Under the working-day seam
// (WORKING_DAY_MS, docs/case-workflow.md) a working day is one second, so the timers fire in
// seconds and the production code decides exactly as it would over weeks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState } from '../../domain/case.js';
import type { SlaLimitFigures } from '../../domain/caseEvents.js';
import { caseWorkflowId, DUE_DATE_KEY, getStateQuery, SLA_STATE_KEY, supplementUpdate, type SupplementItem } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';

const DAY_MS = 1000;
let stack: TestStack;
let clerk: string;

const handleOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId));
const stateOf = (caseId: string) => handleOf(caseId).query(getStateQuery);
interface EventRow {
  seq: number;
  type: string;
  at: Date;
  data: Record<string, unknown>;
}
const eventsOf = async (caseId: string) =>
  (await stack.pool.query<EventRow>('SELECT seq, type, at, data FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;
const ms = (e: EventRow | undefined) => e!.at.getTime();

describe('the SLA clock', () => {
  beforeAll(async () => {
    // 基本医疗保险异地就医备案: promised 3, statutory 5 working days; a working day lasts one second;
    // yellow with one day left (or 80 % used); the authority decides 12 s after it gets the case, well
    // after both limits (3 and 5 days) have passed, even on a loaded machine.
    stack = await startTestStack({
      env: { WORKING_DAY_MS: String(DAY_MS), SLA_WARN_DAYS_LEFT: '1', STATUS_POLL_AFTER_MS: '60000' },
      simulator: { reviewDelayMs: 12_000, correctionDelayMs: 300 },
    });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the limits pass with no decision, then each limit warns, turns red and is escalated to the handling side’s supervisors; the decision stops the clock with the final figures', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '超期办理', itemCode: 'medical-filing' });
    const { caseId } = body;
    const supervisor = await stack.token('supervisor', '510000');

    // Overdue on both limits while the authority still reviews: the list, the row, the view and Temporal agree.
    const red = await eventually(() => stateOf(caseId), (s) => s.sla?.statutory.state === 'red', 30_000, 'both limits overdue');
    expect(red.decision).toBeNull();
    expect(red.sla).toMatchObject({ state: 'red', settled: false });
    expect(red.sla!.escalatedAt).not.toBeNull();
    const listed = await getJson<{ items: { caseId: string; slaState: string; dueDate: string }[] }>(`${stack.apiUrl}/v1/cases?sla=red&limit=100`, supervisor);
    expect(listed.status).toBe(200);
    expect(listed.body.items.find((i) => i.caseId === caseId)).toMatchObject({ slaState: 'red', dueDate: red.sla!.promised.dueDate });
    const green = await getJson<{ items: { caseId: string }[] }>(`${stack.apiUrl}/v1/cases?sla=green&limit=100`, supervisor);
    expect(green.body.items.some((i) => i.caseId === caseId)).toBe(false);
    const desc = await handleOf(caseId).describe();
    expect(desc.typedSearchAttributes.get(SLA_STATE_KEY)).toBe('red');
    expect(desc.typedSearchAttributes.get(DUE_DATE_KEY)?.toISOString()).toBe(red.sla!.promised.dueAt);

    const final = await eventually(() => stateOf(caseId), (s) => s.status === 'completed', 30_000, 'the decision');
    expect(final.sla).toMatchObject({ state: 'red', settled: true });
    const events = await eventsOf(caseId);
    const received = events.find((e) => e.type === 'review.started');
    const sla = events.filter((e) => e.type.startsWith('sla.'));
    const of = (limit: string) => sla.filter((e) => e.data.limit === limit).map((e) => e.type);
    expect(sla[0]).toMatchObject({ type: 'sla.started', data: { state: 'green' } });
    expect(of('promised')).toEqual(['sla.warning', 'sla.overdue', 'sla.escalated']);
    expect(of('statutory')).toEqual(['sla.warning', 'sla.overdue', 'sla.escalated']);
    expect(sla.at(-1)!.type).toBe('sla.stopped');
    // Each change came when its time did, not before: the promised warning on day 2, red after day 3, statutory red after day 5.
    const at = (type: string, limit: string) => ms(sla.find((e) => e.type === type && e.data.limit === limit));
    expect(at('sla.warning', 'promised') - ms(received)).toBeGreaterThan(1 * DAY_MS);
    expect(at('sla.overdue', 'promised') - ms(received)).toBeGreaterThan(3 * DAY_MS);
    expect(at('sla.overdue', 'statutory') - ms(received)).toBeGreaterThan(5 * DAY_MS);
    const escalated = sla.find((e) => e.type === 'sla.escalated' && e.data.limit === 'promised')!;
    expect(escalated.data).toMatchObject({ to: { role: 'supervisor', side: 'handling', region: '510000' } });
    expect(escalated.data.overdueBy).toBeGreaterThanOrEqual(1);
    // The decision came ~12 days in: the final figures say by how much each limit was missed.
    const stopped = sla.at(-1)!.data as { state: string; promised: SlaLimitFigures; statutory: SlaLimitFigures };
    expect(stopped.state).toBe('red');
    expect(stopped.promised.remaining).toBe(3 - stopped.promised.used);
    expect(stopped.promised.used).toBeGreaterThan(5);
    expect(stopped.statutory.remaining).toBeLessThan(0);
    expect(sla.at(-1)!.seq).toBeGreaterThan(events.find((e) => e.type === 'decision.approved')!.seq);

    // The row keeps the final reading for reports.
    const row = (await stack.pool.query('SELECT sla_state, due_date::text, statutory_due_date::text, sla_escalated_at, sla FROM cases WHERE case_id = $1', [caseId])).rows[0];
    expect(row).toMatchObject({ sla_state: 'red', due_date: final.sla!.promised.dueDate, statutory_due_date: final.sla!.statutory.dueDate });
    expect(row.sla_escalated_at).not.toBeNull();
    expect(row.sla.settled).toBe(true);
    const view = await getJson<{ sla: { state: string; escalatedAt: string | null } }>(`${stack.apiUrl}/v1/cases/${caseId}`, supervisor);
    expect(view.body.sla).toMatchObject({ state: 'red', escalatedAt: final.sla!.escalatedAt });
  });

  it('When an extension is approved, then both due dates move by its days at once and the clock reads again; the decision records the figures with it', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '延期计时', itemCode: 'medical-filing' });
    const { caseId } = body;
    const started = await eventually(() => stateOf(caseId), (s) => !!s.sla, 30_000, 'the clock started');
    const approver = await stack.token('approver', '510000');
    const supervisor = await stack.token('supervisor', '510000');
    const asked = await postJson<{ extension: { extensionId: string } }>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 10, reason: '需要现场核查' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const decided = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${asked.body.extension.extensionId}/decision`, supervisor, { approve: true, reason: '同意延长' });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);

    // The update returns once the case has recorded the approval and read the clock again.
    const extended = await stateOf(caseId);
    expect(extended.sla!.promised).toMatchObject({ extendedBy: 10, limitDays: 3 });
    expect(Date.parse(extended.sla!.promised.dueAt!) - Date.parse(started.sla!.promised.dueAt!)).toBe(10 * DAY_MS);
    expect(Date.parse(extended.sla!.statutory.dueAt!) - Date.parse(started.sla!.statutory.dueAt!)).toBe(10 * DAY_MS);
    const desc = await handleOf(caseId).describe();
    expect(desc.typedSearchAttributes.get(DUE_DATE_KEY)?.toISOString()).toBe(extended.sla!.promised.dueAt);

    const final: CaseState = await eventually(() => stateOf(caseId), (s) => s.status === 'completed', 30_000, 'the decision');
    const events = await eventsOf(caseId);
    const approvedAt = events.findIndex((e) => e.type === 'extension.approved');
    const after = events.slice(approvedAt + 1).find((e) => e.type.startsWith('sla.'))!;
    expect(after.data).toMatchObject({ promised: { extendedBy: 10 }, statutory: { extendedBy: 10 } });
    const stopped = events.find((e) => e.type === 'sla.stopped')!.data as { promised: SlaLimitFigures };
    expect(stopped.promised.extendedBy).toBe(10);
    expect(stopped.promised.remaining).toBe(13 - stopped.promised.used);
    expect(final.sla!.settled).toBe(true);
  });

  it('When an approved result waits at the window past art. 44’s 10 working days, then the delivery clock warns, turns red and escalates to the window’s supervisors; the collection stops it', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '送达计时', delivery: { method: 'window' } });
    const { caseId } = body;
    const waiting = await eventually(() => stateOf(caseId), (s) => s.stage === 'delivery' && !!s.sla?.delivery, 30_000, 'the delivery clock started');
    expect(waiting.sla!.delivery).toMatchObject({ limitDays: 10, extendedBy: 0, stopped: false });
    const red = await eventually(() => stateOf(caseId), (s) => s.sla?.delivery?.state === 'red', 30_000, 'the delivery limit overdue');
    expect(red.status).toBe('active');
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'window', note: '已领取' })).status).toBe(200);
    await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result();
    const events = await eventsOf(caseId);
    const types = events.map((e) => e.type);
    const after = (type: string) => types.indexOf(type);
    // Started with the wait at the window, stopped with the collection: the same place every run.
    expect(types[after('delivery.awaiting') + 1]).toBe('sla.delivery_started');
    expect(types[after('delivery.confirmed') + 1]).toBe('sla.delivery_stopped');
    expect(types.filter((t) => t.startsWith('sla.delivery_'))).toEqual(['sla.delivery_started', 'sla.delivery_warning', 'sla.delivery_overdue', 'sla.delivery_stopped']);
    const approved = ms(events.find((e) => e.type === 'decision.approved'));
    expect(ms(events.find((e) => e.type === 'sla.delivery_overdue')) - approved).toBeGreaterThan(10 * DAY_MS);
    const escalation = events.find((e) => e.type === 'sla.escalated' && e.data.limit === 'delivery')!;
    expect(escalation.data).toMatchObject({ to: { role: 'supervisor', side: 'receiving', region: '440100' } });
    const view = await getJson<{ sla: { delivery: { state: string; limitDays: number } } }>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk);
    expect(view.body.sla.delivery).toMatchObject({ state: 'red', limitDays: 10 });
    const stopped = events.find((e) => e.type === 'sla.delivery_stopped')!;
    expect(stopped.data).toMatchObject({ state: 'red' });
    expect(stopped.data.remaining).toBeLessThan(0);
  });

  it('When the authority’s notice waits for the applicant, then the clock stops (no due date anywhere) and resumes after the supplement, later by exactly the pause', async () => {
    stack.simulator.addRule({ match: { applicantName: '补正计时' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '补正计时', itemCode: 'medical-filing' });
    const { caseId } = body;
    const waiting = await eventually(() => stateOf(caseId), (s) => s.status === 'awaiting_supplement' && s.sla?.promised.stopped === true, 30_000, 'the pause');
    expect(waiting.sla!.promised).toMatchObject({ stopped: true, dueDate: null, dueAt: null });
    const desc = await handleOf(caseId).describe();
    expect(desc.typedSearchAttributes.get(DUE_DATE_KEY)).toBeUndefined();
    const row = (await stack.pool.query('SELECT due_date FROM cases WHERE case_id = $1', [caseId])).rows[0];
    expect(row.due_date).toBeNull();

    const items: SupplementItem[] = [];
    for (const d of waiting.correction!.deficiencies) {
      const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`sla-supplement-${d.materialCode}`));
      items.push({ materialCode: d.materialCode, fileId: up.body.fileId, sha256: up.body.sha256, size: up.body.size, contentType: up.body.contentType });
    }
    await handleOf(caseId).executeUpdate(supplementUpdate, { args: [{ actor: 'test-clerk-440100', role: 'clerk', region: '440100', noticeId: waiting.correction!.noticeId, items }] });
    const resumed = await eventually(() => stateOf(caseId), (s) => s.sla?.promised.stopped === false && s.sla.promised.dueAt !== null && s.status === 'active', 30_000, 'the clock resumed');
    const events = await eventsOf(caseId);
    const notice = events.find((e) => e.type === 'correction.notice_issued')!;
    const supplemented = events.find((e) => e.type === 'correction.supplemented')!;
    const pauseMs = ms(supplemented) - ms(notice);
    expect(pauseMs).toBeGreaterThan(0);
    // Three working days of counting after the authority received the materials, plus the pause.
    expect(Date.parse(resumed.sla!.promised.dueAt!)).toBe(ms(events.find((e) => e.type === 'review.started')) + 3 * DAY_MS + pauseMs);
    // Each change of the clock follows the event that caused it.
    const next = (after: EventRow) => events.slice(events.indexOf(after) + 1).find((e) => e.type.startsWith('sla.'))!;
    expect(next(notice).data).toMatchObject({ promised: { stopped: true, dueDate: null } });
    expect(next(supplemented).data).toMatchObject({ promised: { stopped: false } });
  });
});
