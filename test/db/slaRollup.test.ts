// The SLA report's roll-up (db/migrations/021_sla_rollup.sql, with the working days per stage of
// 023_stage_days.sql): cells the triggers keep in the
// transaction of each write. Cases are written through the projection (applyCaseEventChanges, each
// write in its own transaction as the projection activity does it), custody through saveCustody,
// evaluations and follow-ups as their routes write them; after every step the roll-up must equal
// the one computed from scratch from the rows (`drift` below, one statement per table so each
// comparison reads one snapshot), and the report must show the figures worked out by hand.
// Provinces no other test uses: 宁夏 640000 (640100 银川, 640200 石嘴山, 640300 吴忠), 内蒙古
// 150000 (150100 呼和浩特, 150200 包头, 150300 乌海), 吉林 220000 (220100 长春, 220200 吉林市); each
// test its own pair of cities. March 2026: W10 is 03-02..03-08, W11 03-09..03-15.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, DEFAULT_MIGRATIONS_DIR } from '../../db/migrate.js';
import { applyCaseEventChanges } from '../../db/projection.js';
import { saveCustody } from '../../db/reports.js';
import { slaReport } from '../../api/reports.js';
import { withTransaction } from '../../db/transaction.js';
import type { CaseEvent } from '../../domain/case.js';
import type { CaseEventType } from '../../domain/caseEvents.js';
import type { CaseRowChanges } from '../../domain/projection.js';
import type { SlaState } from '../../domain/clock.js';
import { testCalendar } from '../../harness/calendar.js';
import { createDatabase } from '../../harness/database.js';
import { createApiHarness, insertProjectedCase, testItem, type ApiHarness } from '../api/helpers.js';

let h: ApiHarness;
const suffix = randomUUID().slice(0, 8);
const item = testItem(`rollup-${suffix}`);

beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

function ev(seq: number, type: CaseEventType, at: string, stage: CaseEvent['stage'], status: CaseEvent['status'] = 'active', data: Record<string, unknown> = {}): CaseEvent {
  return { seq, type, stage, status, at, actor: 'test', data };
}

/** One projection write, in its own transaction, as projectCaseEvent does it. */
function write(caseId: string, runId: string, event: CaseEvent, changes: CaseRowChanges = {}) {
  return withTransaction(h.pool, (client) => applyCaseEventChanges(client, { caseId, runId, event, changes }));
}

/** A clock reading with these limit states. */
function sla(promised: SlaState, statutory: SlaState, settled = false): CaseRowChanges['sla'] {
  const limit = (state: SlaState, limitDays: number) => ({ state, dueDate: '2026-03-20', dueAt: '2026-03-20T15:59:59.999Z', limitDays, extendedBy: 0, used: 3, remaining: 2, stopped: settled });
  const worse = [promised, statutory].includes('red') ? 'red' : [promised, statutory].includes('yellow') ? 'yellow' : 'green';
  return { state: worse, promised: limit(promised, 5), statutory: limit(statutory, 20), escalatedAt: null, settled, readAt: '2026-03-02T02:00:00Z' };
}

const SETTLED = `day, receiving_region, handling_region, item_code, item_name, cases, decided, approved, rejected, promised_measured, promised_on_time,
  statutory_measured, statutory_on_time, rounds_0, rounds_1, rounds_2, rounds_3_plus, custody_cases, days_receiving, days_handling, days_applicant, days_post, uncounted,
  stage_cases, days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery, stage_uncounted`;
const sums = (columns: string, keys: number) =>
  columns.split(',').map((c, i) => (i < keys ? `(x).${c.trim()}` : `sum((x).${c.trim()}) AS ${c.trim()}`)).join(', ');

/**
 * Cells that differ between the roll-up and the roll-up computed from scratch from the rows (the
 * migration's backfill), in all three tables; [] when they agree.
 */
