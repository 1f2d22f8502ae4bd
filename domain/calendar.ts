// The working-day calendar (行政许可法 art. 82: time limits are counted in working days, statutory
// holidays excluded). China's official arrangement changes every year: weekends are off except the
// adjusted working weekends (调休上班), and the holiday periods the State Council announces each
// autumn are off. That arrangement is data (calendar/cn-<year>.json, read by calendar/load.ts);
// this module is the pure part: the schema of one year's notice, and `WorkingCalendar`, which
// answers whether a day is worked and counts working days the way art. 82 counts periods.
//
// Dates are `YYYY-MM-DD` strings in China Standard Time (domain/dates.ts). Nothing here
// reads a clock or a file, so a workflow may build a calendar from an activity result
// (`WorkingCalendar.fromWindow`) and replay the same decisions whatever the data says later.
//
// A date outside the covered years is never guessed at: every question about it, and every count
// that would run past the end of the data, throws `CalendarRangeError`. See docs/calendar.md.
import { z } from 'zod';
import { assertDate, dateInChina, epochDay, fromEpochDay, isCalendarDate, isWeekend, shiftDate } from './dates.js';

export { dateInChina, isCalendarDate, isWeekend, shiftDate };

// ---------------------------------------------------------------------------------------------
// One year's notice, as stored in calendar/cn-<year>.json

const DATE_MESSAGE = 'must be a date written YYYY-MM-DD';
const dateField = z.string().refine(isCalendarDate, DATE_MESSAGE);
/** A worked weekend day: checked on the field, so it is reported even when other fields are wrong. */
const weekendField = z.string().superRefine((value, ctx) => {
  if (!isCalendarDate(value)) ctx.addIssue({ code: 'custom', message: DATE_MESSAGE });
  else if (!isWeekend(value)) ctx.addIssue({ code: 'custom', message: `${value} is not a Saturday or Sunday` });
});
const nameField = z.string().trim().min(1).max(64);

export const calendarYearSchema = z
  .strictObject({
    year: z.number().int().min(2000).max(2100),
    source: z.strictObject({
      /** The notice's title, e.g. 国务院办公厅关于2025年部分节假日安排的通知. */
      title: nameField.max(200),
      /** Its document number (文号), e.g. 国办发明电〔2024〕12号, when one was published. */
      number: nameField.optional(),
      /** The day it was issued. */
      date: dateField,
      /** Where it was published, when known. */
      url: z.url().optional(),
    }),
    /** The periods off, each as the notice states it (weekend days inside a period included). */
    holidays: z
      .array(z.strictObject({ name: nameField, nameEn: nameField, from: dateField, to: dateField }))
      .min(1),
    /** Weekend days that are worked (调休上班), each naming the holiday it makes up for. */
    adjustedWorkingDays: z.array(z.strictObject({ date: weekendField, holiday: nameField })),
  })
  .superRefine((y, ctx) => {
    // A notice may reach into the December before its year (the 2019 notice moved 2018-12-29),
    // never into the next year.
    const earliest = `${y.year - 1}-12-01`;
    const latest = `${y.year}-12-31`;
    const within = (date: string) => date >= earliest && date <= latest;
    y.holidays.forEach((h, i) => {
      if (h.from > h.to) ctx.addIssue({ code: 'custom', path: ['holidays', i, 'to'], message: `ends (${h.to}) before it starts (${h.from})` });
      for (const [key, date] of [['from', h.from], ['to', h.to]] as const) {
        if (!within(date)) ctx.addIssue({ code: 'custom', path: ['holidays', i, key], message: `${date} is not between ${earliest} and ${latest}` });
      }
    });
    const names = new Set(y.holidays.map((h) => h.name));
    y.adjustedWorkingDays.forEach((a, i) => {
      if (!within(a.date)) ctx.addIssue({ code: 'custom', path: ['adjustedWorkingDays', i, 'date'], message: `${a.date} is not between ${earliest} and ${latest}` });
      if (!names.has(a.holiday)) ctx.addIssue({ code: 'custom', path: ['adjustedWorkingDays', i, 'holiday'], message: `names no holiday of this notice (${[...names].join(', ')})` });
    });
  });

export type CalendarYear = z.infer<typeof calendarYearSchema>;

// ---------------------------------------------------------------------------------------------
// The calendar

