// The statutory clock on a small calendar written out here: weekends off, one holiday week
// (2025-10-01..08, 国庆节), one adjusted working Saturday (2025-10-11). Expected dates are worked out
// by hand from a paper calendar of October 2025 (10-01 is a Wednesday).
import { describe, expect, it } from 'vitest';
import { readClock, type ClockCalendar, type ClockInput } from '../../domain/clock.js';

const HOLIDAY = new Set(['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08']);
const WORKING_WEEKEND = new Set(['2025-09-28', '2025-10-11']);
const calendar: ClockCalendar = {
  dayOff(date) {
    if (HOLIDAY.has(date)) return { reason: 'holiday', name: '国庆节' };
    if (WORKING_WEEKEND.has(date)) return null;
    const day = new Date(`${date}T00:00:00Z`).getUTCDay();
    return day === 0 || day === 6 ? { reason: 'weekend' } : null;
  },
  isWorkingDay(date) {
    return this.dayOff(date) === null;
  },
};

const base: Omit<ClockInput, 'start' | 'today'> = { limitDays: 5, pauses: [], extensions: [], warnDaysLeft: 2, warnUsedRatio: 0.8 };

describe('the statutory clock', () => {
  it('When nothing pauses it, then the due date is the limit-th working day after the start, holidays and weekends skipped, the working Saturday counted', () => {
    // Start Tue 09-30 (not counted). Working days after it: 10-09 (Thu), 10-10 (Fri), 10-11 (Sat, adjusted), 10-13, 10-14.
    const r = readClock(calendar, { ...base, start: '2025-09-30', today: '2025-09-30' });
    expect(r.dueDate).toBe('2025-10-14');
    expect(r).toMatchObject({ used: 0, paused: 0, remaining: 5, state: 'green', stopped: false });
    expect(r.derivation.holidays.map((h) => h.date)).toEqual([...HOLIDAY]);
    expect(r.derivation.adjustedWorkingDays).toEqual(['2025-10-11']);
    expect(r.derivation.weekendDays).toBe(1); // 10-12 (Sun); 10-04/05 are listed as 国庆节
  });

  it('When days are used, then the state turns yellow near the end and red once the due date has passed', () => {
    expect(readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-10' })).toMatchObject({ used: 2, remaining: 3, state: 'green' });
    expect(readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-11' })).toMatchObject({ used: 3, remaining: 2, state: 'yellow' });
    expect(readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-14' })).toMatchObject({ used: 5, remaining: 0, state: 'yellow' });
    expect(readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-15' })).toMatchObject({ used: 6, remaining: -1, state: 'red', dueDate: '2025-10-14' });
  });

  it('When a correction pauses the clock, then the working days from the day after the notice to the day of the supplement do not count', () => {
    // Notice on Thu 10-09 (counted), supplement on Mon 10-13 (paused: 10-10, 10-11, 10-13).
    const pauses = [{ kind: 'correction' as const, from: '2025-10-09', to: '2025-10-13', reason: '补正：缺少缴费凭证' }];
    const r = readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-14', pauses });
    // Counted: 10-09, 10-14, 10-15, 10-16, 10-17 → due 10-17.
    expect(r).toMatchObject({ dueDate: '2025-10-17', used: 2, paused: 3, remaining: 3, state: 'green' });
    expect(r.derivation.pauses).toEqual([{ ...pauses[0], workingDays: 3 }]);
  });

  it('When a pause is still open, then the clock is stopped: no due date yet, and the date it would fall on if the applicant answered today', () => {
    const pauses = [{ kind: 'correction' as const, from: '2025-10-09', to: null, reason: '补正' }];
    const r = readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-13', pauses });
    expect(r).toMatchObject({ dueDate: null, stopped: true, used: 1, paused: 3, remaining: 4 });
    // Resumed after 10-13: 10-14, 10-15, 10-16, 10-17 are the four left.
    expect(r.dueDateIfResumedToday).toBe('2025-10-17');
  });

  it('When an art. 45 procedure and an approved extension apply, then the procedure does not count and the extension adds its days', () => {
    const pauses = [{ kind: 'procedure' as const, from: '2025-10-10', to: '2025-10-14', reason: '专家评审' }];
    const extensions = [{ days: 2, approvedOn: '2025-10-15', reason: '情况复杂，经负责人批准延长' }];
    const r = readClock(calendar, { ...base, start: '2025-09-30', today: '2025-10-15', pauses, extensions });
    // Counted: 10-09, 10-10; paused 10-11, 10-13, 10-14; counted 10-15, 10-16, 10-17, 10-20, 10-21 (7 = 5 + 2).
    expect(r).toMatchObject({ dueDate: '2025-10-21', limitDays: 5, extendedBy: 2, used: 3, paused: 3, remaining: 4, state: 'green' });
  });
});
