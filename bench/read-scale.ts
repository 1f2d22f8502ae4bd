// Benchmark: the case list, the search and the SLA report over 1,000,000 projected cases.
//   npm run bench:reads -- [cases=1000000] [runs=200]
// Fills a fresh database (harness/database.ts) with synthetic cases over the past year, written
// straight into the projection in the order they were submitted (as the projection writes them)
// and as a restore would (indexes dropped during the load and built after it), then times
// the read queries as the api runs them (db/caseQueries.ts, api/reports.ts), without HTTP. The
// "before" rows run the same list and search with the region scope as the LIKE predicate it was
// before migration 016. Nothing here is a test: it prints figures for docs/benchmarks.md and
// drops its database. Bounded: a fixed number of rows and runs.
import pg from 'pg';
import { shippedCalendar } from '../calendar/load.js';
import { listVisibleCases, type CaseListFilter } from '../db/caseQueries.js';
import { migrate } from '../db/migrate.js';
import { dateInChina, shiftDate } from '../domain/dates.js';
import { regionLikePattern } from '../domain/regions.js';
import { createDatabase } from '../harness/database.js';
import { slaReport } from '../api/reports.js';
import type { StaffClaims } from '../api/auth.js';

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
      await client.query('SELECT setseed(0.42)');
      for (let from = 1; from <= CASES; from += BATCH) {
        const to = Math.min(CASES, from + BATCH - 1);
        await client.query(FILL, [from, to, now.toISOString(), regions, regions.length, farAway, ITEMS, CASES]);
        const s = (performance.now() - fillStarted) / 1000;
        const rate = to / s;
        process.stdout.write(`\rfilling cases: ${to.toLocaleString('en')} / ${CASES.toLocaleString('en')} (${rate.toFixed(0)} rows/s, ${((CASES - to) / rate).toFixed(0)} s left)   `);
      }
    } finally {
      client.release();
    }
    process.stdout.write('\n');
    for (const [n, i] of indexes.entries()) {
      process.stdout.write(`\rbuilding indexes: ${n + 1} / ${indexes.length} (${i.indexname})                              `);
      await pool.query(i.indexdef);
    }
    process.stdout.write('\n');
    // What the report keeps for closed cases (case_custody_days), and 好差评 on three in ten of them.
    console.log('filling custody roll-up and evaluations …');
    await pool.query(`INSERT INTO case_custody_days (case_id, receiving, handling, applicant, post)
                      SELECT case_id, (random() * 4)::int, (random() * 12)::int, (random() * 3)::int, 0 FROM cases WHERE closed_at IS NOT NULL`);
    await pool.query(`INSERT INTO case_evaluations (case_id, level, channel, concerns, recorded_by, recorded_at)
                      SELECT case_id, (ARRAY['非常满意', '非常满意', '满意', '满意', '满意', '基本满意', '不满意', '非常不满意'])[1 + floor(random() * 8)::int],
                             'window', 'receiving', 'applicant', closed_at + interval '1 day'
                        FROM cases WHERE closed_at IS NOT NULL AND random() < 0.3`);
    await pool.query(`INSERT INTO evaluation_follow_ups (case_id, side, region, opened_at, due_date, closed_at, outcome)
                      SELECT e.case_id, 'receiving', c.receiving_region, e.recorded_at, (e.recorded_at + interval '7 days')::date,
                             CASE WHEN random() < 0.7 THEN e.recorded_at + interval '3 days' END, NULL
                        FROM case_evaluations e JOIN cases c USING (case_id) WHERE e.level IN ('不满意', '非常不满意')`);
    console.log('VACUUM ANALYZE …');
    await pool.query('VACUUM ANALYZE cases');
    await pool.query('VACUUM ANALYZE case_custody_days');
    await pool.query('VACUUM ANALYZE case_evaluations');
    await pool.query('VACUUM ANALYZE evaluation_follow_ups');
    console.log(`filled in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);

    const { rows: shape } = await pool.query<{ scope: string; n: number }>(
      `SELECT '440000' AS scope, count(*)::int AS n FROM cases WHERE receiving_province = '440000' OR handling_province = '440000'
       UNION ALL SELECT $1::text, count(*)::int FROM cases WHERE receiving_city = $1::char(6) OR handling_city = $1::char(6)
       UNION ALL SELECT 'open', count(*)::int FROM cases WHERE settled_at IS NULL
       UNION ALL SELECT 'item-03 review red 440000', count(*)::int FROM cases WHERE item_code = 'item-03' AND stage = 'review' AND sla_state = 'red' AND (receiving_province = '440000' OR handling_province = '440000')`,
      [SMALL_CITY],
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
    const reportRuns = Math.max(20, Math.floor(RUNS / 2));
    await time('SLA report, province manager 440000, last 30 days, by item', reportRuns, report('440000', 30, 'item'));
    await time('SLA report, province manager 440000, last 30 days, by pair', reportRuns, report('440000', 30, 'pair'));
    await time('SLA report, province manager 440000, last 7 days, by handling region', reportRuns, report('440000', 7, 'handlingRegion'));
    await time('SLA report, province manager 440000, last 90 days, by item', Math.max(10, Math.floor(RUNS / 10)), report('440000', 90, 'item'));
    await time(`SLA report, city manager ${SMALL_CITY}, last 30 days, by item`, reportRuns, report(SMALL_CITY, 30, 'item'));
  } finally {
    await pool.end();
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
