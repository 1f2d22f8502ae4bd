// 免提交 end to end: a pension transfer whose contribution certificate (参保缴费凭证) the applicant
// does not bring. The case fetches it from the data-sharing hub (the simulator's, signed), keeps it
// as a file of the case, enters it on the hand-off ledger and transfers it like an upload; when the
// hub has no record, the receiving window's one-time notice asks the applicant for it; when the hub
// is down, the case waits for a person instead of asking for paper, and a retry finishes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBuiltinItem } from '../../catalog/seed.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

interface CaseView {
  status: string;
  stage: string;
  needsIntervention: boolean;
  intervention: { step: string; kind: string } | null;
  correction: { noticeId: string; side: string; deficiencies: { materialCode: string; problem: string; needed: string }[] } | null;
  materials: { materialCode: string; fileId: string; sha256: string; transferredAt: string | null }[];
  timeline: { type: string; data: Record<string, unknown> }[];
}

interface Ledger {
  entries: { kind: string; ref: string; from: string; to: string; what: Record<string, unknown>[]; acknowledgedAt: string | null }[];
  chain: { ok: boolean };
}

const view = (caseId: string) => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body);
const finished = (caseId: string) => eventually(() => view(caseId), (v) => v.status === 'completed', 60_000, `case ${caseId} completed`);
/** The pension materials without the contribution certificate: the hub supplies it. */
const WITHOUT_CERTIFICATE = ['transfer-application', 'resident-id-card'];

beforeAll(async () => {
  stack = await startTestStack({ simulator: { reviewDelayMs: 200 } });
  clerk = await stack.token('clerk', '440100');
});

afterAll(async () => {
  await stack?.stop();
});

