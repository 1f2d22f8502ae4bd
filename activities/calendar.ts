// The working-day calendar as activities: the only way the calendar reaches a workflow (rule 1 of
// docs/architecture.md). Whatever an activity answers is recorded in the case's history, so a
// replay reads the same days off even after next year's notice is added or a date is corrected;
// only cases that ask again see the new data. No I/O: the calendar is loaded once when the worker
// starts (worker/system.ts) and passed in. Runs on the case queue. See docs/calendar.md.
import { ApplicationFailure } from '@temporalio/common';
import { CalendarRangeError, type AddWorkingDaysResult, type CalendarWindow, type WorkingCalendar } from '../domain/calendar.js';
import { readSeamSla, readSla, type SlaArgs, type SlaReading, type SlaSettings } from '../domain/sla.js';

/** ApplicationFailure type of a date outside the calendar's data (non-retryable). */
export const CALENDAR_RANGE = 'CalendarRangeError';

/** Range errors become typed, non-retryable failures carrying the date and the covered range. */
function calendarCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CalendarRangeError) throw ApplicationFailure.nonRetryable(e.message, CALENDAR_RANGE, { date: e.date, covered: e.covered });
    if (e instanceof RangeError) throw ApplicationFailure.nonRetryable(e.message, 'InvalidArgument');
    throw e;
  }
}

export function createCalendarActivities(calendar: WorkingCalendar, sla: SlaSettings) {
  return {
    /**
     * The calendar from `from` to `to`, for `WorkingCalendar.fromWindow` in the workflow. A `to`
     * past the end of the data is cut to that end (the answer's `to` says how far it reaches);
     * a `from` outside the data fails with CALENDAR_RANGE.
     */
    async calendarWindow(args: { from: string; to: string }): Promise<CalendarWindow> {
      return calendarCall(() => {
        const to = args.to > calendar.covered.to && calendar.covers(args.from) ? calendar.covered.to : args.to;
        return calendar.window(args.from, to);
      });
    },

    /** The `days`-th working day after `from` and the days skipped (art. 82); CALENDAR_RANGE past the data. */
    async addWorkingDays(args: { from: string; days: number }): Promise<AddWorkingDaysResult> {
      return calendarCall(() => calendar.addWorkingDays(args.from, args.days));
    },
    /** The working days after `from` up to and including `to` (art. 82); CALENDAR_RANGE outside the data. */
    async workingDaysBetween(args: { from: string; to: string }): Promise<number> {
      return calendarCall(() => calendar.workingDaysBetween(args.from, args.to));
    },

    /**
     * The case's SLA reading at `now` (domain/sla.ts), with the warning thresholds of this
     * deployment (SLA_WARN_DAYS_LEFT, SLA_WARN_USED_RATIO); under the seam, counted in elapsed
     * working-day lengths. CALENDAR_RANGE when the data does not reach the limits.
     */
    async readSla(args: Omit<SlaArgs, 'settings'> & { workingDayMs?: number }): Promise<SlaReading> {
      const { workingDayMs, ...rest } = args;
      if (workingDayMs) return readSeamSla({ ...rest, settings: sla, workingDayMs });
      return calendarCall(() => readSla(calendar, { ...rest, settings: sla }));
    },
  };
}

export type CalendarActivities = ReturnType<typeof createCalendarActivities>;
