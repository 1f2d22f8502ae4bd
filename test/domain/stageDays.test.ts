// Working days per stage (domain/stageDays.ts), counted on the shipped calendar around National Day
// 2025 and worked out by hand from the State Council's 2025 notice: 10-01..10-08 off (国庆节、
// 中秋节), Sunday 09-28 and Saturday 10-11 worked, other weekends off. Working days from 09-26 to
// 10-20: 09-26, 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13, 10-14, 10-15, 10-16, 10-17, 10-20.
// Instants are UTC; China dates are 8 hours ahead.
import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../../domain/calendar.js';
import { workingDaysHeld, custodyOf } from '../../domain/handoffs.js';
import { workingDaysPerStage, type StageEvent } from '../../domain/stageDays.js';
import { testCalendar } from '../../harness/calendar.js';

const calendar = testCalendar('2025-10-20');
const ev = (stage: string, at: string, type = 'x'): StageEvent & { type: string; data: Record<string, unknown> } => ({ stage, at, type, data: {} });

/** A mailed case with two correction rounds, one asked for at precheck, one during review. */
const mailCase = [
  ev('intake', '2025-09-25T02:00:00Z', 'case.submitted'),
  ev('precheck', '2025-09-25T03:00:00Z', 'precheck.started'),
  ev('precheck', '2025-09-26T02:00:00Z', 'precheck.passed'),
  ev('correction', '2025-09-26T02:00:01Z', 'correction.notice_issued'),
  ev('correction', '2025-10-09T16:30:00Z', 'correction.supplemented'),
  ev('transfer', '2025-10-10T01:00:00Z', 'material.transferred'),
  ev('review', '2025-10-10T02:00:00Z', 'review.started'),
  ev('correction', '2025-10-13T02:00:00Z', 'correction.notice_issued'),
  ev('review', '2025-10-15T02:00:00Z', 'correction.answered'),
  ev('decision', '2025-10-17T02:00:00Z', 'decision.approved'),
  ev('delivery', '2025-10-17T03:00:00Z', 'delivery.mailed'),
  ev('delivery', '2025-10-20T02:00:00Z', 'delivery.confirmed'),
  ev('closed', '2025-10-20T02:00:01Z', 'case.completed'),
  // Recorded after the closing (a rating): not read.
  ev('review', '2025-10-22T02:00:00Z', 'evaluation.recorded'),
];
const CLOSED_AT = '2025-10-20T02:00:01Z';

