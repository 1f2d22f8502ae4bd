// End to end over HTTP, as a receiving window's system would drive tongban: upload materials,
// submit a case, let the handling province (the simulator) approve it, and read it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE_STAGES } from '../../domain/case.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, samplePdf, submitCase, uploadFile, validIdNumber } from '../../harness/cases.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface CaseView {
  caseId: string;
  stage: string;
  status: string;
  applicant: { name: string; idNumber: string; phone: string };
  materials: { materialCode: string; sha256: string; size: number; transferredAt: string | null }[];
  timeline: { seq: number; type: string; stage: string; status: string }[];
  decision: { outcome: string } | null;
  delivery: { status: string; certificate?: { certificateId: string } };
}

describe('a cross-province case over HTTP', () => {
  it('When a clerk in Guangzhou submits a pension transfer handled by Sichuan, then it is approved, delivered and completed, and the projection shows every stage', async () => {
    const clerk = await stack.token('clerk', '440100');

    const upload = await uploadFile(stack.apiUrl, clerk, samplePdf('e2e'));
    expect(upload.status).toBe(201);
    expect(upload.body.sha256).toMatch(/^[0-9a-f]{64}$/);

    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '陈通办', delivery: { method: 'electronic' } });
    expect(sub.status).toBe(201);
    expect(sub.body).toMatchObject({ status: 'active', stage: 'intake' });
    const url = `${stack.apiUrl}/v1/cases/${sub.body.caseId}`;

    const done = await eventually(
      async () => (await getJson<CaseView>(url, clerk)).body,
      (c) => c.status === 'completed',
      45_000,
      'case completed',
    );
    expect(done.stage).toBe('closed');
    expect(done.decision?.outcome).toBe('approved');
    expect(done.delivery.status).toBe('issued');
    expect(done.delivery.certificate?.certificateId).toBeTruthy();

    // Every stage of a case without corrections appears on its timeline, in order.
    const stagesSeen = [...new Set(done.timeline.map((e) => e.stage))];
    expect(stagesSeen).toEqual(CASE_STAGES.filter((s) => s !== 'correction'));
    expect(done.timeline.map((e) => e.seq)).toEqual(done.timeline.map((_, i) => i + 1));

    // Materials with their hashes, all transferred.
    expect(done.materials).toHaveLength(3);
    for (const m of done.materials) {
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.transferredAt).not.toBeNull();
    }

    // Personal data is masked; the clear identity number appears nowhere in the response.
    const raw = JSON.stringify(done);
    expect(done.applicant.idNumber).toBe('110***********002X');
    expect(raw).not.toContain(validIdNumber());
    expect(raw).not.toContain('13800138000');

    // The handling side (Sichuan) sees the case too; an unrelated province does not.
    const approver = await stack.token('approver', '510000');
    expect((await getJson(url, approver)).status).toBe(200);
    const outsider = await stack.token('clerk', '330000');
    expect((await getJson(url, outsider)).status).toBe(404);

    const list = await getJson<{ items: { caseId: string; status: string }[] }>(`${stack.apiUrl}/v1/cases?status=completed&handlingRegion=510000&limit=100`, clerk);
    expect(list.status).toBe(200);
    expect(list.body.items.map((c) => c.caseId)).toContain(sub.body.caseId);
  });
});
