// 多地联办 end to end across three provinces: the applicant applies at a window in Guangdong
// (440100); the authorities that do the work are in Sichuan (the handling region, which issues the
// result) and Hunan (the region the applicant or the business moves out of). Each participant runs
// as its own workflow on its province's queue, with its own transfer, review, correction loop and
// deadline, and the case decides once. A rejection in the second step revokes the first step's
// approval; a withdrawal while two participants review in parallel withdraws both at their
// authority and skips the step that had not started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { participantWorkflowId } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

interface Participant {
  key: string;
  role: string;
  regionCode: string;
  step: number;
  status: string;
  provinceCaseId: string | null;
  startedAt: string | null;
  dueDate: string | null;
  dueAt: string | null;
  decidedAt: string | null;
  reasons: string[];
  compensation: string | null;
}

interface CaseView {
  status: string;
  stage: string;
  decision: { outcome: string; reasons: string[] } | null;
  correction: { noticeId: string; side: string; participant?: string; deficiencies: { materialCode: string }[] } | null;
  participants: Participant[] | null;
  sla: { statutory: { limitDays: number } } | null;
  timeline: { type: string; actor: string; data: Record<string, unknown> }[];
}

const HOUSEHOLD_MOVE = {
  itemCode: 'household-move',
  receivingRegion: '440100',
  handlingRegion: '510104',
  // The household register comes from the data-sharing hub (免提交).
  materialCodes: ['move-application', 'resident-id-card', 'settlement-proof'],
  fields: { originRegion: '430102', moveReason: '投靠配偶' },
  delivery: { method: 'electronic' as const },
};

const BUSINESS_RELOCATION = {
  itemCode: 'business-relocation',
  receivingRegion: '440100',
  handlingRegion: '510104',
  materialCodes: ['change-application', 'relocation-resolution', 'articles-amendment', 'domicile-proof', 'business-licence', 'representative-id-card'],
  fields: { originRegion: '430103' },
  delivery: { method: 'electronic' as const },
};

const view = (caseId: string) => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body);
const until = (caseId: string, what: string, done: (v: CaseView) => boolean) => eventually(() => view(caseId), done, 60_000, what);
const participant = (v: CaseView, key: string) => v.participants!.find((p) => p.key === key)!;
const participantCaseIdOf = (v: CaseView, key: string) => String(v.timeline.find((e) => e.type === 'participant.started' && e.data.participant === key)!.data.participantCaseId);
const types = (v: CaseView) => v.timeline.map((e) => e.type);

beforeAll(async () => {
  // Reviews of 4 s, so a test can act while two participants review in parallel (with room for a busy machine).
  stack = await startTestStack({ simulator: { reviewDelayMs: 4000, correctionDelayMs: 500 } });
  clerk = await stack.token('clerk', '440100');
});

afterAll(async () => {
  await stack?.stop();
});

