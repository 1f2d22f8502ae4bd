// GET /v1/reports/sla: figures checked against ones computed by hand from rows written straight
// into the projection (cases, their events, evaluations), in provinces no other test uses
// (贵州 520000, 云南 530000, 广西 450000), over the two ISO weeks 2026-11-02 .. 2026-11-15.
//
// The cases, scope 520000 (a case counts when the scope covers either side):
// | case | item | receiving → handling | outcome fixed (China time) | promised / statutory | rounds | state now |
// | c1 | A | 520100 → 530100 | approved 11-02 00:00 (the period's first instant) | green / green | 1 | closed 11-03 (delivered) |
// | c2 | A | 520100 → 530100 | approved 11-15 23:30 | red / green | 2 | open, in delivery |
// | c3 | B | 530100 → 520100 | rejected 11-12 16:00 | red / red | 0 | closed 11-12 |
// | c4 | B | 520100 → 530100 | withdrawn 11-04 09:00, no decision | (no clock) | 3 | closed |
// | c5 | A | 520100 → 530100 | (running) | red | 0 | open |
// | c6 | B | 530100 → 520100 | (running) | yellow | 0 | open |
// | c7 | A | 520102 → 530100 | (running) | green | 0 | awaiting supplement |
// | c8 | A | 520100 → 530100 | approved 11-16 00:00 (the first instant after the period) | green / green | 0 | closed |
// | c9 | A | 450100 → 530100 | approved 11-05 | green / green | 0 | closed (outside 520000) |
// Custody (working days on the 2026 calendar): c1 receiving 10-28 → 10-29 = 1, handling 10-29 →
// 11-03 = 3; c3 receiving 11-09 → 11-10 = 1, handling 11-10 → 11-12 = 2; c4 receiving 11-02 → 11-04 = 2.
// Stages (from each event's stage to the next event's other stage, China dates; 10-31/11-01 and
// 11-07/11-08 are weekends): c1 intake and precheck 10-28 (0), transfer 10-28 → 10-29 = 1, review
// 10-29 → 11-02 (the decision at 11-02 00:00) = 2, decision 11-02 → 11-03 = 1, delivery 0 (closed at
// the issue); c3 transfer 11-09 → 11-10 = 1, review 11-10 → 11-12 = 2; c4 precheck 11-02 → 11-03 =
// 1, correction 11-03 → 11-04 (withdrawn) = 1. Each case's stages add up to its custody.
// Evaluations: c1 满意 (11-06), c3 不满意 with its follow-up open (11-13), c4 非常满意 (11-20, after the period).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
const suffix = randomUUID().slice(0, 8);
const itemA = testItem(`report-a-${suffix}`);
const itemB = { ...testItem(`report-b-${suffix}`), name: '测试事项乙' };
const ids: Record<string, string> = {};
const PERIOD = 'from=2026-11-02&to=2026-11-16';

interface CaseSetup {
  item: typeof itemA;
  receiving: string;
  handling: string;
  submittedAt: string;
  status: string;
  stage: string;
  decision?: { outcome: 'approved' | 'rejected'; at: string };
  closedAt?: string;
  sla?: { promised: string; statutory: string; state: string };
  rounds?: { receiving: number; handling: number };
  /** Recorded events: type, instant and the stage the case was in. */
  events?: [type: string, at: string, stage: string][];
}

async function seed(name: string, c: CaseSetup) {
  const caseId = await insertProjectedCase(h, { item: c.item, receivingRegion: c.receiving, handlingRegion: c.handling, submittedAt: new Date(c.submittedAt) });
  const limit = (state: string) => ({ state, dueAt: '2026-11-20T15:59:59.999Z', limitDays: 5, used: 3, remaining: 2 });
  await h.pool.query(
    `UPDATE cases SET status = $2, stage = $3, decision = $4, closed_at = $5, sla = $6, sla_state = $7, correction_rounds = $8 WHERE case_id = $1`,
    [
      caseId,
      c.status,
      c.stage,
      c.decision ? JSON.stringify({ outcome: c.decision.outcome, reasons: [], at: c.decision.at }) : null,
      c.closedAt ?? null,
      c.sla ? JSON.stringify({ state: c.sla.state, promised: limit(c.sla.promised), statutory: limit(c.sla.statutory), escalatedAt: null, settled: !!c.decision, readAt: c.submittedAt }) : null,
      c.sla?.state ?? null,
      JSON.stringify(c.rounds ?? { receiving: 0, handling: 0 }),
    ],
  );
  for (const [i, [type, at, stage]] of (c.events ?? []).entries()) {
    await h.pool.query(`INSERT INTO case_events (case_id, seq, type, stage, status, actor, at, data) VALUES ($1, $2, $3, $4, 'active', 'system', $5, '{}')`, [caseId, i + 1, type, stage, at]);
  }
  ids[name] = caseId;
}