async function drift(db: pg.Pool | pg.Client = h.pool): Promise<unknown[]> {
  const compare = async (table: string, columns: string, keys: number, from: string) => {
    const { rows } = await db.query(
      `WITH want AS (SELECT ${sums(columns, keys)} FROM ${from} GROUP BY ${Array.from({ length: keys }, (_, i) => i + 1).join(', ')}),
            have AS (SELECT ${columns} FROM ${table})
       SELECT 'missing' AS drift, * FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM have) a
       UNION ALL SELECT 'extra', * FROM (SELECT * FROM have EXCEPT ALL SELECT * FROM want) b`,
    );
    return rows.map((r) => ({ table, ...r }));
  };
  return [
    ...(await compare('sla_rollup_open', 'receiving_region, handling_region, item_code, item_name, open, at_risk, overdue', 4,
      '(SELECT sla_rollup_open_of(1, c) AS x FROM cases c WHERE c.settled_at IS NULL) s')),
    ...(await compare('sla_rollup_settled', SETTLED, 5,
      '(SELECT sla_rollup_settled_of(1, c, d) AS x FROM cases c LEFT JOIN case_custody_days d USING (case_id) WHERE c.settled_at IS NOT NULL) s')),
    ...(await compare('sla_rollup_evaluations', 'day, receiving_region, handling_region, item_code, level, open_due, evaluations, open_follow_ups, escalated, resolved, unresolved', 6,
      '(SELECT sla_rollup_evaluation_of(1, c, e, f) AS x FROM case_evaluations e JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id)) s')),
  ];
}

interface Limit { measured: number; onTime: number; late: number; rate: number | null }
interface Figures {
  cases: number;
  correctionRounds: Record<string, number>;
  decided: number;
  approved: number;
  promised: Limit;
  statutory: Limit;
  open: { cases: number; atRisk: number; overdue: number };
  workingDaysHeld: { cases: number; receiving: number | null; handling: number | null };
  workingDaysPerStage: { cases: number } & Record<string, number | null>;
  evaluations: { total: number; openFollowUps: number };
}
interface Report {
  groups: (Figures & { key: string })[];
  total: Figures & { followUps: { open: number; overdue: number; resolved: number } };
  weekly: { week: string; cases: number; decided: number; promised: Limit }[];
}

async function report(region: string, query: string): Promise<Report> {
  const res = await h.app.inject({ method: 'GET', url: `/v1/reports/sla?${query}`, headers: await h.auth('manager', region) });
  expect(res.statusCode).toBe(200);
  return res.json<Report>();
}

const MARCH = 'from=2026-03-02&to=2026-03-16';

