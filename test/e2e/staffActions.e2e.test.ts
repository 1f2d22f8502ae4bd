// The four-eyes actions and the bulk retry carried out by the real workflow: a reroute approved by a
// second person moves a case stuck on a province that is down to another authority, which decides
// it; a creation recorded as done offline lets the transfer go on under the authority's number; an
// approval that comes after the case moved on fails with the workflow's reason; a bulk retry after
// the province came back moves every stuck case on. Real Temporal, PostgreSQL, simulator over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState } from '../../domain/case.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;
let colleague: string;
let supervisor: string;

const handleOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId));
const stateOf = (caseId: string) => handleOf(caseId).query(getStateQuery);
const submitted = async (caseId: string) => (await stack.pool.query<{ material_code: string; sha256: string; size: string }>('SELECT material_code, sha256, size FROM case_materials WHERE case_id = $1', [caseId])).rows;
const eventsOf = async (caseId: string) =>
  (await stack.pool.query<{ type: string; actor: string; data: Record<string, unknown> }>('SELECT type, actor, data FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;

/** A case whose handling province (510000) is down for it from its creation on: stuck on createProvinceCase. */
async function stuckCase(name: string): Promise<string> {
  stack.simulator.addRule({ match: { province: '510000', operation: 'case', applicantName: name }, scenario: 'down' });
  const { status, body } = await submitCase(stack.apiUrl, clerk, { applicantName: name });
  expect(status).toBe(201);
  await eventually(() => stateOf(body.caseId), (s) => s.needsIntervention?.step === 'createProvinceCase', 30_000, `${name} stuck`);
  return body.caseId;
}

describe('staff actions carried out by the workflow', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    clerk = await stack.token('clerk', '440100');
    // A colleague with another staff id: the tokens' subjects differ by role and region by default.
    colleague = await stack.token('supervisor', '440100');
    supervisor = await stack.token('supervisor', '440000');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When a reroute of a case stuck on a province that is down is approved by a second person, then the case moves to the new authority, which decides it, under new idempotency keys', async () => {
    const caseId = await stuckCase('周改派');
    expect((await stateOf(caseId)).needsIntervention).toMatchObject({ step: 'createProvinceCase', kind: 'unreachable' });

    const asked = await postJson<{ approvalId: string; status: string }>(`${stack.apiUrl}/v1/cases/${caseId}/actions/reroute`, clerk, { handlingRegion: '430000', reason: '四川系统长期停机，改由湖南办理' });
    expect(asked.status).toBe(202);
    const { approvalId } = asked.body;
    const own = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/approvals/${approvalId}`, clerk, { approve: true, reason: '同意' });
    expect(own.status).toBe(403);
    const approved = await postJson<{ status: string; decidedBy: string }>(`${stack.apiUrl}/v1/cases/${caseId}/approvals/${approvalId}`, supervisor, { approve: true, reason: '同意改派' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');

    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ status: 'completed', decision: { outcome: 'approved' } });
    const events = await eventsOf(caseId);
    const rerouted = events.find((e) => e.type === 'case.rerouted')!;
    expect(rerouted.data).toMatchObject({ from: '510000', to: '430000', reason: '四川系统长期停机，改由湖南办理', approvalId, approvedBy: 'test-supervisor-440000' });
    expect(String(rerouted.data.oldAuthority)).toMatch(/^(not-created|unreachable)/);
    expect(rerouted.actor).toBe('test-clerk-440100');
    // After the reroute: the new authority's creation, review and decision.
    const after = events.slice(events.indexOf(rerouted)).map((e) => e.type);
    expect(after).toEqual(expect.arrayContaining(['transfer.created', 'review.started', 'decision.approved', 'case.completed']));

    const created = stack.simulator.requests('430000').filter((r) => r.idempotencyKey === `${caseId}@route1:create`);
    expect(created).toHaveLength(1);
    const row = await stack.pool.query(`SELECT handling_region, handling_province FROM cases WHERE case_id = $1`, [caseId]);
    expect(row.rows).toEqual([{ handling_region: '430000', handling_province: '430000' }]);
    const approval = await getJson<{ items: { status: string }[] }>(`${stack.apiUrl}/v1/cases/${caseId}/approvals`, clerk);
    expect(approval.body.items.map((a) => a.status)).toEqual(['approved']);
  });

  it('When the creation at a province that is down is recorded as done offline with the number it gave, then the transfer goes on to that case, and so on step by step', async () => {
    const caseId = await stuckCase('吴线下');
    const evidence = await uploadFile(stack.apiUrl, clerk, samplePdf('phone-record'));
    const asked = await postJson<{ approvalId: string }>(`${stack.apiUrl}/v1/cases/${caseId}/actions/record-offline`, clerk, {
      step: 'createProvinceCase',
      evidenceFileId: evidence.body.fileId,
      provinceCaseId: 'SC-OFFLINE-0001',
      reason: '省端停机，已电话建档',
    });
    expect(asked.status).toBe(202);
    const approved = await postJson<{ status: string }>(`${stack.apiUrl}/v1/cases/${caseId}/approvals/${asked.body.approvalId}`, colleague, { approve: true, reason: '核对电话记录无误' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');

    // The province's system does not know the number it gave by phone: the first upload is refused there.
    const state = await eventually(() => stateOf(caseId), (s) => s.needsIntervention?.step === 'uploadMaterial:transfer-application', 30_000, 'stuck on the first upload');
    expect(state.provinceCaseId).toBe('SC-OFFLINE-0001');
    let events = await eventsOf(caseId);
    const offline = events.find((e) => e.type === 'step.recorded_offline')!;
    expect(offline.data).toMatchObject({ step: 'createProvinceCase', provinceCaseId: 'SC-OFFLINE-0001', evidence: { fileId: evidence.body.fileId, sha256: evidence.body.sha256 }, approvedBy: 'test-supervisor-440100' });
    expect(offline.actor).toBe('test-clerk-440100');
    expect(events.find((e) => e.type === 'transfer.created')!.data).toEqual({ provinceCaseId: 'SC-OFFLINE-0001' });

    // The material went by courier: recorded offline too, the case moves to the next material.
    const courier = await postJson<{ approvalId: string }>(`${stack.apiUrl}/v1/cases/${caseId}/actions/record-offline`, clerk, { step: 'uploadMaterial:transfer-application', evidenceFileId: evidence.body.fileId, reason: '申请表原件已快递' });
    expect(courier.status).toBe(202);
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/approvals/${courier.body.approvalId}`, colleague, { approve: true, reason: '快递单号核对无误' })).status).toBe(200);
    await eventually(() => stateOf(caseId), (s) => s.needsIntervention?.step === 'uploadMaterial:resident-id-card', 30_000, 'stuck on the second upload');
    events = await eventsOf(caseId);
    const material = (await submitted(caseId)).find((m) => m.material_code === 'transfer-application')!;
    expect(events.find((e) => e.type === 'material.transferred' && e.data.materialCode === 'transfer-application')!.data).toEqual({ materialCode: 'transfer-application', sha256: material.sha256, size: Number(material.size) });
  });

  it('When an approver of the handling side asks for an extension and the receiving window withdraws the case through /actions, then the workflow takes both', async () => {
    stack.simulator.addRule({ match: { applicantName: '冯延撤' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '冯延撤' });
    await eventually(() => stateOf(body.caseId), (s) => s.status === 'awaiting_supplement', 30_000, 'a notice from the authority');
    const approver = await stack.token('approver', '510000');
    const extended = await postJson<{ action: string; extension: { days: number; status: string } }>(`${stack.apiUrl}/v1/cases/${body.caseId}/actions/extend`, approver, { days: 5, reason: '需补充现场核查' });
    expect(extended.status).toBe(200);
    expect(extended.body).toMatchObject({ action: 'extend', extension: { days: 5, status: 'requested' } });
    const withdrawn = await postJson<{ status: string }>(`${stack.apiUrl}/v1/cases/${body.caseId}/actions/withdraw`, clerk, { reason: '申请人撤回申请' });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('withdrawn');
    const types = (await eventsOf(body.caseId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['extension.requested', 'case.withdrawal_requested', 'case.withdrawn']));
  });

  it('When a province was down and is back, then a bulk retry of its stuck cases moves every one on, with the progress counted', async () => {
    const caseIds = [await stuckCase('郑批一'), await stuckCase('郑批二'), await stuckCase('郑批三')];
    // A reroute asked meanwhile, decided only after the case has moved on.
    const late = await postJson<{ approvalId: string }>(`${stack.apiUrl}/v1/cases/${caseIds[0]}/actions/reroute`, clerk, { handlingRegion: '430000', reason: '改由湖南办理' });
    expect(late.status).toBe(202);
    // The province is back for them.
    for (const name of ['郑批一', '郑批二', '郑批三']) stack.simulator.removeRules({ province: '510000', operation: 'case', applicantName: name });
    const started = await postJson<{ bulkId: string; total: number }>(`${stack.apiUrl}/v1/bulk/retry`, clerk, { caseIds, reason: '四川系统已恢复，批量重试' });
    expect(started.status).toBe(202);
    expect(started.body.total).toBe(3);
    const progress = await eventually(
      async () => (await getJson<{ done: number; failed: number; pending: number }>(`${stack.apiUrl}/v1/bulk/${started.body.bulkId}`, clerk)).body,
      (p) => p.pending === 0,
      60_000,
      'bulk retry finished',
    );
    expect(progress).toMatchObject({ done: 3, failed: 0, pending: 0 });
    for (const caseId of caseIds) {
      expect(await handleOf(caseId).result()).toMatchObject({ status: 'completed' });
      const retries = (await eventsOf(caseId)).filter((e) => e.type === 'intervention.retry');
      expect(retries).toHaveLength(1);
      expect(retries[0]!.data.reason).toBe('四川系统已恢复，批量重试');
    }
    const failed = await postJson<{ detail: string }>(`${stack.apiUrl}/v1/cases/${caseIds[0]}/approvals/${late.body.approvalId}`, supervisor, { approve: true, reason: '同意' });
    expect(failed.status).toBe(409);
    expect(failed.body.detail).toMatch(/no longer allows it: the case is already completed|already has the materials/);
  });
});
