// Dates as tongban counts with them: `YYYY-MM-DD` strings in China Standard Time. China has one
// time zone and no daylight saving, so an instant becomes a date with a fixed +08:00 offset.
// Plain arithmetic with no dependency, so the working-day calendar (domain/calendar.ts), the
// statutory clock (domain/clock.ts) and workflow code share one definition.

const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
/** China Standard Time, UTC+8 all year. */
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Whether `value` is a real calendar date written `YYYY-MM-DD` (2025-02-30 is not). */
export function isCalendarDate(value: string): boolean {
  const m = DATE_SHAPE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || mo < 1 || mo > 12 || d < 1) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

export function assertDate(date: string, what = 'date'): void {
  if (!isCalendarDate(date)) throw new RangeError(`${what} ${JSON.stringify(date)} is not a date (YYYY-MM-DD)`);
}

export function epochDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

export function fromEpochDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The date `days` after (or before, when negative) `date`. */
export function shiftDate(date: string, days: number): string {
  assertDate(date);
  return fromEpochDay(epochDay(date) + days);
}

/** 0 Sunday … 6 Saturday. */
function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

export function isWeekend(date: string): boolean {
  const d = weekday(date);
  return d === 0 || d === 6;
}

/** An instant with an explicit offset: `2025-01-27T16:30:00Z`, `2025-01-28T00:30:00+08:00`. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * The date in China (UTC+8) of an instant. A string must carry its offset (`Z` or `±hh:mm`): one
 * without would be read in the server's local zone, which is exactly the guess this avoids.
 */
export function dateInChina(instant: string | Date): string {
  let ms: number;
  if (typeof instant === 'string') {
    if (!INSTANT.test(instant)) throw new RangeError(`${JSON.stringify(instant)} is not an ISO 8601 instant with an offset`);
    ms = Date.parse(instant);
  } else {
    ms = instant.getTime();
  }
  if (Number.isNaN(ms)) throw new RangeError(`${String(instant)} is not a valid instant`);
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}
