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
import { dateInChina, isWeekend, shiftDate } from './dates.js';

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

export const SLA_STATES = ['green', 'yellow', 'red'] as const;
export type SlaState = (typeof SLA_STATES)[number];

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

// ---------------------------------------------------------------------------------------------
// The clock's inputs, from a case's recorded events (the projection's rows for the api, the
// recorder's own list for the workflow): one derivation, so both count the same days.

/** The event types the clock reads. */
export const CLOCK_EVENT_TYPES = [
  'review.started',
  'acceptance.deemed',
  'correction.notice_issued',
  'correction.supplemented',
  'correction.expired',
  'procedure.started',
  'procedure.ended',
  'extension.approved',
] as const;

export interface ClockEvent {
  type: string;
  /** When it was recorded (an ISO instant or a Date). */
  at: string | Date;
  data: Record<string, unknown>;
}

export interface ClockEventInputs {
  /** The acceptance day: art. 32's deemed day when recorded, else the day the authority received the materials; null before. */
  start: string | null;
  /** The instant the authority received the materials (what the test and demo seam counts from). */
  startedAt: string | null;
  pauses: ClockPause[];
  extensions: ClockExtension[];
  /** Each pause's instants, for the seam (same order as `pauses`). */
  pauseInstants: { from: string; to: string | null }[];
}

const instant = (at: string | Date) => (typeof at === 'string' ? at : at.toISOString());

/**
 * Pauses: a handling-side notice until its supplement (or expiry), an art. 45 procedure until it
 * ends. Extensions: each approved one, on the day it was approved.
 */
export function clockInputsFromEvents(events: readonly ClockEvent[]): ClockEventInputs {
  const deemed = events.find((e) => e.type === 'acceptance.deemed');
  const received = events.find((e) => e.type === 'review.started');
  const start = deemed && typeof deemed.data.acceptedOn === 'string' ? deemed.data.acceptedOn : received ? dateInChina(received.at) : null;
  const pauses: ClockPause[] = [];
  const pauseInstants: { from: string; to: string | null }[] = [];
  const pause = (kind: PauseKind, from: ClockEvent, to: ClockEvent | undefined, reason: string) => {
    pauses.push({ kind, from: dateInChina(from.at), to: to ? dateInChina(to.at) : null, reason });
    pauseInstants.push({ from: instant(from.at), to: to ? instant(to.at) : null });
  };
  for (const e of events) {
    if (e.type === 'correction.notice_issued' && e.data.side === 'handling') {
      const end = events.find((x) => (x.type === 'correction.supplemented' || x.type === 'correction.expired') && x.data.noticeId === e.data.noticeId);
      const problems = Array.isArray(e.data.deficiencies) ? (e.data.deficiencies as { materialCode: string }[]).map((d) => d.materialCode).join(', ') : '';
      pause('correction', e, end, `补正通知 ${String(e.data.noticeId)} (round ${String(e.data.round)}): ${problems}`);
    }
    if (e.type === 'procedure.started') {
      const end = events.find((x) => x.type === 'procedure.ended' && x.data.procedureId === e.data.procedureId);
      pause('procedure', e, end, `${String(e.data.kind)}: ${String(e.data.reason ?? '')}`);
    }
  }
  const extensions = events
    .filter((e) => e.type === 'extension.approved')
    .map((e) => ({ days: Number(e.data.days), approvedOn: dateInChina(e.at), reason: String(e.data.reason ?? '') }));
  return { start, startedAt: received ? instant(received.at) : null, pauses, extensions, pauseInstants };
}
