// The SLA report (GET /v1/reports/sla): how the cases of the caller's region kept their promised
// and statutory limits in a period, per item, region or province pair, with a weekly trend. A case
// counts when the caller's scope covers either of its sides. It carries counts and means only,
// never a case id or personal data, so managers (who see no personal data) may read it.
// Which instant each figure is dated by is in docs/reports.md; the SQL is db/reports.ts.
import type pg from 'pg';
import type { WorkingCalendar } from '../domain/calendar.js';
import { dateInChina, epochDay, fromEpochDay } from '../domain/dates.js';
import { custodyOf, workingDaysHeld } from '../domain/handoffs.js';
import { PROVINCES } from '../domain/regions.js';
import { COUNTED_STAGES, workingDaysPerStage, type CountedStage } from '../domain/stageDays.js';
import { EVALUATION_LEVELS, type EvaluationLevel } from '../db/evaluations.js';
import { evaluationsByGroup, openFigures, saveCustody, settledFigures, uncountedCustody, type OpenRow, type ReportGrouping, type SettledRow } from '../db/reports.js';
import type { StaffClaims } from './auth.js';

export interface ReportDeps {
  pool: pg.Pool;
  calendar: WorkingCalendar;
}

export interface LimitFigures {
  /** Decided cases the clock had read this limit for. */
  measured: number;
  /** Of those, decided before the limit turned red. */
  onTime: number;
  late: number;
  /** onTime / measured, four decimals; null when nothing was measured. */
  rate: number | null;
}

export interface ReportFigures {
  /** Cases whose outcome was fixed in the period: decided, or closed without a decision. */
  cases: number;
  decided: number;
  approved: number;
  rejected: number;
  promised: LimitFigures;
  statutory: LimitFigures;
  /** Now: the cases still running undecided, and those yellow (at risk) or red (overdue). */
  open: { cases: number; atRisk: number; overdue: number };
  /** Mean working days each party held the period's closed cases (hand-off ledger custody). */
  workingDaysHeld: { cases: number; receiving: number | null; handling: number | null; applicant: number | null; post: number | null };
  /** Mean working days the period's closed cases spent in each stage (from their recorded events), and how many cases the means are over. */
  workingDaysPerStage: { cases: number } & Record<CountedStage, number | null>;
  /** Correction rounds (both sides together) of the period's cases. */
  correctionRounds: { '0': number; '1': number; '2': number; '3+': number };
  /** 好差评 recorded in the period, per level, and the 差评 among them whose follow-up is still open. */
  evaluations: { total: number; byLevel: Record<EvaluationLevel, number>; openFollowUps: number };
}

export interface ReportGroup extends ReportFigures {
  key: string;
  /** The item's name, the region's province, or the pair's provinces. */
  name: string;
}

export interface WeekFigures {
  /** ISO week, China time: 2026-W47. */
  week: string;
  /** Its Monday. */
  from: string;
  cases: number;
  decided: number;
  promised: LimitFigures;
  statutory: LimitFigures;
}

export interface SlaReport {
  region: string;
  from: string;
  to: string;
  groupBy: ReportGrouping;
  generatedAt: string;
  groups: ReportGroup[];
  total: ReportFigures & { followUps: { open: number; overdue: number; escalated: number; resolved: number; unresolved: number } };
  weekly: WeekFigures[];
}

const rate = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10000) / 10000);
const limit = (measured: number, onTime: number): LimitFigures => ({ measured, onTime, late: measured - onTime, rate: rate(onTime, measured) });
const noLevels = () => Object.fromEntries(EVALUATION_LEVELS.map((l) => [l, 0])) as Record<EvaluationLevel, number>;

function emptySettled(): Omit<SettledRow, 'key' | 'week' | 'name'> {
  return {
    cases: 0, decided: 0, approved: 0, rejected: 0, promisedMeasured: 0, promisedOnTime: 0, statutoryMeasured: 0, statutoryOnTime: 0, rounds0: 0, rounds1: 0, rounds2: 0, rounds3plus: 0,
    custodyCases: 0, receiving: null, handling: null, applicant: null, post: null, uncounted: 0,
    stageCases: 0, stageUncounted: 0, stages: Object.fromEntries(COUNTED_STAGES.map((s) => [s, null])) as Record<CountedStage, number | null>,
  };
}

