// Corrections end to end over HTTP, as a window clerk and the province would drive them: a
// receiving-side notice at precheck, two handling-side rounds, each answered through
// POST /v1/cases/:id/supplements, and an extension of the time limit (art. 42) asked and approved
// by the handling authority, to completion, with GET /v1/cases/:id/deadlines checked by hand
// against an independent day walk over the raw calendar data; and the api's mapping of the
// workflow's own rejections when the projection lags behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState, CorrectionNotice } from '../../domain/case.js';
import type { CalendarYear } from '../../domain/calendar.js';
import { dateInChina } from '../../domain/dates.js';
import type { Deadlines } from '../../api/deadlines.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { testCalendarYears } from '../../harness/calendar.js';

let stack: TestStack;
let clerk: string;

interface CaseView {
  stage: string;
  status: string;
  correction: CorrectionNotice | null;
  correctionRounds: { receiving: number; handling: number };
  closedAt: string | null;
  timeline: { seq: number; type: string; actor: string; at: string; data: Record<string, unknown> }[];
}

interface ExtensionResult {
  caseId: string;
  extension: { extensionId: string; days: number; status: string; requestedBy?: string; decidedBy?: string };
}

const view = (caseId: string) => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body);
const waitForNotice = (caseId: string, side: 'receiving' | 'handling', round: number) =>
  eventually(() => view(caseId), (v) => v.status === 'awaiting_supplement' && v.correction?.side === side && v.correction.round === round, 30_000, `${side} notice ${round} in the case view`);

async function postSupplement(caseId: string, noticeId: string, codes: string[]) {
  const items = [];
  for (const materialCode of codes) {
    const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`补正 ${materialCode} ${noticeId}`));
    items.push({ materialCode, fileId: up.body.fileId, note: `重新提交 ${materialCode}` });
  }
  const res = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/supplements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clerk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ noticeId, items }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------
// The deadline derivation by hand: the raw year data the stack's calendar is built from
// (testCalendarYears(): the shipped calendar/cn-*.json, then placeholder years), expanded here day
// by day, and art. 82's count written out again. Nothing of WorkingCalendar or the clock is used.

const nextDay = (date: string): string => {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + 1)).toISOString().slice(0, 10);
};
const saturdayOrSunday = (date: string): boolean => [0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay());

/** Each day of each holiday period with its name, and each adjusted working weekend, from the raw years. */
function expandYears(years: readonly CalendarYear[]) {
  const holidays = new Map<string, string>();
  const workedWeekends = new Set<string>();
  for (const year of years) {
    for (const h of year.holidays) for (let d = h.from; d <= h.to; d = nextDay(d)) holidays.set(d, h.name);
    for (const a of year.adjustedWorkingDays) workedWeekends.add(a.date);
  }
  const first = `${Math.min(...years.map((y) => y.year))}-01-01`;
  const last = `${Math.max(...years.map((y) => y.year))}-12-31`;
  /** What a day is: worked (a weekday that is no holiday, or an adjusted weekend), a holiday, or a plain weekend. */
  const kind = (date: string): { worked: true; weekend: boolean } | { worked: false; holiday: string | null } => {
    if (date < first || date > last) throw new Error(`${date} is outside the raw calendar data (${first}..${last})`);
    if (workedWeekends.has(date)) return { worked: true, weekend: true };
    const holiday = holidays.get(date);
    if (holiday) return { worked: false, holiday };
    return saturdayOrSunday(date) ? { worked: false, holiday: null } : { worked: true, weekend: false };
  };
  /** The working days after `start` (start not counted, art. 82) until `enough` says stop. */
  const workingDaysAfter = (start: string, enough: (days: string[], date: string) => boolean): string[] => {
    const days: string[] = [];
    for (let d = nextDay(start); !enough(days, d); d = nextDay(d)) if (kind(d).worked) days.push(d);
    return days;
  };
  return { kind, workingDaysAfter };
}

interface HandPause {
  from: string;
  to: string;
  noticeId: string;
}

