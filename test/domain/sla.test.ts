// The SLA reading the workflow's timers act on (domain/sla.ts): both limits, the case's state, and
// the instant the state next changes, on the calendar (worked out by hand from the State Council's
// 2025 notice) and under the working-day seam.
import { describe, expect, it } from 'vitest';
import { loadCalendar } from '../../calendar/load.js';
import type { ClockEvent } from '../../domain/clock.js';
import { readSeamSla, readSla } from '../../domain/sla.js';

const calendar = loadCalendar();
const settings = { warnDaysLeft: 2, warnUsedRatio: 0.8 };
/** 00:00 of a China date as an ISO instant. */
const midnight = (date: string) => new Date(`${date}T00:00:00+08:00`).toISOString();

describe('the SLA reading on the calendar', () => {
  // Received Friday 2025-09-26. Counted: Sun 9-28 (adjusted working day), 9-29, 9-30, then National
  // Day and Mid-Autumn 10-01..10-08 off, Thu 10-09, Fri 10-10, Sat 10-11 (adjusted working day).
  const received: ClockEvent = { type: 'review.started', at: '2025-09-26T02:00:00Z', data: {} };

  it('When the case is fresh, then both limits are green with their due dates, and the next change is the warning day at midnight', () => {
    const r = readSla(calendar, { events: [received], promisedDays: 5, statutoryDays: 6, now: '2025-09-26T03:00:00Z', settings });
    // Promised 5: 9-28, 9-29, 9-30, 10-09, 10-10 → due 10-10. Statutory 6 → 10-11.
    expect(r.promised).toMatchObject({ state: 'green', dueDate: '2025-10-10', used: 0, remaining: 5, stopped: false });
    expect(r.statutory).toMatchObject({ state: 'green', dueDate: '2025-10-11', remaining: 6 });
    expect(r.promised.dueAt).toBe(new Date(Date.parse(midnight('2025-10-11')) - 1).toISOString());
    expect(r.state).toBe('green');
    // Promised turns yellow when 2 days are left (3 used, or 80 %: 4 of 5): at the start of 9-30.
    expect(r.nextChangeAt).toBe(midnight('2025-09-30'));
  });

  it('When the warning has passed, then the next change is the day after the due date, past the holidays', () => {
    const r = readSla(calendar, { events: [received], promisedDays: 5, statutoryDays: 6, now: '2025-10-02T03:00:00Z', settings });
    expect(r.promised).toMatchObject({ state: 'yellow', used: 3, remaining: 2 });
    // Statutory: 6 days, yellow when 4 used (2 left) → 10-09. Promised red on 10-11. The first is 10-09.
    expect(r.statutory.state).toBe('green');
    expect(r.nextChangeAt).toBe(midnight('2025-10-09'));
  });

  it('When both limits are overdue, then nothing changes any more and there is no next change', () => {
    const r = readSla(calendar, { events: [received], promisedDays: 5, statutoryDays: 6, now: '2025-10-13T03:00:00Z', settings });
    expect(r).toMatchObject({ state: 'red', nextChangeAt: null });
    expect(r.promised.remaining).toBe(-2); // used 10-11 (Sat, worked) and Mon 10-13 past the due date 10-10
  });

  it('When a pause is open, then the clock is stopped: no due date and no next change; an approved extension moves both due dates', () => {
    const notice: ClockEvent = { type: 'correction.notice_issued', at: '2025-09-29T03:00:00Z', data: { side: 'handling', noticeId: 'N1', round: 1, deficiencies: [] } };
    const paused = readSla(calendar, { events: [received, notice], promisedDays: 5, statutoryDays: 6, now: '2025-10-09T03:00:00Z', settings });
    expect(paused.promised).toMatchObject({ stopped: true, dueDate: null, dueAt: null, used: 2 });
    expect(paused.nextChangeAt).toBeNull();

    const extension: ClockEvent = { type: 'extension.approved', at: '2025-09-29T05:00:00Z', data: { days: 3, reason: '专家论证' } };
    const extended = readSla(calendar, { events: [received, extension], promisedDays: 5, statutoryDays: 6, now: '2025-09-29T06:00:00Z', settings });
    // 8 days from 9-26: 9-28, 9-29, 9-30, 10-09, 10-10, 10-11, 10-13, 10-14.
    expect(extended.promised).toMatchObject({ dueDate: '2025-10-14', extendedBy: 3, state: 'green' });
  });

  it('When a limit runs past the calendar data, then the reading is refused naming the day; when only the next change lies past it, the reading asks again on that day', () => {
    const late: ClockEvent = { type: 'review.started', at: '2026-12-21T02:00:00Z', data: {} };
    // Statutory 20 from Mon 12-21 runs past 2026-12-31.
    expect(() => readSla(calendar, { events: [late], promisedDays: 3, statutoryDays: 20, now: '2026-12-21T03:00:00Z', settings })).toThrow(/2027-01-01/);
    // Promised 3 → 12-24; statutory 8: 12-22..12-25, 12-28..12-31 → due 12-31, its last day.
    const r = readSla(calendar, { events: [late], promisedDays: 3, statutoryDays: 8, now: '2026-12-31T03:00:00Z', settings });
    expect(r.promised.state).toBe('red');
    expect(r.statutory).toMatchObject({ state: 'yellow', dueDate: '2026-12-31', remaining: 0 });
    expect(r.nextChangeAt).toBe(midnight('2027-01-01'));
  });
});

