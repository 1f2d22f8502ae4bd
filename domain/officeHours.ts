// Working hours (工作时间): the hours the offices are open, on working days of the official calendar.
// How long a liaison message has waited for its answer is counted in them, so a message sent on a
// Friday afternoon before National Day is not "two days unanswered" on Saturday morning. Pure.
//
// Office hours are one daily span, China time (`OFFICE_HOURS`, default 09:00-17:00: 8 hours a
// working day); a lunch break is not modelled.
import { dateInChina, shiftDate } from './dates.js';

export interface OfficeHours {
  /** Minutes after midnight, China time. */
  openMinute: number;
  closeMinute: number;
}

export const DEFAULT_OFFICE_HOURS = '09:00-17:00';

/** Parses `HH:MM-HH:MM`; throws a RangeError naming what is wrong. */
export function parseOfficeHours(text: string): OfficeHours {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new RangeError(`office hours must be written HH:MM-HH:MM, e.g. ${DEFAULT_OFFICE_HOURS}`);
  const [h1, m1, h2, m2] = m.slice(1).map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59) throw new RangeError(`${text} is not a time span of one day`);
  const openMinute = h1 * 60 + m1;
  const closeMinute = h2 * 60 + m2;
  if (closeMinute <= openMinute || closeMinute > 24 * 60) throw new RangeError(`${text}: the offices must close after they open, on the same day`);
  return { openMinute, closeMinute };
}

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The calendar the count needs (domain/calendar.ts WorkingCalendar). */
export interface WorkingDays {
  isWorkingDay(date: string): boolean;
}

/** 00:00 of a China date, in epoch milliseconds. */
function chinaMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) - CHINA_OFFSET_MS;
}

/**
 * The office hours (fractional) between two instants. Throws CalendarRangeError (from the
 * calendar) for a day the calendar does not cover.
 */
export function officeHoursBetween(calendar: WorkingDays, hours: OfficeHours, from: Date, to: Date): number {
  if (to <= from) return 0;
  let total = 0;
  const last = dateInChina(to);
  for (let date = dateInChina(from); date <= last; date = shiftDate(date, 1)) {
    if (!calendar.isWorkingDay(date)) continue;
    const midnight = chinaMidnight(date);
    const open = Math.max(midnight + hours.openMinute * 60_000, from.getTime());
    const close = Math.min(midnight + hours.closeMinute * 60_000, to.getTime());
    if (close > open) total += close - open;
  }
  return total / (60 * 60 * 1000);
}

/** The instant at which `hours` office hours have passed since `from` (bounded to a year ahead). */
export function addOfficeHours(calendar: WorkingDays, office: OfficeHours, from: Date, hours: number): Date {
  let left = hours * 60 * 60 * 1000;
  let date = dateInChina(from);
  for (let i = 0; i < 366; i++, date = shiftDate(date, 1)) {
    if (!calendar.isWorkingDay(date)) continue;
    const midnight = chinaMidnight(date);
    const open = Math.max(midnight + office.openMinute * 60_000, from.getTime());
    const close = midnight + office.closeMinute * 60_000;
    if (close <= open) continue;
    if (close - open >= left) return new Date(open + left);
    left -= close - open;
  }
  return new Date(from.getTime() + 366 * DAY_MS);
}

/** The instant `hours` office hours before `to`: the latest instant from which that many have passed by `to` (bounded to a year back). */
export function subtractOfficeHours(calendar: WorkingDays, office: OfficeHours, to: Date, hours: number): Date {
  let left = hours * 60 * 60 * 1000;
  let date = dateInChina(to);
  for (let i = 0; i < 366; i++, date = shiftDate(date, -1)) {
    if (!calendar.isWorkingDay(date)) continue;
    const midnight = chinaMidnight(date);
    const open = midnight + office.openMinute * 60_000;
    const close = Math.min(midnight + office.closeMinute * 60_000, to.getTime());
    if (close <= open) continue;
    if (close - open >= left) return new Date(close - left);
    left -= close - open;
  }
  return new Date(to.getTime() - 366 * DAY_MS);
}