/**
 * The reading GET /deadlines must give for one limit, worked out by hand: the working days after the
 * start day, less those inside a pause (a notice issued on day A and supplemented on day B takes
 * the working days in (A, B]); the due date is the (limit + extension)-th day left; used counts
 * the days left up to the day the case closed; holidays, adjusted weekends and plain weekends are
 * those from the day after the start to the due date (or the closing day, if later).
 */
function byHand(cal: ReturnType<typeof expandYears>, opts: { start: string; limitDays: number; pauses: HandPause[]; extension: { days: number; approvedOn: string; reason: string }; asOf: string; warnDaysLeft: number; warnUsedRatio: number }) {
  const total = opts.limitDays + opts.extension.days;
  const inPause = (date: string) => opts.pauses.findIndex((p) => date > p.from && date <= p.to);
  const countable = (days: string[]) => days.filter((d) => inPause(d) < 0);
  const toDue = cal.workingDaysAfter(opts.start, (days) => countable(days).length === total);
  const dueDate = countable(toDue).at(-1)!;
  const end = dueDate > opts.asOf ? dueDate : opts.asOf;
  const upToAsOf = cal.workingDaysAfter(opts.start, (_days, d) => d > opts.asOf);
  const used = countable(upToAsOf).length;
  const pauseDays = opts.pauses.map((_p, i) => upToAsOf.filter((d) => inPause(d) === i).length);
  const holidays: { date: string; name: string }[] = [];
  const adjustedWorkingDays: string[] = [];
  let weekendDays = 0;
  for (let d = nextDay(opts.start); d <= end; d = nextDay(d)) {
    const k = cal.kind(d);
    if (k.worked && k.weekend) adjustedWorkingDays.push(d);
    if (!k.worked && k.holiday) holidays.push({ date: d, name: k.holiday });
    if (!k.worked && !k.holiday) weekendDays += 1;
  }
  const remaining = total - used;
  const state = opts.asOf > dueDate || remaining < 0 ? 'red' : remaining <= opts.warnDaysLeft || used / total >= opts.warnUsedRatio ? 'yellow' : 'green';
  return {
    dueDate,
    dueDateIfResumedToday: dueDate,
    limitDays: opts.limitDays,
    extendedBy: opts.extension.days,
    used,
    paused: pauseDays.reduce((a, b) => a + b, 0),
    remaining,
    state,
    stopped: false,
    derivation: {
      start: opts.start,
      limitDays: opts.limitDays,
      extensions: [opts.extension],
      pauses: opts.pauses.map((p, i) => ({ kind: 'correction', from: p.from, to: p.to, workingDays: pauseDays[i], reason: expect.stringContaining(p.noticeId) })),
      holidays,
      adjustedWorkingDays,
      weekendDays,
    },
  };
}

/** 养老保险关系转移接续 (pension-transfer, items/pension-transfer.v1.json): its limits in working days. */
const PENSION_TRANSFER = { promisedDays: 15, statutoryDays: 45 };
const EXTENSION_DAYS = 5;
const EXTENSION_REASON = '两次补正后需调取原参保地缴费记录核对';
const DECISION_REASON = '情况复杂，同意延长';

