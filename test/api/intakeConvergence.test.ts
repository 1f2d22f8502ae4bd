// Defect 1: intake never makes two cases of one application. The case id is derived from the
// Idempotency-Key and the submitting staff member, so when the first attempt's answer was lost
// after its workflow had started, the retry meets that workflow ("already started" counts as
// started) instead of starting a second case. A whole stack (worker, simulator) runs here, so
// "one province case" is counted where it would be made: at the simulated province.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseIdFor } from '../../api/intake.js';
import { caseTiming, loadConfig } from '../../config/index.js';
import type { CaseInput } from '../../domain/case.js';
import { findBuiltinItem } from '../../catalog/seed.js';
import { samplePdf, uploadFile, validIdNumber } from '../../harness/cases.js';
import { TEST_TIMINGS } from '../../harness/stack.js';
import type { caseWorkflow } from '../../workflows/index.js';
import { CASE_TASK_QUEUE, caseWorkflowId } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('intake after a lost answer', () => {
  it('When the workflow for a key’s case id is already running before POST /v1/cases, then the POST answers 201 with that case id, and there is one workflow and one province case', async () => {
    const sub = 'test-clerk-440100';
    const token = await stack.token('clerk', '440100');
    const key = `lost-answer-${randomUUID()}`;
    const caseId = caseIdFor(sub, key);
    const item = findBuiltinItem('pension-transfer')!;

    const codes = ['transfer-application', 'resident-id-card', 'contribution-certificate'];
    const uploads = await Promise.all(codes.map(() => uploadFile(stack.apiUrl, token, samplePdf())));
    const body = {
      itemCode: item.code,
      applicant: { name: '王五', idNumber: validIdNumber(), phone: '13800138000' },
      receivingRegion: '440100',
      handlingRegion: '510100',
      channel: 'window',
      materials: codes.map((materialCode, i) => ({ materialCode, fileId: uploads[i]!.body.fileId })),
      delivery: { method: 'window' },
    };
    // What the first attempt started before its answer was lost.
    const input: CaseInput = {
      caseId,
      item,
      applicant: body.applicant,
      receivingRegion: body.receivingRegion,
      handlingRegion: body.handlingRegion,
      channel: 'window',
      materials: codes.map((materialCode, i) => {
        const u = uploads[i]!.body;
        return { materialCode, fileId: u.fileId, sha256: u.sha256, size: u.size, contentType: u.contentType };
      }),
      delivery: { method: 'window' },
      submittedAt: new Date().toISOString(),
      submittedBy: { id: sub, role: 'clerk', region: '440100' },
      callbackUrl: `${stack.apiUrl}/v1/province-callbacks/510000`,
      timing: caseTiming(loadConfig({ NODE_ENV: 'test', ...TEST_TIMINGS })),
    };
    const first = await stack.client.workflow.start<typeof caseWorkflow>('caseWorkflow', {
      taskQueue: CASE_TASK_QUEUE,
      workflowId: caseWorkflowId(caseId),
      args: [input],
    });

    const res = await fetch(`${stack.apiUrl}/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { caseId: string }).caseId).toBe(caseId);

    // The same run is the only run: nothing started a second one.
    const description = await stack.client.workflow.getHandle(caseWorkflowId(caseId)).describe();
    expect(description.runId).toBe(first.firstExecutionRunId);
    const rows = await stack.pool.query(`SELECT count(*)::int AS n FROM cases WHERE case_id = $1`, [caseId]);
    expect(rows.rows[0].n).toBe(1);

    // A retry of the retry changes nothing either.
    const again = await fetch(`${stack.apiUrl}/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    // One province case: every create request the province saw for this case carries one key.
    const creates = await eventually(
      async () => stack.simulator.requests('510000').filter((r) => r.method === 'POST' && /\/cases$/.test(r.path) && (r.idempotencyKey ?? '').startsWith(caseId)),
      (list) => list.length > 0,
      30_000,
      'the province create request',
    );
    expect(new Set(creates.map((r) => r.idempotencyKey)).size).toBe(1);
    const workflows: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${caseWorkflowId(caseId)}'` })) workflows.push(w.runId);
    expect(workflows.length).toBeLessThanOrEqual(1);
    await stack.client.workflow.getHandle(caseWorkflowId(caseId)).terminate('test finished').catch(() => {});
  });
});