describe('the SLA reading under the working-day seam', () => {
  const start = '2026-03-02T01:00:00.000Z';
  const at = (ms: number) => new Date(Date.parse(start) + ms).toISOString();
  const received: ClockEvent = { type: 'review.started', at: start, data: {} };
  const day = 1000;
  const oneLeft = { warnDaysLeft: 1, warnUsedRatio: 0.8 };

  it('When time passes, then a working day is workingDayMs, the day under way counted: warning, then overdue, each predicted exactly', () => {
    const fresh = readSeamSla({ events: [received], promisedDays: 3, statutoryDays: 5, now: at(200), settings: oneLeft, workingDayMs: day });
    // Day 1 is under way: 1 used, 2 left.
    expect(fresh.promised).toMatchObject({ state: 'green', used: 1, remaining: 2, dueAt: at(3000) });
    // Promised warns on day 2 (1 left), which begins just after 1000 ms.
    expect(fresh.nextChangeAt).toBe(at(1001));
    const warned = readSeamSla({ events: [received], promisedDays: 3, statutoryDays: 5, now: at(1001), settings: oneLeft, workingDayMs: day });
    expect(warned.promised).toMatchObject({ state: 'yellow', used: 2, remaining: 1 });
    // Statutory warns on day 4 (1 left, 80 %), and promised turns red, both just after 3000 ms.
    expect(warned.nextChangeAt).toBe(at(3001));
    const overdue = readSeamSla({ events: [received], promisedDays: 3, statutoryDays: 5, now: at(3001), settings: oneLeft, workingDayMs: day });
    expect(overdue.promised).toMatchObject({ state: 'red', used: 4, remaining: -1 });
    expect(overdue.statutory.state).toBe('yellow');
    expect(overdue.nextChangeAt).toBe(at(5001));
    // The default thresholds (2 days left) warn a 3-day limit from its first day.
    expect(readSeamSla({ events: [received], promisedDays: 3, statutoryDays: 5, now: at(200), settings, workingDayMs: day }).promised.state).toBe('yellow');
  });

  it('When a pause has been and gone, then its length is not counted; while open the clock is stopped', () => {
    const notice: ClockEvent = { type: 'correction.notice_issued', at: at(500), data: { side: 'handling', noticeId: 'N1' } };
    const supplemented: ClockEvent = { type: 'correction.supplemented', at: at(2500), data: { noticeId: 'N1' } };
    const open = readSeamSla({ events: [received, notice], promisedDays: 3, statutoryDays: 5, now: at(2000), settings: oneLeft, workingDayMs: day });
    expect(open.promised).toMatchObject({ stopped: true, dueAt: null, used: 1 });
    expect(open.nextChangeAt).toBeNull();
    const resumed = readSeamSla({ events: [received, notice, supplemented], promisedDays: 3, statutoryDays: 5, now: at(2600), settings: oneLeft, workingDayMs: day });
    // Paused 2000 ms, so by 2600 ms 600 ms counted (day 1); due after 3000 counted ms, that is at 5000.
    expect(resumed.promised).toMatchObject({ stopped: false, dueAt: at(5000), used: 1, state: 'green' });
  });
});