describe('corrections over HTTP', () => {
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { reviewDelayMs: 300, correctionDelayMs: 300 } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the window finds an unverifiable e-licence, the authority asks twice and extends its limit, then each notice is answered through the API, the case completes with every round and the extension on record, and its deadlines add up by hand', async () => {
    // Sichuan's e-licence check fails first; once the case reaches it, its review asks twice.
    stack.simulator.setScenario('510000', 'elicence-invalid');
    const approver = await stack.token('approver', '510000');
    const supervisor = await stack.token('supervisor', '510000');
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '全程补正' });
    const { caseId } = body;
    let receiving: CaseView;
    try {
      receiving = await waitForNotice(caseId, 'receiving', 1);
    } finally {
      stack.simulator.setScenario('510000', 'correction-2');
    }
    expect(receiving.stage).toBe('correction');
    const r1 = await postSupplement(caseId, receiving.correction!.noticeId, receiving.correction!.deficiencies.map((d) => d.materialCode));
    expect(r1.status).toBe(202);
    expect(r1.body).toMatchObject({ caseId, needsIntervention: false });

    let extensionId = '';
    for (const round of [1, 2]) {
      const handling = await waitForNotice(caseId, 'handling', round);
      const res = await postSupplement(caseId, handling.correction!.noticeId, handling.correction!.deficiencies.map((d) => d.materialCode));
      expect(res.status).toBe(202);
      if (round === 1) {
        // In review at Sichuan, between its two notices: the case cannot be decided before the
        // second notice is answered (below), so the extension is asked and decided in time, however
        // fast or slow the simulator's next notice comes.
        const asked = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: EXTENSION_DAYS, reason: EXTENSION_REASON });
        expect(asked.status, JSON.stringify(asked.body)).toBe(201);
        expect(asked.body.extension).toMatchObject({ days: EXTENSION_DAYS, status: 'requested' });
        extensionId = asked.body.extension.extensionId;
        const approved = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${encodeURIComponent(extensionId)}/decision`, supervisor, { approve: true, reason: DECISION_REASON });
        expect(approved.status, JSON.stringify(approved.body)).toBe(200);
        expect(approved.body.extension).toMatchObject({ extensionId, days: EXTENSION_DAYS, status: 'approved', decidedBy: 'test-supervisor-510000' });
      }
    }

    const final = (await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result()) as CaseState;
    stack.simulator.setScenario('510000', 'approve');
    expect(final).toMatchObject({ status: 'completed', correctionRounds: { receiving: 1, handling: 2 } });
    const done = await eventually(() => view(caseId), (v) => v.status === 'completed', 10_000, 'completed view');
    expect(done.correction).toBeNull();
    expect(done.correctionRounds).toEqual({ receiving: 1, handling: 2 });
    const notices = done.timeline.filter((e) => e.type === 'correction.notice_issued').map((e) => `${e.data.side}:${e.data.round}`);
    expect(notices).toEqual(['receiving:1', 'handling:1', 'handling:2']);
    expect(done.timeline.filter((e) => e.type === 'correction.supplemented').map((e) => e.actor)).toEqual(['test-clerk-440100', 'test-clerk-440100', 'test-clerk-440100']);
    const audits = await stack.pool.query(`SELECT detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 AND action = 'case.supplement' ORDER BY id`, [caseId]);
    expect(audits.rows.map((r) => r.outcome)).toEqual(['done', 'done', 'done']);

    // The extension on record: asked by the authority's approver, approved by its supervisor, with the notice to the applicant.
    expect(done.timeline.filter((e) => e.type === 'extension.requested')).toEqual([
      expect.objectContaining({ actor: 'test-approver-510000', data: expect.objectContaining({ extensionId, days: EXTENSION_DAYS, reason: EXTENSION_REASON }) }),
    ]);
    const approval = done.timeline.filter((e) => e.type === 'extension.approved');
    expect(approval).toEqual([
      expect.objectContaining({
        actor: 'test-supervisor-510000',
        data: expect.objectContaining({ extensionId, days: EXTENSION_DAYS, reason: DECISION_REASON, applicantNotice: expect.stringContaining(`延长${EXTENSION_DAYS}个工作日`) }),
      }),
    ]);
    expect(String(approval[0]!.data.applicantNotice)).toContain(EXTENSION_REASON);

    // The deadlines, by hand. The days come from the recorded instants (China dates), so a run
    // that crosses midnight in China is counted as it happened.
    const instantOf = (type: string, which: (e: CaseView['timeline'][number]) => boolean = () => true) => {
      const found = done.timeline.filter((e) => e.type === type && which(e));
      expect(found, type).toHaveLength(1);
      return found[0]!.at;
    };
    // No art. 32 acceptance by law (the first handling notice came at once): the clock starts the day Sichuan received the materials.
    expect(done.timeline.some((e) => e.type === 'acceptance.deemed')).toBe(false);
    const start = dateInChina(instantOf('review.started'));
    // Only the authority's notices pause it (the window's notice came before the clock started), each from the day it was issued to the day its supplement arrived.
    const pauses = done.timeline
      .filter((e) => e.type === 'correction.notice_issued' && e.data.side === 'handling')
      .map((n) => ({ noticeId: String(n.data.noticeId), from: dateInChina(n.at), to: dateInChina(instantOf('correction.supplemented', (s) => s.data.noticeId === n.data.noticeId)) }));
    expect(pauses).toHaveLength(2);
    // The figures are as of the day the case closed.
    const closedAt = instantOf('case.completed');
    expect(done.closedAt).toBe(closedAt);
    const asOf = dateInChina(closedAt);
    const extension = { days: EXTENSION_DAYS, approvedOn: dateInChina(approval[0]!.at), reason: DECISION_REASON };

    const cal = expandYears(testCalendarYears());
    // The hand count itself, on dates docs/calendar.md works out: 2025-01-27 + 1 working day is
    // 2025-02-05 (春节 passed over), 2024-09-27 + 3 is 2024-10-08 (Sunday 09-29 worked), 2025 has 248.
    expect(cal.workingDaysAfter('2025-01-27', (days) => days.length === 1)).toEqual(['2025-02-05']);
    expect(cal.workingDaysAfter('2024-09-27', (days) => days.length === 3)).toEqual(['2024-09-29', '2024-09-30', '2024-10-08']);
    expect(cal.workingDaysAfter('2024-12-31', (_days, date) => date > '2025-12-31')).toHaveLength(248);

    const sla = { warnDaysLeft: stack.config.SLA_WARN_DAYS_LEFT, warnUsedRatio: stack.config.SLA_WARN_USED_RATIO };
    const deadlines = await getJson<Deadlines>(`${stack.apiUrl}/v1/cases/${caseId}/deadlines`, supervisor);
    expect(deadlines.status, JSON.stringify(deadlines.body)).toBe(200);
    expect(deadlines.body).toMatchObject({
      caseId,
      started: true,
      asOf,
      calendarGap: null,
      promised: byHand(cal, { start, limitDays: PENSION_TRANSFER.promisedDays, pauses, extension, asOf, ...sla }),
      statutory: byHand(cal, { start, limitDays: PENSION_TRANSFER.statutoryDays, pauses, extension, asOf, ...sla }),
    });
  });

  it('When the projection lags behind the workflow, then the workflow’s own refusals come back: 409 for a notice that is not open, 400 for an unanswered deficiency', async () => {
    stack.simulator.addRule({ match: { applicantName: '投影滞后' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '投影滞后' });
    const { caseId } = body;
    const waiting = await waitForNotice(caseId, 'handling', 1);
    const notice = waiting.correction!;
    expect(notice.deficiencies.length).toBeGreaterThan(1);

    // The projection believes another notice is open (as if it had not caught up).
    await stack.pool.query(`UPDATE cases SET correction = jsonb_set(correction, '{noticeId}', '"stale-notice"') WHERE case_id = $1`, [caseId]);
    const stale = await postSupplement(caseId, 'stale-notice', notice.deficiencies.map((d) => d.materialCode));
    expect(stale.status).toBe(409);
    expect(String(stale.body.detail)).toMatch(new RegExp(`open notice is ${notice.noticeId}`));

    // The projection lists fewer deficiencies than the notice the workflow holds.
    const [first, ...rest] = notice.deficiencies;
    await stack.pool.query(`UPDATE cases SET correction = $2 WHERE case_id = $1`, [caseId, JSON.stringify({ ...notice, deficiencies: [first] })]);
    const partial = await postSupplement(caseId, notice.noticeId, [first!.materialCode]);
    expect(partial.status).toBe(400);
    expect(String(partial.body.detail)).toMatch(new RegExp(`unanswered: ${rest.map((d) => d.materialCode).join(', ')}`));
    const outcomes = await stack.pool.query(`SELECT detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 AND action = 'case.supplement' ORDER BY id`, [caseId]);
    expect(outcomes.rows.map((r) => r.outcome)).toEqual(['rejected', 'rejected']);

    // The case still waits for its notice, and a full answer completes it.
    expect((await stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery)).correction?.noticeId).toBe(notice.noticeId);
    await stack.pool.query(`UPDATE cases SET correction = $2 WHERE case_id = $1`, [caseId, JSON.stringify(notice)]);
    const full = await postSupplement(caseId, notice.noticeId, notice.deficiencies.map((d) => d.materialCode));
    expect(full.status).toBe(202);
    expect(((await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result()) as CaseState).status).toBe('completed');
  });
});
