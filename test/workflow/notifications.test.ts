// SMS to applicants through the outbox, against the real stack and the simulator's SMS gateway: a
// message queued with the event it tells of (in the projection's transaction), sent by the
// scheduled workflow with its outbox key as the idempotency key; a flaky gateway makes the activity
// fail and Temporal retry it, and still exactly one message arrives; a send repeated after the
// gateway accepted it (the mark lost) is a replay, not a second message; reminders are queued once;
// no text carries the identity number; the sending heartbeats after every message. The schedule's
// workflow is run here as the schedule runs it.
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationActivities, type SendResult } from '../../activities/notifications.js';
import { queryCodeFor } from '../../crypto/queryCode.js';
import { dateInChina } from '../../domain/dates.js';
import { testCalendar } from '../../harness/calendar.js';
import { submitCase } from '../../harness/cases.js';
import { CASE_TASK_QUEUE, caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { SEND_NOTIFICATIONS_SCHEDULE_ID } from '../../worker/system.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

const sendNow = () =>
  stack.client.workflow.execute('sendNotificationsWorkflow', { workflowId: `test-sms-${randomUUID()}`, taskQueue: CASE_TASK_QUEUE, args: [] }) as Promise<{ queued: number; sent: number; failed: number; pending: number }>;
const outbox = async (caseId: string) =>
  (await stack.pool.query<{ message_key: string; template: string; sent_at: Date | null; text: string | null; attempts: number }>(`SELECT message_key, template, sent_at, text, attempts FROM sms_outbox WHERE case_id = $1 ORDER BY queued_at, message_key`, [caseId])).rows;
const messagesFor = (caseId: string) => stack.simulator.smsMessages().filter((m) => m.caseId === caseId);

describe('SMS to the applicant through the outbox', () => {
  beforeAll(async () => {
    // The schedule itself runs hourly in tests (TEST_TIMINGS), so the sends below are the test's own.
    stack = await startTestStack({ env: { STATUS_POLL_AFTER_MS: '60000' } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the window issues a one-time notice, then the applicant gets one SMS naming every material, the deadline and the query code, never the identity number', async () => {
    stack.simulator.setScenario('510000', 'elicence-invalid');
    let caseId: string;
    let request: { applicant: { idNumber: string; phone: string } };
    try {
      const submitted = await submitCase(stack.apiUrl, clerk, { applicantName: '短信补正' });
      caseId = submitted.body.caseId;
      request = submitted.request;
      await eventually(() => stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery), (s) => s.status === 'awaiting_supplement', 30_000, 'the notice');
    } finally {
      stack.simulator.setScenario('510000', 'approve');
    }
    await eventually(() => outbox(caseId), (rows) => rows.some((r) => r.template === 'correction_notice'), 10_000, 'the queued notice');
    const result = await sendNow();
    expect(result.sent).toBeGreaterThanOrEqual(1);
    const [sms] = messagesFor(caseId).filter((m) => m.template === 'correction_notice');
    expect(sms).toBeDefined();
    expect(sms!.to).toBe(request.applicant.phone);
    expect(sms!.idempotencyKey).toMatch(new RegExp(`^${caseId}:sms:correction_notice:`));
    expect(sms!.text).toContain(queryCodeFor(stack.secrets.piiHashKey, caseId));
    expect(sms!.text).toContain('短*');
    expect(sms!.text).toMatch(/请于\d{4}-\d{2}-\d{2}前到受理窗口/);
    expect(sms!.text).not.toContain(request.applicant.idNumber);
    expect(sms!.text).not.toContain('短信补正');
    const rows = await outbox(caseId);
    expect(rows.find((r) => r.template === 'correction_notice')).toMatchObject({ text: sms!.text, attempts: 1 });
    // Sent once: another run sends nothing more for it.
    await sendNow();
    expect(messagesFor(caseId).filter((m) => m.template === 'correction_notice')).toHaveLength(1);
  });

  it('When the gateway fails every other request, then the activity fails, Temporal retries it, and each message still arrives exactly once', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '短信重试' });
    await stack.client.workflow.getHandle(caseWorkflowId(body.caseId)).result();
    await eventually(() => outbox(body.caseId), (rows) => rows.length >= 3, 10_000, 'decision, result and invitation queued');
    stack.simulator.setSmsScenario('flaky');
    try {
      const result = await sendNow();
      expect(result.pending).toBe(0);
    } finally {
      stack.simulator.setSmsScenario('ok');
    }
    const rows = await outbox(body.caseId);
    expect(rows.map((r) => r.template).sort()).toEqual(['decision_approved', 'evaluation_invitation', 'result_ready']);
    expect(rows.every((r) => r.sent_at !== null)).toBe(true);
    // Some attempts failed (the activity was retried), yet one message per key reached the gateway.
    expect(rows.some((r) => r.attempts > 1)).toBe(true);
    const sent = messagesFor(body.caseId);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((m) => m.idempotencyKey)).size).toBe(3);
  });

  it('When a send is repeated after the gateway accepted it (the mark was lost), then the gateway answers the first acceptance and sends nothing twice', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '短信重放' });
    await stack.client.workflow.getHandle(caseWorkflowId(body.caseId)).result();
    await eventually(() => outbox(body.caseId), (rows) => rows.length >= 3, 10_000, 'queued');
    await sendNow();
    const key = `${body.caseId}:sms:decision_approved:decision`;
    await stack.pool.query(`UPDATE sms_outbox SET sent_at = NULL, text = NULL WHERE message_key = $1`, [key]);
    await sendNow();
    const [message] = stack.simulator.smsMessages().filter((m) => m.idempotencyKey === key);
    expect(message!.replays).toBeGreaterThanOrEqual(1);
    expect(stack.simulator.smsMessages().filter((m) => m.idempotencyKey === key)).toHaveLength(1);
    expect((await outbox(body.caseId)).find((r) => r.message_key === key)!.sent_at).not.toBeNull();
  });

  it('When the outbox is sent, then the activity heartbeats after every message, and its task gives a silent worker 30 s instead of the run\'s five minutes', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '短信心跳' });
    await stack.client.workflow.getHandle(caseWorkflowId(body.caseId)).result();
    await eventually(() => outbox(body.caseId), (rows) => rows.length >= 3, 10_000, 'queued');
    const activities = createNotificationActivities({
      pool: stack.pool,
      pii: { keyring: stack.secrets.piiSealKeys, hashKey: stack.secrets.piiHashKey },
      calendar: testCalendar(),
      gateway: { url: stack.config.SMS_GATEWAY_URL!.replace(/\/$/, ''), apiKey: stack.config.SMS_API_KEY! },
      supplementReminderDays: stack.config.SMS_SUPPLEMENT_REMINDER_DAYS,
      pickupReminderDays: stack.config.PICKUP_REMINDER_DAYS,
    });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(structuredClone(details)));
    const result = (await env.run(activities.sendSmsOutbox, { today: dateInChina(new Date()) })) as SendResult;

    expect(result.sent).toBeGreaterThanOrEqual(3);
    // One after the reminders are queued, then one per message, each with the counts so far.
    expect(beats).toHaveLength(1 + result.sent + result.failed + result.pending);
    expect(beats.at(-1)).toEqual(result);

    const workflowId = `test-sms-${randomUUID()}`;
    await stack.client.workflow.execute('sendNotificationsWorkflow', { workflowId, taskQueue: CASE_TASK_QUEUE, args: [] });
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
    expect(scheduled.activityType!.name).toBe('sendSmsOutbox');
    expect(Number(scheduled.heartbeatTimeout!.seconds)).toBe(30);
  });

  it('When a supplement deadline is near, then one reminder is queued and sent for that notice, however often the sweep runs', async () => {
    stack.simulator.addRule({ match: { applicantName: '短信提醒' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '短信提醒' });
    const waiting = await eventually(() => stack.client.workflow.getHandle(caseWorkflowId(body.caseId)).query(getStateQuery), (s) => s.status === 'awaiting_supplement', 30_000, 'the notice');
    await eventually(async () => (await stack.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [body.caseId])).rows[0].status, (s) => s === 'awaiting_supplement', 10_000, 'projected');
    // The deadline is tomorrow's working day: within SMS_SUPPLEMENT_REMINDER_DAYS.
    const due = testCalendar().addWorkingDays(dateInChina(new Date()), 1).date;
    await stack.pool.query(`UPDATE cases SET correction = jsonb_set(correction, '{supplementDue}', to_jsonb($2::text)) WHERE case_id = $1`, [body.caseId, due]);
    const first = await sendNow();
    expect(first.queued).toBeGreaterThanOrEqual(1);
    await sendNow();
    const reminders = messagesFor(body.caseId).filter((m) => m.template === 'supplement_reminder');
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.idempotencyKey).toBe(`${body.caseId}:sms:supplement_reminder:${waiting.correction!.noticeId}`);
    expect(reminders[0]!.text).toContain(`截止日期为${due}`);
  });

  it('When the system starts, then the sending schedule exists', async () => {
    await expect(stack.client.schedule.getHandle(SEND_NOTIFICATIONS_SCHEDULE_ID).describe()).resolves.toBeTruthy();
  });
});
