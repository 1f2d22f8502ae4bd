// Benchmark: the case list, the search and the SLA report over 1,000,000 projected cases.
//   npm run bench:reads -- [cases=1000000] [runs=200]
//   READS_EXPLAIN=1 also prints PostgreSQL's plan (EXPLAIN ANALYZE, BUFFERS) of the province's stuck list.
// Fills a fresh database (harness/database.ts) with synthetic cases over the past year, written
// straight into the projection in the order they were submitted (as the projection writes them)
// and as a restore would: indexes dropped during the load and built after it, triggers off during
// the load (session_replication_role = replica) and the report's roll-up then built from the rows
// by the function migration 021 backfills it with (sla_rollup_rebuild), in day order as the
// triggers would have written it. Then it times the read queries as the api runs them
// (db/caseQueries.ts, api/reports.ts), without HTTP. The "before" rows run the same list and
// search with the region scope as the LIKE predicate it was before migration 016, and the report's
// three queries as they were before the roll-up (reading the period's cases, the open cases and
// the evaluations from `cases`). Nothing here is a test: it prints figures for
// docs/benchmarks.md and drops its database. Bounded: a fixed number of rows and runs.
import pg from 'pg';
import { shippedCalendar } from '../calendar/load.js';
import { listVisibleCases, type CaseListFilter } from '../db/caseQueries.js';
import { migrate } from '../db/migrate.js';
import { dateInChina, shiftDate } from '../domain/dates.js';
import { regionLikePattern } from '../domain/regions.js';
import { visibleTo } from '../db/scope.js';
import { createDatabase } from '../harness/database.js';
import { slaReport } from '../api/reports.js';
import type { StaffClaims } from '../api/auth.js';
import { stuckThresholds } from '../api/stuckCases.js';
import { loadConfig } from '../config/index.js';
import { findStuckCandidates } from '../db/stuckCases.js';
import { stuckReasons } from '../domain/stuck.js';

const CASES = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 200);
const BATCH = 50_000;

/**
 * Where cases are received and handled, with weights: the big cities of the provinces with most
 * cross-province traffic, their districts, smaller cities, and one small prefecture (博尔塔拉,
 * 652700) that sees about a thousand cases in a million.
 */
const REGIONS: [string, number][] = [
  ['440100', 60], ['440106', 25], ['440300', 70], ['440600', 15], ['441900', 20], ['440000', 5],
  ['510100', 55], ['510104', 15], ['510700', 10], ['511300', 8], ['510000', 5],
  ['430100', 35], ['430200', 8], ['330100', 45], ['330200', 20], ['330300', 12],
  ['320100', 30], ['320500', 25], ['370100', 20], ['370200', 18], ['410100', 30], ['411300', 10],
  ['420100', 30], ['350100', 12], ['350200', 12], ['500000', 30], ['500106', 10],
  ['110000', 20], ['110105', 15], ['310000', 20], ['310115', 15], ['610100', 18], ['530100', 10],
  ['520100', 10], ['450100', 12], ['210100', 10], ['340100', 15], ['360100', 12], ['130100', 12], ['620100', 5],
  ['652700', 1],
];
const SMALL_CITY = '652700';
const ITEMS = Array.from({ length: 20 }, (_, i) => `item-${String(i + 1).padStart(2, '0')}`);