describe('shared data instead of paper (免提交)', () => {
  it('When the seeded pension item is read, then its contribution certificate comes from the hub, not from the applicant', () => {
    const pension = findBuiltinItem('pension-transfer')!;
    expect(pension.materials.find((m) => m.code === 'contribution-certificate')?.sharedData?.source).toBe('social-insurance-contributions');
    expect(findBuiltinItem('housing-fund-transfer')!.materials.find((m) => m.code === 'deposit-proof')?.sharedData?.source).toBe('housing-fund-deposits');
  });

  it('When the applicant does not bring the certificate, then the case fetches it from the hub, ledgers and transfers it, and completes', async () => {
    stack.simulator.setDatahubScenario('ok');
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '免提交甲', materialCodes: WITHOUT_CERTIFICATE });
    expect(sub.status).toBe(201);
    const caseId = sub.body.caseId;
    const done = await finished(caseId);

    const queries = stack.simulator.datahubQueries().filter((q) => q.caseId === caseId);
    expect(queries.filter((q) => !q.replayed)).toHaveLength(1);
    expect(queries[0]).toMatchObject({ requestId: `${caseId}:datahub:contribution-certificate`, source: 'social-insurance-contributions', idNumber: sub.request.applicant.idNumber, found: true });

    const fetched = done.timeline.find((e) => e.type === 'material.fetched')!;
    expect(fetched.data).toMatchObject({ materialCode: 'contribution-certificate', source: 'social-insurance-contributions', recordId: queries[0]!.recordId });
    const sha256 = String(fetched.data.sha256);
    // The fetched record is one of the case's materials, and it reached the handling authority with its hash.
    const material = done.materials.find((m) => m.materialCode === 'contribution-certificate');
    expect(material).toMatchObject({ sha256, fileId: fetched.data.fileId });
    expect(material?.transferredAt).not.toBeNull();
    const transferred = done.timeline.find((e) => e.type === 'material.transferred' && e.data.materialCode === 'contribution-certificate');
    expect(transferred?.data.sha256).toBe(sha256);
    // The precheck asked the applicant for nothing.
    expect(done.timeline.some((e) => e.type === 'correction.notice_issued')).toBe(false);

    const ledger = (await getJson<Ledger>(`${stack.apiUrl}/v1/cases/${caseId}/handoffs`, clerk)).body;
    const entry = ledger.entries.find((e) => e.kind === 'shared_data');
    expect(entry).toMatchObject({ ref: 'shared:contribution-certificate', from: 'datahub', to: 'receiving' });
    expect(entry?.what[0]).toMatchObject({ materialCode: 'contribution-certificate', sha256, recordId: queries[0]!.recordId });
    expect(entry?.acknowledgedAt).not.toBeNull();
    expect(ledger.entries.find((e) => e.kind === 'material' && e.ref === 'material:contribution-certificate')?.what[0]).toMatchObject({ sha256 });
    expect(ledger.chain.ok).toBe(true);
  });

  it('When the applicant brings the certificate anyway, then the hub is not asked', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '免提交乙' });
    expect(sub.status).toBe(201);
    const done = await finished(sub.body.caseId);
    expect(stack.simulator.datahubQueries().filter((q) => q.caseId === sub.body.caseId)).toEqual([]);
    expect(done.timeline.some((e) => e.type === 'material.fetched')).toBe(false);
  });

  it('When the hub has no record, then the one-time notice asks the applicant for the paper, and the supplement finishes the case', async () => {
    stack.simulator.setDatahubScenario('no-record');
    try {
      const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '免提交丙', materialCodes: WITHOUT_CERTIFICATE });
      expect(sub.status).toBe(201);
      const caseId = sub.body.caseId;
      const waiting = await eventually(() => view(caseId), (v) => v.status === 'awaiting_supplement', 30_000, 'the receiving notice');
      expect(waiting.correction?.side).toBe('receiving');
      expect(waiting.correction?.deficiencies.map((d) => d.materialCode)).toEqual(['contribution-certificate']);
      expect(waiting.correction?.deficiencies[0]?.needed).toContain('参保缴费凭证');
      expect(waiting.timeline.find((e) => e.type === 'material.not_shared')?.data).toMatchObject({ materialCode: 'contribution-certificate', source: 'social-insurance-contributions' });

      stack.simulator.setDatahubScenario('ok');
      const up = await uploadFile(stack.apiUrl, clerk, samplePdf('纸质参保缴费凭证扫描件'));
      const answered = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/supplements`, clerk, {
        noticeId: waiting.correction!.noticeId,
        items: [{ materialCode: 'contribution-certificate', fileId: up.body.fileId }],
      });
      expect(answered.status).toBe(202);
      const done = await finished(caseId);
      // The paper the applicant brought is what went to the handling authority; the hub was asked once.
      expect(done.timeline.find((e) => e.type === 'material.transferred' && e.data.materialCode === 'contribution-certificate')?.data.sha256).toBe(up.body.sha256);
      expect(stack.simulator.datahubQueries().filter((q) => q.caseId === caseId && !q.replayed)).toHaveLength(1);
    } finally {
      stack.simulator.setDatahubScenario('ok');
    }
  });

  it('When the hub is down past the retry budget, then the case waits for a person (no paper asked), and a retry completes it', async () => {
    stack.simulator.setDatahubScenario('down');
    try {
      const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '免提交丁', materialCodes: WITHOUT_CERTIFICATE });
      const caseId = sub.body.caseId;
      const stuck = await eventually(() => view(caseId), (v) => v.needsIntervention, 30_000, 'the intervention flag');
      expect(stuck.intervention).toMatchObject({ step: 'fetchSharedData:contribution-certificate', kind: 'unreachable' });
      expect(stuck.status).toBe('active');
      stack.simulator.setDatahubScenario('ok');
      const retried = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/retry`, clerk, { reason: '数据共享平台已恢复' });
      expect(retried.status).toBeLessThan(300);
      const done = await finished(caseId);
      expect(done.timeline.some((e) => e.type === 'correction.notice_issued')).toBe(false);
      expect(done.timeline.filter((e) => e.type === 'material.fetched')).toHaveLength(1);
    } finally {
      stack.simulator.setDatahubScenario('ok');
    }
  });
});
