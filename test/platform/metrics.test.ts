// The metrics a province data bureau alerts on, scraped from a real stack: the api's (METRICS_PORT),
// the worker's (WORKER_METRICS_PORT) and the Temporal SDK's own (TEMPORAL_METRICS_PORT). One case
// runs through a flaky Sichuan (every other request answered 503), so errors are counted; another
// meets a Sichuan that is down and is flagged for a person. Then: the province call histogram and
// error counter, the callback lag, the projection lag, the case gauges equal to what PostgreSQL
// holds, no label carrying anything of an applicant's or a case id, and every metric name the
// alert rules and the dashboard use present in a scrape, so those files cannot drift from the code.
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../api/metrics.js';
import { findFreePort } from '../../dev/temporal-server.js';
import { PROVINCE_EVENT_TYPES } from '../../domain/case.js';
import { getJson, submitCase, validIdNumber } from '../../harness/cases.js';
import { CASE_TASK_QUEUE } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    env: { METRICS_PORT: '0', WORKER_METRICS_PORT: '0', TEMPORAL_METRICS_PORT: String(await findFreePort()) },
  });
});
afterAll(async () => {
  await stack?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(url: string | null): Promise<Sample[]> {
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(url!);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

const FLAKY_APPLICANT = '黎指标';
const DOWN_APPLICANT = '岳停摆';
let flakyCaseId: string;
let downCaseId: string;
let provinceCaseId: string;

describe('metrics over a real stack', () => {
  it('When a case runs through a flaky province and another meets a province that is down, then the worker counts the calls and their failures per province and operation, and the api the callback lag', async () => {
    const admin = (body: unknown) => fetch(`${stack.simulator.url}/_admin/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin({ match: { applicantName: FLAKY_APPLICANT }, scenario: 'flaky' })).status).toBe(201);
    expect((await admin({ match: { applicantName: DOWN_APPLICANT }, scenario: 'down' })).status).toBe(201);
    const before = await scrape(stack.workerMetricsUrl);
    const clerk = await stack.token('clerk', '440100');

    const flaky = await submitCase(stack.apiUrl, clerk, { applicantName: FLAKY_APPLICANT });
    const down = await submitCase(stack.apiUrl, clerk, { applicantName: DOWN_APPLICANT });
    expect(flaky.status).toBe(201);
    expect(down.status).toBe(201);
    flakyCaseId = flaky.body.caseId;
    downCaseId = down.body.caseId;
    const done = await eventually(
      async () => (await getJson<{ status: string; provinceCaseId?: string | null; timeline: unknown[] }>(`${stack.apiUrl}/v1/cases/${flakyCaseId}`, clerk)).body,
      (c) => c.status === 'completed',
      45_000,
      'the flaky case completed',
    );
    provinceCaseId = done.provinceCaseId ?? '';
    await eventually(
      async () => (await getJson<{ needsIntervention: boolean; intervention: { kind?: string } | null }>(`${stack.apiUrl}/v1/cases/${downCaseId}`, clerk)).body,
      (c) => c.needsIntervention && c.intervention?.kind === 'unreachable',
      45_000,
      'the case at the province that is down flagged',
    );

    const worker = await scrape(stack.workerMetricsUrl);
    const delta = (name: string, labels: Record<string, string>) => sum(worker, name, labels) - sum(before, name, labels);
    const sichuan = { province: '510000' };
    // Flaky: the first create of the flaky case failed with a 503 and its retry went through.
    expect(delta('tongban_province_call_errors_total', { ...sichuan, operation: 'create_case', kind: '5xx' })).toBeGreaterThanOrEqual(1);
    const creates = delta('tongban_province_call_duration_seconds_count', { ...sichuan, operation: 'create_case' });
    expect(creates).toBeGreaterThanOrEqual(2);
    // Down: the case's first call, the e-licence check, failed with a 503 on every attempt
    // (PROVINCE_RETRY_ATTEMPTS = 3) before the case was flagged.
    expect(delta('tongban_province_call_errors_total', { ...sichuan, operation: 'verify_elicence', kind: '5xx' })).toBeGreaterThanOrEqual(3);
    // Every call is in the histogram, failed or not: the +Inf bucket is the count, the sum is time spent.
    expect(delta('tongban_province_call_duration_seconds_bucket', { ...sichuan, operation: 'create_case', le: '+Inf' })).toBe(creates);
    expect(delta('tongban_province_call_duration_seconds_sum', { ...sichuan, operation: 'create_case' })).toBeGreaterThan(0);
    for (const operation of ['upload_material', 'submit_case']) expect(delta('tongban_province_call_duration_seconds_count', { ...sichuan, operation })).toBeGreaterThanOrEqual(1);
    // Only the protocol's operation names and the failure kinds appear as labels.
    const operations = new Set(worker.filter((s) => s.name.startsWith('tongban_province_call')).map((s) => s.labels.operation));
    for (const op of operations) expect(op).toMatch(/^(create_case|find_case|case_status|submit_case|upload_material|upload_supplement|answer_correction|send_liaison_message|upload_liaison_file|revoke_case|withdraw_case|verify_elicence|other)$/);
    for (const s of worker.filter((x) => x.name === 'tongban_province_call_errors_total')) expect(s.labels.kind).toMatch(/^(unreachable|5xx|throttled|refused|invalid)$/);

    // The projection wrote every event of both cases, each observed once at write time.
    expect(delta('tongban_projection_lag_seconds_count', {})).toBeGreaterThanOrEqual(done.timeline.length);

    // Callbacks: the case's acceptance and decision came back from Sichuan, each observed once.
    const api = await scrape(stack.metricsUrl);
    expect(sum(api, 'tongban_callback_lag_seconds_count', { ...sichuan, type: 'case.accepted' })).toBeGreaterThanOrEqual(1);
    expect(sum(api, 'tongban_callback_lag_seconds_count', { ...sichuan, type: 'case.approved' })).toBeGreaterThanOrEqual(1);
    for (const s of api.filter((x) => x.name.startsWith('tongban_callback_lag_seconds'))) expect(PROVINCE_EVENT_TYPES).toContain(s.labels.type);
  });

  it('When the case gauges are scraped, then the open cases by province, stage and SLA state, the interventions by kind and the pending approvals equal what PostgreSQL holds', async () => {
    // Counted here row by row, not with the gauges' GROUP BY; eventually, because the gauges are
    // cached for a few seconds and other stacks' cases may still be moving.
    const open = () => stack.pool.query<{ province: string; stage: string; sla_state: string | null; needs_intervention: boolean; kind: string | null }>(
      `SELECT handling_province AS province, stage, sla_state, needs_intervention, intervention->>'kind' AS kind FROM cases WHERE status IN ('active', 'awaiting_supplement')`,
    );
    const { api, expected } = await eventually(
      async () => {
        const rows = (await open()).rows;
        const api = await scrape(stack.metricsUrl);
        const expected = new Map<string, number>();
        for (const r of rows) {
          const key = `open|${r.province}|${r.stage}|${r.sla_state ?? 'none'}`;
          expected.set(key, (expected.get(key) ?? 0) + 1);
          if (r.needs_intervention) expected.set(`flagged|${r.province}|${r.kind ?? 'unknown'}`, (expected.get(`flagged|${r.province}|${r.kind ?? 'unknown'}`) ?? 0) + 1);
        }
        return { api, expected, rows: rows.length };
      },
      ({ api, expected }) => JSON.stringify([...gaugeMap(api)].sort()) === JSON.stringify([...expected].sort()),
      20_000,
      'the case gauges equal to the database',
    );
    expect(sum(api, 'tongban_case_metrics_up')).toBe(1);
    // The case flagged at the province that was down is among them; the completed one is not.
    expect(expected.get('flagged|510000|unreachable')).toBeGreaterThanOrEqual(1);
    const down = await stack.pool.query<{ stage: string; sla_state: string | null }>('SELECT stage, sla_state FROM cases WHERE case_id = $1', [downCaseId]);
    expect(sum(api, 'tongban_open_cases', { province: '510000', stage: down.rows[0]!.stage, sla_state: down.rows[0]!.sla_state ?? 'none' })).toBeGreaterThanOrEqual(1);
    // Every open stage × SLA state of a province with open cases is a series, zero or not.
    expect(api.filter((s) => s.name === 'tongban_open_cases' && s.labels.province === '510000')).toHaveLength(7 * 4);
    // Correction rounds: every open case of the province counted once per side.
    const openIn510000 = sum(api, 'tongban_open_cases', { province: '510000' });
    expect(sum(api, 'tongban_open_cases_by_correction_rounds', { province: '510000', side: 'receiving' })).toBe(openIn510000);
    expect(sum(api, 'tongban_open_cases_by_correction_rounds', { province: '510000', side: 'handling' })).toBe(openIn510000);
    const approvals = await stack.pool.query<{ action: string; n: number }>(`SELECT action, count(*)::int AS n FROM case_approvals WHERE status IN ('pending', 'deciding') GROUP BY action`);
    for (const action of ['record-offline', 'reroute']) {
      expect(sum(api, 'tongban_pending_approvals', { action })).toBe(approvals.rows.find((r) => r.action === action)?.n ?? 0);
    }
  });

  it('When every endpoint is scraped, then no label value carries an identity number, a name, a phone or a case id', async () => {
    expect(flakyCaseId).toBeTruthy();
    const forbidden = [validIdNumber(), FLAKY_APPLICANT, DOWN_APPLICANT, '13800138000', flakyCaseId, downCaseId, ...(provinceCaseId ? [provinceCaseId] : [])];
    const all = [...(await scrape(stack.metricsUrl)), ...(await scrape(stack.workerMetricsUrl)), ...(await scrape(stack.temporalMetricsUrl))];
    expect(all.length).toBeGreaterThan(100);
    for (const s of all) {
      for (const value of Object.values(s.labels)) {
        for (const f of forbidden) expect(value, `${s.name} ${JSON.stringify(s.labels)}`).not.toContain(f);
        // Nothing shaped like a mainland identity number either.
        expect(value, s.name).not.toMatch(/\d{17}[\dXx]/);
      }
    }
  });

  it('When a workflow task fails, then the Temporal SDK exporter counts it, and every metric the alert rules and the dashboard use is in a scrape', async () => {
    // An unknown workflow type on the case queue fails its workflow task (the SDK retries it): what
    // a bad deploy looks like to the alert on temporal_workflow_task_execution_failed_total.
    const handle = await stack.client.workflow.start('noSuchWorkflowForMetrics', { taskQueue: CASE_TASK_QUEUE, workflowId: `metrics-task-failure-${Date.now()}`, args: [] });
    try {
      await eventually(
        () => scrape(stack.temporalMetricsUrl),
        // Labelled as the alert groups it: namespace, task queue, workflow type.
        (t) => sum(t, 'temporal_workflow_task_execution_failed_total', { namespace: stack.config.TEMPORAL_NAMESPACE, task_queue: CASE_TASK_QUEUE, workflow_type: 'noSuchWorkflowForMetrics' }) >= 1,
        30_000,
        'a failed workflow task counted',
      );
    } finally {
      await handle.terminate('metrics test done');
    }
    const names = new Set([...(await scrape(stack.metricsUrl)), ...(await scrape(stack.workerMetricsUrl)), ...(await scrape(stack.temporalMetricsUrl))].map((s) => s.name));
    const used = new Set([...metricNamesIn(fs.readFileSync('ops/prometheus/alerts.yml', 'utf8')), ...metricNamesIn(fs.readFileSync('ops/grafana/tongban.json', 'utf8'))]);
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter((n) => !names.has(n));
    expect(missing, `metric names in ops/ that no endpoint exposes`).toEqual([]);
  });
});

describe('the case gauges when PostgreSQL cannot be read', () => {
  it('When the database is unreachable, then a scrape still answers, with tongban_case_metrics_up 0 and no case gauges, and the database is asked once per cache period', async () => {
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await findFreePort()}/nowhere`, connectionTimeoutMillis: 2_000 });
    let asked = 0;
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args) => {
      asked++;
      return query(...args);
    };
    try {
      const metrics = createMetrics({ pool, caseGaugesTtlMs: 500 });
      const scrapes = await Promise.all([metrics.registry.metrics(), metrics.registry.metrics(), metrics.registry.metrics()]);
      const again = await metrics.registry.metrics();
      for (const text of [...scrapes, again]) {
        const samples = parseExposition(text);
        expect(sum(samples, 'tongban_case_metrics_up')).toBe(0);
        expect(samples.filter((x) => x.name === 'tongban_open_cases' || x.name === 'tongban_open_interventions')).toEqual([]);
        // The rest of the registry is still there.
        expect(samples.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
      }
      expect(asked).toBe(1);
      await new Promise((r) => setTimeout(r, 600));
      await metrics.registry.metrics();
      expect(asked).toBe(2);
    } finally {
      await pool.end();
    }
  });
});

/** The gauges as `open|province|stage|sla` and `flagged|province|kind` → count, zeros left out. */
function gaugeMap(samples: Sample[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const s of samples) {
    if (s.value === 0) continue;
    if (s.name === 'tongban_open_cases') map.set(`open|${s.labels.province}|${s.labels.stage}|${s.labels.sla_state}`, s.value);
    if (s.name === 'tongban_open_interventions') map.set(`flagged|${s.labels.province}|${s.labels.kind}`, s.value);
  }
  return map;
}

/**
 * The metric names an alert rule or a panel queries: every `tongban_…`, `temporal_…`,
 * `http_request_…` and `process_…` word in the file (the files write nothing else with those prefixes).
 */
function metricNamesIn(text: string): string[] {
  return [...text.matchAll(/\b(?:tongban|temporal|http_request|process|nodejs)_[a-zA-Z0-9_]+/g)].map((m) => m[0]);
}
