// The working-day calendar against the State Council's notices for 2024, 2025 and 2026 (the data in
// calendar/cn-<year>.json). Every expected date was worked out by hand from the notices as quoted
// in docs/calendar.md, and is written here as a literal, never computed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { CALENDAR_RANGE, createCalendarActivities } from '../../activities/calendar.js';
import { CALENDAR_DIR, loadCalendar, readCalendarYear } from '../../calendar/load.js';
import { CALENDAR_RUNWAY_WARN_DAYS, CalendarDataError, CalendarRangeError, dateInChina, isCalendarDate, WorkingCalendar, type CalendarYear } from '../../domain/calendar.js';
import { PLACEHOLDER_TITLE, testCalendarYears } from '../../harness/calendar.js';

const calendar = loadCalendar();

const holiday = (name: string, ...dates: string[]) => dates.map((date) => ({ date, reason: name }));
const weekend = (...dates: string[]) => dates.map((date) => ({ date, reason: 'weekend' }));

describe('the shipped data', () => {
  it('When the calendar is loaded, then it covers 2024-01-01 to 2026-12-31', () => {
    expect(calendar.covered).toEqual({ from: '2024-01-01', to: '2026-12-31' });
  });

  it('When whole years are counted, then 2024 has 251 working days, 2025 248 and 2026 248', () => {
    expect(calendar.workingDaysBetween('2024-01-01', '2024-12-31')).toBe(251); // 1 January is a holiday, so not counting it changes nothing
    expect(calendar.workingDaysBetween('2024-12-31', '2025-12-31')).toBe(248);
    expect(calendar.workingDaysBetween('2025-12-31', '2026-12-31')).toBe(248);
  });
});

describe('Spring Festival (春节)', () => {
  it('When 2025-01-26 (a Sunday) is asked about, then it is an adjusted working day; 2025-01-25 (Saturday) is a weekend', () => {
    expect(calendar.isWorkingDay('2025-01-26')).toBe(true);
    expect(calendar.dayOff('2025-01-26')).toBeNull();
    expect(calendar.dayOff('2025-01-25')).toEqual({ reason: 'weekend' });
    expect(calendar.dayOff('2025-02-01')).toEqual({ reason: 'holiday', name: '春节' }); // a Saturday inside the period
  });

  it('When 1 working day is added to 2025-01-27, then it is 2025-02-05 and 01-28..02-04 are skipped as 春节, nothing else', () => {
    expect(calendar.addWorkingDays('2025-01-27', 1)).toEqual({
      date: '2025-02-05',
      skipped: holiday('春节', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04'),
    });
  });

  it('When 2025-02-07 (Friday) + 1, then 2025-02-08 (Saturday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2025-02-07', 1)).toEqual({ date: '2025-02-08', skipped: [] });
  });

  it('When 2024-02-02 + 2, then 2024-02-04 (Sunday, worked) counts and 2024-02-03 is a weekend', () => {
    expect(calendar.addWorkingDays('2024-02-02', 2)).toEqual({ date: '2024-02-05', skipped: weekend('2024-02-03') });
  });

  it('When 2024-02-08 + 2, then 除夕 (02-09) is worked, 02-10..02-17 are 春节 and 2024-02-18 (Sunday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2024-02-08', 2)).toEqual({
      date: '2024-02-18',
      skipped: holiday('春节', '2024-02-10', '2024-02-11', '2024-02-12', '2024-02-13', '2024-02-14', '2024-02-15', '2024-02-16', '2024-02-17'),
    });
  });

  it('When 2026-02-13 + 2, then 02-14 (Saturday, worked) counts, 02-15..02-23 are 春节, and the answer is 2026-02-24', () => {
    expect(calendar.addWorkingDays('2026-02-13', 1)).toEqual({ date: '2026-02-14', skipped: [] });
    expect(calendar.addWorkingDays('2026-02-13', 2)).toEqual({
      date: '2026-02-24',
      skipped: holiday('春节', '2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23'),
    });
    expect(calendar.addWorkingDays('2026-02-27', 1)).toEqual({ date: '2026-02-28', skipped: [] });
  });
});