async function evaluation(caseName: string, level: string, recordedAt: string, openFollowUp: boolean) {
  await h.pool.query(`INSERT INTO case_evaluations (case_id, level, channel, concerns, recorded_by, recorded_at) VALUES ($1, $2, 'window', 'handling', 'applicant', $3)`, [ids[caseName], level, recordedAt]);
  if (openFollowUp) {
    await h.pool.query(`INSERT INTO evaluation_follow_ups (case_id, side, region, opened_at, due_date) VALUES ($1, 'handling', '520100', $2, '2026-11-20')`, [ids[caseName], recordedAt]);
  }
}

beforeAll(async () => {
  h = await createApiHarness();
  await seed('c1', {
    item: itemA, receiving: '520100', handling: '530100', submittedAt: '2026-10-28T01:00:00Z', status: 'completed', stage: 'closed',
    decision: { outcome: 'approved', at: '2026-11-01T16:00:00.000Z' }, closedAt: '2026-11-03T01:00:00Z', sla: { promised: 'green', statutory: 'green', state: 'green' },
    rounds: { receiving: 1, handling: 0 },
    events: [
      ['case.submitted', '2026-10-28T01:00:00Z', 'intake'], ['precheck.passed', '2026-10-28T02:00:00Z', 'precheck'], ['material.transferred', '2026-10-28T03:00:00Z', 'transfer'],
      ['review.started', '2026-10-29T01:00:00Z', 'review'], ['decision.approved', '2026-11-01T16:00:00Z', 'decision'], ['delivery.issued', '2026-11-03T01:00:00Z', 'delivery'],
      ['case.completed', '2026-11-03T01:00:00Z', 'closed'],
    ],
  });
  await seed('c2', {
    item: itemA, receiving: '520100', handling: '530100', submittedAt: '2026-11-02T01:00:00Z', status: 'active', stage: 'delivery',
    decision: { outcome: 'approved', at: '2026-11-15T15:30:00.000Z' }, sla: { promised: 'red', statutory: 'green', state: 'red' }, rounds: { receiving: 1, handling: 1 },
  });
  await seed('c3', {
    item: itemB, receiving: '530100', handling: '520100', submittedAt: '2026-11-09T01:00:00Z', status: 'rejected', stage: 'closed',
    decision: { outcome: 'rejected', at: '2026-11-12T08:00:00.000Z' }, closedAt: '2026-11-12T08:00:00Z', sla: { promised: 'red', statutory: 'red', state: 'red' },
    events: [
      ['case.submitted', '2026-11-09T01:00:00Z', 'intake'], ['precheck.passed', '2026-11-09T02:00:00Z', 'precheck'], ['material.transferred', '2026-11-09T03:00:00Z', 'transfer'],
      ['review.started', '2026-11-10T01:00:00Z', 'review'], ['decision.rejected', '2026-11-12T08:00:00Z', 'decision'], ['case.closed', '2026-11-12T08:00:00Z', 'closed'],
    ],
  });
  await seed('c4', {
    item: itemB, receiving: '520100', handling: '530100', submittedAt: '2026-11-02T01:00:00Z', status: 'withdrawn', stage: 'closed',
    closedAt: '2026-11-04T01:00:00Z', rounds: { receiving: 2, handling: 1 },
    events: [
      ['case.submitted', '2026-11-02T01:00:00Z', 'intake'], ['precheck.passed', '2026-11-02T02:00:00Z', 'precheck'],
      // A reading of the clock while the receiving window waits for a supplement: the case is in correction.
      ['sla.changed', '2026-11-03T01:00:00Z', 'correction'], ['case.withdrawn', '2026-11-04T01:00:00Z', 'closed'],
    ],
  });
  await seed('c5', { item: itemA, receiving: '520100', handling: '530100', submittedAt: '2026-11-03T01:00:00Z', status: 'active', stage: 'review', sla: { promised: 'red', statutory: 'yellow', state: 'red' } });
  await seed('c6', { item: itemB, receiving: '530100', handling: '520100', submittedAt: '2026-11-03T01:00:00Z', status: 'active', stage: 'review', sla: { promised: 'yellow', statutory: 'green', state: 'yellow' } });
  await seed('c7', { item: itemA, receiving: '520102', handling: '530100', submittedAt: '2026-11-03T01:00:00Z', status: 'awaiting_supplement', stage: 'correction', sla: { promised: 'green', statutory: 'green', state: 'green' } });
  await seed('c8', {
    item: itemA, receiving: '520100', handling: '530100', submittedAt: '2026-11-10T01:00:00Z', status: 'completed', stage: 'closed',
    decision: { outcome: 'approved', at: '2026-11-15T16:00:00.000Z' }, closedAt: '2026-11-16T01:00:00Z', sla: { promised: 'green', statutory: 'green', state: 'green' },
  });
  await seed('c9', {
    item: itemA, receiving: '450100', handling: '530100', submittedAt: '2026-11-02T01:00:00Z', status: 'completed', stage: 'closed',
    decision: { outcome: 'approved', at: '2026-11-05T01:00:00.000Z' }, closedAt: '2026-11-05T02:00:00Z', sla: { promised: 'green', statutory: 'green', state: 'green' },
  });
  await evaluation('c1', '满意', '2026-11-06T02:00:00Z', false);
  await evaluation('c3', '不满意', '2026-11-13T02:00:00Z', true);
  await evaluation('c4', '非常满意', '2026-11-20T02:00:00Z', false);
});
afterAll(async () => {
  await h?.close();
});