describe('the SLA roll-up', () => {
  it('When the same events are projected twice, and an old one again late, then the case is counted once', async () => {
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '640100', handlingRegion: '150100', submittedAt: new Date('2026-03-02T02:00:00Z') });
    const run = randomUUID();
    const steps: [CaseEvent, CaseRowChanges][] = [
      [ev(1, 'case.submitted', '2026-03-02T02:00:00Z', 'intake'), {}],
      [ev(2, 'review.started', '2026-03-03T02:00:00Z', 'review'), { sla: sla('yellow', 'green') }],
      [ev(3, 'decision.approved', '2026-03-05T02:00:00Z', 'decision', 'active', { eventId: 'e3', via: 'callback', reasons: [] }),
        { decision: { outcome: 'approved', reasons: [], at: '2026-03-05T02:00:00.000Z' }, sla: sla('yellow', 'green', true) }],
      [ev(4, 'case.completed', '2026-03-06T02:00:00Z', 'closed', 'completed', { delivery: 'window' }), {}],
    ];
    for (const [event, changes] of steps) {
      expect(await write(caseId, run, event, changes)).toBe('written');
      expect(await write(caseId, run, event, changes)).toBe('written');
      expect(await drift()).toEqual([]);
      if (event.seq === 2) expect((await report('640000', MARCH)).total.open).toEqual({ cases: 1, atRisk: 1, overdue: 0 });
    }
    // The decision's write again, after the closing: the row does not move back, nothing is added.
    const [decisionEvent, decisionChanges] = steps[2]!;
    await write(caseId, run, decisionEvent, decisionChanges);
    expect(await drift()).toEqual([]);

    const first = await report('640000', MARCH);
    expect(first.total).toMatchObject({
      cases: 1, decided: 1, approved: 1,
      promised: { measured: 1, onTime: 1, late: 0, rate: 1 },
      statutory: { measured: 1, onTime: 1, late: 0, rate: 1 },
      open: { cases: 0, atRisk: 0, overdue: 0 },
      workingDaysHeld: { cases: 1 },
      // Monday 03-02 intake → 03-03 review (1) → 03-05 decision (2: 03-04, 03-05) → closed 03-06 (1).
      workingDaysPerStage: { cases: 1, intake: 1, precheck: 0, correction: 0, transfer: 0, review: 2, decision: 1, delivery: 0 },
    });
    expect(first.weekly.map((w) => [w.week, w.cases])).toEqual([['2026-W10', 1], ['2026-W11', 0]]);
    // The first report counted the closed case's custody and kept it (a cell change); the second reads the same.
    expect(await drift()).toEqual([]);
    expect((await report('640000', MARCH)).total).toEqual(first.total);
    // The other side's scope sees the same case once.
    expect((await report('150100', MARCH)).total).toEqual(first.total);
  });

  it('When a counted decision is replaced by a later one, red on the promised limit (a reset run), then the case leaves its day and week and lands in the new ones', async () => {
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '640200', handlingRegion: '150300', submittedAt: new Date('2026-03-02T03:00:00Z') });
    const runA = randomUUID();
    await write(caseId, runA, ev(1, 'case.submitted', '2026-03-02T03:00:00Z', 'intake'));
    await write(caseId, runA, ev(2, 'review.started', '2026-03-03T03:00:00Z', 'review'), { sla: sla('green', 'green') });
    await write(caseId, runA, ev(3, 'decision.approved', '2026-03-05T03:00:00Z', 'decision', 'active', { eventId: 'a3', via: 'callback', reasons: [] }), {
      decision: { outcome: 'approved', reasons: [], at: '2026-03-05T03:00:00.000Z' }, sla: sla('green', 'green', true),
    });
    const counted = await report('640200', MARCH);
    expect(counted.total).toMatchObject({ cases: 1, decided: 1, promised: { measured: 1, onTime: 1 }, open: { cases: 0 } });
    expect(counted.weekly.map((w) => [w.week, w.cases])).toEqual([['2026-W10', 1], ['2026-W11', 0]]);

    // The workflow is reset to before its decision: the new run's first write is a snapshot, undecided and red.
    const runB = randomUUID();
    expect(await write(caseId, runB, ev(3, 'review.started', '2026-03-09T03:00:00Z', 'review'), {
      needsIntervention: null, decision: null, delivery: { method: 'window', status: 'pending' }, provinceCaseId: null, sla: sla('red', 'green'),
    })).toBe('written');
    expect(await drift()).toEqual([]);
    const reopened = await report('640200', MARCH);
    expect(reopened.total).toMatchObject({ cases: 0, decided: 0, open: { cases: 1, atRisk: 0, overdue: 1 } });
    expect(reopened.groups.map((g) => [g.key, g.cases, g.open.cases])).toEqual([[item.code, 0, 1]]);

    // A late write of the superseded run changes nothing.
    expect(await write(caseId, runA, ev(4, 'case.completed', '2026-03-06T03:00:00Z', 'closed', 'completed', { delivery: 'window' }))).toBe('superseded');
    expect(await drift()).toEqual([]);

    await write(caseId, runB, ev(4, 'decision.rejected', '2026-03-10T03:00:00Z', 'decision', 'active', { eventId: 'b4', via: 'callback', reasons: ['材料不符'] }), {
      decision: { outcome: 'rejected', reasons: ['材料不符'], at: '2026-03-10T03:00:00.000Z' }, sla: sla('red', 'yellow', true),
    });
    expect(await drift()).toEqual([]);
    const moved = await report('640200', MARCH);
    expect(moved.total).toMatchObject({
      cases: 1, decided: 1, approved: 0, rejected: 1,
      promised: { measured: 1, onTime: 0, late: 1, rate: 0 },
      statutory: { measured: 1, onTime: 1, late: 0, rate: 1 },
      open: { cases: 0, atRisk: 0, overdue: 0 },
    });
    expect(moved.weekly.map((w) => [w.week, w.cases, w.promised.late])).toEqual([['2026-W10', 0, 0], ['2026-W11', 1, 1]]);
    // Only the week of the new decision holds it.
    expect((await report('640200', 'from=2026-03-05&to=2026-03-06')).total.cases).toBe(0);
    expect((await report('640200', 'from=2026-03-10&to=2026-03-11')).total.cases).toBe(1);
  });

  it('When a case is rerouted to another authority, and later moved by hand with its custody and 差评, then its figures move to the new group each time', async () => {
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '640300', handlingRegion: '150200', submittedAt: new Date('2026-03-09T01:00:00Z') });
    const run = randomUUID();
    await write(caseId, run, ev(1, 'case.submitted', '2026-03-09T01:00:00Z', 'intake'));
    await write(caseId, run, ev(2, 'review.started', '2026-03-09T02:00:00Z', 'review'), { sla: sla('yellow', 'green') });
    const byRegion = async (region: string) => (await report(region, `${MARCH}&groupBy=handlingRegion`)).groups.filter((g) => ['150200', '220200'].includes(g.key));
    expect(await byRegion('150000')).toMatchObject([{ key: '150200', cases: 0, open: { cases: 1, atRisk: 1, overdue: 0 } }]);

    // 改派 as the projection records it (recordReroute in db/projection.ts): the case is the new authority's.
    await write(caseId, run, ev(3, 'case.rerouted', '2026-03-10T01:00:00Z', 'transfer', 'active', { from: '150200', to: '220200', reason: '管辖变更', oldAuthority: null, role: 'supervisor', region: '640300' }));
    expect(await drift()).toEqual([]);
    expect(await byRegion('150000')).toEqual([]);
    expect(await byRegion('220000')).toMatchObject([{ key: '220200', cases: 0, open: { cases: 1, atRisk: 1, overdue: 0 } }]);

    await write(caseId, run, ev(4, 'decision.approved', '2026-03-11T01:00:00Z', 'decision', 'active', { eventId: 'c4', via: 'callback', reasons: [] }), {
      decision: { outcome: 'approved', reasons: [], at: '2026-03-11T01:00:00.000Z' }, sla: sla('green', 'green', true), correctionRounds: { receiving: 1, handling: 1 },
    });
    await write(caseId, run, ev(5, 'case.completed', '2026-03-12T01:00:00Z', 'closed', 'completed', { delivery: 'window' }));
    await saveCustody(h.pool, [{ caseId, days: { receiving: 2, handling: 5, applicant: 1, post: 0 }, calendarGap: false }]);
    await h.pool.query(`INSERT INTO case_evaluations (case_id, level, channel, concerns, recorded_by, recorded_at) VALUES ($1, '非常不满意', 'window', 'handling', 'applicant', '2026-03-13T02:00:00Z')`, [caseId]);
    await h.pool.query(`INSERT INTO evaluation_follow_ups (case_id, side, region, opened_at, due_date) VALUES ($1, 'handling', '220200', '2026-03-13T02:00:00Z', '2026-03-20')`, [caseId]);
    expect(await drift()).toEqual([]);
    // Custody saved by hand without stages: the report counts the stages from the events (review
    // 03-09 → 03-10, transfer while rerouted 03-10 → 03-11, decision 03-11 → closed 03-12) and keeps the custody as saved.
    const figures = {
      cases: 1, decided: 1, open: { cases: 0 }, workingDaysHeld: { cases: 1, receiving: 2, handling: 5 }, correctionRounds: { '2': 1 }, evaluations: { total: 1, openFollowUps: 1 },
      workingDaysPerStage: { cases: 1, intake: 0, review: 1, transfer: 1, decision: 1, delivery: 0 },
    };
    expect(await byRegion('220000')).toMatchObject([{ key: '220200', ...figures }]);
    expect(await drift()).toEqual([]);

    // The row moved back by hand (a correction in the database): settled figures, custody and evaluation follow it.
    await h.pool.query(`UPDATE cases SET handling_region = '150200' WHERE case_id = $1`, [caseId]);
    expect(await drift()).toEqual([]);
    expect(await byRegion('220000')).toEqual([]);
    expect(await byRegion('150000')).toMatchObject([{ key: '150200', ...figures }]);
    const receivingSide = await report('640300', `${MARCH}&groupBy=pair`);
    expect(receivingSide.groups.map((g) => g.key)).toEqual(['640000-150000']);
    expect(receivingSide.groups[0]).toMatchObject(figures);

    // The follow-up closes, then the case is deleted: every cell it filled is emptied.
    await h.pool.query(`UPDATE evaluation_follow_ups SET closed_at = '2026-03-16T02:00:00Z', outcome = 'resolved' WHERE case_id = $1`, [caseId]);
    expect(await drift()).toEqual([]);
    expect((await report('640300', MARCH)).total.followUps).toMatchObject({ open: 0, resolved: 1 });
    await h.pool.query(`DELETE FROM cases WHERE case_id = $1`, [caseId]);
    expect(await drift()).toEqual([]);
    expect((await report('640300', MARCH)).total).toMatchObject({ cases: 0, evaluations: { total: 0 }, workingDaysHeld: { cases: 0 }, workingDaysPerStage: { cases: 0, review: null } });
  });

  it('When many cases of the same cells are projected, and their custody saved, at the same time, then no count is lost', async () => {
    const ids = await Promise.all(
      Array.from({ length: 24 }, (_, i) => insertProjectedCase(h, { item, receivingRegion: '640100', handlingRegion: '220100', submittedAt: new Date(`2026-03-0${2 + (i % 3)}T04:00:00Z`) })),
    );
    await Promise.all(
      ids.map(async (caseId, i) => {
        const run = randomUUID();
        await write(caseId, run, ev(1, 'case.submitted', '2026-03-02T04:00:00Z', 'intake'));
        await write(caseId, run, ev(2, 'review.started', '2026-03-03T04:00:00Z', 'review'), { sla: sla(i % 4 === 0 ? 'red' : 'green', 'green') });
        if (i % 2 === 0) return;
        await write(caseId, run, ev(3, 'decision.approved', '2026-03-04T04:00:00Z', 'decision', 'active', { eventId: `d${i}`, via: 'callback', reasons: [] }), {
          decision: { outcome: 'approved', reasons: [], at: '2026-03-04T04:00:00.000Z' }, sla: sla('green', 'green', true),
        });
        await write(caseId, run, ev(4, 'case.completed', '2026-03-05T04:00:00Z', 'closed', 'completed', { delivery: 'window' }));
        await saveCustody(h.pool, [{ caseId, days: { receiving: 1, handling: 2, applicant: 0, post: 0 }, calendarGap: false }]);
      }),
    );
    expect(await drift()).toEqual([]);
    const { rows } = await h.pool.query(`SELECT cases, custody_cases, days_handling FROM sla_rollup_settled WHERE item_code = $1 AND receiving_region = '640100' AND handling_region = '220100'`, [item.code]);
    expect(rows).toEqual([{ cases: 12, custody_cases: 12, days_handling: '24' }]);
    // Saved without stages: 12 wait for them. Then their stages, all at once (as concurrent reports would), and again: each counted once.
    const stageCells = () =>
      h.pool.query(`SELECT stage_cases, stage_uncounted, days_review::int, days_handling::int FROM sla_rollup_settled WHERE item_code = $1 AND receiving_region = '640100' AND handling_region = '220100'`, [item.code]);
    expect((await stageCells()).rows).toEqual([{ stage_cases: 0, stage_uncounted: 12, days_review: 0, days_handling: 24 }]);
    const stageDays = { intake: 1, precheck: 0, correction: 0, transfer: 0, review: 1, decision: 1, delivery: 0 };
    await Promise.all(
      [...ids.filter((_, i) => i % 2 === 1), ...ids.filter((_, i) => i % 2 === 1)].map((caseId) =>
        saveCustody(h.pool, [{ caseId, days: { receiving: 9, handling: 9, applicant: 0, post: 0 }, stageDays, calendarGap: false }])),
    );
    expect(await drift()).toEqual([]);
    expect((await stageCells()).rows).toEqual([{ stage_cases: 12, stage_uncounted: 0, days_review: 12, days_handling: 24 }]);
    const open = await h.pool.query(`SELECT open, overdue FROM sla_rollup_open WHERE item_code = $1 AND receiving_region = '640100' AND handling_region = '220100'`, [item.code]);
    expect(open.rows).toEqual([{ open: 12, overdue: 6 }]);
  });
});