describe('joint handling (多地联办)', () => {
  it('When both authorities approve in turn, then each ran on its own province queue with its own deadline, and the case is approved once and delivered', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { ...HOUSEHOLD_MOVE, applicantName: '联办甲' });
    expect(sub.status).toBe(201);
    const caseId = sub.body.caseId;
    const done = await until(caseId, 'completed', (v) => v.status === 'completed');

    expect(done.participants!.map((p) => [p.key, p.regionCode, p.step, p.status])).toEqual([
      ['moved-in', '510104', 1, 'approved'],
      ['moved-out', '430102', 2, 'approved'],
    ]);
    for (const p of done.participants!) {
      expect(p.provinceCaseId).toMatch(/.+/);
      expect(p.dueAt).not.toBeNull();
      expect(p.compensation).toBeNull();
    }
    // Step 2 started only after step 1 had decided.
    expect(Date.parse(participant(done, 'moved-out').startedAt!)).toBeGreaterThanOrEqual(Date.parse(participant(done, 'moved-in').decidedAt!));
    // One statutory clock for the case: art. 42's 45 working days for joint handling.
    expect(done.sla?.statutory.limitDays).toBe(45);
    expect(done.decision?.outcome).toBe('approved');
    const t = types(done);
    expect(t.filter((x) => x === 'participant.decided')).toHaveLength(2);
    expect(t.filter((x) => x === 'decision.approved')).toHaveLength(1);
    expect(t.indexOf('joint.started')).toBeLessThan(t.indexOf('decision.approved'));
    expect(t).toContain('delivery.issued');
    expect(t).toContain('material.fetched');

    // Each participant's workflow ran on the queue of its province, and each authority has its own case.
    for (const [key, province] of [['moved-in', '510000'], ['moved-out', '430000']] as const) {
      const pcid = participantCaseIdOf(done, key);
      const described = await stack.client.workflow.getHandle(participantWorkflowId(pcid)).describe();
      expect(described.taskQueue).toBe(`province-${province}`);
      expect(stack.simulator.caseStatus(province, pcid)).toBe('approved');
    }

    // The ledger names each participant's hand-offs.
    const ledger = (await getJson<{ entries: { kind: string; ref: string; what: Record<string, unknown>[] }[]; chain: { ok: boolean } }>(`${stack.apiUrl}/v1/cases/${caseId}/handoffs`, clerk)).body;
    expect(ledger.entries.some((e) => e.kind === 'material' && e.ref === 'moved-out:material:settlement-proof' && e.what[0]?.participant === 'moved-out')).toBe(true);
    expect(ledger.entries.filter((e) => e.kind === 'decision').map((e) => e.ref)).toEqual(['decision:moved-in', 'decision:moved-out', 'decision']);
    expect(ledger.chain.ok).toBe(true);

    // The list shows the participants too.
    const list = await getJson<{ items: { caseId: string; participants: Participant[] | null }[] }>(`${stack.apiUrl}/v1/cases?limit=50`, clerk);
    expect(list.body.items.find((i) => i.caseId === caseId)?.participants?.map((p) => p.status)).toEqual(['approved', 'approved']);
  });

  it("When a participant's authority asks for a correction, then the case's one notice names it, and the supplement goes back to that authority", async () => {
    stack.simulator.setScenario('510000', 'correction');
    try {
      const sub = await submitCase(stack.apiUrl, clerk, { ...HOUSEHOLD_MOVE, applicantName: '联办补正' });
      const caseId = sub.body.caseId;
      const waiting = await until(caseId, 'the participant’s notice', (v) => v.status === 'awaiting_supplement');
      expect(waiting.correction).toMatchObject({ side: 'handling', participant: 'moved-in' });
      expect(participant(waiting, 'moved-in').status).toBe('awaiting_supplement');
      stack.simulator.setScenario('510000', 'approve');
      const items = [];
      for (const d of waiting.correction!.deficiencies) {
        const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`联办补正 ${d.materialCode}`));
        items.push({ materialCode: d.materialCode, fileId: up.body.fileId });
      }
      const answered = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/supplements`, clerk, { noticeId: waiting.correction!.noticeId, items });
      expect(answered.status).toBe(202);
      const done = await until(caseId, 'completed', (v) => v.status === 'completed');
      const progress = done.timeline.filter((e) => e.type === 'participant.progress' && e.data.participant === 'moved-in').map((e) => e.data.type);
      expect(progress).toEqual(expect.arrayContaining(['supplement.transferred', 'correction.answered']));
      expect(done.timeline.find((e) => e.type === 'correction.supplemented')?.data.participant).toBe('moved-in');
    } finally {
      stack.simulator.setScenario('510000', 'approve');
    }
  });

  it('When the second step rejects, then the first step’s approval is revoked at its authority and the case is rejected with the reasons', async () => {
    stack.simulator.setScenario('430000', 'reject');
    try {
      const sub = await submitCase(stack.apiUrl, clerk, { ...HOUSEHOLD_MOVE, applicantName: '联办驳回' });
      const caseId = sub.body.caseId;
      const done = await until(caseId, 'rejected', (v) => v.status === 'rejected');
      expect(participant(done, 'moved-out')).toMatchObject({ status: 'rejected', compensation: null });
      expect(participant(done, 'moved-out').reasons.length).toBeGreaterThan(0);
      expect(participant(done, 'moved-in')).toMatchObject({ status: 'revoked', compensation: 'revoked' });
      expect(stack.simulator.caseStatus('510000', participantCaseIdOf(done, 'moved-in'))).toBe('revoked');
      expect(stack.simulator.caseStatus('430000', participantCaseIdOf(done, 'moved-out'))).toBe('rejected');
      expect(done.decision?.outcome).toBe('rejected');
      expect(done.decision?.reasons.every((r) => r.startsWith('迁出地公安机关：'))).toBe(true);
      const compensated = done.timeline.find((e) => e.type === 'participant.compensated');
      expect(compensated?.data).toMatchObject({ participant: 'moved-in', action: 'revoked', province: 'revoked' });
      expect(String(compensated?.data.reason)).toContain('moved-out');
    } finally {
      stack.simulator.setScenario('430000', 'approve');
    }
  });

  it('When the applicant withdraws while two participants review in parallel, then both are withdrawn at their authority and the later step never starts', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { ...BUSINESS_RELOCATION, applicantName: '联办撤回' });
    const caseId = sub.body.caseId;
    const reviewing = await until(caseId, 'both step-1 participants reviewing', (v) =>
      (v.participants ?? []).filter((p) => p.step === 1 && p.status === 'reviewing').length === 2,
    );
    expect(reviewing.participants!.filter((p) => p.step === 1).map((p) => p.key).sort()).toEqual(['registration-out', 'tax-clearance']);
    const withdrawn = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '企业决定暂缓迁移' });
    expect(withdrawn.status).toBeLessThan(300);
    const done = await until(caseId, 'withdrawn', (v) => v.status === 'withdrawn');
    expect(done.participants!.map((p) => [p.key, p.status, p.compensation])).toEqual([
      ['registration-out', 'withdrawn', 'withdrawn'],
      ['tax-clearance', 'withdrawn', 'withdrawn'],
      ['registration-in', 'skipped', 'skipped'],
    ]);
    for (const key of ['registration-out', 'tax-clearance']) expect(stack.simulator.caseStatus('430000', participantCaseIdOf(done, key))).toBe('withdrawn');
    expect(done.timeline.some((e) => e.type === 'participant.started' && e.data.participant === 'registration-in')).toBe(false);
    expect(done.timeline.filter((e) => e.type === 'participant.compensated')).toHaveLength(3);
    expect(types(done)).toContain('case.withdrawn');
  });

  it('When a joint application lacks the region moved out of, then intake answers 422 naming the field, and no case is started', async () => {
    const sub = await submitCase(stack.apiUrl, clerk, { ...HOUSEHOLD_MOVE, applicantName: '联办缺字段', fields: { moveReason: '投靠配偶', unknownField: 'x' } });
    expect(sub.status).toBe(422);
    const paths = (sub.body as unknown as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['fields.originRegion', 'fields.unknownField']));
  });
});