describe('National Day (国庆节)', () => {
  it('When 2024-09-27 + 3, then 09-28 is a weekend, 09-29 (Sunday) and 09-30 are worked, 10-01..10-07 are 国庆节, and the answer is 2024-10-08', () => {
    expect(calendar.addWorkingDays('2024-09-27', 3)).toEqual({
      date: '2024-10-08',
      skipped: [...weekend('2024-09-28'), ...holiday('国庆节', '2024-10-01', '2024-10-02', '2024-10-03', '2024-10-04', '2024-10-05', '2024-10-06', '2024-10-07')],
    });
    expect(calendar.workingDaysBetween('2024-09-27', '2024-10-08')).toBe(3);
  });

  it('When 2024-10-11 + 1, then 2024-10-12 (Saturday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2024-10-11', 1)).toEqual({ date: '2024-10-12', skipped: [] });
  });

  it('When 2024 中秋节 is crossed, then 09-14 (Saturday) is worked and 09-15..09-17 are skipped', () => {
    expect(calendar.addWorkingDays('2024-09-13', 2)).toEqual({ date: '2024-09-18', skipped: holiday('中秋节', '2024-09-15', '2024-09-16', '2024-09-17') });
  });

  it('When 2025-09-26 + 3, then 09-28 (Sunday) is worked and the answer is 2025-09-30', () => {
    expect(calendar.addWorkingDays('2025-09-26', 3)).toEqual({ date: '2025-09-30', skipped: weekend('2025-09-27') });
  });

  it('When 2025-09-30 + 3, then the combined 国庆节、中秋节 (10-01..10-08) is skipped and 10-11 (Saturday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2025-09-30', 3)).toEqual({
      date: '2025-10-11',
      skipped: holiday('国庆节、中秋节', '2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08'),
    });
    expect(calendar.addWorkingDays('2025-09-30', 2).date).toBe('2025-10-10');
  });

  it('When 2026-09-18 + 1, then 09-19 is a weekend and 09-20 (Sunday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2026-09-18', 1)).toEqual({ date: '2026-09-20', skipped: weekend('2026-09-19') });
  });

  it('When 2026-09-24 + 1, then 中秋节 (09-25..09-27) is skipped under its own name and the answer is 2026-09-28', () => {
    expect(calendar.addWorkingDays('2026-09-24', 1)).toEqual({ date: '2026-09-28', skipped: holiday('中秋节', '2026-09-25', '2026-09-26', '2026-09-27') });
  });

  it('When 2026-09-30 + 3, then 10-01..10-07 are 国庆节 and 10-10 (Saturday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2026-09-30', 3)).toEqual({
      date: '2026-10-10',
      skipped: holiday('国庆节', '2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07'),
    });
  });
});

describe('New Year (元旦) and year boundaries', () => {
  it('When 2024-12-31 + 1, then 2025-01-01 (Wednesday, one day off) is skipped and the answer is 2025-01-02', () => {
    expect(calendar.addWorkingDays('2024-12-31', 1)).toEqual({ date: '2025-01-02', skipped: holiday('元旦', '2025-01-01') });
    expect(calendar.isWorkingDay('2025-01-03')).toBe(true);
    expect(calendar.dayOff('2025-01-04')).toEqual({ reason: 'weekend' }); // 不调休: no Saturday is worked
  });

  it('When 2025-12-31 + 1, then 2026-01-01..03 are 元旦 and 2026-01-04 (Sunday, worked) is the answer', () => {
    expect(calendar.addWorkingDays('2025-12-31', 1)).toEqual({ date: '2026-01-04', skipped: holiday('元旦', '2026-01-01', '2026-01-02', '2026-01-03') });
  });

  it('When 2023-12-29 + 1 is asked, then it is outside the data; 2024-01-01 is the first day and a holiday', () => {
    expect(() => calendar.addWorkingDays('2023-12-29', 1)).toThrow(CalendarRangeError);
    expect(calendar.dayOff('2024-01-01')).toEqual({ reason: 'holiday', name: '元旦' });
    expect(calendar.addWorkingDays('2024-01-01', 1)).toEqual({ date: '2024-01-02', skipped: [] });
  });
});

