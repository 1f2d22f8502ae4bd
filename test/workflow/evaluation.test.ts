// Evaluation (好差评) against the real stack: only a closed case is rated, once; the applicant with the
// receipt's query code (a wrong code is an unknown case), or the window for the applicant; a 差评 opens
// a follow-up owned by the supervisors of the side it concerns, who close it with the call-back and
// the rectification; one left open past its due date is escalated to the province by the scheduled
// sweep (run here as the schedule would run it); the report counts it all. Cases are received in
// Changsha (430100), which no other test uses, so the report's counts are this file's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateInChina, shiftDate } from '../../domain/dates.js';
import { CASE_TASK_QUEUE, caseWorkflowId } from '../../workflows/messages.js';
import { ESCALATE_FOLLOW_UPS_SCHEDULE_ID } from '../../worker/system.js';
import { testCalendar } from '../../harness/calendar.js';
import { getJson, postJson, submitCase } from '../../harness/cases.js';
import { startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

interface Result {
  evaluation: { level: string; recordedBy: string; concerns: string };
  followUp: { side: string; region: string; dueDate: string; closedAt: string | null; outcome: string | null; escalatedTo: string | null; overdue?: boolean } | null;
  detail?: string;
  errors?: { path: string }[];
}

async function closedCase(name: string): Promise<{ caseId: string; queryCode: string }> {
  const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: name, receivingRegion: '430100' });
  await stack.client.workflow.getHandle(caseWorkflowId(body.caseId)).result();
  return { caseId: body.caseId, queryCode: (body as unknown as { receipt: { queryCode: string } }).receipt.queryCode };
}

const evaluate = async (caseId: string, body: Record<string, unknown>, token?: string) => {
  const res = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/evaluation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Result };
};