/** The span of dates a calendar can answer for, both ends included. */
export interface CalendarRange {
  from: string;
  to: string;
}

/** A date the calendar has no data for, or a count that would run past the end of its data. */
export class CalendarRangeError extends Error {
  constructor(
    readonly date: string,
    readonly covered: CalendarRange,
    message = `${date} is outside the working-day calendar, which covers ${covered.from} to ${covered.to}`,
  ) {
    super(message);
    this.name = 'CalendarRangeError';
  }
}

/** The calendar data (years or their cross-checks) is wrong; the message names what. */
export class CalendarDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalendarDataError';
  }
}

export type DayOff = { reason: 'weekend' } | { reason: 'holiday'; name: string };

export interface SkippedDay {
  date: string;
  /** `weekend`, or the holiday's name as the notice gives it (春节, 国庆节、中秋节). */
  reason: string;
}

export interface AddWorkingDaysResult {
  /** The n-th working day after the start day (the start day itself when n is 0). */
  date: string;
  /** Each day passed over after the start day, in order. */
  skipped: SkippedDay[];
}

/**
 * A serialisable slice of the calendar: everything needed to answer for the dates from `from` to
 * `to`. An activity returns it, a workflow rebuilds a calendar from it with `fromWindow`; the
 * slice is pinned in the case's history, so new calendar data never changes a replay.
 */
export interface CalendarWindow {
  from: string;
  to: string;
  /** Each holiday date in the window, with its holiday's name. */
  holidays: { date: string; name: string }[];
  /** Each adjusted working weekend day (调休上班) in the window. */
  workingWeekends: string[];
}

export class WorkingCalendar {
  readonly covered: CalendarRange;
  private readonly holidays: ReadonlyMap<string, string>;
  private readonly workingWeekends: ReadonlySet<string>;

  private constructor(covered: CalendarRange, holidays: Map<string, string>, workingWeekends: Set<string>) {
    this.covered = covered;
    this.holidays = holidays;
    this.workingWeekends = workingWeekends;
  }

  /**
   * A calendar from parsed notices (calendarYearSchema), one per year. The years must follow each
   * other without a gap, and no day may be both off and worked or belong to two holidays; the
   * calendar covers 1 January of the first year to 31 December of the last.
   */
  static fromYears(years: readonly CalendarYear[]): WorkingCalendar {
    if (years.length === 0) throw new CalendarDataError('the calendar has no years');
    const sorted = [...years].sort((a, b) => a.year - b.year);
    sorted.forEach((y, i) => {
      const prev = sorted[i - 1];
      if (prev && y.year === prev.year) throw new CalendarDataError(`the year ${y.year} is given twice`);
      if (prev && y.year !== prev.year + 1) throw new CalendarDataError(`the calendar has no data for ${prev.year + 1}..${y.year - 1}: the years must follow each other`);
    });
    const holidays = new Map<string, string>();
    const workingWeekends = new Set<string>();
    for (const y of sorted) {
      for (const h of y.holidays) {
        for (let d = epochDay(h.from); d <= epochDay(h.to); d++) {
          const date = fromEpochDay(d);
          const other = holidays.get(date);
          if (other !== undefined) throw new CalendarDataError(`${y.year}: ${date} is in both ${other} and ${h.name}`);
          holidays.set(date, h.name);
        }
      }
    }
    for (const y of sorted) {
      for (const a of y.adjustedWorkingDays) {
        const off = holidays.get(a.date);
        if (off !== undefined) throw new CalendarDataError(`${y.year}: ${a.date} is both a working day (for ${a.holiday}) and a day of ${off}`);
        if (workingWeekends.has(a.date)) throw new CalendarDataError(`${y.year}: the working day ${a.date} is given twice`);
        workingWeekends.add(a.date);
      }
    }
    const covered = { from: `${sorted[0]!.year}-01-01`, to: `${sorted[sorted.length - 1]!.year}-12-31` };
    return new WorkingCalendar(covered, holidays, workingWeekends);
  }