describe('migration 021', () => {
  it('When it is applied to a database that already has cases, custody and evaluations, then it fills the roll-up from them', async () => {
    const db = await createDatabase('tongban_rollup');
    const before = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-migrations-'));
    const client = new pg.Client({ connectionString: db.url });
    try {
      for (const f of fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '021')) {
        fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(before, f));
      }
      await migrate(db.url, { migrationsDir: before });
      await client.connect();
      // Three cases written as an older version left them: open (red), decided and closed with custody and a 差评, decided and still delivering.
      await client.query(
        `INSERT INTO cases (case_id, item_code, item_version, item_name, receiving_region, handling_region, channel, stage, status, applicant_name_masked, applicant_name_sealed,
           id_number_hash, id_number_masked, id_number_sealed, phone_masked, phone_sealed, delivery_method, delivery, promised_days, statutory_days, submitted_by, submitted_at, updated_at,
           decision, closed_at, sla, sla_state, correction_rounds)
         SELECT id::uuid, 'item-x', 1, '事项', '640100', '150100', 'window', stage, status, '李*', 's', md5(id), 'm', 's', 'm', 's', 'window', '{}', 5, 20, 'seed', '2026-03-02T01:00:00Z', now(),
                decision::jsonb, closed_at::timestamptz, sla::jsonb, sla_state, '{"receiving": 1, "handling": 0}'
           FROM (VALUES
             ('00000000-0000-4000-8000-000000000001', 'review', 'active', NULL, NULL, '{"state":"red","promised":{"state":"red"},"statutory":{"state":"yellow"}}', 'red'),
             ('00000000-0000-4000-8000-000000000002', 'closed', 'completed', '{"outcome":"approved","reasons":[],"at":"2026-03-04T16:30:00.000Z"}', '2026-03-06T01:00:00Z', '{"state":"green","promised":{"state":"green"},"statutory":{"state":"green"}}', 'green'),
             ('00000000-0000-4000-8000-000000000003', 'delivery', 'active', '{"outcome":"approved","reasons":[],"at":"2026-03-05T01:00:00.000Z"}', NULL, '{"state":"red","promised":{"state":"red"},"statutory":{"state":"green"}}', 'red')
           ) v (id, stage, status, decision, closed_at, sla, sla_state)`,
      );
      await client.query(`INSERT INTO case_custody_days (case_id, receiving, handling, applicant, post) VALUES ('00000000-0000-4000-8000-000000000002', 1, 3, 0, 0)`);
      await client.query(`INSERT INTO case_evaluations (case_id, level, channel, concerns, recorded_by, recorded_at) VALUES ('00000000-0000-4000-8000-000000000002', '不满意', 'window', 'handling', 'applicant', '2026-03-07T02:00:00Z')`);
      await client.query(`INSERT INTO evaluation_follow_ups (case_id, side, region, opened_at, due_date) VALUES ('00000000-0000-4000-8000-000000000002', 'handling', '150100', '2026-03-07T02:00:00Z', '2026-03-13')`);

      expect(await migrate(db.url)).toContain('021_sla_rollup.sql');
      expect(await drift(client)).toEqual([]);
      const open = await client.query(`SELECT receiving_province, handling_city, open, at_risk, overdue FROM sla_rollup_open`);
      expect(open.rows).toEqual([{ receiving_province: '640000', handling_city: '150100', open: 1, at_risk: 0, overdue: 1 }]);
      // 03-04 16:30 UTC is 03-05 in China: both decisions fall on the same China day.
      const settled = await client.query(`SELECT day::text, cases, decided, promised_on_time, rounds_1, custody_cases, days_handling::int, uncounted FROM sla_rollup_settled`);
      expect(settled.rows).toEqual([{ day: '2026-03-05', cases: 2, decided: 2, promised_on_time: 1, rounds_1: 2, custody_cases: 1, days_handling: 3, uncounted: 0 }]);
      const evaluations = await client.query(`SELECT day::text, level, open_due::text, evaluations, open_follow_ups FROM sla_rollup_evaluations`);
      expect(evaluations.rows).toEqual([{ day: '2026-03-07', level: '不满意', open_due: '2026-03-13', evaluations: 1, open_follow_ups: 1 }]);
    } finally {
      await client.end().catch(() => undefined);
      fs.rmSync(before, { recursive: true, force: true });
      await db.drop();
    }
  });
});

