// Working days per stage (issue 9, the managers' dashboard: "average working days per stage"):
// for a closed case, how many working days it spent in each stage of its life (intake, precheck,
// correction, transfer, review, decision, delivery), from its recorded events. Beside custody
// (domain/handoffs.ts: which *party* held the case), this says in which *step* the days went.
//
// A stage interval runs from the first event recorded in that stage to the next event recorded in
// a different one; the case's closing (an event in stage `closed`, or the closing instant `until`)
// ends the last. A stage entered twice (review, correction, review again) adds both intervals.
// Days are counted exactly as custody counts them (`workingDaysHeld`): for an interval from
// instant a to instant b, the working days after a's China date up to and including b's, so the
// day of a change counts for the stage the case left, and the stages add up to the case's working
// days from its first event to its closing; a day the calendar data does not cover is not counted
// and the gap is named.
//
// Pure (no I/O). Read by the SLA report (api/reports.ts), which keeps the figures of each closed
// case with its custody (case_custody_days, migration 023). Workflow code does not import it.
import type { CaseStage } from './case.js';
import { dateInChina } from './dates.js';
import { periodWorkingDays, type CustodyCalendar } from './handoffs.js';

/** The stages the figures are per: every stage of a case but `closed`. */
export const COUNTED_STAGES = ['intake', 'precheck', 'correction', 'transfer', 'review', 'decision', 'delivery'] as const satisfies readonly CaseStage[];
export type CountedStage = (typeof COUNTED_STAGES)[number];

/** A recorded event as the stage count reads it (case_events: stage, at), in seq order. */
export interface StageEvent {
  stage: string;
  at: string | Date;
}

export interface StageInterval {
  stage: CountedStage;
  /** ISO instant of the first event in the stage. */
  from: string;
  /** ISO instant of the next event in another stage, or of the closing. */
  to: string;
  /** null when the calendar data does not reach the interval's end (see calendarGap). */
  workingDays: number | null;
}

export interface StageReading {
  intervals: StageInterval[];
  workingDaysByStage: Record<CountedStage, number>;
  /** Why some interval has no count: the calendar data does not cover it. */
  calendarGap: string | null;
}

const isCounted = (stage: string): stage is CountedStage => (COUNTED_STAGES as readonly string[]).includes(stage);

function instant(at: string | Date): string | null {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * The working days a closed case spent in each stage, from its events in seq order up to `until`
 * (its closing; an event after it is not read). An event in stage `closed` (or any stage not
 * counted) ends the interval it interrupts; an event with an unreadable instant is skipped, as
 * custody skips it. Intervals of no duration are left out.
 */
export function workingDaysPerStage(events: readonly StageEvent[], until: string | Date, calendar: CustodyCalendar): StageReading {
  const end = instant(until);
  if (end === null) throw new RangeError(`${String(until)} is not an instant`);
  const endMs = Date.parse(end);
  const spans: { stage: CountedStage; from: string; to: string }[] = [];
  let current: { stage: CountedStage; from: string } | null = null;
  const close = (at: string) => {
    if (current !== null && at !== current.from) spans.push({ stage: current.stage, from: current.from, to: at });
    current = null;
  };
  for (const e of events) {
    const at = instant(e.at);
    if (at === null) continue;
    if (Date.parse(at) > endMs) break;
    if (current !== null && current.stage === e.stage) continue;
    close(at);
    if (isCounted(e.stage)) current = { stage: e.stage, from: at };
  }
  close(end);

  const byStage = Object.fromEntries(COUNTED_STAGES.map((s) => [s, 0])) as Record<CountedStage, number>;
  let calendarGap: string | null = null;
  const intervals = spans.map((s): StageInterval => {
    const span = periodWorkingDays(calendar, dateInChina(s.from), dateInChina(s.to));
    calendarGap ??= span.calendarGap;
    const { workingDays } = span;
    if (workingDays !== null) byStage[s.stage] += workingDays;
    return { ...s, workingDays };
  });
  return { intervals, workingDaysByStage: byStage, calendarGap };
}