function figures(s: Omit<SettledRow, 'key' | 'week' | 'name'> | undefined, o: OpenRow | undefined): Omit<ReportFigures, 'evaluations'> {
  const x = s ?? emptySettled();
  return {
    cases: x.cases,
    decided: x.decided,
    approved: x.approved,
    rejected: x.rejected,
    promised: limit(x.promisedMeasured, x.promisedOnTime),
    statutory: limit(x.statutoryMeasured, x.statutoryOnTime),
    open: { cases: o?.open ?? 0, atRisk: o?.atRisk ?? 0, overdue: o?.overdue ?? 0 },
    workingDaysHeld: { cases: x.custodyCases, receiving: x.receiving, handling: x.handling, applicant: x.applicant, post: x.post },
    workingDaysPerStage: { cases: x.stageCases, ...x.stages },
    correctionRounds: { '0': x.rounds0, '1': x.rounds1, '2': x.rounds2, '3+': x.rounds3plus },
  };
}

function provinceName(code: string): string {
  return PROVINCES[`${code.slice(0, 2)}0000`] ?? code;
}

function groupName(groupBy: ReportGrouping, key: string, itemName: string | null): string {
  if (groupBy === 'item') return itemName ?? key;
  if (groupBy === 'pair') {
    const [receiving = '', handling = ''] = key.split('-');
    return `${provinceName(receiving)}→${provinceName(handling)}`;
  }
  return provinceName(key);
}

