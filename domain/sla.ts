// The SLA reading a running case acts on: both limits (promised 承诺, statutory 法定) as the clock
// reads them now, the case's SLA state (the worse of the two), and the instant the state will next
// change if nothing else happens, which is when the workflow's timer fires (workflows/case/sla.ts).
// Pure: the workflow gets it from a local activity (activities/calendar.ts), so the calendar data
// and the warning thresholds reach it as an activity result pinned in history.
//
// On the calendar, a state changes at the start of a day (China time): yellow on the day the
// warning threshold is reached, red on the day after the due date. Under the test and demo seam
// (`timing.workingDayMs`, docs/case-workflow.md) a working day is that many milliseconds of
// elapsed time from the moment the authority received the materials, pauses excluded; the rules
// are the same, only the length of a day differs.
import { clockInputsFromEvents, readClock, type ClockCalendar, type ClockEvent, type ClockReading, type SlaState } from './clock.js';
import { dateInChina, shiftDate } from './dates.js';

export interface SlaSettings {
  /** Yellow when this many working days or fewer are left … */
  warnDaysLeft: number;
  /** … or this share of the limit (with extensions) is used. */
  warnUsedRatio: number;
}

export type SlaLimitName = 'promised' | 'statutory';

export interface SlaLimit {
  state: SlaState;
  /** The last day of the limit (China date); null while a pause stops the clock. */
  dueDate: string | null;
  /** The last instant before the limit is overdue; null while stopped. */
  dueAt: string | null;
  limitDays: number;
  extendedBy: number;
  used: number;
  remaining: number;
  stopped: boolean;
}

export interface SlaReading {
  /** The worse of the two limits. */
  state: SlaState;
  promised: SlaLimit;
  statutory: SlaLimit;
  /** When a state changes next if no event intervenes; null when none will (stopped, or both red). */
  nextChangeAt: string | null;
}

export interface SlaArgs {
  /** The case's clock events (domain/clock.ts CLOCK_EVENT_TYPES); the authority must have received the materials. */
  events: readonly ClockEvent[];
  promisedDays: number;
  statutoryDays: number;
  /** The instant the reading is for. */
  now: string;
  settings: SlaSettings;
}

const RANK: Record<SlaState, number> = { green: 0, yellow: 1, red: 2 };

function worse(a: SlaState, b: SlaState): SlaState {
  return RANK[a] >= RANK[b] ? a : b;
}

/** 00:00 of a China date, as an ISO instant. */
function startOfChinaDate(date: string): string {
  return new Date(`${date}T00:00:00+08:00`).toISOString();
}

function fromClock(r: ClockReading): SlaLimit {
  const dueAt = r.dueDate ? new Date(Date.parse(startOfChinaDate(shiftDate(r.dueDate, 1))) - 1).toISOString() : null;
  return { state: r.state, dueDate: r.dueDate, dueAt, limitDays: r.limitDays, extendedBy: r.extendedBy, used: r.used, remaining: r.remaining, stopped: r.stopped };
}

/** Whether the warning applies with `used` of `total` working days used (as readClock decides it). */
function warns(used: number, total: number, s: SlaSettings): boolean {
  return total - used <= s.warnDaysLeft || (total > 0 && used / total >= s.warnUsedRatio);
}

/** Days further than this are never walked for the next change (a limit is a few dozen working days). */
const MAX_LOOKAHEAD_DAYS = 400;

/** The reading on the working-day calendar. Throws CalendarRangeError when the data does not reach. */
export function readSla(calendar: ClockCalendar, args: SlaArgs): SlaReading {
  const inputs = clockInputsFromEvents(args.events);
  if (!inputs.start) throw new Error('the clock has not started: the handling authority has not received the materials');
  const { start, pauses, extensions } = inputs;
  const read = (limitDays: number, today: string) => readClock(calendar, { start, limitDays, pauses, extensions, today, ...args.settings });
  const today = dateInChina(args.now);
  const promised = read(args.promisedDays, today);
  const statutory = read(args.statutoryDays, today);
  let nextChangeAt: string | null = null;
  const settled = promised.stopped || (promised.state === 'red' && statutory.state === 'red');
  if (!settled) {
    // States change only at the start of a day: find the first later day either differs.
    let day = today;
    for (let i = 0; i < MAX_LOOKAHEAD_DAYS; i++) {
      day = shiftDate(day, 1);
      let p: ClockReading;
      let s: ClockReading;
      try {
        p = read(args.promisedDays, day);
        s = read(args.statutoryDays, day);
      } catch {
        // The data ends before the next change: look again on that day, when new data may be there.
        nextChangeAt = startOfChinaDate(day);
        break;
      }
      if (p.state !== promised.state || s.state !== statutory.state) {
        nextChangeAt = startOfChinaDate(day);
        break;
      }
    }
  }
  return { state: worse(promised.state, statutory.state), promised: fromClock(promised), statutory: fromClock(statutory), nextChangeAt };
}

/** The reading under the test and demo seam: a working day lasts `workingDayMs` of elapsed time. */
export function readSeamSla(args: SlaArgs & { workingDayMs: number }): SlaReading {
  const inputs = clockInputsFromEvents(args.events);
  if (!inputs.startedAt) throw new Error('the clock has not started: the handling authority has not received the materials');
  const startMs = Date.parse(inputs.startedAt);
  const nowMs = Date.parse(args.now);
  const day = args.workingDayMs;
  let pausedMs = 0;
  let stopped = false;
  for (const p of inputs.pauseInstants) {
    const from = Math.max(Date.parse(p.from), startMs);
    const to = p.to === null ? nowMs : Math.min(Date.parse(p.to), nowMs);
    if (p.to === null) stopped = true;
    if (to > from) pausedMs += to - from;
  }
  const elapsed = Math.max(0, nowMs - startMs - pausedMs);
  const extendedBy = inputs.extensions.reduce((n, e) => n + e.days, 0);
  const next: number[] = [];
  const limit = (limitDays: number): SlaLimit => {
    const total = limitDays + extendedBy;
    // As on the calendar, the day under way counts as used: day 1 begins when the clock starts.
    const used = Math.ceil(elapsed / day);
    const remaining = total - used;
    const state: SlaState = elapsed > total * day ? 'red' : warns(used, total, args.settings) ? 'yellow' : 'green';
    const dueAtMs = stopped ? null : startMs + pausedMs + total * day;
    if (!stopped) {
      // The warning starts with the first day on which it applies (day u begins just after (u-1) days);
      // red just after the last day.
      let warnDay = total + 1;
      for (let u = 0; u <= total; u++) {
        if (warns(u, total, args.settings)) {
          warnDay = u;
          break;
        }
      }
      const warnAt = warnDay === 0 ? 0 : (warnDay - 1) * day + 1;
      for (const threshold of [warnAt, total * day + 1]) if (threshold > elapsed) next.push(nowMs + (threshold - elapsed));
    }
    return {
      state,
      dueDate: dueAtMs === null ? null : dateInChina(new Date(dueAtMs)),
      dueAt: dueAtMs === null ? null : new Date(dueAtMs).toISOString(),
      limitDays,
      extendedBy,
      used,
      remaining,
      stopped,
    };
  };
  const promised = limit(args.promisedDays);
  const statutory = limit(args.statutoryDays);
  const nextChangeAt = next.length ? new Date(Math.min(...next)).toISOString() : null;
  return { state: worse(promised.state, statutory.state), promised, statutory, nextChangeAt };
}
