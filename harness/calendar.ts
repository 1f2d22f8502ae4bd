// The working-day calendar for tests, benchmarks and history recording that count deadlines from
// today. The shipped data (calendar/) ends with the last year whose State Council notice is
// published; a test run in that year's last weeks, or later, would count past its end and every
// such case would wait for a person (correct in production, docs/calendar.md). So these runs use the
// shipped years as they are, followed by placeholder years up to the year after today: weekends
// off, 1 January off (fixed by the national holiday regulation), nothing else. A placeholder is
// marked as such in its source and is never loaded by the product: the worker and the api of
// `npm start` read calendar/ only, and warn when it runs short (worker/system.ts).
import { readCalendarYears } from '../calendar/load.js';
import { dateInChina, WorkingCalendar, type CalendarYear } from '../domain/calendar.js';

/** The title every placeholder year carries, so no one mistakes it for a notice. */
export const PLACEHOLDER_TITLE = '测试用占位数据（非国务院通知）: placeholder for tests until the notice is added';

function placeholderYear(year: number): CalendarYear {
  return {
    year,
    source: { title: PLACEHOLDER_TITLE, date: `${year - 1}-12-31` },
    holidays: [{ name: '元旦', nameEn: "New Year's Day", from: `${year}-01-01`, to: `${year}-01-01` }],
    adjustedWorkingDays: [],
  };
}

/** The shipped years, then a placeholder for each later year up to the year after `today`. */
export function testCalendarYears(today: string = dateInChina(new Date())): CalendarYear[] {
  const years = readCalendarYears();
  const last = Math.max(...years.map((y) => y.year));
  const until = Number(today.slice(0, 4)) + 1;
  for (let y = last + 1; y <= until; y++) years.push(placeholderYear(y));
  return years;
}

/** The calendar of testCalendarYears(). */
export function testCalendar(today?: string): WorkingCalendar {
  return WorkingCalendar.fromYears(testCalendarYears(today));
}