describe('migration 023', () => {
  it('When it is applied to a database whose closed cases have custody kept, then their cells wait for the stages, and the next report counts them from the events and keeps the custody', async () => {
    const db = await createDatabase('tongban_stages');
    const before = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-migrations-'));
    const client = new pg.Client({ connectionString: db.url });
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      for (const f of fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '023')) {
        fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(before, f));
      }
      await migrate(db.url, { migrationsDir: before });
      await client.connect();
      // A case decided 03-05 (China) and closed 03-06, its custody kept by an older version (1 and 3 days).
      const id = '00000000-0000-4000-8000-000000000023';
      await client.query(
        `INSERT INTO cases (case_id, item_code, item_version, item_name, receiving_region, handling_region, channel, stage, status, applicant_name_masked, applicant_name_sealed,
           id_number_hash, id_number_masked, id_number_sealed, phone_masked, phone_sealed, delivery_method, delivery, promised_days, statutory_days, submitted_by, submitted_at, updated_at,
           decision, closed_at, sla, sla_state, correction_rounds)
         VALUES ($1::uuid, 'item-x', 1, '事项', '640100', '150100', 'window', 'closed', 'completed', '李*', 's', md5($1::text), 'm', 's', 'm', 's', 'window', '{}', 5, 20, 'seed', '2026-03-02T01:00:00Z', now(),
                 '{"outcome":"approved","reasons":[],"at":"2026-03-04T16:30:00.000Z"}', '2026-03-06T01:00:00Z', '{"state":"green","promised":{"state":"green"},"statutory":{"state":"green"}}', 'green', '{}')`,
        [id],
      );
      await client.query(
        `INSERT INTO case_events (case_id, seq, type, stage, status, actor, at) VALUES
           ($1, 1, 'case.submitted', 'intake', 'active', 'seed', '2026-03-02T01:00:00Z'),
           ($1, 2, 'review.started', 'review', 'active', 'seed', '2026-03-02T03:00:00Z'),
           ($1, 3, 'sla.changed', 'review', 'active', 'seed', '2026-03-03T03:00:00Z'),
           ($1, 4, 'decision.approved', 'decision', 'active', 'seed', '2026-03-04T16:30:00Z'),
           ($1, 5, 'case.completed', 'closed', 'completed', 'seed', '2026-03-06T01:00:00Z')`,
        [id],
      );
      await client.query(`INSERT INTO case_custody_days (case_id, receiving, handling, applicant, post) VALUES ($1, 1, 3, 0, 0)`, [id]);

      expect(await migrate(db.url)).toContain('023_stage_days.sql');
      expect(await drift(client)).toEqual([]);
      const cells = `SELECT day::text, custody_cases, days_handling::int, uncounted, stage_cases, days_review::int, days_decision::int, stage_uncounted FROM sla_rollup_settled`;
      expect((await client.query(cells)).rows).toEqual([{ day: '2026-03-05', custody_cases: 1, days_handling: 3, uncounted: 0, stage_cases: 0, days_review: 0, days_decision: 0, stage_uncounted: 1 }]);

      const report = await slaReport({ pool, calendar: testCalendar() }, { sub: 'manager', role: 'manager', region: '640000' }, { from: '2026-03-02', to: '2026-03-16', groupBy: 'item' });
      // Monday 03-02 intake (0) → review 03-02 → decision 03-05 (03-03, 03-04, 03-05: 3) → closed 03-06 (1); the custody as kept.
      expect(report.total.workingDaysPerStage).toEqual({ cases: 1, intake: 0, precheck: 0, correction: 0, transfer: 0, review: 3, decision: 1, delivery: 0 });
      expect(report.total.workingDaysHeld).toEqual({ cases: 1, receiving: 1, handling: 3, applicant: 0, post: 0 });
      expect(await drift(client)).toEqual([]);
      expect((await client.query(cells)).rows).toEqual([{ day: '2026-03-05', custody_cases: 1, days_handling: 3, uncounted: 0, stage_cases: 1, days_review: 3, days_decision: 1, stage_uncounted: 0 }]);
    } finally {
      await client.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
      fs.rmSync(before, { recursive: true, force: true });
      await db.drop();
    }
  });
});