describe('working days per stage', () => {
  it('When a case crosses a holiday and weekends, and enters correction and review twice, then each stage counts the working days after it began up to the day it ended, both visits added', () => {
    const reading = workingDaysPerStage(mailCase, CLOSED_AT, calendar);
    expect(reading.intervals.map((i) => [i.stage, i.from, i.to, i.workingDays])).toEqual([
      // 09-25 → 09-25: same day
      ['intake', '2025-09-25T02:00:00.000Z', '2025-09-25T03:00:00.000Z', 0],
      // 09-25 → 09-26: 09-26
      ['precheck', '2025-09-25T03:00:00.000Z', '2025-09-26T02:00:01.000Z', 1],
      // 09-26 → 10-10 (China date of 10-09 16:30 UTC is 10-10; the supplement stays in correction):
      // 09-27 Saturday off, 09-28 Sunday worked, 09-29, 09-30, 10-01..10-08 off, 10-09, 10-10 = 5
      ['correction', '2025-09-26T02:00:01.000Z', '2025-10-10T01:00:00.000Z', 5],
      // 10-10 → 10-10
      ['transfer', '2025-10-10T01:00:00.000Z', '2025-10-10T02:00:00.000Z', 0],
      // 10-10 → 10-13: 10-11 Saturday worked, 10-12 Sunday off, 10-13 = 2
      ['review', '2025-10-10T02:00:00.000Z', '2025-10-13T02:00:00.000Z', 2],
      // 10-13 → 10-15: 10-14, 10-15 = 2
      ['correction', '2025-10-13T02:00:00.000Z', '2025-10-15T02:00:00.000Z', 2],
      // 10-15 → 10-17: 10-16, 10-17 = 2
      ['review', '2025-10-15T02:00:00.000Z', '2025-10-17T02:00:00.000Z', 2],
      ['decision', '2025-10-17T02:00:00.000Z', '2025-10-17T03:00:00.000Z', 0],
      // 10-17 → 10-20: 10-18, 10-19 weekend off, 10-20 = 1
      ['delivery', '2025-10-17T03:00:00.000Z', '2025-10-20T02:00:01.000Z', 1],
    ]);
    expect(reading.workingDaysByStage).toEqual({ intake: 0, precheck: 1, correction: 7, transfer: 0, review: 4, decision: 0, delivery: 1 });
    expect(reading.calendarGap).toBeNull();
    // The stages add up to the case's working days from submission to closing, as custody does.
    const total = Object.values(reading.workingDaysByStage).reduce((a, b) => a + b, 0);
    expect(total).toBe(calendar.workingDaysBetween('2025-09-25', '2025-10-20'));
    expect(total).toBe(13);
  });

  it('When there is no closing event, then the closing instant ends the last stage, and no event after it is read', () => {
    const withdrawn = [ev('intake', '2025-10-09T02:00:00Z'), ev('precheck', '2025-10-09T02:00:01Z'), ev('review', '2025-10-14T07:00:00Z'), ev('decision', '2025-10-21T01:00:00Z')];
    const reading = workingDaysPerStage(withdrawn, new Date('2025-10-16T09:00:00Z'), calendar);
    // precheck 10-09 → 10-14: 10-10, 10-11 (worked Saturday), 10-13, 10-14 = 4; review 10-14 → 10-16: 10-15, 10-16 = 2.
    expect(reading.intervals.map((i) => [i.stage, i.to, i.workingDays])).toEqual([
      ['intake', '2025-10-09T02:00:01.000Z', 0],
      ['precheck', '2025-10-14T07:00:00.000Z', 4],
      ['review', '2025-10-16T09:00:00.000Z', 2],
    ]);
    expect(reading.workingDaysByStage).toMatchObject({ precheck: 4, review: 2, decision: 0 });
  });

  it('When the stage counts and custody read the same case, then both count the same working days in total', () => {
    const custody = workingDaysHeld(custodyOf(mailCase, CLOSED_AT), CLOSED_AT, calendar);
    const stages = workingDaysPerStage(mailCase, CLOSED_AT, calendar);
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    // Custody ends with the mailed result's receipt (10-20 02:00), the stages with the closing a second later, the same day.
    expect(sum(stages.workingDaysByStage)).toBe(sum(custody.workingDaysBySide));
  });

  it('When the calendar data does not reach a stage’s end, then that stage has no count and the gap is named', () => {
    const short = WorkingCalendar.fromWindow({ from: '2025-09-01', to: '2025-10-14', holidays: [], workingWeekends: [] });
    const reading = workingDaysPerStage(mailCase, CLOSED_AT, short);
    expect(reading.intervals.map((i) => i.workingDays)).toEqual([0, 1, 10, 0, 1, null, null, 0, null]);
    expect(reading.calendarGap).toMatch(/does not cover 2025-10-15/);
    // No holidays in this window: 09-26 → 10-10 is ten weekdays; 10-10 → 10-13 one (10-13).
    expect(reading.workingDaysByStage).toEqual({ intake: 0, precheck: 1, correction: 10, transfer: 0, review: 1, decision: 0, delivery: 0 });
  });

  it('When an event has an unreadable instant, then it is skipped; when the closing is unreadable, then it is an error', () => {
    const reading = workingDaysPerStage([ev('intake', '2025-10-09T02:00:00Z'), ev('review', 'not a time'), ev('closed', '2025-10-10T02:00:00Z')], '2025-10-10T02:00:00Z', calendar);
    expect(reading.intervals.map((i) => [i.stage, i.workingDays])).toEqual([['intake', 1]]);
    expect(() => workingDaysPerStage([], 'never', calendar)).toThrow(RangeError);
  });
});
