// The statutory clock (行政许可法 art. 42, 45, 82): a pure function of the working-day calendar, a
// time limit and the case's events (pauses and approved extensions). It answers when a limit falls
// due, how many working days are used, paused and left, the SLA state, and the derivation a
// supervisor can check by hand. No I/O and no clock of its own: "today" is an argument, so the
// workflow (through an activity result) and the API compute the same figures.
//
// Counting, as art. 82 counts periods: the start day is not counted; each later working day counts
// once, unless it falls in a pause. A pause runs from the day it began (not paused: the authority
// worked on the case that day) to the day it ended (paused: counting resumes the next working day),
// so a pause that began on day A and ended on day B removes the working days in (A, B]. A pause
// still open removes every working day after A.
import { isWeekend, shiftDate } from './dates.js';

/** The calendar the clock needs (domain/calendar.ts provides it). Dates are YYYY-MM-DD, China time. */
export interface ClockCalendar {
  isWorkingDay(date: string): boolean;
  /** Why a date is not a working day (null for a working day). */
  dayOff(date: string): { reason: 'weekend' | 'holiday'; name?: string } | null;
}

export type PauseKind = 'correction' | 'procedure';

export interface ClockPause {
  kind: PauseKind;
  /** The day the pause began (counted). */
  from: string;
  /** The day it ended (not counted), or null while it lasts. */
  to: string | null;
  reason: string;
}

export interface ClockExtension {
  days: number;
  approvedOn: string;
  reason: string;
}

export interface ClockInput {
  /** The day counting starts after (acceptance, or by art. 32 the day the materials were received). */
  start: string;
  limitDays: number;
  pauses: readonly ClockPause[];
  extensions: readonly ClockExtension[];
  /** The day the figures are computed for. */
  today: string;
  /** Yellow when this many working days or fewer are left … */
  warnDaysLeft: number;
  /** … or this share of the limit (with extensions) is used. */
  warnUsedRatio: number;
}

export type SlaState = 'green' | 'yellow' | 'red';

export interface ClockDerivation {
  start: string;
  limitDays: number;
  extensions: ClockExtension[];
  /** Each pause with the working days it removed (up to today for one still open). */
  pauses: (ClockPause & { workingDays: number })[];
  /** Holidays passed over between the start and the due date (or today, if later). */
  holidays: { date: string; name: string }[];
  /** Weekend days that were working days (调休上班) in that span. */
  adjustedWorkingDays: string[];
  /** Plain weekend days in that span, counted but not listed. */
  weekendDays: number;
}

export interface ClockReading {
  /** The last day of the limit, or null while a pause is open (the due date moves with it). */
  dueDate: string | null;
  /** The due date if the open pause ended today (what the applicant would be told). */
  dueDateIfResumedToday: string;
  limitDays: number;
  extendedBy: number;
  used: number;
  paused: number;
  remaining: number;
  state: SlaState;
  /** An open pause: the clock is stopped. */
  stopped: boolean;
  derivation: ClockDerivation;
}

/** Every day-walk is bounded: a limit of a few dozen working days never needs more. */
const MAX_DAYS = 3 * 366;

/** Whether a working day falls inside a pause, as the module comment defines it. */
function pausedOn(date: string, pauses: readonly ClockPause[]): ClockPause | null {
  return pauses.find((p) => date > p.from && (p.to === null || date <= p.to)) ?? null;
}

export function readClock(calendar: ClockCalendar, input: ClockInput): ClockReading {
  const extendedBy = input.extensions.reduce((n, e) => n + e.days, 0);
  const total = input.limitDays + extendedBy;
  const stopped = input.pauses.some((p) => p.to === null);

  // Walk from the day after the start until the due date has been found and today passed.
  const pauseDays = new Map<ClockPause, number>();
  const holidays: { date: string; name: string }[] = [];
  const adjusted: string[] = [];
  let weekendDays = 0;
  let counted = 0;
  let used = 0;
  let paused = 0;
  let dueDate: string | null = null;
  let date = input.start;
  for (let i = 0; i < MAX_DAYS; i++) {
    date = shiftDate(date, 1);
    const beyondToday = date > input.today;
    if (dueDate !== null && beyondToday) break;
    const off = calendar.dayOff(date);
    if (off) {
      if (off.reason === 'holiday') holidays.push({ date, name: off.name ?? 'holiday' });
      else weekendDays += 1;
      continue;
    }
    if (isWeekend(date)) adjusted.push(date);
    const pause = pausedOn(date, input.pauses);
    if (pause) {
      if (!beyondToday) {
        paused += 1;
        pauseDays.set(pause, (pauseDays.get(pause) ?? 0) + 1);
      }
      // An open pause stops the clock: no due date can be found past today while it lasts.
      if (pause.to === null && beyondToday) break;
      continue;
    }
    counted += 1;
    if (!beyondToday) used += 1;
    if (counted === total && dueDate === null) dueDate = date;
  }
  if (dueDate === null && !stopped) throw new Error(`the clock walked ${MAX_DAYS} days without reaching ${total} working days from ${input.start}`);

  const remaining = total - used;
  const dueIfResumed = stopped ? resumeToday(calendar, input, total) : dueDate!;
  const state: SlaState =
    (dueDate !== null && input.today > dueDate) || remaining < 0
      ? 'red'
      : remaining <= input.warnDaysLeft || (total > 0 && used / total >= input.warnUsedRatio)
        ? 'yellow'
        : 'green';
  return {
    dueDate,
    dueDateIfResumedToday: dueIfResumed,
    limitDays: input.limitDays,
    extendedBy,
    used,
    paused,
    remaining,
    state,
    stopped,
    derivation: {
      start: input.start,
      limitDays: input.limitDays,
      extensions: [...input.extensions],
      pauses: input.pauses.map((p) => ({ ...p, workingDays: pauseDays.get(p) ?? 0 })),
      holidays,
      adjustedWorkingDays: adjusted,
      weekendDays,
    },
  };
}

/** The due date if every open pause ended today. */
function resumeToday(calendar: ClockCalendar, input: ClockInput, total: number): string {
  const closed = input.pauses.map((p) => (p.to === null ? { ...p, to: input.today } : p));
  const reading = readClock(calendar, { ...input, pauses: closed, extensions: [], limitDays: total });
  return reading.dueDate!;
}
