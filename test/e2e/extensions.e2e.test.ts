// Extensions of the time limit (行政许可法 art. 42) over HTTP against the real workflow: the handling
// authority's approver asks, its supervisor decides, an approved extension adds its working days to
// both limits in GET /v1/cases/:id/deadlines, a refused one adds nothing, and never beyond the
// item's 10 working days in all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, postJson, submitCase } from '../../harness/cases.js';

let stack: TestStack;

interface ExtensionResult {
  caseId: string;
  extension: { extensionId: string; days: number; status: string; decidedBy?: string };
  status?: number;
  detail?: string;
}

describe('extensions of the time limit', () => {
  beforeAll(async () => {
    // The province decides but never calls back, and is not polled for a minute: the case stays in review.
    stack = await startTestStack({ env: { STATUS_POLL_AFTER_MS: '60000' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the approver asks and the supervisor approves, then the limits grow by those days; a refusal, a second pending request and a request past the maximum change nothing', async () => {
    const clerk = await stack.token('clerk', '440100');
    const approver = await stack.token('approver', '510000');
    const supervisor = await stack.token('supervisor', '510000');
    stack.simulator.addRule({ match: { applicantName: '延期办理' }, scenario: 'lost-callback' });
    // 基本医疗保险异地就医备案: promised 3, statutory 5 working days.
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '延期办理', itemCode: 'medical-filing' });
    const { caseId } = body;
    await eventually(() => stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery), (s) => s.stage === 'review', 30_000, 'review');
    const beforeRes = await getJson<{ statutory: { dueDate: string; extendedBy: number } }>(`${stack.apiUrl}/v1/cases/${caseId}/deadlines`, approver);
    expect(beforeRes.status, JSON.stringify(beforeRes.body)).toBe(200);
    const before = beforeRes.body;
    expect(before.statutory.extendedBy).toBe(0);

    // The receiving side cannot ask (art. 42 is the handling authority's).
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, clerk, { days: 2, reason: '材料复杂' })).status).toBe(403);

    const asked = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 4, reason: '需调取外省缴费记录核对' });
    expect(asked.status).toBe(201);
    expect(asked.body.extension).toMatchObject({ days: 4, status: 'requested' });
    const pending = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 1, reason: '再延一天' });
    expect(pending.status).toBe(409);
    expect(pending.body.detail).toMatch(/waiting for a decision/);
    // Only the head of the authority (a supervisor of the handling side) decides.
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${encodeURIComponent(asked.body.extension.extensionId)}/decision`, approver, { approve: true, reason: '同意' })).status).toBe(403);
    const approved = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${encodeURIComponent(asked.body.extension.extensionId)}/decision`, supervisor, {
      approve: true,
      reason: '情况复杂，同意延长',
    });
    expect(approved.status).toBe(200);
    expect(approved.body.extension).toMatchObject({ status: 'approved', decidedBy: 'test-supervisor-510000' });

    const after = await eventually(
      () => getJson<{ statutory: { dueDate: string; extendedBy: number; derivation: { extensions: { days: number; reason: string }[] } }; promised: { extendedBy: number } }>(`${stack.apiUrl}/v1/cases/${caseId}/deadlines`, approver),
      (r) => r.body.statutory.extendedBy === 4,
      10_000,
      'the approved extension in the deadlines',
    );
    expect(after.body.promised.extendedBy).toBe(4);
    expect(after.body.statutory.derivation.extensions).toEqual([expect.objectContaining({ days: 4, reason: '情况复杂，同意延长' })]);
    expect(after.body.statutory.dueDate > before.statutory.dueDate).toBe(true);

    // 4 approved of 10: 7 more is past the maximum; 3 asked and refused adds nothing.
    const tooMany = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 7, reason: '继续延长' });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.detail).toMatch(/10 working days of extension in all; 6 left/);
    const second = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 3, reason: '继续延长' });
    const refused = await postJson<ExtensionResult>(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${encodeURIComponent(second.body.extension.extensionId)}/decision`, supervisor, {
      approve: false,
      reason: '理由不充分',
    });
    expect(refused.body.extension.status).toBe('refused');
    const again = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${encodeURIComponent(second.body.extension.extensionId)}/decision`, supervisor, { approve: true, reason: '改为同意' });
    expect(again.status).toBe(409);
    const final = (await getJson<{ statutory: { extendedBy: number } }>(`${stack.apiUrl}/v1/cases/${caseId}/deadlines`, approver)).body;
    expect(final.statutory.extendedBy).toBe(4);

    const types = (await stack.pool.query('SELECT type FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows.map((r) => r.type);
    expect(types.filter((t: string) => t.startsWith('extension.'))).toEqual(['extension.requested', 'extension.approved', 'extension.requested', 'extension.refused']);
    const audits = await stack.pool.query(`SELECT action, detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 AND action LIKE 'case.extension%' ORDER BY id`, [caseId]);
    expect(audits.rows.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'case.extension-request:done',
      'case.extension-request:rejected',
      'case.extension-decision:done',
      'case.extension-request:rejected',
      'case.extension-request:done',
      'case.extension-decision:done',
      'case.extension-decision:rejected',
    ]);
    await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '测试结束' });
  });
});
