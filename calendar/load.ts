// Loads the working-day calendar from its data: one file per year, `cn-<year>.json` next to this
// module, each the State Council's notice for that year (domain/calendar.ts has the schema and the
// counting). Adding next year's notice is adding its file (docs/calendar.md); no code changes.
// Read once when a worker or the api starts; a malformed file stops the start with its path and
// the offending field, never a calendar that silently misses a holiday.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calendarYearSchema, CalendarDataError, WorkingCalendar, type CalendarYear } from '../domain/calendar.js';

/**
 * The folder holding the calendar data: this module's own folder, or CALENDAR_DIR when set (data
 * deployed apart from the code; the fault tests replace the data under a running system that way).
 */
export const CALENDAR_DIR = process.env.CALENDAR_DIR || path.dirname(fileURLToPath(import.meta.url));

const YEAR_FILE = /^cn-(\d{4})\.json$/;

/** Parses and validates one year's file; the error names the file and every bad field. */
export function readCalendarYear(file: string): CalendarYear {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CalendarDataError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = calendarYearSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new CalendarDataError(`${file}: ${issues.join('; ')}`);
  }
  const named = YEAR_FILE.exec(path.basename(file))?.[1];
  if (named !== undefined && Number(named) !== parsed.data.year) {
    throw new CalendarDataError(`${file}: the file is named for ${named} but holds the year ${parsed.data.year}`);
  }
  return parsed.data;
}

/** Every `cn-<year>.json` in `dir`, parsed, in year order. */
export function readCalendarYears(dir: string = CALENDAR_DIR): CalendarYear[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => YEAR_FILE.test(f))
    .sort();
  if (files.length === 0) throw new CalendarDataError(`${dir}: no calendar data (cn-<year>.json)`);
  return files.map((f) => readCalendarYear(path.join(dir, f)));
}

/** The calendar of every year in `dir`. Cross-year problems name the year (domain/calendar.ts). */
export function loadCalendar(dir: string = CALENDAR_DIR): WorkingCalendar {
  const years = readCalendarYears(dir);
  try {
    return WorkingCalendar.fromYears(years);
  } catch (e) {
    if (e instanceof CalendarDataError) throw new CalendarDataError(`${dir}: ${e.message}`);
    throw e;
  }
}

let shipped: WorkingCalendar | undefined;

/** The calendar shipped with this build, read on first use and kept for the process's life. */
export function shippedCalendar(): WorkingCalendar {
  return (shipped ??= loadCalendar());
}