function weighted(): string[] {
  const out: string[] = [];
  for (const [code, w] of REGIONS) for (let i = 0; i < w * 2; i++) out.push(code);
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(name: string, runs: number, fn: () => Promise<unknown>): Promise<{ name: string; p50: number; p95: number; max: number }> {
  for (let i = 0; i < Math.min(20, runs); i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const r = { name, p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms.at(-1)! };
  console.log(`${name.padEnd(70)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   max ${r.max.toFixed(1).padStart(7)} ms`);
  return r;
}

/** The synthetic cases [from, to]: one INSERT … SELECT over generate_series, reproducible by seed. */
const FILL = `
INSERT INTO cases (case_id, item_code, item_version, item_name, receiving_region, handling_region, channel, stage, status,
  needs_intervention, applicant_name_masked, applicant_name_sealed, id_number_hash, id_number_masked, id_number_sealed,
  phone_masked, phone_sealed, delivery_method, delivery, promised_days, statutory_days, submitted_by, submitted_at, updated_at,
  closed_at, decision, sla, sla_state, due_date, statutory_due_date, correction_rounds)
SELECT md5('case' || g)::uuid, item, 1, '事项 ' || item, rr, hr, 'window', stage, status,
       open AND u6 < 0.05, '张*', 'sealed', md5('id' || g), '110105********002X', 'sealed', '138****8000', 'sealed', 'window',
       '{"method":"window","status":"pending"}', 10, 20, 'bench', submitted_at, coalesce(closed_at, submitted_at + interval '1 hour'),
       closed_at,
       CASE WHEN decided THEN jsonb_build_object('outcome', CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'approved' END, 'reasons', '[]'::jsonb,
                                              'at', to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
       CASE WHEN clocked THEN jsonb_build_object('state', promised, 'settled', decided, 'escalatedAt', NULL, 'readAt', submitted_at,
              'promised', jsonb_build_object('state', promised, 'limitDays', 10, 'used', 5, 'remaining', 5, 'dueAt', submitted_at + interval '14 days'),
              'statutory', jsonb_build_object('state', statutory, 'limitDays', 20, 'used', 5, 'remaining', 15, 'dueAt', submitted_at + interval '28 days')) END,
       CASE WHEN clocked THEN promised END,
       CASE WHEN clocked THEN (submitted_at + interval '14 days')::date END,
       CASE WHEN clocked THEN (submitted_at + interval '28 days')::date END,
       jsonb_build_object('receiving', CASE WHEN u5 < 0.75 THEN 0 WHEN u5 < 0.93 THEN 1 WHEN u5 < 0.98 THEN 2 ELSE 3 END, 'handling', CASE WHEN u5 > 0.99 THEN 1 ELSE 0 END)
  FROM (
    SELECT *, CASE WHEN NOT open THEN coalesce(decided_at, submitted_at + u3 * interval '10 days') + u4 * interval '3 days' END AS closed_at
      FROM (
        SELECT *, CASE WHEN decided THEN CASE WHEN open THEN submitted_at + u3 * ($3::timestamptz - submitted_at) ELSE submitted_at + (1 + u3 * 15) * interval '1 day' END END AS decided_at,
               decided OR (open AND stage IN ('review', 'decision', 'correction')) AS clocked,
               CASE WHEN promised = 'red' AND u6 < 0.4 THEN 'red' WHEN promised <> 'green' AND u6 < 0.7 THEN 'yellow' ELSE 'green' END AS statutory
          FROM (
            SELECT *, status IN ('completed', 'rejected') OR (open AND stage = 'delivery') AS decided,
                   CASE WHEN u4 < 0.85 THEN 'green' WHEN u4 < 0.93 THEN 'yellow' ELSE 'red' END AS promised
              FROM (
                SELECT *, CASE WHEN status = 'awaiting_supplement' THEN 'correction'
                               WHEN open THEN (ARRAY['precheck', 'transfer', 'review', 'review', 'review', 'decision', 'delivery'])[1 + floor(u2 * 7)::int]
                               ELSE 'closed' END AS stage
                  FROM (
                    SELECT *, CASE WHEN open THEN CASE WHEN u1 < 0.1 THEN 'awaiting_supplement' ELSE 'active' END
                                   ELSE CASE WHEN u1 < 0.85 THEN 'completed' WHEN u1 < 0.94 THEN 'rejected' WHEN u1 < 0.97 THEN 'withdrawn' ELSE 'not_supplemented' END END AS status
                      FROM (
                        SELECT g, rr, CASE WHEN left(rr, 2) = left(h1, 2) THEN h2 ELSE h1 END AS hr, item, submitted_at,
                               CASE WHEN submitted_at > $3::timestamptz - interval '30 days' THEN u0 < 0.6 ELSE u0 < 0.02 END AS open,
                               u1, u2, u3, u4, u5, u6
                          FROM (
                            SELECT g, $4::text[] AS regions,
                                   ($4::text[])[1 + floor(random() * $5)::int] AS rr,
                                   ($4::text[])[1 + floor(random() * $5)::int] AS h1,
                                   ($6::text[])[1 + floor(random() * array_length($6::text[], 1))::int] AS h2,
                                   ($7::text[])[1 + floor(power(random(), 2) * 20)::int] AS item,
                                   $3::timestamptz - interval '365 days' + (g::float8 / $8) * interval '365 days' - random() * interval '1 hour' AS submitted_at,
                                   random() AS u0, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5, random() AS u6
                              FROM generate_series($1::int, $2::int) g
                          ) a
                      ) b
                  ) c
              ) d
          ) e
      ) f
  ) s`;

/**
 * The report's three queries as they were before the roll-up (migration 021): the period's cases,
 * the open cases and the period's evaluations read from `cases`, run side by side as slaReport
 * ran them (the custody count is skipped: every closed case has its custody here). `$1` scope
 * code, `$2`/`$3` the period, `$4` today; `{scope}` the scope predicate, `{key}` the group key.
 */
const BEFORE_SETTLED = `
WITH p AS (
  SELECT {key} AS key, c.item_name, date_trunc('week', c.settled_at AT TIME ZONE 'Asia/Shanghai')::date::text AS week,
         c.decision IS NOT NULL AS decided, c.decision ->> 'outcome' AS outcome, c.sla_promised_state AS promised, c.sla_statutory_state AS statutory,
         coalesce((c.correction_rounds ->> 'receiving')::int, 0) + coalesce((c.correction_rounds ->> 'handling')::int, 0) AS rounds,
         c.closed_at IS NOT NULL AS closed, d.case_id IS NOT NULL AS counted, d.receiving, d.handling, d.applicant, d.post
    FROM cases c LEFT JOIN case_custody_days d ON d.case_id = c.case_id
   WHERE {scope} AND c.settled_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai') AND c.settled_at < ($3::date::timestamp AT TIME ZONE 'Asia/Shanghai'))
SELECT key, week, max(item_name), GROUPING(key), GROUPING(week), count(*)::int, count(*) FILTER (WHERE decided)::int,
       count(*) FILTER (WHERE outcome = 'approved')::int, count(*) FILTER (WHERE outcome = 'rejected')::int,
       count(*) FILTER (WHERE decided AND promised IS NOT NULL)::int, count(*) FILTER (WHERE decided AND promised IN ('green', 'yellow'))::int,
       count(*) FILTER (WHERE decided AND statutory IS NOT NULL)::int, count(*) FILTER (WHERE decided AND statutory IN ('green', 'yellow'))::int,
       count(*) FILTER (WHERE rounds = 0)::int, count(*) FILTER (WHERE rounds = 1)::int, count(*) FILTER (WHERE rounds = 2)::int, count(*) FILTER (WHERE rounds >= 3)::int,
       count(*) FILTER (WHERE counted)::int, round(avg(receiving), 2)::float8, round(avg(handling), 2)::float8, round(avg(applicant), 2)::float8, round(avg(post), 2)::float8,
       count(*) FILTER (WHERE closed AND NOT counted)::int
  FROM p GROUP BY GROUPING SETS ((key), (week), ())`;
const BEFORE_OPEN = `
SELECT {key} AS key, max(c.item_name), GROUPING({key}), count(*)::int, count(*) FILTER (WHERE c.sla_state = 'yellow')::int, count(*) FILTER (WHERE c.sla_state = 'red')::int
  FROM cases c WHERE {scope} AND c.settled_at IS NULL GROUP BY GROUPING SETS (({key}), ())`;
const BEFORE_EVALUATIONS = `
SELECT {key} AS key, e.level, count(*)::int, count(f.case_id) FILTER (WHERE f.closed_at IS NULL)::int,
       count(f.case_id) FILTER (WHERE f.closed_at IS NULL AND f.due_date < $4::date)::int, count(f.case_id) FILTER (WHERE f.escalated_at IS NOT NULL)::int,
       count(f.case_id) FILTER (WHERE f.outcome = 'resolved')::int, count(f.case_id) FILTER (WHERE f.outcome = 'unresolved')::int
  FROM case_evaluations e JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id)
 WHERE {scope} AND e.recorded_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai') AND e.recorded_at < ($3::date::timestamp AT TIME ZONE 'Asia/Shanghai')
 GROUP BY 1, 2`;
const BEFORE_KEY = { item: 'c.item_code', pair: `(c.receiving_province::text || '-' || c.handling_province::text)`, handlingRegion: 'c.handling_region::text' } as const;

async function main() {
  const db = await createDatabase('tongban_reads');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    await migrate(db.url);
    const now = new Date();
    const regions = weighted();
    // The handling side when the first draw fell in the receiving province: a far-away big city.
    const farAway = ['510100', '440300', '330100', '110000', '500000', '420100'];

    // A bulk load, as a restore does it: the indexes of `cases` are built after the rows.
    const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'cases' AND indexname <> 'cases_pkey'`,
    );
    for (const i of indexes) await pool.query(`DROP INDEX ${i.indexname}`);
    const fillStarted = performance.now();
    const client = await pool.connect();
    try {
      // No trigger fires during the load (the roll-up's included): it is built once, after it.
      await client.query('SET session_replication_role = replica');
      await client.query('SELECT setseed(0.42)');
      for (let from = 1; from <= CASES; from += BATCH) {
        const to = Math.min(CASES, from + BATCH - 1);
        await client.query(FILL, [from, to, now.toISOString(), regions, regions.length, farAway, ITEMS, CASES]);
        const s = (performance.now() - fillStarted) / 1000;
        const rate = to / s;
        process.stdout.write(`\rfilling cases: ${to.toLocaleString('en')} / ${CASES.toLocaleString('en')} (${rate.toFixed(0)} rows/s, ${((CASES - to) / rate).toFixed(0)} s left)   `);
      }
      process.stdout.write('\n');
      for (const [n, i] of indexes.entries()) {
        process.stdout.write(`\rbuilding indexes: ${n + 1} / ${indexes.length} (${i.indexname})                              `);
        await client.query(i.indexdef);
      }
      process.stdout.write('\n');
      // What the report keeps for closed cases (case_custody_days), and 好差评 on three in ten of them.
      console.log('filling custody and evaluations …');
      // With the working days per stage (migration 023), as a report counting them has stored them.
      await client.query(`INSERT INTO case_custody_days (case_id, receiving, handling, applicant, post,
                                                         days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery)
                          SELECT case_id, (random() * 4)::int, (random() * 12)::int, (random() * 3)::int, 0,
                                 0, (random() * 2)::int, (random() * 3)::int, (random() * 2)::int, (random() * 10)::int, 0, (random() * 3)::int
                            FROM cases WHERE closed_at IS NOT NULL`);
      await client.query(`INSERT INTO case_evaluations (case_id, level, channel, concerns, recorded_by, recorded_at)
                          SELECT case_id, (ARRAY['非常满意', '非常满意', '满意', '满意', '满意', '基本满意', '不满意', '非常不满意'])[1 + floor(random() * 8)::int],
                                 'window', 'receiving', 'applicant', closed_at + interval '1 day'
                            FROM cases WHERE closed_at IS NOT NULL AND random() < 0.3`);
      await client.query(`INSERT INTO evaluation_follow_ups (case_id, side, region, opened_at, due_date, closed_at, outcome)
                          SELECT e.case_id, 'receiving', c.receiving_region, e.recorded_at, (e.recorded_at + interval '7 days')::date,
                                 CASE WHEN random() < 0.7 THEN e.recorded_at + interval '3 days' END, NULL
                            FROM case_evaluations e JOIN cases c USING (case_id) WHERE e.level IN ('不满意', '非常不满意')`);
      await client.query('SET session_replication_role = DEFAULT');
    } finally {
      client.release();
    }
    const rollupStarted = performance.now();
    await pool.query('SELECT sla_rollup_rebuild()');
    console.log(`roll-up built from the rows in ${((performance.now() - rollupStarted) / 1000).toFixed(0)} s`);
    console.log('VACUUM ANALYZE …');
    await pool.query('VACUUM ANALYZE cases');
    await pool.query('VACUUM ANALYZE case_custody_days');
    await pool.query('VACUUM ANALYZE case_evaluations');
    await pool.query('VACUUM ANALYZE evaluation_follow_ups');
    for (const t of ['sla_rollup_settled', 'sla_rollup_open', 'sla_rollup_evaluations']) await pool.query(`VACUUM ANALYZE ${t}`);
    console.log(`filled in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);

    const { rows: shape } = await pool.query<{ scope: string; n: number }>(
      `SELECT scope, n FROM (
         SELECT 1 AS ord, '440000' AS scope, count(*)::int AS n FROM cases WHERE receiving_province = '440000' OR handling_province = '440000'
         UNION ALL SELECT 2, $1::text, count(*)::int FROM cases WHERE receiving_city = $1::char(6) OR handling_city = $1::char(6)
         UNION ALL SELECT 3, 'open', count(*)::int FROM cases WHERE settled_at IS NULL
         UNION ALL SELECT 4, 'item-03 review red 440000', count(*)::int FROM cases WHERE item_code = 'item-03' AND stage = 'review' AND sla_state = 'red' AND (receiving_province = '440000' OR handling_province = '440000')
         UNION ALL SELECT 5, 'roll-up cells: settled', count(*)::int FROM sla_rollup_settled
         UNION ALL SELECT 6, 'open', count(*)::int FROM sla_rollup_open
         UNION ALL SELECT 7, 'evaluations', count(*)::int FROM sla_rollup_evaluations
         UNION ALL SELECT 8, '440000 over 30 days: settled cases', count(*)::int FROM cases
                    WHERE (receiving_province = '440000' OR handling_province = '440000') AND settled_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai')
         UNION ALL SELECT 9, 'their cells', count(*)::int FROM sla_rollup_settled WHERE (receiving_province = '440000' OR handling_province = '440000') AND day >= $2::date
         UNION ALL SELECT 10, 'open cases', count(*)::int FROM cases WHERE (receiving_province = '440000' OR handling_province = '440000') AND settled_at IS NULL
         UNION ALL SELECT 11, 'their cells', count(*)::int FROM sla_rollup_open WHERE receiving_province = '440000' OR handling_province = '440000'
         UNION ALL SELECT 12, 'evaluations', count(*)::int FROM case_evaluations e JOIN cases c USING (case_id)
                    WHERE (receiving_province = '440000' OR handling_province = '440000') AND e.recorded_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai')
         UNION ALL SELECT 13, 'their cells', count(*)::int FROM sla_rollup_evaluations WHERE (receiving_province = '440000' OR handling_province = '440000') AND day >= $2::date
       ) s ORDER BY ord`,
      [SMALL_CITY, shiftDate(dateInChina(now), -30)],
    );
    console.log(`data: ${CASES.toLocaleString('en')} cases; ${shape.map((s) => `${s.scope}: ${s.n.toLocaleString('en')}`).join('; ')}`);

    const list = (scope: string, f: Omit<CaseListFilter, 'limit'> = {}) => () => listVisibleCases(pool, scope, { limit: 50, ...f });
    // The list as it was before migration 016: the same query with the scope as a LIKE pattern.
    const listBefore = (scope: string, f: { itemCode?: string; stage?: string; sla?: string } = {}) => () => {
      const params: unknown[] = [regionLikePattern(scope)];
      const where = ['(receiving_region LIKE $1 OR handling_region LIKE $1)'];
      for (const [col, v] of [['item_code', f.itemCode], ['stage', f.stage], ['sla_state', f.sla]] as const) {
        if (v === undefined) continue;
        params.push(v);
        where.push(`${col} = $${params.length}`);
      }
      return pool.query(
        `SELECT case_id, item_code, item_version, item_name, receiving_region, handling_region, channel, stage, status, needs_intervention,
                applicant_name_masked, promised_days, statutory_days, sla_state, due_date::text, statutory_due_date::text, submitted_at, updated_at, closed_at, participants
           FROM cases WHERE ${where.join(' AND ')} ORDER BY submitted_at DESC, case_id DESC LIMIT 51`,
        params,
      );
    };
    const search = { itemCode: 'item-03', stage: 'review' as const, sla: 'red' as const };
    const today = dateInChina(now);
    const calendar = shippedCalendar();
    const manager = (region: string): StaffClaims => ({ sub: 'bench-manager', role: 'manager', region }) as StaffClaims;
    const report = (region: string, days: number, groupBy: 'item' | 'pair' | 'handlingRegion') => () =>
      slaReport({ pool, calendar }, manager(region), { from: shiftDate(today, -days), to: shiftDate(today, 1), groupBy }, now);
    const reportBefore = (region: string, days: number, groupBy: keyof typeof BEFORE_KEY) => () => {
      const visible = visibleTo(region, 1, 'c.');
      const sql = (q: string) => q.replaceAll('{key}', BEFORE_KEY[groupBy]).replaceAll('{scope}', visible.sql);
      const period = [visible.param, shiftDate(today, -days), shiftDate(today, 1)];
      return Promise.all([pool.query(sql(BEFORE_SETTLED), period), pool.query(sql(BEFORE_OPEN), [visible.param]), pool.query(sql(BEFORE_EVALUATIONS), [...period, today])]);
    };

    console.log(`\n${RUNS} runs each after 20 warm-up runs, one at a time:`);
    await time('list, province clerk 440000 (first page of 50)', RUNS, list('440000'));
    await time('list, province clerk 440000, before (LIKE scope)', RUNS, listBefore('440000'));
    await time(`list, small-city clerk ${SMALL_CITY}`, RUNS, list(SMALL_CITY));
    await time(`list, small-city clerk ${SMALL_CITY}, before (LIKE scope)`, RUNS, listBefore(SMALL_CITY));
    await time('list, county clerk 440106', RUNS, list('440106'));
    await time('list, county clerk 440106, before (LIKE scope)', RUNS, listBefore('440106'));
    await time('search item-03 + review + red, province clerk 440000', RUNS, list('440000', search));
    await time('search item-03 + review + red, province clerk 440000, before', RUNS, listBefore('440000', search));
    await time(`search item-03 + review + red, small-city clerk ${SMALL_CITY}`, RUNS, list(SMALL_CITY, search));
    await time('search item-03 + review + red, city clerk 440300', RUNS, list('440300', search));
    // The stuck list as GET /v1/cases?stuck=true reads it (api/stuckCases.ts listStuckCases): the
    // candidates' query and the reasons judged from them. Not timed: Temporal's describe of the idle
    // candidates (workflow_failing), which this benchmark runs without (at most 500, eight at a time).
    const thresholds = stuckThresholds(loadConfig({ NODE_ENV: 'development' }), calendar, now);
    const stuck = (scope: string) => async () => {
      const rows = await findStuckCandidates(pool, { scope, ...thresholds, limit: 500 });
      return rows.map(({ candidate }) => stuckReasons({ ...candidate, workflowProblem: null }, thresholds));
    };
    const stuckCount = async (scope: string) => (await stuck(scope)()).filter((r) => r.length > 0).length;
    console.log(`stuck cases listed (at most 500): 440000 ${await stuckCount('440000')}, ${SMALL_CITY} ${await stuckCount(SMALL_CITY)}, 440106 ${await stuckCount('440106')}`);
    await time('stuck list, province clerk 440000 (up to 500, longest waiting first)', RUNS, stuck('440000'));
    // Where its time goes: the candidates' query alone (rows read and parsed, nothing judged), and its plan.
    await time('stuck list, province clerk 440000: the candidates\' query alone', RUNS, () => findStuckCandidates(pool, { scope: '440000', ...thresholds, limit: 500 }));
    if (process.env.READS_EXPLAIN) {
      let captured: { text: string; values: unknown[] } | null = null;
      const capture = { query: async (text: string, values: unknown[]) => ((captured = { text, values }), Promise.reject(new Error('captured'))) };
      await findStuckCandidates(capture as never, { scope: '440000', ...thresholds, limit: 500 }).catch(() => {});
      const plan = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${captured!.text}`, captured!.values);
      console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    await time(`stuck list, small-city clerk ${SMALL_CITY}`, RUNS, stuck(SMALL_CITY));
    await time('stuck list, county clerk 440106', RUNS, stuck('440106'));
    const reportRuns = Math.max(20, Math.floor(RUNS / 2));
    const longRuns = Math.max(10, Math.floor(RUNS / 10));
    await time('SLA report, province manager 440000, last 30 days, by item', reportRuns, report('440000', 30, 'item'));
    await time('SLA report, province manager 440000, last 30 days, by item, before (from cases)', reportRuns, reportBefore('440000', 30, 'item'));
    await time('SLA report, province manager 440000, last 30 days, by pair', reportRuns, report('440000', 30, 'pair'));
    await time('SLA report, province manager 440000, last 30 days, by pair, before', reportRuns, reportBefore('440000', 30, 'pair'));
    await time('SLA report, province manager 440000, last 7 days, by handling region', reportRuns, report('440000', 7, 'handlingRegion'));
    await time('SLA report, province manager 440000, last 7 days, by handling region, before', reportRuns, reportBefore('440000', 7, 'handlingRegion'));
    await time('SLA report, province manager 440000, last 90 days, by item', longRuns, report('440000', 90, 'item'));
    await time('SLA report, province manager 440000, last 90 days, by item, before', longRuns, reportBefore('440000', 90, 'item'));
    await time('SLA report, province manager 440000, last 365 days, by item', longRuns, report('440000', 365, 'item'));
    await time(`SLA report, city manager ${SMALL_CITY}, last 30 days, by item`, reportRuns, report(SMALL_CITY, 30, 'item'));
    await time(`SLA report, city manager ${SMALL_CITY}, last 30 days, by item, before`, reportRuns, reportBefore(SMALL_CITY, 30, 'item'));
  } finally {
    await pool.end();
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
