// Fault 6: the calendar data replaced mid-run. The worker reads the working-day calendar from its
// data folder when it starts (CALENDAR_DIR, calendar/load.ts); here the folder it restarts with
// holds a new arrangement: next year's notice added, and this year's corrected with five days off
// right after today (made up, so that the same question gets another answer whatever today is).
// Cases in review when it restarts hold deadlines computed from the old data, recorded in their
// histories: they replay on the new worker without a workflow task failure (nondeterminism) and
// keep those deadlines; a case taken in afterwards is given deadlines from the new data.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { testCalendarYears } from '../../harness/calendar.js';
import { dateInChina, WorkingCalendar, type CalendarYear } from '../../domain/calendar.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { account, reportAndCheck, settle } from './support/accounting.js';
import { sleep, startFaultStack, type FaultStack } from './support/faultStack.js';
import { submitMany } from './support/load.js';

const { EventType } = proto.temporal.api.enums.v1;
const RUNNING = 12;
/** pension-transfer's limits (items/pension-transfer.v1.json). */
const PROMISED_DAYS = 15;
const STATUTORY_DAYS = 45;

let stack: FaultStack;
const dataDir = path.resolve(`.data/faults/calendar-data-${process.pid}`);
const oldYears = testCalendarYears();
const newYears = newArrangement(testCalendarYears());
const oldCalendar = WorkingCalendar.fromYears(oldYears);
const newCalendar = WorkingCalendar.fromYears(newYears);

beforeAll(async () => {
  writeYears(path.join(dataDir, 'old'), oldYears);
  writeYears(path.join(dataDir, 'new'), newYears);
  stack = await startFaultStack({
    name: 'calendar-replaced',
    // Deadlines on the calendar, not the test seam; the review takes long enough for the restart to land in it.
    env: { WORKING_DAY_MS: '', CALENDAR_DIR: path.join(dataDir, 'old') },
    simulatorEnv: { SIMULATOR_REVIEW_DELAY_MS: '20000' },
  });
});
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface SlaStarted {
  case_id: string;
  promised: string;
  statutory: string;
  started_at: string;
}

