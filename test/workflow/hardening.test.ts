// The case workflow's defences, each against the defect it fixes (issue: harden the foundation):
// withdrawal asks the province first, only key holders can put data into a case, the projection
// follows a reset, a refusal is told apart from an outage, a projection that keeps failing is
// flagged, and no personal data reaches the timeline. Real dev server, database and simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { CaseState } from '../../domain/case.js';
import { caseWorkflowId, getStateQuery, provinceEventSignal } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, postJson, submitCase, validIdNumber } from '../../harness/cases.js';

const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;

let stack: TestStack;
let clerk: string;

const handleOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId));
const stateOf = (caseId: string) => handleOf(caseId).query(getStateQuery);
const events = async (caseId: string) =>
  (await stack.pool.query<{ seq: number; type: string; at: Date; data: Record<string, unknown> }>('SELECT seq, type, at, data FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;
const provinceRequests = (caseId: string) => stack.simulator.requests('510000').filter((r) => r.idempotencyKey?.startsWith(caseId) || r.path.includes(caseId));

describe('case workflow hardening', () => {
  beforeAll(async () => {
    // A long status-poll delay, so a decision the province made without calling back stays
    // unknown to the case until it asks (withdrawal) or polls; a review of one second.
    stack = await startTestStack({ env: { STATUS_POLL_AFTER_MS: '60000', PROJECTION_RETRY_ATTEMPTS: '2', PROJECTION_RETRY_INITIAL_MS: '100' }, simulator: { reviewDelayMs: 1000 } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the applicant withdraws after the province decided (its callback lost), then the withdrawal is refused with 409 and the case takes the province’s decision', async () => {
    stack.simulator.addRule({ match: { applicantName: '钱已决' }, scenario: 'lost-callback' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '钱已决' });
    const { caseId } = body;
    await eventually(() => stateOf(caseId), (s) => s.stage === 'review', 30_000, 'review');
    // The simulator decides one second after submission; the case does not know (no callback, no poll yet).
    await new Promise((r) => setTimeout(r, 2000));
    expect((await stateOf(caseId)).decision).toBeNull();

    const res = await postJson<{ status: number; detail: string }>(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/already decided/);

    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ status: 'completed', decision: { outcome: 'approved' } });
    const types = (await events(caseId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['case.withdrawal_requested', 'withdrawal.refused', 'decision.approved', 'case.completed']));
    expect(types).not.toContain('case.withdrawn');
    // Asked once, and no province case was created to withdraw it.
    expect(provinceRequests(caseId).filter((r) => r.idempotencyKey === `${caseId}:create`).length).toBe(1);
  });

  it('When the applicant withdraws during transfer, then the in-flight call is cancelled first, the province case is withdrawn and nothing is created for it', async () => {
    stack.simulator.addRule({ match: { applicantName: '孙慢撤' }, scenario: 'slow' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '孙慢撤' });
    const { caseId } = body;
    await eventually(() => stateOf(caseId), (s) => s.stage === 'transfer', 30_000, 'transfer');
    const res = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人改在迁入地办理' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'withdrawn' });
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final.status).toBe('withdrawn');
    const creates = provinceRequests(caseId).filter((r) => r.idempotencyKey === `${caseId}:create`);
    expect(creates.length).toBeLessThanOrEqual(1);
    const recorded = await events(caseId);
    // The withdrawal cancelled the procedure but no event write: the seqs have no gap.
    expect(recorded.map((e) => e.seq)).toEqual(recorded.map((_, i) => i + 1));
    const last = recorded.at(-1)!;
    expect(last.type).toBe('case.withdrawn');
    // Either the province had the case and withdrew it, or it never got it and was not asked to create one.
    expect(['withdrawn', 'not-created']).toContain(last.data.province);
    if (last.data.province === 'withdrawn') expect(provinceRequests(caseId).some((r) => r.idempotencyKey === `${caseId}:withdraw`)).toBe(true);
  });

  it('When the province cannot be reached for a withdrawal, then the case is flagged for intervention instead of being closed, and a staff retry completes the withdrawal', async () => {
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '周断线' });
    const { caseId } = body;
    await eventually(() => stateOf(caseId), (s) => s.stage === 'review', 30_000, 'review');
    stack.simulator.setScenario('510000', 'down');
    try {
      const res = await postJson<{ status: string; needsIntervention: boolean }>(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'active', needsIntervention: true });
      const stuck = await stateOf(caseId);
      expect(stuck.needsIntervention).toMatchObject({ step: 'withdrawProvinceCase', kind: 'unreachable' });
    } finally {
      stack.simulator.setScenario('510000', 'approve');
    }
    const retry = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/retry`, clerk, { reason: '省里系统已恢复' });
    expect(retry.status).toBe(200);
    const final = (await handleOf(caseId).result()) as CaseState;
    // The simulator decides after a second: it either withdrew the case or had decided already.
    expect(['withdrawn', 'completed']).toContain(final.status);
  });

  it('When a plaintext provinceEvent signal is sent straight to Temporal (no payload key), then it cannot approve the case: it is dropped on the record', async () => {
    stack.simulator.addRule({ match: { applicantName: '吴伪造' }, scenario: 'lost-callback' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '吴伪造' });
    const { caseId } = body;
    await eventually(() => stateOf(caseId), (s) => s.stage === 'review', 30_000, 'review');
    const plain = new Client({ connection: stack.client.connection, namespace: 'default' });
    await plain.workflow.getHandle(caseWorkflowId(caseId)).signal(provinceEventSignal, {
      eventId: 'forged-1', type: 'case.approved', at: new Date().toISOString(), via: 'callback',
      data: { certificate: { certificateId: 'FORGED', issuer: 'nobody', sha256: 'f'.repeat(64), issuedAt: new Date().toISOString() } },
    });
    const rejected = await eventually(() => events(caseId), (rows) => rows.some((e) => e.type === 'province.event_rejected'), 30_000, 'event rejected');
    expect(rejected.find((e) => e.type === 'province.event_rejected')!.data).toMatchObject({ eventId: null });
    const state = await stateOf(caseId);
    expect(state.decision).toBeNull();
    expect(state.stage).toBe('review');
    await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '测试结束' });
  });

  it('When the province refuses a call (4xx), then the intervention says refused with the province’s reason, not unreachable', async () => {
    const province = stack.secrets.provinces.find((p) => p.code === '510000')!;
    const secret = province.secret;
    // A gateway secret that no longer matches: the province answers 401 to every call.
    province.secret = `${secret}-rotated-wrongly`;
    let caseId: string;
    try {
      ({ body: { caseId } } = await submitCase(stack.apiUrl, clerk, { applicantName: '郑拒绝' }));
      const stuck = await eventually(() => stateOf(caseId), (s) => s.needsIntervention !== null, 30_000, 'intervention');
      expect(stuck.needsIntervention).toMatchObject({ kind: 'refused', status: 401 });
      expect(stuck.needsIntervention!.reason).toBeTruthy();
    } finally {
      province.secret = secret;
    }
    const projected = await eventually(() => getJson<{ intervention: { kind: string } | null }>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk), (r) => r.body.intervention !== null, 10_000, 'projected intervention');
    expect(projected.body.intervention).toMatchObject({ kind: 'refused' });
    await postJson(`${stack.apiUrl}/v1/cases/${caseId}/retry`, clerk, { reason: '已更正网关密钥' });
    await eventually(() => stateOf(caseId), (s) => s.stage === 'review' || s.status !== 'active', 30_000, 'after retry');
    await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '测试结束' });
  });

  it('When the projection keeps failing, then the case is flagged for intervention (not retried silently forever) and resumes after a staff retry', async () => {
    // A database that refuses this case's review.started event, as a bad value would.
    await stack.pool.query(`
      CREATE OR REPLACE FUNCTION refuse_test_events() RETURNS trigger AS $$
      BEGIN
        IF NEW.type = 'review.started' AND EXISTS (SELECT 1 FROM cases WHERE case_id = NEW.case_id AND applicant_name_masked LIKE '冯%') THEN
          RAISE EXCEPTION 'refused by test trigger';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER refuse_test_events BEFORE INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION refuse_test_events();`);
    let caseId: string;
    try {
      ({ body: { caseId } } = await submitCase(stack.apiUrl, clerk, { applicantName: '冯投影' }));
      const stuck = await eventually(() => stateOf(caseId), (s) => s.needsIntervention?.kind === 'projection', 30_000, 'projection intervention');
      expect(stuck.needsIntervention!.error).toMatch(/refused by test trigger/);
      const row = await stack.pool.query('SELECT needs_intervention, intervention FROM cases WHERE case_id = $1', [caseId]);
      expect(row.rows[0]).toMatchObject({ needs_intervention: true, intervention: { kind: 'projection', step: 'projection' } });
      const desc = await handleOf(caseId).describe();
      expect(desc.searchAttributes.NeedsIntervention).toEqual([true]);
    } finally {
      await stack.pool.query('DROP TRIGGER IF EXISTS refuse_test_events ON case_events; DROP FUNCTION IF EXISTS refuse_test_events();');
    }
    const retry = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/retry`, clerk, { reason: '数据库已修复' });
    expect(retry.status).toBe(200);
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final.status).toBe('completed');
    const seqs = (await events(caseId)).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('When a case runs by mail, then no API response and no case_events row carries the applicant’s name, identity number or phone', async () => {
    const name = '欧阳明华';
    const idNumber = validIdNumber();
    const phone = '13800138000';
    const address = '广东省广州市天河区体育西路1号';
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: name, delivery: { method: 'mail', address } });
    const { caseId } = body;
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final.status).toBe('completed');
    const rows = await stack.pool.query('SELECT type, data::text AS data FROM case_events WHERE case_id = $1', [caseId]);
    expect(rows.rows.map((r) => r.type)).toContain('delivery.confirmed');
    const caseRow = await stack.pool.query('SELECT intervention::text, decision::text, delivery::text FROM cases WHERE case_id = $1', [caseId]);
    const responses = [
      JSON.stringify((await getJson(`${stack.apiUrl}/v1/cases/${caseId}`, clerk)).body),
      JSON.stringify((await getJson(`${stack.apiUrl}/v1/cases?limit=50`, clerk)).body),
      JSON.stringify((await getJson(`${stack.apiUrl}/v1/cases?limit=50`, await stack.token('approver', '510000'))).body),
    ];
    for (const text of [...rows.rows.map((r) => r.data as string), JSON.stringify(caseRow.rows[0]), ...responses]) {
      for (const secret of [name, idNumber, phone, address]) expect(text).not.toContain(secret);
    }
    // The receipt is still on record, masked.
    const confirmed = rows.rows.find((r) => r.type === 'delivery.confirmed')!;
    expect(JSON.parse(confirmed.data).signedBy).toBe('欧***');
  });

  it('When a finished case is reset (temporal workflow reset), then the projection follows the new run instead of keeping the old one', async () => {
    stack.simulator.addRule({ match: { applicantName: '陈重置' }, scenario: 'reject' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '陈重置' });
    const { caseId } = body;
    const handle = handleOf(caseId);
    await handle.result();
    const before = await events(caseId);
    const { runId: oldRunId } = await handle.describe();

    // Back to the last workflow task before the province's first event arrived.
    const history = await handle.fetchHistory();
    const all = history.events ?? [];
    const firstSignal = all.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    const resetTo = all.slice(0, firstSignal).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).at(-1)!;
    const resetAt = new Date();
    const { runId: newRunId } = await stack.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: caseWorkflowId(caseId), runId: oldRunId },
      reason: 'test: the projection follows a reset',
      workflowTaskFinishEventId: resetTo.eventId,
      requestId: `reset-${caseId}`,
    });
    expect(newRunId).toBeTruthy();
    expect(newRunId).not.toBe(oldRunId);
    await stack.client.workflow.getHandle(caseWorkflowId(caseId), newRunId!).result();

    const projected = await eventually(
      () => stack.pool.query<{ run_id: string; last_seq: number; status: string }>('SELECT run_id, last_seq, status FROM cases WHERE case_id = $1', [caseId]).then((r) => r.rows[0]!),
      (row) => row.run_id === newRunId,
      20_000,
      'projection on the new run',
    );
    expect(projected.status).toBe('rejected');
    const after = await events(caseId);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    expect(projected.last_seq).toBe(after.length);
    // Events recorded after the reset point are the new run's, not the old run's kept rows.
    const rerecorded = after.filter((e) => e.at.getTime() >= resetAt.getTime() - 1000);
    expect(rerecorded.length).toBeGreaterThan(0);
    expect(rerecorded.map((e) => e.type)).toContain('decision.rejected');
    expect(before.length).toBeGreaterThan(0);
    const superseded = await stack.pool.query('SELECT run_id, superseded_by FROM superseded_runs WHERE case_id = $1', [caseId]);
    expect(superseded.rows).toEqual([{ run_id: oldRunId, superseded_by: newRunId }]);
  });
});