  /** A calendar covering exactly a window (what an activity handed a workflow). */
  static fromWindow(window: CalendarWindow): WorkingCalendar {
    assertDate(window.from, 'window.from');
    assertDate(window.to, 'window.to');
    if (window.from > window.to) throw new CalendarDataError(`the window ends (${window.to}) before it starts (${window.from})`);
    const inside = (date: string) => isCalendarDate(date) && date >= window.from && date <= window.to;
    const holidays = new Map<string, string>();
    for (const h of window.holidays) {
      if (!inside(h.date)) throw new CalendarDataError(`the holiday ${h.date} is outside the window ${window.from}..${window.to}`);
      holidays.set(h.date, h.name);
    }
    const workingWeekends = new Set<string>();
    for (const date of window.workingWeekends) {
      if (!inside(date) || !isWeekend(date) || holidays.has(date)) throw new CalendarDataError(`${date} is not a weekend day of the window ${window.from}..${window.to} that can be worked`);
      workingWeekends.add(date);
    }
    return new WorkingCalendar({ from: window.from, to: window.to }, holidays, workingWeekends);
  }

  /** The slice of this calendar from `from` to `to` (both inside the covered range). */
  window(from: string, to: string): CalendarWindow {
    this.check(from);
    this.check(to);
    if (from > to) throw new RangeError(`the window ends (${to}) before it starts (${from})`);
    const holidays = [...this.holidays].filter(([d]) => d >= from && d <= to).map(([date, name]) => ({ date, name }));
    const workingWeekends = [...this.workingWeekends].filter((d) => d >= from && d <= to);
    holidays.sort((a, b) => (a.date < b.date ? -1 : 1));
    workingWeekends.sort();
    return { from, to, holidays, workingWeekends };
  }

  /** Whether `date` is inside the covered range (a malformed date throws). */
  covers(date: string): boolean {
    assertDate(date);
    return date >= this.covered.from && date <= this.covered.to;
  }

  /** Why `date` is not a working day, or null when it is one (an adjusted working weekend is). */
  dayOff(date: string): DayOff | null {
    this.check(date);
    const holiday = this.holidays.get(date);
    if (holiday !== undefined) return { reason: 'holiday', name: holiday };
    if (isWeekend(date) && !this.workingWeekends.has(date)) return { reason: 'weekend' };
    return null;
  }

  isWorkingDay(date: string): boolean {
    return this.dayOff(date) === null;
  }

  /**
   * The n-th working day after `from`, as art. 82 counts: the start day is not counted, whatever
   * it is; each later working day counts once; each day off passed over is listed. n = 0 answers
   * the start day itself. Throws CalendarRangeError when the count would leave the data.
   */
  addWorkingDays(from: string, n: number): AddWorkingDaysResult {
    this.check(from);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`the number of working days must be a whole number ≥ 0, not ${n}`);
    const skipped: SkippedDay[] = [];
    let date = from;
    let counted = 0;
    while (counted < n) {
      date = fromEpochDay(epochDay(date) + 1);
      if (date > this.covered.to) {
        throw new CalendarRangeError(
          date,
          this.covered,
          `${n} working days after ${from} run past ${this.covered.to}, the end of the working-day calendar (${this.covered.from} to ${this.covered.to})`,
        );
      }
      const off = this.dayOff(date);
      if (off) skipped.push({ date, reason: off.reason === 'holiday' ? off.name : 'weekend' });
      else counted += 1;
    }
    return { date, skipped };
  }

  /**
   * The working days after `from` up to and including `to` (how many of a limit are used by the
   * end of `to`); 0 when `to` is not after `from`.
   */
  workingDaysBetween(from: string, to: string): number {
    this.check(from);
    this.check(to);
    let count = 0;
    for (let d = epochDay(from) + 1; d <= epochDay(to); d++) if (this.isWorkingDay(fromEpochDay(d))) count += 1;
    return count;
  }

  /**
   * How many working days the data still holds after `today`: how far ahead deadlines can be
   * counted before the next year's notice is needed. 0 when `today` is at or past the end of the
   * data (or before its start, where nothing can be counted either).
   */
  runway(today: string): number {
    assertDate(today);
    if (today < this.covered.from || today >= this.covered.to) return 0;
    return this.workingDaysBetween(today, this.covered.to);
  }

  private check(date: string): void {
    assertDate(date);
    if (date < this.covered.from || date > this.covered.to) throw new CalendarRangeError(date, this.covered);
  }
}

/**
 * Below this many working days of data ahead, a starting worker warns that the next year's notice
 * must be added (docs/calendar.md): about the longest statutory limit with its extension and a
 * supplement round (20 + 10 + 10 working days).
 */
export const CALENDAR_RUNWAY_WARN_DAYS = 40;