describe('the calendar data replaced mid-run', () => {
  it('When the worker restarts on a new arrangement while cases with computed deadlines are in review, then they replay unchanged and keep their deadlines, and a case taken in after uses the new data', async () => {
    const began = Date.now();
    const load = (count: number) => submitMany({ apiUrls: stack.apiUrls, token: stack.clerk, count, concurrency: 5 });
    const running = await load(RUNNING);
    const runningIds = running.map((c) => c.caseId);
    const before = await waitForSlaStarted(runningIds);
    // The old data gave these deadlines; the new data would give others.
    for (const s of before) {
      expect(s.promised).toBe(oldCalendar.addWorkingDays(dateInChina(s.started_at), PROMISED_DAYS).date);
      expect(s.statutory).toBe(oldCalendar.addWorkingDays(dateInChina(s.started_at), STATUTORY_DAYS).date);
      expect(newCalendar.addWorkingDays(dateInChina(s.started_at), PROMISED_DAYS).date).not.toBe(s.promised);
    }

    // The deploy: the worker stops, and starts again reading the new folder.
    await stack.procs.workers[0]!.stop();
    await stack.procs.spawn('worker', 'worker-new-calendar', { CALENDAR_DIR: path.join(dataDir, 'new') });
    const after = await load(1);
    const [fresh] = await waitForSlaStarted(after.map((c) => c.caseId));

    const caseIds = [...runningIds, ...after.map((c) => c.caseId)];
    await settle(stack.pool, caseIds, 5 * 60_000);
    const accounting = await account({ scenario: 'calendar data replaced mid-run', startedCaseIds: caseIds, client: stack.client, pool: stack.pool, simulatorUrl: stack.procs.simulatorUrl });

    // Replayed without a workflow task failure, the deadlines they were given untouched.
    let taskFailures = 0;
    for (const caseId of runningIds) {
      const history = await stack.client.workflow.getHandle(caseWorkflowId(caseId)).fetchHistory();
      taskFailures += (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
    }
    const afterwards = await slaStarted(runningIds);
    const changed = before.filter((b) => {
      const a = afterwards.find((x) => x.case_id === b.case_id);
      return !a || a.promised !== b.promised || a.statutory !== b.statutory;
    }).length;
    reportAndCheck(accounting, {
      runningAtRestart: RUNNING,
      workflowTaskFailures: taskFailures,
      deadlinesChanged: changed,
      'new case promised due (old data → new)': `${oldCalendar.addWorkingDays(dateInChina(fresh!.started_at), PROMISED_DAYS).date} → ${fresh!.promised}`,
      runSeconds: Math.round((Date.now() - began) / 1000),
    });
    expect(taskFailures).toBe(0);
    expect(changed).toBe(0);
    expect(fresh!.promised).toBe(newCalendar.addWorkingDays(dateInChina(fresh!.started_at), PROMISED_DAYS).date);
    expect(fresh!.statutory).toBe(newCalendar.addWorkingDays(dateInChina(fresh!.started_at), STATUTORY_DAYS).date);
  });
});

async function slaStarted(caseIds: string[]): Promise<SlaStarted[]> {
  const { rows } = await stack.pool.query<SlaStarted>(
    `SELECT s.case_id, s.data->'promised'->>'dueDate' AS promised, s.data->'statutory'->>'dueDate' AS statutory, r.at AS started_at
       FROM case_events s JOIN case_events r ON r.case_id = s.case_id AND r.type = 'review.started'
      WHERE s.type = 'sla.started' AND s.case_id = ANY($1::uuid[])`,
    [caseIds],
  );
  return rows.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString() }));
}

async function waitForSlaStarted(caseIds: string[]): Promise<SlaStarted[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const rows = await slaStarted(caseIds);
    if (rows.length === caseIds.length) return rows;
    if (Date.now() > deadline) throw new Error(`${caseIds.length - rows.length} of ${caseIds.length} cases have no sla.started yet`);
    await sleep(500);
  }
}

/**
 * The new arrangement: five made-up working days off soon after today (so every deadline
 * counted from today moves), and the year after the last one as a new notice (weekends and
 * 1 January off, like the placeholders of harness/calendar.ts).
 */
function newArrangement(years: CalendarYear[]): CalendarYear[] {
  const current = WorkingCalendar.fromYears(years);
  const today = dateInChina(new Date());
  // The first five working days from the second one after today that lie in one year, clear of its holidays.
  let from = '';
  let to = '';
  for (let k = 1; k < 60; k++) {
    from = current.addWorkingDays(today, k).date;
    to = current.addWorkingDays(from, 4).date;
    const holidays = years.find((y) => y.year === Number(from.slice(0, 4)))!.holidays;
    if (to.slice(0, 4) === from.slice(0, 4) && holidays.every((h) => h.to < from || h.from > to)) break;
  }
  const year = years.find((y) => y.year === Number(from.slice(0, 4)))!;
  year.holidays.push({ name: '测试假日', nameEn: 'Made-up holiday (fault test)', from, to });
  year.holidays.sort((a, b) => a.from.localeCompare(b.from));
  const last = Math.max(...years.map((y) => y.year));
  const next = last + 1;
  years.push({
    year: next,
    source: { title: `测试用新一年安排（非国务院通知）: fault test data for ${next}`, date: `${last}-11-01` },
    holidays: [{ name: '元旦', nameEn: "New Year's Day", from: `${next}-01-01`, to: `${next}-01-01` }],
    adjustedWorkingDays: [],
  });
  return years;
}

function writeYears(dir: string, years: CalendarYear[]): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const y of years) fs.writeFileSync(path.join(dir, `cn-${y.year}.json`), JSON.stringify(y, null, 2));
}
