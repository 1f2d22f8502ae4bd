// The calendar reaches a case only as an activity result, pinned in its history: when the calendar
// data is replaced while a case runs (next year's notice added, a date corrected), the case replays
// on the new worker without a nondeterminism error and keeps the deadline it was given; only what
// it asks afterwards uses the new data. Two tongban stacks on the same Temporal, database and
// materials store: the first with the test calendar (the shipped data, harness/calendar.ts), the
// second with a changed one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { testCalendar, testCalendarYears } from '../../harness/calendar.js';
import type { CaseState } from '../../domain/case.js';
import { dateInChina, WorkingCalendar } from '../../domain/calendar.js';
import { caseWorkflowId, getStateQuery, supplementUpdate } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { samplePdf, submitCase, uploadFile } from '../../harness/cases.js';

const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;

const keys = { activeKeyId: 'replay-1', keys: new Map([['replay-1', randomBytes(32)]]) };
const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-calendar-'));
const stacks: TestStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop().catch(() => {});
  fs.rmSync(shared, { recursive: true, force: true });
});

/** The test calendar (harness/calendar.ts) with five made-up days off right after today, so the same question gets another answer. */
function changedCalendar(): WorkingCalendar | null {
  const years = testCalendarYears();
  const current = WorkingCalendar.fromYears(years);
  const from = current.addWorkingDays(dateInChina(new Date()), 1).date;
  const to = current.addWorkingDays(from, 4).date;
  const year = years.find((y) => y.year === Number(from.slice(0, 4)))!;
  // Only inside one year and clear of its holidays; the test is about replacing data, not these dates.
  if (to.slice(0, 4) !== from.slice(0, 4) || year.holidays.some((h) => !(h.to < from || h.from > to))) return null;
  year.holidays.push({ name: '测试假日', nameEn: 'Test holiday', from, to });
  return WorkingCalendar.fromYears(years);
}

describe('replacing the calendar data mid-case', () => {
  it('When the worker restarts with changed calendar data while a case waits on a notice, then the case replays unchanged, keeps its due date, and completes', async () => {
    const changed = changedCalendar();
    expect(changed, 'could not place a test holiday after today inside the data').not.toBeNull();
    const env = { WORKING_DAY_MS: '', MATERIALS_DIR: path.join(shared, 'materials') };

    const first = await startTestStack({ payloadKeys: keys, env, calendar: testCalendar() });
    stacks.push(first);
    first.simulator.setScenario('510000', 'elicence-invalid');
    const clerk1 = await first.token('clerk', '440100');
    const { body } = await submitCase(first.apiUrl, clerk1, { applicantName: '日历更新' });
    const { caseId } = body;
    const handle1 = first.client.workflow.getHandle(caseWorkflowId(caseId));
    const waiting = await eventually(() => handle1.query(getStateQuery), (s) => s.status === 'awaiting_supplement', 30_000, 'the notice');
    const dueBefore = waiting.correction!.supplementDue!;
    // The changed data would give this notice another due date.
    expect(changed!.addWorkingDays(dateInChina(waiting.correction!.issuedAt), 10).date).not.toBe(dueBefore);
    await first.stop();
    stacks.pop();

    const second = await startTestStack({ payloadKeys: keys, env, calendar: changed! });
    stacks.push(second);
    const clerk2 = await second.token('clerk', '440100');
    const handle = second.client.workflow.getHandle(caseWorkflowId(caseId));
    const up = await uploadFile(second.apiUrl, clerk2, samplePdf('补正 身份证'));
    const noticeId = waiting.correction!.noticeId;
    // The update makes the new worker replay the whole history first.
    const taken = await handle.executeUpdate(supplementUpdate, {
      args: [{ actor: 'test-clerk-440100', role: 'clerk', region: '440100', noticeId, items: [{ materialCode: 'resident-id-card', fileId: up.body.fileId, sha256: up.body.sha256, size: up.body.size, contentType: up.body.contentType }] }],
    });
    expect(taken.correction).toBeNull();
    const final = (await handle.result()) as CaseState;
    expect(final.status).toBe('completed');

    const history = await handle.fetchHistory();
    expect((history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
    const notice = await second.pool.query(`SELECT data FROM case_events WHERE case_id = $1 AND type = 'correction.notice_issued'`, [caseId]);
    expect(notice.rows[0].data.supplementDue).toBe(dueBefore);
  });
});