describe('the start day (art. 82)', () => {
  it('When the start is a working day, then it is not counted; 0 days answers the start itself', () => {
    expect(calendar.addWorkingDays('2025-01-02', 1)).toEqual({ date: '2025-01-03', skipped: [] });
    expect(calendar.addWorkingDays('2025-01-02', 0)).toEqual({ date: '2025-01-02', skipped: [] });
    expect(calendar.workingDaysBetween('2025-01-02', '2025-01-02')).toBe(0);
    expect(calendar.workingDaysBetween('2025-01-03', '2025-01-02')).toBe(0);
  });

  it('When the start is a holiday, then it is neither counted nor listed as skipped', () => {
    expect(calendar.addWorkingDays('2025-10-01', 1)).toEqual({
      date: '2025-10-09',
      skipped: holiday('国庆节、中秋节', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08'),
    });
  });

  it('When 20 working days run from 2025-01-20, then the answer is 2025-02-21 (4 weekend days and 8 of 春节 skipped, 01-26 and 02-08 worked)', () => {
    const r = calendar.addWorkingDays('2025-01-20', 20);
    expect(r.date).toBe('2025-02-21');
    expect(r.skipped.filter((s) => s.reason === '春节')).toHaveLength(8);
    expect(r.skipped.filter((s) => s.reason === 'weekend').map((s) => s.date)).toEqual(['2025-01-25', '2025-02-09', '2025-02-15', '2025-02-16']);
    expect(r.skipped).toHaveLength(12);
    expect(calendar.workingDaysBetween('2025-01-20', '2025-02-21')).toBe(20);
    expect(calendar.workingDaysBetween('2025-01-20', '2025-02-20')).toBe(19);
  });
});

describe('outside the covered years', () => {
  it('When a date before 2024 or after 2026 is asked about, then CalendarRangeError names it and the covered range', () => {
    for (const date of ['2023-12-31', '2027-01-01']) {
      let error: unknown;
      try {
        calendar.isWorkingDay(date);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CalendarRangeError);
      expect((error as CalendarRangeError).date).toBe(date);
      expect((error as CalendarRangeError).message).toBe(`${date} is outside the working-day calendar, which covers 2024-01-01 to 2026-12-31`);
    }
    expect(() => calendar.workingDaysBetween('2026-12-01', '2027-01-05')).toThrow(CalendarRangeError);
  });

  it('When a count would run past 2026-12-31, then CalendarRangeError says so; one that ends on 12-31 is fine', () => {
    expect(calendar.addWorkingDays('2026-12-30', 1)).toEqual({ date: '2026-12-31', skipped: [] });
    expect(() => calendar.addWorkingDays('2026-12-30', 2)).toThrow(
      new CalendarRangeError('2027-01-01', calendar.covered, '2 working days after 2026-12-30 run past 2026-12-31, the end of the working-day calendar (2024-01-01 to 2026-12-31)'),
    );
    expect(() => calendar.addWorkingDays('2026-12-01', 30)).toThrow(CalendarRangeError);
  });

  it('When a date is malformed or impossible, then it is a RangeError, not a guess', () => {
    expect(() => calendar.isWorkingDay('2025-02-30')).toThrow(RangeError);
    expect(() => calendar.isWorkingDay('2025-2-3')).toThrow(/not a date/);
    expect(() => calendar.addWorkingDays('2025-01-02', -1)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2025-01-02', 1.5)).toThrow(RangeError);
  });
});

describe('dates', () => {
  it('When dates are checked, then only real YYYY-MM-DD dates pass', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2025-02-29')).toBe(false);
    expect(isCalendarDate('2025-02-30')).toBe(false);
    expect(isCalendarDate('2025-13-01')).toBe(false);
    expect(isCalendarDate('2025-1-01')).toBe(false);
    expect(isCalendarDate('2025-01-01T00:00:00Z')).toBe(false);
  });

  it('When an instant is placed in China, then UTC+8 decides the date', () => {
    expect(dateInChina('2025-01-27T15:59:59.999Z')).toBe('2025-01-27');
    expect(dateInChina('2025-01-27T16:00:00Z')).toBe('2025-01-28');
    expect(dateInChina('2025-01-28T00:30:00+08:00')).toBe('2025-01-28');
    expect(dateInChina('2025-01-27T20:00:00-05:00')).toBe('2025-01-28');
    expect(dateInChina(new Date(Date.UTC(2025, 11, 31, 16, 0, 0)))).toBe('2026-01-01');
    expect(() => dateInChina('2025-01-27T16:00:00')).toThrow(/offset/);
    expect(() => dateInChina(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('windows: the calendar as an activity result', () => {
  it('When a window is taken and rebuilt from its JSON, then it answers as the full calendar inside and refuses outside', () => {
    const window = calendar.window('2025-01-20', '2025-02-28');
    expect(window.workingWeekends).toEqual(['2025-01-26', '2025-02-08']);
    expect(window.holidays.map((h) => h.date)).toEqual(['2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04']);
    const rebuilt = WorkingCalendar.fromWindow(JSON.parse(JSON.stringify(window)));
    expect(rebuilt.covered).toEqual({ from: '2025-01-20', to: '2025-02-28' });
    expect(rebuilt.addWorkingDays('2025-01-27', 1)).toEqual(calendar.addWorkingDays('2025-01-27', 1));
    expect(rebuilt.addWorkingDays('2025-01-20', 20)).toEqual(calendar.addWorkingDays('2025-01-20', 20));
    expect(() => rebuilt.addWorkingDays('2025-02-20', 10)).toThrow(CalendarRangeError);
    expect(() => rebuilt.isWorkingDay('2025-03-01')).toThrow(CalendarRangeError);
  });

  it('When a window claims a weekday as a worked weekend, then it is refused', () => {
    expect(() => WorkingCalendar.fromWindow({ from: '2025-01-01', to: '2025-01-31', holidays: [], workingWeekends: ['2025-01-27'] })).toThrow(CalendarDataError);
  });
});

describe('loading the data', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-calendar-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const shipped = (year: number): CalendarYear => JSON.parse(fs.readFileSync(path.join(CALENDAR_DIR, `cn-${year}.json`), 'utf8'));
  const write = (sub: string, years: Record<string, unknown>) => {
    const d = path.join(dir, sub);
    fs.mkdirSync(d);
    for (const [name, content] of Object.entries(years)) fs.writeFileSync(path.join(d, name), typeof content === 'string' ? content : JSON.stringify(content));
    return d;
  };

  it('When a file has an impossible date and a worked weekday, then the error names the file and both fields', () => {
    const bad = shipped(2025);
    bad.holidays[1]!.to = '2025-02-30';
    bad.adjustedWorkingDays[0]!.date = '2025-01-27';
    const d = write('bad-fields', { 'cn-2025.json': bad });
    const file = path.join(d, 'cn-2025.json');
    expect(() => readCalendarYear(file)).toThrow(CalendarDataError);
    expect(() => readCalendarYear(file)).toThrow(file);
    expect(() => loadCalendar(d)).toThrow(/holidays\.1\.to: must be a date written YYYY-MM-DD.*adjustedWorkingDays\.0\.date: 2025-01-27 is not a Saturday or Sunday/);
  });

  it('When a file is not JSON, or is named for another year, then the error names the file', () => {
    const broken = write('broken', { 'cn-2025.json': '{"year": 2025,' });
    expect(() => loadCalendar(broken)).toThrow(path.join(broken, 'cn-2025.json'));
    const misnamed = write('misnamed', { 'cn-2024.json': shipped(2025) });
    expect(() => loadCalendar(misnamed)).toThrow(/named for 2024 but holds the year 2025/);
  });

  it('When a year is missing between two others, or a worked day is also a holiday, then loading fails saying so', () => {
    const gap = write('gap', { 'cn-2024.json': shipped(2024), 'cn-2026.json': shipped(2026) });
    expect(() => loadCalendar(gap)).toThrow(/no data for 2025\.\.2025/);
    const clash = shipped(2026);
    clash.adjustedWorkingDays.push({ date: '2026-10-03', holiday: '国庆节' });
    const clashing = write('clash', { 'cn-2026.json': clash });
    expect(() => loadCalendar(clashing)).toThrow(/2026-10-03 is both a working day \(for 国庆节\) and a day of 国庆节/);
  });

  it('When next year’s notice is added as a file, then the range grows with no code change', () => {
    const next: CalendarYear = {
      year: 2027,
      source: { title: 'test notice', date: '2026-11-01' },
      holidays: [{ name: '元旦', nameEn: "New Year's Day", from: '2027-01-01', to: '2027-01-01' }],
      adjustedWorkingDays: [],
    };
    const d = write('next', { 'cn-2024.json': shipped(2024), 'cn-2025.json': shipped(2025), 'cn-2026.json': shipped(2026), 'cn-2027.json': next });
    const extended = loadCalendar(d);
    expect(extended.covered).toEqual({ from: '2024-01-01', to: '2027-12-31' });
    expect(extended.addWorkingDays('2026-12-30', 2)).toEqual({ date: '2027-01-04', skipped: [...holiday('元旦', '2027-01-01'), ...weekend('2027-01-02', '2027-01-03')] });
  });
});

describe('the calendar activities', () => {
  const activities = createCalendarActivities(calendar, { warnDaysLeft: 2, warnUsedRatio: 0.8 });
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) => new MockActivityEnvironment().run(fn, ...args);

  it('When a window reaching past the data is asked for, then it is cut at 2026-12-31 and says so in its `to`', async () => {
    const window = await run(activities.calendarWindow, { from: '2026-12-20', to: '2027-02-01' });
    expect(window).toEqual({ from: '2026-12-20', to: '2026-12-31', holidays: [], workingWeekends: [] });
  });

  it('When working days are added, then the activity answers as the calendar does', async () => {
    expect(await run(activities.addWorkingDays, { from: '2025-01-27', days: 1 })).toEqual(calendar.addWorkingDays('2025-01-27', 1));
  });

  it('When the start or the count leaves the data, then it fails non-retryably as CalendarRangeError with the covered range', async () => {
    for (const call of [
      () => run(activities.addWorkingDays, { from: '2026-12-30', days: 2 }),
      () => run(activities.calendarWindow, { from: '2027-01-01', to: '2027-01-31' }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: CALENDAR_RANGE, nonRetryable: true, details: [{ covered: { from: '2024-01-01', to: '2026-12-31' } }] });
    }
  });
});

describe('how far ahead the data reaches', () => {
  const calendar = loadCalendar(CALENDAR_DIR);

  it('When today is inside the data, then the runway is the working days left after today; at or past its end it is 0', () => {
    // 2026-12-24 (Thu) → 12-25, 12-28..12-31: 5 working days.
    expect(calendar.runway('2026-12-24')).toBe(5);
    expect(calendar.runway('2026-12-31')).toBe(0);
    expect(calendar.runway('2027-03-01')).toBe(0);
    expect(calendar.runway('2023-06-01')).toBe(0);
    // October 2026 holds National Day: 10-01..10-07 off, Saturday 10-10 worked.
    expect(calendar.runway('2026-09-30')).toBe(calendar.workingDaysBetween('2026-09-30', '2026-12-31'));
    expect(calendar.runway('2026-11-06')).toBeLessThan(CALENDAR_RUNWAY_WARN_DAYS);
    expect(calendar.runway('2026-06-01')).toBeGreaterThan(CALENDAR_RUNWAY_WARN_DAYS);
  });
});

describe('the test calendar (harness/calendar.ts)', () => {
  it('When today is past the shipped data, then placeholder years follow it up to the next year, each marked as not a notice; the shipped years are unchanged', () => {
    const years = testCalendarYears('2028-03-15');
    const shipped = loadCalendar(CALENDAR_DIR);
    const placeholders = years.filter((y) => y.source.title === PLACEHOLDER_TITLE);
    const last = Number(shipped.covered.to.slice(0, 4));
    expect(placeholders.map((y) => y.year)).toEqual(Array.from({ length: 2029 - last }, (_, i) => last + 1 + i));
    const test = WorkingCalendar.fromYears(years);
    expect(test.covered.to).toBe('2029-12-31');
    // The shipped data answers as before: National Day 2026.
    expect(test.addWorkingDays('2026-09-30', 1)).toEqual(shipped.addWorkingDays('2026-09-30', 1));
    // A placeholder year: weekends and 1 January off.
    expect(test.dayOff('2028-01-01')).toEqual({ reason: 'holiday', name: '元旦' });
    expect(test.isWorkingDay('2028-01-03')).toBe(true);
  });

  it('When today is inside the shipped data, then only the years up to the next are added', () => {
    const years = testCalendarYears('2025-05-01');
    expect(years.filter((y) => y.source.title === PLACEHOLDER_TITLE)).toEqual([]);
  });
});