describe('evaluation and follow-up', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    clerk = await stack.token('clerk', '430100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the applicant rates a closed case with the query code, then it is recorded once; a wrong code or an open case is refused', async () => {
    stack.simulator.addRule({ match: { applicantName: '评价未结' }, scenario: 'lost-callback' });
    const open = await submitCase(stack.apiUrl, clerk, { applicantName: '评价未结', receivingRegion: '430100' });
    const notYet = await evaluate(open.body.caseId, { level: '满意', channel: 'online', queryCode: (open.body as unknown as { receipt: { queryCode: string } }).receipt.queryCode });
    expect(notYet.status).toBe(409);
    expect(notYet.body.detail).toMatch(/once it has closed/);

    const { caseId, queryCode } = await closedCase('评价满意');
    const wrong = await evaluate(caseId, { level: '满意', channel: 'online', queryCode: 'ABCDEFGHJK' });
    expect(wrong.status).toBe(404);
    const missing = await evaluate(caseId, { level: '满意', channel: 'online' });
    expect(missing.status).toBe(401);
    const invalid = await evaluate(caseId, { level: '还行', channel: 'pigeon', queryCode });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors!.map((e) => e.path).sort()).toEqual(['channel', 'level']);

    const rated = await evaluate(caseId, { level: '满意', channel: 'online', comment: '办理很快', queryCode: queryCode.toLowerCase() });
    expect(rated.status).toBe(201);
    expect(rated.body).toMatchObject({ evaluation: { level: '满意', recordedBy: 'applicant', concerns: 'receiving' }, followUp: null });
    const twice = await evaluate(caseId, { level: '非常不满意', channel: 'online', queryCode });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toMatch(/already evaluated \(满意/);
  });

  it('When the window records a 差评 about the handling authority, then its supervisors own a follow-up due in working days, and only they can close it, once', async () => {
    const { caseId } = await closedCase('评价差评');
    // Only the receiving side records for the applicant.
    expect((await evaluate(caseId, { level: '非常不满意', channel: 'window' }, await stack.token('approver', '510000'))).status).toBe(403);
    const rated = await evaluate(caseId, { level: '非常不满意', channel: 'window', concerns: 'handling', comment: '补正要求前后不一' }, clerk);
    expect(rated.status, JSON.stringify(rated.body)).toBe(201);
    const today = dateInChina(new Date());
    expect(rated.body.followUp).toMatchObject({ side: 'handling', region: '510000', closedAt: null, dueDate: testCalendar().addWorkingDays(today, stack.config.EVALUATION_FOLLOW_UP_DAYS).date });

    const sichuan = await stack.token('supervisor', '510000');
    const queue = await getJson<{ items: { caseId: string; overdue: boolean }[] }>(`${stack.apiUrl}/v1/follow-ups?state=open`, sichuan);
    expect(queue.body.items.find((i) => i.caseId === caseId)).toMatchObject({ overdue: false });
    const hunan = await getJson<{ items: { caseId: string }[] }>(`${stack.apiUrl}/v1/follow-ups?state=open`, await stack.token('supervisor', '430000'));
    expect(hunan.body.items.some((i) => i.caseId === caseId)).toBe(false);

    const close = { revisit: '已电话回访，申请人认可解释', rectification: '统一补正口径，一次性告知清单化', outcome: 'resolved' };
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/evaluation/follow-up`, await stack.token('supervisor', '430100'), close)).status).toBe(403);
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/evaluation/follow-up`, await stack.token('approver', '510000'), close)).status).toBe(403);
    const closed = await postJson<{ closedAt: string; outcome: string; closedBy: string }>(`${stack.apiUrl}/v1/cases/${caseId}/evaluation/follow-up`, sichuan, close);
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body).toMatchObject({ outcome: 'resolved', closedBy: 'test-supervisor-510000' });
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/evaluation/follow-up`, sichuan, close)).status).toBe(409);
    const audits = await stack.pool.query(`SELECT action FROM audit_log WHERE case_id = $1 AND action IN ('case.evaluate', 'followUp.close') ORDER BY id`, [caseId]);
    expect(audits.rows.map((r) => r.action)).toEqual(['case.evaluate', 'followUp.close']);
  });

  it('When a follow-up is still open after its due date, then the scheduled sweep escalates it to the province once, and the report counts every rating and follow-up', async () => {
    const { caseId, queryCode } = await closedCase('评价逾期');
    const rated = await evaluate(caseId, { level: '不满意', channel: 'sms', queryCode });
    expect(rated.body.followUp).toMatchObject({ side: 'receiving', region: '430100' });
    const yesterday = shiftDate(dateInChina(new Date()), -1);
    await stack.pool.query(`UPDATE evaluation_follow_ups SET due_date = $2 WHERE case_id = $1`, [caseId, yesterday]);

    // The schedule exists; its workflow is run here as the schedule would run it.
    await expect(stack.client.schedule.getHandle(ESCALATE_FOLLOW_UPS_SCHEDULE_ID).describe()).resolves.toBeTruthy();
    const run = () => stack.client.workflow.execute('escalateFollowUpsWorkflow', { workflowId: `test-escalate-${caseId}-${Date.now()}`, taskQueue: CASE_TASK_QUEUE, args: [] });
    expect(((await run()) as { escalated: number }).escalated).toBeGreaterThanOrEqual(1);
    const row = (await stack.pool.query(`SELECT escalated_to, escalated_at FROM evaluation_follow_ups WHERE case_id = $1`, [caseId])).rows[0];
    expect(row.escalated_to).toBe('430000');
    await run();
    const again = (await stack.pool.query(`SELECT escalated_at FROM evaluation_follow_ups WHERE case_id = $1`, [caseId])).rows[0];
    expect(again.escalated_at.toISOString()).toBe(row.escalated_at.toISOString());
    const audits = await stack.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE case_id = $1 AND action = 'followUp.escalated'`, [caseId]);
    expect(audits.rows[0].n).toBe(1);
    // The province's supervisors now see it among the overdue ones.
    const province = await getJson<{ items: { caseId: string; overdue: boolean; escalatedTo: string }[] }>(`${stack.apiUrl}/v1/follow-ups?state=overdue`, await stack.token('supervisor', '430000'));
    expect(province.body.items.find((i) => i.caseId === caseId)).toMatchObject({ overdue: true, escalatedTo: '430000' });

    const today = dateInChina(new Date());
    const report = await getJson(`${stack.apiUrl}/v1/evaluations/report?from=${today}&to=${shiftDate(today, 1)}`, await stack.token('manager', '430100'));
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      total: 3,
      byLevel: { 非常满意: 0, 满意: 1, 基本满意: 0, 不满意: 1, 非常不满意: 1 },
      negative: 2,
      negativeRate: 0.6667,
      followUps: { open: 1, overdue: 1, escalated: 1, resolved: 1, unresolved: 0 },
    });
  });
});
