// The case workflow on the real Temporal dev server, its province calls answered by the
// simulator over HTTP and its callbacks delivered through the api, as in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState } from '../../domain/case.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { postJson, submitCase } from '../../harness/cases.js';
import { signRequest } from '../../crypto/signing.js';

// Each describe runs its own stack and stops it before the next starts: stacks use different
// payload keys, and two on the same task queues would take each other's tasks.
let stack: TestStack;
let clerk: string;

const handle = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId));
const result = (caseId: string) => handle(caseId).result() as Promise<CaseState>;
const eventTypes = async (caseId: string) =>
  (await stack.pool.query<{ type: string; stage: string }>('SELECT type, stage FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;

describe('case workflow', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the handling province approves an electronic case, then it is transferred, decided and completed with a certificate', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '李小明' });
    expect(sub.status).toBe(201);
    const { caseId } = sub.body;

    const final = await result(caseId);
    expect(final.status).toBe('completed');
    expect(final.stage).toBe('closed');
    expect(final.decision?.outcome).toBe('approved');
    expect(final.delivery.status).toBe('issued');
    expect(final.delivery.certificate?.certificateId).toBeTruthy();
    expect(final.transferredMaterials).toEqual(['transfer-application', 'resident-id-card', 'contribution-certificate']);

    const events = await eventTypes(caseId);
    expect(events.map((e) => `${e.stage}:${e.type}`)).toEqual([
      'intake:case.submitted',
      'precheck:precheck.passed',
      'transfer:transfer.created',
      'transfer:material.transferred',
      'transfer:material.transferred',
      'transfer:material.transferred',
      'review:review.started',
      // The SLA clock starts when the authority has the materials and stops at its decision.
      'review:sla.started',
      'review:review.accepted',
      'decision:decision.approved',
      'decision:sla.stopped',
      'delivery:delivery.issued',
      'closed:case.completed',
    ]);

    // Every state-changing province call carried a key derived from the case and the step.
    const keys = stack.simulator.requests('510000').map((r) => r.idempotencyKey).filter((k): k is string => !!k && k.startsWith(caseId));
    expect(new Set(keys)).toEqual(
      new Set([`${caseId}:create`, `${caseId}:material:transfer-application`, `${caseId}:material:resident-id-card`, `${caseId}:material:contribution-certificate`, `${caseId}:submit`]),
    );
  });

  it('When the province rejects, then the case closes as rejected with the reasons and nothing is delivered', async () => {
    stack.simulator.addRule({ match: { applicantName: '王驳回' }, scenario: 'reject' });
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '王驳回', delivery: { method: 'mail', address: '广东省广州市天河区体育西路1号' } });
    const final = await result(sub.body.caseId);
    expect(final.status).toBe('rejected');
    expect(final.stage).toBe('closed');
    expect(final.decision?.outcome).toBe('rejected');
    expect(final.decision?.reasons.length).toBeGreaterThan(0);
    expect(final.delivery.status).toBe('pending');
    const types = (await eventTypes(sub.body.caseId)).map((e) => e.type);
    expect(types).toContain('decision.rejected');
    expect(types.at(-1)).toBe('case.closed');
    expect(types.filter((t) => t.startsWith('delivery.'))).toEqual([]);
  });

  it('When the province is down past the retry budget, then the case needs intervention, and a staff retry after it is back resumes it', async () => {
    stack.simulator.setScenario('330000', 'down');
    try {
      const sub = await submitCase(stack.apiUrl, clerk, { handlingRegion: '330000', applicantName: '赵宕机' });
      const { caseId } = sub.body;
      const stuck = await eventually(() => handle(caseId).query(getStateQuery), (s) => s.needsIntervention !== null, 30_000, 'needsIntervention');
      expect(stuck.status).toBe('active');
      expect(stuck.needsIntervention?.step).toBe('verifyELicence:resident-id-card');
      expect(stuck.needsIntervention?.error).toMatch(/503/);
      const row = await eventually(
        async () => (await stack.pool.query('SELECT needs_intervention, intervention FROM cases WHERE case_id = $1', [caseId])).rows[0],
        (r) => r?.needs_intervention === true,
        10_000,
        'projection flag',
      );
      expect(row.intervention.step).toBe('verifyELicence:resident-id-card');

      stack.simulator.setScenario('330000', 'approve');
      const supervisor = await stack.token('supervisor', '440000');
      const retried = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/retry`, supervisor, { reason: '浙江网关已恢复' });
      expect(retried.status).toBe(200);

      const final = await result(caseId);
      expect(final.status).toBe('completed');
      expect(final.needsIntervention).toBeNull();
      const events = (await stack.pool.query('SELECT type, actor, data FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;
      const retry = events.find((e) => e.type === 'intervention.retry');
      expect(retry?.actor).toBe('test-supervisor-440000');
      expect(retry?.data.reason).toBe('浙江网关已恢复');
      expect(events.map((e) => e.type)).toContain('intervention.required');
    } finally {
      stack.simulator.setScenario('330000', 'approve');
    }
  });

  it('When the province fails every other request, then retries absorb it: the case completes with no intervention and no duplicate at the province', async () => {
    stack.simulator.addRule({ match: { applicantName: '冯抖动' }, scenario: 'flaky' });
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '冯抖动' });
    const { caseId } = sub.body;
    const final = await result(caseId);
    expect(final.status).toBe('completed');
    const types = (await eventTypes(caseId)).map((e) => e.type);
    expect(types).not.toContain('intervention.required');
    const calls = stack.simulator.requests('510000').filter((r) => r.idempotencyKey === `${caseId}:create`);
    expect(calls.map((r) => r.status)).toEqual([503, 201]);
  });

  it('When the province sends every callback twice, then each event counts once', async () => {
    stack.simulator.addRule({ match: { applicantName: '钱重复' }, scenario: 'duplicate-callback' });
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '钱重复' });
    const final = await result(sub.body.caseId);
    expect(final.status).toBe('completed');
    const types = (await eventTypes(sub.body.caseId)).map((e) => e.type);
    expect(types.filter((t) => t === 'review.accepted')).toHaveLength(1);
    expect(types.filter((t) => t === 'decision.approved')).toHaveLength(1);
    const callbacks = await stack.pool.query('SELECT event_id FROM province_callbacks WHERE case_id = $1', [sub.body.caseId]);
    expect(callbacks.rowCount).toBe(2);
  });

  it('When a callback is lost, then a status poll finds the decision', async () => {
    stack.simulator.addRule({ match: { applicantName: '孙失联' }, scenario: 'lost-callback' });
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '孙失联' });
    const final = await result(sub.body.caseId);
    expect(final.status).toBe('completed');
    const approved = await stack.pool.query("SELECT data FROM case_events WHERE case_id = $1 AND type = 'decision.approved'", [sub.body.caseId]);
    expect(approved.rows[0].data.via).toBe('poll');
  });

  it('When the result goes by mail, then the province confirms receipt by callback and the case completes', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '周邮寄', delivery: { method: 'mail', address: '广东省广州市越秀区府前路1号' } });
    const final = await result(sub.body.caseId);
    expect(final.status).toBe('completed');
    expect(final.delivery).toMatchObject({ method: 'mail', status: 'confirmed' });
    expect(final.delivery.trackingNumber).toBeTruthy();
    const types = (await eventTypes(sub.body.caseId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['delivery.awaiting', 'delivery.mailed', 'delivery.confirmed', 'case.completed']));
  });

  it('When the result is collected at the window, then the clerk confirms the pick-up and the case completes', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '吴窗口', delivery: { method: 'window' } });
    const { caseId } = sub.body;
    await eventually(() => handle(caseId).query(getStateQuery), (s) => s.stage === 'delivery', 30_000, 'delivery stage');
    const wrong = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'mail' });
    expect(wrong.status).toBe(409);
    const ok = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'window', note: '申请人本人持身份证领取' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'completed', stage: 'closed' });
    const final = await result(caseId);
    expect(final.delivery).toMatchObject({ status: 'confirmed', confirmedBy: 'test-clerk-440100' });
  });
});

describe('a long review', () => {
  let slow: TestStack;
  beforeAll(async () => {
    // The review takes a minute here, so nothing decides the case while a test looks at it.
    slow = await startTestStack({ simulator: { reviewDelayMs: 60_000 }, env: { STATUS_POLL_AFTER_MS: '250', STATUS_POLL_MAX_MS: '60000' } });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it('When no callback comes, then the workflow polls the province with a growing wait', async () => {
    const token = await slow.token('clerk', '440100');
    const sub = await submitCase(slow.apiUrl, token, { applicantName: '褚等待' });
    const { caseId } = sub.body;
    const h = slow.client.workflow.getHandle(caseWorkflowId(caseId));
    const provinceCaseId = (await eventually(() => h.query(getStateQuery), (s) => s.stage === 'review', 30_000, 'review stage')).provinceCaseId!;
    const gapsOf = (polls: { at: string }[]) => polls.slice(1).map((r, i) => Date.parse(r.at) - Date.parse(polls[i]!.at));
    // The first wait is 250 ms. A poller at a fixed interval never leaves a gap of seconds; this
    // one doubles its wait after every poll that finds nothing (the dev server's timers are
    // coarse, about a second, so only the growth is asserted, not exact gaps).
    const polls = await eventually(
      async () => slow.simulator.requests('510000').filter((r) => r.method === 'GET' && r.path.endsWith(`/cases/${provinceCaseId}`)),
      (r) => gapsOf(r).some((g) => g >= 3_000),
      30_000,
      'a poll gap of 3 s',
    );
    expect(polls.length).toBeLessThanOrEqual(8);
    const gaps = gapsOf(polls);
    expect(gaps.at(-1)!).toBeGreaterThan(2 * gaps[0]!);
    await postJson(`${slow.apiUrl}/v1/cases/${caseId}/withdraw`, token, { reason: '测试结束' });
  });

  it('When status polls fail past the budget but the province’s callback then arrives, then the intervention clears by itself and the case goes on', async () => {
    const token = await slow.token('clerk', '440100');
    const sub = await submitCase(slow.apiUrl, token, { applicantName: '卫回调' });
    const { caseId } = sub.body;
    const h = slow.client.workflow.getHandle(caseWorkflowId(caseId));
    const { provinceCaseId } = await eventually(() => h.query(getStateQuery), (s) => s.stage === 'review', 30_000, 'review stage');
    slow.simulator.setScenario('510000', 'down');
    try {
      const stuck = await eventually(() => h.query(getStateQuery), (s) => s.needsIntervention !== null, 30_000, 'needsIntervention');
      expect(stuck.needsIntervention?.step).toBe('pollProvinceStatus');

      // The province's own system reports the decision through the signed callback.
      const { secret } = slow.secrets.provinces.find((p) => p.code === '510000')!;
      const certificate = { certificateId: 'SC-TEST-0001', issuer: '四川省社会保险事业管理局', sha256: 'a'.repeat(64), issuedAt: new Date().toISOString() };
      const body = JSON.stringify({ eventId: `510000-evt-test-${caseId}`, caseId, type: 'case.approved', at: new Date().toISOString(), data: { provinceCaseId, certificate } });
      const path = '/v1/province-callbacks/510000';
      const res = await fetch(`${slow.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(secret, 'POST', path, body) }, body });
      expect(res.status).toBe(202);

      const final = (await h.result()) as CaseState;
      expect(final).toMatchObject({ status: 'completed', needsIntervention: null, decision: { outcome: 'approved' } });
      expect(final.delivery.certificate?.certificateId).toBe('SC-TEST-0001');
      const types = (await slow.pool.query('SELECT type FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows.map((r) => r.type);
      expect(types).toEqual(expect.arrayContaining(['intervention.required', 'intervention.cleared', 'decision.approved', 'case.completed']));
      expect(types.indexOf('intervention.cleared')).toBeLessThan(types.indexOf('decision.approved'));
    } finally {
      slow.simulator.setScenario('510000', 'approve');
    }
  });

  it('When the applicant withdraws during review, then the province is told and the case closes as withdrawn; a second withdrawal is refused', async () => {
    const token = await slow.token('clerk', '440100');
    const sub = await submitCase(slow.apiUrl, token, { applicantName: '郑撤回' });
    const { caseId } = sub.body;
    const h = slow.client.workflow.getHandle(caseWorkflowId(caseId));
    await eventually(() => h.query(getStateQuery), (s) => s.stage === 'review', 30_000, 'review stage');

    const res = await postJson(`${slow.apiUrl}/v1/cases/${caseId}/withdraw`, token, { reason: '申请人已在迁入地办理' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'withdrawn', stage: 'closed' });
    const final = (await h.result()) as CaseState;
    expect(final.status).toBe('withdrawn');
    expect(final.decision).toBeNull();

    const withdrawCalls = slow.simulator.requests('510000').filter((r) => r.idempotencyKey === `${caseId}:withdraw`);
    expect(withdrawCalls.length).toBeGreaterThanOrEqual(1);
    expect(withdrawCalls.every((r) => r.status === 200)).toBe(true);
    const last = (await slow.pool.query("SELECT type, actor, data FROM case_events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1", [caseId])).rows[0];
    expect(last).toMatchObject({ type: 'case.withdrawn', actor: 'test-clerk-440100' });
    expect(last.data).toMatchObject({ reason: '申请人已在迁入地办理', province: 'withdrawn' });

    const again = await postJson(`${slow.apiUrl}/v1/cases/${caseId}/withdraw`, token, { reason: '重复提交' });
    expect(again.status).toBe(409);
  });
});
