// Corrections (补正), on both sides. When the receiving window's precheck or the handling
// authority's review finds materials missing or wrong, the case issues one notice listing every
// deficiency at once (一次性告知, art. 32), waits at stage `correction` with status
// `awaiting_supplement` for the applicant's supplement, and closes as `not_supplemented` if the
// supplement deadline (the item's supplementDays, in working days) passes first. Rounds are counted
// per side; past the item's maxCorrectionRounds a notice is still processed but flagged.
//
// Working days reach the workflow only through the calendar activities (a local activity result,
// pinned in history). With the test and demo seam `timing.workingDayMs`, the deadline timer lasts
// supplementDays × workingDayMs instead of running to the end of the due date (docs/case-workflow.md).
import { condition, proxyLocalActivities } from '@temporalio/workflow';
import type { CalendarActivities } from '../../activities/index.js';
import type { CorrectionSide, Deficiency, MaterialRef } from '../../domain/case.js';
import { dateInChina } from '../../domain/dates.js';
import type { SupplementCommand } from '../messages.js';
import { enter, type CaseRun } from './run.js';
import { step } from './step.js';

/** Corrections replaced the precheck's closing of a case and taught the review its notices. */
export const CORRECTIONS_PATCH = 'corrections';

const DEFAULT_MAX_ROUNDS = 1;
const DEFAULT_SUPPLEMENT_DAYS = 10;
/** 行政许可法 art. 32: a notice later than this after the materials arrived deems the application accepted. */
const NOTICE_LIMIT_WORKING_DAYS = 5;

const calendar = proxyLocalActivities<CalendarActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/** The first instant after a China date has ended. */
function endOfChinaDate(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`) + 24 * 60 * 60 * 1000;
}

/**
 * Issues a notice for `deficiencies` and waits for its supplement. Returns the supplement, or null
 * when the deadline passed (the case is then closed as not_supplemented; `onExpiry` runs first,
 * e.g. to tell the province).
 */
export async function awaitSupplement(
  c: CaseRun,
  side: CorrectionSide,
  deficiencies: Deficiency[],
  opts: { noticeId?: string; onExpiry?: () => Promise<string | null> } = {},
): Promise<SupplementCommand | null> {
  const { state, input } = c;
  const rounds = state.correctionRounds ?? { receiving: 0, handling: 0 };
  const round = rounds[side] + 1;
  state.correctionRounds = { ...rounds, [side]: round };
  const maxRounds = input.item.review?.maxCorrectionRounds ?? DEFAULT_MAX_ROUNDS;
  const supplementDays = input.item.review?.supplementDays ?? DEFAULT_SUPPLEMENT_DAYS;

  const today = dateInChina(new Date());
  const due = await supplementDueDate(c, today, supplementDays);
  const noticeId = opts.noticeId ?? `${c.caseId}:${side}:${round}`;
  state.correction = { noticeId, side, round, deficiencies, issuedAt: new Date().toISOString(), supplementDue: due.date };
  enter(c, 'correction', 'awaiting_supplement');
  await c.record('correction.notice_issued', { noticeId, side, round, deficiencies, supplementDue: due.date });
  if (round > maxRounds) await c.record('correction.rounds_exceeded', { side, round, maxRounds });

  const waitMs = input.timing.workingDayMs ? supplementDays * input.timing.workingDayMs : Math.max(1, endOfChinaDate(due.date!) - Date.now());
  c.supplement = null;
  const answered = await condition(() => c.supplement?.noticeId === noticeId, waitMs);
  if (!answered) {
    const province = (await opts.onExpiry?.()) ?? null;
    state.correction = null;
    enter(c, 'closed', 'not_supplemented');
    await c.record('correction.expired', { noticeId, side, round, supplementDue: due.date, province });
    return null;
  }
  const supplement = c.supplement!;
  state.correction = null;
  enter(c, 'correction', 'active');
  await c.record(
    'correction.supplemented',
    { noticeId, side, round, items: supplement.items.map(({ materialCode, fileId, sha256, size, contentType }) => ({ materialCode, fileId, sha256, size, contentType })) },
    supplement.actor,
  );
  return supplement;
}

/**
 * The last day to supplement, on the calendar. A date the calendar does not cover is an explicit
 * error that waits for a person (the year's notice must be added, docs/calendar.md); only under
 * the test and demo seam, where the timer does not depend on it, is the date shown left empty.
 */
async function supplementDueDate(c: CaseRun, today: string, days: number): Promise<{ date: string | null }> {
  if (!c.input.timing.workingDayMs) return step(c, 'supplementDeadline', () => calendar.addWorkingDays({ from: today, days }));
  try {
    return await calendar.addWorkingDays({ from: today, days });
  } catch {
    return { date: null };
  }
}

/** The case's materials with each supplemented one replaced (or added). */
export function applySupplement(c: CaseRun, supplement: SupplementCommand): MaterialRef[] {
  const replaced = new Map(supplement.items.map((i) => [i.materialCode, i]));
  const materials = c.materials.map((m) => {
    const s = replaced.get(m.materialCode);
    return s ? { materialCode: m.materialCode, fileId: s.fileId, sha256: s.sha256, size: s.size, contentType: s.contentType } : m;
  });
  for (const s of supplement.items) {
    if (!c.materials.some((m) => m.materialCode === s.materialCode)) {
      materials.push({ materialCode: s.materialCode, fileId: s.fileId, sha256: s.sha256, size: s.size, contentType: s.contentType });
    }
  }
  c.materials = materials;
  return materials;
}

/**
 * Art. 32: whether the handling authority's first notice came more than 5 working days after it
 * received the materials. Counted on the calendar, or on the seam's working-day length.
 */
export async function noticeWasLate(c: CaseRun, noticeAt: string): Promise<{ late: boolean; receivedOn: string; noticeOn: string; workingDays: number } | null> {
  if (!c.materialsReceivedAt) return null;
  const receivedMs = Date.parse(c.materialsReceivedAt);
  const noticeMs = Date.parse(noticeAt);
  if (Number.isNaN(noticeMs)) return null;
  const receivedOn = dateInChina(new Date(receivedMs));
  const noticeOn = dateInChina(new Date(noticeMs));
  const workingDays = c.input.timing.workingDayMs
    ? Math.floor((noticeMs - receivedMs) / c.input.timing.workingDayMs)
    : await step(c, 'noticeDelay', () => calendar.workingDaysBetween({ from: receivedOn, to: noticeOn }));
  return { late: workingDays > NOTICE_LIMIT_WORKING_DAYS, receivedOn, noticeOn, workingDays };
}
