// GET /v1/cases/:caseId/deadlines: the promised (承诺) and statutory (法定) time limits of a case,
// computed by the pure clock (domain/clock.ts) on the working-day calendar from the case's
// recorded events, with the derivation a supervisor can check by hand: the start day, the limit,
// each holiday and adjusted weekend, each pause with its reason, each extension.
//
// The clock starts the day the handling authority received the materials (review.started), or the
// day art. 32 deems the application accepted; time waiting for the applicant's supplement to the
// authority's notice and art. 45 procedures do not count; approved extensions (art. 42) add their
// days. A closed case's clock stops on the day it closed.
import type pg from 'pg';
import { CalendarRangeError, dateInChina, type WorkingCalendar } from '../domain/calendar.js';
import { clockInputsFromEvents, readClock, type ClockReading } from '../domain/clock.js';
import type { SlaSettings } from '../domain/sla.js';
import { findClockInputs } from '../db/clockInputs.js';
import { isOpenStatus, type CaseStatus } from '../domain/case.js';
import { problem } from './problem.js';

export interface Deadlines {
  caseId: string;
  /** Whether the clock has started (the handling authority has the materials). */
  started: boolean;
  /** The day the figures are for: today, or the day the case closed. */
  asOf: string;
  /** null when the clock has not started, or when the calendar data does not reach the limit's end (see calendarGap). */
  promised: ClockReading | null;
  statutory: ClockReading | null;
  /**
   * Art. 44: the result must reach the applicant within 10 working days of the approval. Null until
   * approved; counted to the day it was delivered (issued electronically, or confirmed), else to today.
   */
  delivery: (ClockReading & { approvedOn: string; deliveredOn: string | null }) | null;
  /** Why a limit could not be computed: the calendar data ends before it. */
  calendarGap?: string | null;
}

/** 行政许可法 art. 44: the result reaches the applicant within 10 working days of the decision. */
export const DELIVERY_LIMIT_WORKING_DAYS = 10;

export async function caseDeadlines(pool: pg.Pool, calendar: WorkingCalendar, sla: SlaSettings, caseId: string, now = new Date()): Promise<Deadlines> {
  const inputs = await findClockInputs(pool, caseId);
  if (!inputs) throw problem(404, `no case ${caseId}`);
  const asOf = !isOpenStatus(inputs.status as CaseStatus) && inputs.closedAt ? dateInChina(inputs.closedAt) : dateInChina(now);
  const { start, pauses, extensions } = clockInputsFromEvents(inputs.events);
  if (!start) return { caseId, started: false, asOf, promised: null, statutory: null, delivery: null, calendarGap: null };
  // Each limit on its own: a statutory limit that runs past the calendar data must not hide the
  // promised one that does not. The gap is named, never guessed over.
  let calendarGap: string | null = null;
  const read = (limitDays: number): ClockReading | null => {
    try {
      return readClock(calendar, { start, limitDays, pauses, extensions, today: asOf, ...sla });
    } catch (e) {
      if (!(e instanceof CalendarRangeError)) throw e;
      calendarGap = `the working-day calendar does not cover ${e.date} (it covers ${e.covered.from} to ${e.covered.to}); the year's State Council notice must be added (docs/calendar.md)`;
      return null;
    }
  };
  const promised = read(inputs.promisedDays);
  const statutory = read(inputs.statutoryDays);
  if (!promised && !statutory && calendarGap) throw problem(422, calendarGap);
  let delivery: Deadlines['delivery'] = null;
  if (inputs.approvedAt) {
    const approvedOn = dateInChina(inputs.approvedAt);
    const deliveredOn = inputs.deliveredAt ? dateInChina(inputs.deliveredAt) : null;
    try {
      const reading = readClock(calendar, { start: approvedOn, limitDays: DELIVERY_LIMIT_WORKING_DAYS, pauses: [], extensions: [], today: deliveredOn ?? asOf, ...sla });
      delivery = { ...reading, approvedOn, deliveredOn };
    } catch (e) {
      if (!(e instanceof CalendarRangeError)) throw e;
      calendarGap ??= `the working-day calendar does not cover ${e.date} (it covers ${e.covered.from} to ${e.covered.to}); the year's State Council notice must be added (docs/calendar.md)`;
    }
  }
  return { caseId, started: true, asOf, promised, statutory, delivery, calendarGap };
}