const levels = (overrides: Record<string, number> = {}) => ({ 非常满意: 0, 满意: 0, 基本满意: 0, 不满意: 0, 非常不满意: 0, ...overrides });

async function report(role: 'manager' | 'supervisor' | 'clerk' | 'approver', region: string, query: string, headers: Record<string, string> = {}) {
  return h.app.inject({ method: 'GET', url: `/v1/reports/sla?${query}`, headers: { ...(await h.auth(role, region)), ...headers } });
}

interface Report {
  region: string;
  groups: ({ key: string; name: string } & Record<string, unknown>)[];
  total: Record<string, unknown>;
  weekly: Record<string, unknown>[];
}

describe('GET /v1/reports/sla', () => {
  it('When a province manager asks by item, then each item and the total carry the figures computed by hand', async () => {
    const res = await report('manager', '520000', `${PERIOD}&groupBy=item`);
    expect(res.statusCode).toBe(200);
    const body = res.json<Report>();
    expect(body.region).toBe('520000');
    expect(body.groups.map((g) => g.key)).toEqual([itemA.code, itemB.code]);
    const [a, b] = body.groups;
    expect(a).toEqual({
      key: itemA.code, name: '测试事项',
      cases: 2, decided: 2, approved: 2, rejected: 0,
      promised: { measured: 2, onTime: 1, late: 1, rate: 0.5 },
      statutory: { measured: 2, onTime: 2, late: 0, rate: 1 },
      open: { cases: 2, atRisk: 0, overdue: 1 },
      workingDaysHeld: { cases: 1, receiving: 1, handling: 3, applicant: 0, post: 0 },
      workingDaysPerStage: { cases: 1, intake: 0, precheck: 0, correction: 0, transfer: 1, review: 2, decision: 1, delivery: 0 },
      correctionRounds: { '0': 0, '1': 1, '2': 1, '3+': 0 },
      evaluations: { total: 1, byLevel: levels({ 满意: 1 }), openFollowUps: 0 },
    });
    expect(b).toEqual({
      key: itemB.code, name: '测试事项乙',
      cases: 2, decided: 1, approved: 0, rejected: 1,
      promised: { measured: 1, onTime: 0, late: 1, rate: 0 },
      statutory: { measured: 1, onTime: 0, late: 1, rate: 0 },
      open: { cases: 1, atRisk: 1, overdue: 0 },
      workingDaysHeld: { cases: 2, receiving: 1.5, handling: 1, applicant: 0, post: 0 },
      workingDaysPerStage: { cases: 2, intake: 0, precheck: 0.5, correction: 0.5, transfer: 0.5, review: 1, decision: 0, delivery: 0 },
      correctionRounds: { '0': 1, '1': 0, '2': 0, '3+': 1 },
      evaluations: { total: 1, byLevel: levels({ 不满意: 1 }), openFollowUps: 1 },
    });
    expect(body.total).toEqual({
      cases: 4, decided: 3, approved: 2, rejected: 1,
      promised: { measured: 3, onTime: 1, late: 2, rate: 0.3333 },
      statutory: { measured: 3, onTime: 2, late: 1, rate: 0.6667 },
      open: { cases: 3, atRisk: 1, overdue: 1 },
      workingDaysHeld: { cases: 3, receiving: 1.33, handling: 1.67, applicant: 0, post: 0 },
      workingDaysPerStage: { cases: 3, intake: 0, precheck: 0.33, correction: 0.33, transfer: 0.67, review: 1.33, decision: 0.33, delivery: 0 },
      correctionRounds: { '0': 1, '1': 1, '2': 1, '3+': 1 },
      evaluations: { total: 2, byLevel: levels({ 满意: 1, 不满意: 1 }), openFollowUps: 1 },
      followUps: { open: 1, overdue: 1, escalated: 0, resolved: 0, unresolved: 0 },
    });
    // The same ratings and follow-ups as the evaluation report for the same region and period.
    const evaluationReport = (await h.app.inject({ method: 'GET', url: `/v1/evaluations/report?${PERIOD}`, headers: await h.auth('manager', '520000') })).json<{ byLevel: unknown; followUps: unknown }>();
    expect(body.total.evaluations).toMatchObject({ byLevel: evaluationReport.byLevel });
    expect(body.total.followUps).toEqual(evaluationReport.followUps);
    // ISO weeks, China time: c1 (11-02 00:00) and c4 in W45; c3 and c2 (11-15 23:30) in W46.
    expect(body.weekly).toEqual([
      { week: '2026-W45', from: '2026-11-02', cases: 2, decided: 1, promised: { measured: 1, onTime: 1, late: 0, rate: 1 }, statutory: { measured: 1, onTime: 1, late: 0, rate: 1 } },
      { week: '2026-W46', from: '2026-11-09', cases: 2, decided: 2, promised: { measured: 2, onTime: 0, late: 2, rate: 0 }, statutory: { measured: 2, onTime: 1, late: 1, rate: 0.5 } },
    ]);
    // Custody of the closed cases was counted once and kept, with the working days per stage.
    const kept = await h.pool.query(`SELECT case_id FROM case_custody_days WHERE case_id = ANY($1::uuid[]) ORDER BY case_id`, [[ids.c1, ids.c3, ids.c4, ids.c2]]);
    expect(kept.rows.map((r: { case_id: string }) => r.case_id).sort()).toEqual([ids.c1, ids.c3, ids.c4].sort());
    const stagesKept = await h.pool.query(
      `SELECT receiving, handling, days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery FROM case_custody_days WHERE case_id = $1`,
      [ids.c4],
    );
    expect(stagesKept.rows).toEqual([{ receiving: 2, handling: 0, days_intake: 0, days_precheck: 1, days_correction: 1, days_transfer: 0, days_review: 0, days_decision: 0, days_delivery: 0 }]);
    const again = await report('manager', '520000', `${PERIOD}&groupBy=item`);
    expect(again.json<Report>().total).toEqual(body.total);
  });

  it('When custody was kept before the stage figures existed (migration 023), then the next report counts the stages from the events and leaves the custody as kept', async () => {
    const before = (await report('manager', '520000', `${PERIOD}&groupBy=item`)).json<Report>();
    const stages = 'days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery';
    // As an older version left them: custody without stages; c3's custody as some earlier count had it (handling 7, not 2).
    await h.pool.query(`UPDATE case_custody_days SET (${stages}) = (NULL, NULL, NULL, NULL, NULL, NULL, NULL) WHERE case_id = ANY($1::uuid[])`, [[ids.c3, ids.c4]]);
    await h.pool.query(`UPDATE case_custody_days SET handling = 7 WHERE case_id = $1`, [ids.c3]);
    const cells = await h.pool.query(`SELECT sum(stage_cases)::int AS counted, sum(stage_uncounted)::int AS waiting FROM sla_rollup_settled WHERE item_code = $1`, [itemB.code]);
    expect(cells.rows).toEqual([{ counted: 0, waiting: 2 }]);

    const after = (await report('manager', '520000', `${PERIOD}&groupBy=item`)).json<Report>();
    const b = after.groups.find((g) => g.key === itemB.code)!;
    expect(b.workingDaysPerStage).toEqual(before.groups.find((g) => g.key === itemB.code)!.workingDaysPerStage);
    expect(b.workingDaysHeld).toEqual({ cases: 2, receiving: 1.5, handling: 3.5, applicant: 0, post: 0 });
    expect(after.total.workingDaysPerStage).toEqual(before.total.workingDaysPerStage);
    const refilled = await h.pool.query(`SELECT handling, days_review FROM case_custody_days WHERE case_id = $1`, [ids.c3]);
    expect(refilled.rows).toEqual([{ handling: 7, days_review: 2 }]);
    const counted = await h.pool.query(`SELECT sum(stage_cases)::int AS counted, sum(stage_uncounted)::int AS waiting FROM sla_rollup_settled WHERE item_code = $1`, [itemB.code]);
    expect(counted.rows).toEqual([{ counted: 2, waiting: 0 }]);

    await h.pool.query(`UPDATE case_custody_days SET handling = 2 WHERE case_id = $1`, [ids.c3]);
    expect((await report('manager', '520000', `${PERIOD}&groupBy=item`)).json<Report>().total).toEqual(before.total);
  });

  it('When grouped by province pair or by handling region, then each case lands in the group of its sides', async () => {
    const pairs = (await report('supervisor', '520000', `${PERIOD}&groupBy=pair`)).json<Report>();
    expect(pairs.groups.map((g) => [g.key, g.name, g.cases, (g.open as { cases: number }).cases])).toEqual([
      ['520000-530000', '贵州省→云南省', 3, 2],
      ['530000-520000', '云南省→贵州省', 1, 1],
    ]);
    const handling = (await report('manager', '520000', `${PERIOD}&groupBy=handlingRegion`)).json<Report>();
    expect(handling.groups.map((g) => [g.key, g.name, g.cases, g.decided])).toEqual([
      ['520100', '贵州省', 1, 1],
      ['530100', '云南省', 3, 2],
    ]);
    const receiving = (await report('manager', '520000', `${PERIOD}&groupBy=receivingRegion`)).json<Report>();
    expect(receiving.groups.map((g) => [g.key, g.cases, (g.open as { cases: number }).cases])).toEqual([
      ['520100', 3, 1],
      ['520102', 0, 1],
      ['530100', 1, 1],
    ]);
  });

  it('When the scope is a city or another province, then only the cases it covers on either side count', async () => {
    const guiyang = (await report('manager', '520100', PERIOD)).json<Report>();
    expect(guiyang.total).toMatchObject({ cases: 4, decided: 3, open: { cases: 3, atRisk: 1, overdue: 1 } });
    const nanming = (await report('manager', '520102', PERIOD)).json<Report>();
    expect(nanming.total).toMatchObject({ cases: 0, open: { cases: 1, atRisk: 0, overdue: 0 } });
    const liupanshui = (await report('manager', '520200', PERIOD)).json<Report>();
    expect(liupanshui.groups).toEqual([]);
    expect(liupanshui.total).toMatchObject({ cases: 0, decided: 0, promised: { measured: 0, rate: null }, open: { cases: 0 } });
    // A mean over no case is null.
    expect(liupanshui.total.workingDaysPerStage).toEqual({ cases: 0, intake: null, precheck: null, correction: null, transfer: null, review: null, decision: null, delivery: null });
    const guangxi = (await report('supervisor', '450000', PERIOD)).json<Report>();
    expect(guangxi.total).toMatchObject({ cases: 1, decided: 1, promised: { measured: 1, onTime: 1, rate: 1 } });
    // 云南 covers the handling side of c1, c2, c4 and c9 and the receiving side of c3.
    const yunnan = (await report('supervisor', '530000', PERIOD)).json<Report>();
    expect(yunnan.total).toMatchObject({ cases: 5, decided: 4 });
  });

  it('When a clerk or an approver asks, then the answer is a 403 that carries no figures', async () => {
    for (const role of ['clerk', 'approver'] as const) {
      const res = await report(role, '520000', PERIOD);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(Object.keys(res.json()).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
      expect(res.body).not.toContain(itemA.code);
      expect(res.body).not.toMatch(/"cases"/);
    }
    const anonymous = await h.app.inject({ method: 'GET', url: `/v1/reports/sla?${PERIOD}` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('When the query is bad, then the 400 names every bad field', async () => {
    const paths = async (query: string) => {
      const res = await report('manager', '520000', query);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      return res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort();
    };
    expect(await paths('from=2026-13-01&to=yesterday&groupBy=window')).toEqual(['query.from', 'query.groupBy', 'query.to']);
    expect(await paths('groupBy=item')).toEqual(['query.from', 'query.to']);
    expect(await paths('from=2026-11-16&to=2026-11-02')).toEqual(['query.to']);
    expect(await paths('from=2026-11-02&to=2026-11-02')).toEqual(['query.to']);
    expect(await paths('from=2025-01-01&to=2026-11-02')).toEqual(['query.to']);
    expect(await paths(`${PERIOD}&format=xlsx`)).toEqual(['query.format']);
  });

  it('When CSV is asked for, then the same table comes as text/csv, by ?format=csv or by Accept', async () => {
    const json = (await report('manager', '520000', `${PERIOD}&groupBy=item`)).json<Report>();
    const res = await report('manager', '520000', `${PERIOD}&groupBy=item&format=csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="sla-520000-2026-11-02-2026-11-16-item.csv"');
    const lines = res.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 14)).toEqual(['group', 'name', 'cases', 'decided', 'approved', 'rejected', 'promised_measured', 'promised_on_time', 'promised_late', 'promised_rate', 'statutory_measured', 'statutory_on_time', 'statutory_late', 'statutory_rate']);
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i]!, v])));
    expect(rows.map((r) => r.group)).toEqual([itemA.code, itemB.code, 'total']);
    expect(rows[0]).toMatchObject({ name: '测试事项', cases: '2', decided: '2', promised_rate: '0.5', open: '2', overdue: '1', days_handling: '3', rounds_2: '1', 满意: '1' });
    expect(rows[2]).toMatchObject({ name: '合计', cases: String(json.total.cases), promised_rate: '0.3333', statutory_rate: '0.6667', days_receiving: '1.33', open_follow_ups: '1' });
    // The mean working days per stage come last, after every column that was there before them.
    expect(header.slice(-8)).toEqual(['open_follow_ups', 'stage_days_intake', 'stage_days_precheck', 'stage_days_correction', 'stage_days_transfer', 'stage_days_review', 'stage_days_decision', 'stage_days_delivery']);
    expect(rows[0]).toMatchObject({ stage_days_intake: '0', stage_days_transfer: '1', stage_days_review: '2', stage_days_decision: '1' });
    expect(rows[1]).toMatchObject({ stage_days_precheck: '0.5', stage_days_correction: '0.5', stage_days_review: '1' });
    expect(rows[2]).toMatchObject({ stage_days_precheck: '0.33', stage_days_transfer: '0.67', stage_days_review: '1.33', stage_days_delivery: '0' });
    const byAccept = await report('manager', '520000', `${PERIOD}&groupBy=item`, { accept: 'text/csv' });
    expect(byAccept.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(byAccept.body).toBe(res.body);
    const weekly = await report('manager', '520000', `${PERIOD}&format=csv&table=weekly`);
    expect(weekly.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n')).toEqual([
      'week,from,cases,decided,promised_measured,promised_on_time,promised_rate,statutory_measured,statutory_on_time,statutory_rate',
      '2026-W45,2026-11-02,2,1,1,1,1,1,1,1',
      '2026-W46,2026-11-09,2,2,2,0,0,2,1,0.5',
    ]);
  });
});