/** The ISO week (China time) of a Monday: 2026-11-16 → 2026-W47. */
export function isoWeek(monday: string): string {
  const day = epochDay(monday);
  // The ISO year is the year of the week's Thursday; week 1 holds that year's first Thursday.
  const thursday = fromEpochDay(day + 3);
  const year = Number(thursday.slice(0, 4));
  const week = Math.floor((epochDay(thursday) - epochDay(`${year}-01-01`)) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Mondays of the weeks [from, to) touches. */
function weeksOf(from: string, to: string): string[] {
  const first = epochDay(from);
  // epoch day 0 (1970-01-01) was a Thursday: Monday is (day - 4) mod 7 == 0.
  let monday = first - ((((first - 4) % 7) + 7) % 7);
  const out: string[] = [];
  for (; monday < epochDay(to); monday += 7) out.push(fromEpochDay(monday));
  return out;
}

/**
 * Counts the custody and the working days per stage of the period's closed cases that have not
 * been counted yet (once per case: a closed case's figures are final) and keeps them, so reports
 * read stored figures. A case whose custody was kept before migration 023 gets its stage figures
 * here (saveCustody leaves its custody as it was).
 */
async function countCustody(deps: ReportDeps, scope: string, from: string, to: string): Promise<void> {
  const pending = await uncountedCustody(deps.pool, scope, from, to);
  const rows = pending.map((p) => {
    const reading = workingDaysHeld(custodyOf(p.events, p.closedAt), p.closedAt, deps.calendar);
    const stages = workingDaysPerStage(p.stageEvents, p.closedAt, deps.calendar);
    return { caseId: p.caseId, days: reading.workingDaysBySide, stageDays: stages.workingDaysByStage, calendarGap: reading.calendarGap !== null || stages.calendarGap !== null };
  });
  for (let i = 0; i < rows.length; i += 5000) await saveCustody(deps.pool, rows.slice(i, i + 5000));
}

const FOLLOW_UP_COUNTS = ['open', 'overdue', 'escalated', 'resolved', 'unresolved'] as const;

export async function slaReport(deps: ReportDeps, staff: StaffClaims, q: { from: string; to: string; groupBy: ReportGrouping }, now = new Date()): Promise<SlaReport> {
  const scope = staff.region;
  const [first, open, evaluations] = await Promise.all([
    settledFigures(deps.pool, scope, q.groupBy, q.from, q.to),
    openFigures(deps.pool, scope, q.groupBy),
    evaluationsByGroup(deps.pool, scope, q.groupBy, q.from, q.to, dateInChina(now)),
  ]);
  let settled = first;
  // Closed cases whose custody or stage figures no report has counted yet: count them, then read the period again.
  const totalRow = settled.find((r) => r.key === null && r.week === null);
  if (totalRow && totalRow.uncounted + totalRow.stageUncounted > 0) {
    await countCustody(deps, scope, q.from, q.to);
    settled = await settledFigures(deps.pool, scope, q.groupBy, q.from, q.to);
  }

  const keys = new Set<string>();
  const names = new Map<string, string>();
  for (const r of [...settled, ...open]) {
    if (r.key === null) continue;
    keys.add(r.key);
    if (r.name) names.set(r.key, r.name);
  }
  for (const r of evaluations) keys.add(r.key);

  const evaluationsOf = (key: string | null) => {
    const byLevel = noLevels();
    const followUps = { open: 0, overdue: 0, escalated: 0, resolved: 0, unresolved: 0 };
    for (const r of evaluations.filter((e) => key === null || e.key === key)) {
      byLevel[r.level] += r.n;
      followUps.open += r.openFollowUps;
      for (const k of FOLLOW_UP_COUNTS) if (k !== 'open') followUps[k] += r[k];
    }
    return { total: Object.values(byLevel).reduce((a, b) => a + b, 0), byLevel, followUps };
  };

  const groups: ReportGroup[] = [...keys].sort().map((key) => {
    const e = evaluationsOf(key);
    return {
      key,
      name: groupName(q.groupBy, key, names.get(key) ?? null),
      ...figures(
        settled.find((r) => r.key === key && r.week === null),
        open.find((r) => r.key === key),
      ),
      evaluations: { total: e.total, byLevel: e.byLevel, openFollowUps: e.followUps.open },
    };
  });

  const all = evaluationsOf(null);
  const total = {
    ...figures(
      settled.find((r) => r.key === null && r.week === null),
      open.find((r) => r.key === null),
    ),
    evaluations: { total: all.total, byLevel: all.byLevel, openFollowUps: all.followUps.open },
    followUps: all.followUps,
  };

  const weekly = weeksOf(q.from, q.to).map((monday): WeekFigures => {
    const w = settled.find((r) => r.week === monday) ?? { ...emptySettled() };
    return { week: isoWeek(monday), from: monday, cases: w.cases, decided: w.decided, promised: limit(w.promisedMeasured, w.promisedOnTime), statutory: limit(w.statutoryMeasured, w.statutoryOnTime) };
  });

  return { region: scope, from: q.from, to: q.to, groupBy: q.groupBy, generatedAt: now.toISOString(), groups, total, weekly };
}

// ---- CSV -------------------------------------------------------------------------------------

const csvCell = (v: string | number | null) => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvLines = (rows: (string | number | null)[][]) => rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';

/** The groups table (one row per group, then the total), as CSV with a header row. */
export function groupsCsv(r: SlaReport): string {
  const header = [
    'group', 'name', 'cases', 'decided', 'approved', 'rejected',
    'promised_measured', 'promised_on_time', 'promised_late', 'promised_rate',
    'statutory_measured', 'statutory_on_time', 'statutory_late', 'statutory_rate',
    'open', 'at_risk', 'overdue',
    'custody_cases', 'days_receiving', 'days_handling', 'days_applicant', 'days_post',
    'rounds_0', 'rounds_1', 'rounds_2', 'rounds_3_plus',
    'evaluations', ...EVALUATION_LEVELS, 'open_follow_ups',
    // Added after the columns above (readers go by name or position): the mean working days per stage.
    ...COUNTED_STAGES.map((s) => `stage_days_${s}`),
  ];
  const row = (key: string, name: string, f: ReportFigures) => [
    key, name, f.cases, f.decided, f.approved, f.rejected,
    f.promised.measured, f.promised.onTime, f.promised.late, f.promised.rate,
    f.statutory.measured, f.statutory.onTime, f.statutory.late, f.statutory.rate,
    f.open.cases, f.open.atRisk, f.open.overdue,
    f.workingDaysHeld.cases, f.workingDaysHeld.receiving, f.workingDaysHeld.handling, f.workingDaysHeld.applicant, f.workingDaysHeld.post,
    f.correctionRounds['0'], f.correctionRounds['1'], f.correctionRounds['2'], f.correctionRounds['3+'],
    f.evaluations.total, ...EVALUATION_LEVELS.map((l) => f.evaluations.byLevel[l]), f.evaluations.openFollowUps,
    ...COUNTED_STAGES.map((s) => f.workingDaysPerStage[s]),
  ];
  return csvLines([header, ...r.groups.map((g) => row(g.key, g.name, g)), row('total', '合计', r.total)]);
}

/** The weekly trend as CSV. */
export function weeklyCsv(r: SlaReport): string {
  const header = ['week', 'from', 'cases', 'decided', 'promised_measured', 'promised_on_time', 'promised_rate', 'statutory_measured', 'statutory_on_time', 'statutory_rate'];
  return csvLines([
    header,
    ...r.weekly.map((w) => [w.week, w.from, w.cases, w.decided, w.promised.measured, w.promised.onTime, w.promised.rate, w.statutory.measured, w.statutory.onTime, w.statutory.rate]),
  ]);
}
