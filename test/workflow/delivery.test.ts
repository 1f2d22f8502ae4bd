// Delivery when the post brings the result back (退件), against the real stack: the province reports
// the mail returned, the case records why and sends the result to the receiving window, the
// applicant is told it is there (an SMS queued), a confirmation "by mail" is refused with the
// reason, and the clerk's confirmation of the collection at the window completes the case; the
// hand-off ledger shows the post giving it back and the window receiving it. And a result left
// waiting at the window gets a reminder after PICKUP_REMINDER_DAYS working days, once per round.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, submitCase } from '../../harness/cases.js';
import { testCalendar } from '../../harness/calendar.js';
import { dateInChina, shiftDate } from '../../domain/dates.js';
import { CASE_TASK_QUEUE, caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

const stateOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery);
const sendSms = () => stack.client.workflow.execute('sendNotificationsWorkflow', { workflowId: `test-sms-${randomUUID()}`, taskQueue: CASE_TASK_QUEUE, args: [] });

describe('delivery: returned mail and the window pick-up', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the mail comes back undelivered, then the result waits at the receiving window, the applicant is told, and the clerk’s confirmation of the collection completes the case', async () => {
    stack.simulator.addRule({ match: { applicantName: '邮件退回' }, scenario: 'mail-returned' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '邮件退回', delivery: { method: 'mail', address: '四川省成都市武侯区人民南路4段1号' } });
    const { caseId } = body;
    const returned = await eventually(() => stateOf(caseId), (s) => s.delivery.status === 'returned', 30_000, 'the mail returned');
    expect(returned).toMatchObject({ stage: 'delivery', status: 'active', delivery: { method: 'mail', status: 'returned', returnedReason: expect.stringContaining('退回') } });

    const byMail = await postJson<{ detail: string }>(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'mail' });
    expect(byMail.status).toBe(409);
    expect(byMail.body.detail).toMatch(/came back undelivered/);
    const atWindow = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'window', note: '申请人持回执到窗口领取' });
    expect(atWindow.status, JSON.stringify(atWindow.body)).toBe(200);
    const done = (await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result()) as { status: string; delivery: { status: string } };
    expect(done).toMatchObject({ status: 'completed', delivery: { status: 'confirmed' } });

    const view = await getJson<{ timeline: { type: string; data: Record<string, unknown> }[] }>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk);
    const types = view.body.timeline.map((e) => e.type);
    // Art. 44's clock (started when the result first awaited delivery) stops with the collection.
    expect(types.slice(types.indexOf('delivery.mailed'))).toEqual(['delivery.mailed', 'delivery.returned', 'delivery.awaiting', 'delivery.confirmed', 'sla.delivery_stopped', 'case.completed']);
    expect(view.body.timeline.filter((e) => e.type === 'delivery.awaiting').map((e) => e.data.method)).toEqual(['mail', 'window']);

    const ledger = await getJson<{ entries: { ref: string; from: string; to: string }[]; chain: { ok: boolean } }>(`${stack.apiUrl}/v1/cases/${caseId}/handoffs`, clerk);
    expect(ledger.body.chain.ok).toBe(true);
    expect(ledger.body.entries.map((e) => `${e.ref} ${e.from}→${e.to}`)).toEqual(
      expect.arrayContaining(['result:post handling→post', 'result:post:returned post→handling', 'result:to-window handling→receiving', 'result:window receiving→applicant']),
    );
    const queued = await stack.pool.query(`SELECT template, params FROM sms_outbox WHERE case_id = $1 AND template = 'result_ready' ORDER BY message_key`, [caseId]);
    expect(queued.rows.map((r) => r.params.method).sort()).toEqual(['mail', 'window']);
  });

  it('When a result has waited at the window for the reminder period, then one reminder is sent for that round, however often the sweep runs', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '窗口待领', delivery: { method: 'window' } });
    const { caseId } = body;
    await eventually(() => stateOf(caseId), (s) => s.stage === 'delivery', 30_000, 'waiting at the window');
    await eventually(async () => (await stack.pool.query(`SELECT 1 FROM case_events WHERE case_id = $1 AND type = 'delivery.awaiting'`, [caseId])).rowCount, (n) => n === 1, 10_000, 'projected');
    // Waiting since PICKUP_REMINDER_DAYS working days ago (and one more, so the round is reached whatever the hour).
    const calendar = testCalendar();
    let since = dateInChina(new Date());
    while (calendar.workingDaysBetween(since, dateInChina(new Date())) < stack.config.PICKUP_REMINDER_DAYS) since = shiftDate(since, -1);
    await stack.pool.query(`UPDATE case_events SET at = $2 WHERE case_id = $1 AND type = 'delivery.awaiting'`, [caseId, `${since}T10:00:00+08:00`]);
    await sendSms();
    await sendSms();
    const reminders = stack.simulator.smsMessages().filter((m) => m.caseId === caseId && m.template === 'pickup_reminder');
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.idempotencyKey).toBe(`${caseId}:sms:pickup_reminder:1`);
    expect(reminders[0]!.text).toContain(`等候${stack.config.PICKUP_REMINDER_DAYS}个工作日`);
  });
});
