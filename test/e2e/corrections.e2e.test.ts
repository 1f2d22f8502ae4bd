// Corrections end to end over HTTP, as a window clerk and the province would drive them: a
// receiving-side notice at precheck, two handling-side rounds, each answered through
// POST /v1/cases/:id/supplements, to completion; and the api's mapping of the workflow's own
// rejections when the projection lags behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState, CorrectionNotice } from '../../domain/case.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';

let stack: TestStack;
let clerk: string;

interface CaseView {
  stage: string;
  status: string;
  correction: CorrectionNotice | null;
  correctionRounds: { receiving: number; handling: number };
  timeline: { type: string; actor: string; data: Record<string, unknown> }[];
}

const view = (caseId: string) => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body);
const waitForNotice = (caseId: string, side: 'receiving' | 'handling', round: number) =>
  eventually(() => view(caseId), (v) => v.status === 'awaiting_supplement' && v.correction?.side === side && v.correction.round === round, 30_000, `${side} notice ${round} in the case view`);

async function postSupplement(caseId: string, noticeId: string, codes: string[]) {
  const items = [];
  for (const materialCode of codes) {
    const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`补正 ${materialCode} ${noticeId}`));
    items.push({ materialCode, fileId: up.body.fileId, note: `重新提交 ${materialCode}` });
  }
  const res = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/supplements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clerk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ noticeId, items }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('corrections over HTTP', () => {
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { reviewDelayMs: 300, correctionDelayMs: 300 } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the window finds an unverifiable e-licence and the authority asks twice, then each notice is answered through the API and the case completes with every round on record', async () => {
    // Sichuan's e-licence check fails first; once the case reaches it, its review asks twice.
    stack.simulator.setScenario('510000', 'elicence-invalid');
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '全程补正' });
    const { caseId } = body;
    let receiving: CaseView;
    try {
      receiving = await waitForNotice(caseId, 'receiving', 1);
    } finally {
      stack.simulator.setScenario('510000', 'correction-2');
    }
    expect(receiving.stage).toBe('correction');
    const r1 = await postSupplement(caseId, receiving.correction!.noticeId, receiving.correction!.deficiencies.map((d) => d.materialCode));
    expect(r1.status).toBe(202);
    expect(r1.body).toMatchObject({ caseId, needsIntervention: false });

    for (const round of [1, 2]) {
      const handling = await waitForNotice(caseId, 'handling', round);
      const res = await postSupplement(caseId, handling.correction!.noticeId, handling.correction!.deficiencies.map((d) => d.materialCode));
      expect(res.status).toBe(202);
    }

    const final = (await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result()) as CaseState;
    stack.simulator.setScenario('510000', 'approve');
    expect(final).toMatchObject({ status: 'completed', correctionRounds: { receiving: 1, handling: 2 } });
    const done = await eventually(() => view(caseId), (v) => v.status === 'completed', 10_000, 'completed view');
    expect(done.correction).toBeNull();
    expect(done.correctionRounds).toEqual({ receiving: 1, handling: 2 });
    const notices = done.timeline.filter((e) => e.type === 'correction.notice_issued').map((e) => `${e.data.side}:${e.data.round}`);
    expect(notices).toEqual(['receiving:1', 'handling:1', 'handling:2']);
    expect(done.timeline.filter((e) => e.type === 'correction.supplemented').map((e) => e.actor)).toEqual(['test-clerk-440100', 'test-clerk-440100', 'test-clerk-440100']);
    const audits = await stack.pool.query(`SELECT detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 AND action = 'case.supplement' ORDER BY id`, [caseId]);
    expect(audits.rows.map((r) => r.outcome)).toEqual(['done', 'done', 'done']);
  });

  it('When the projection lags behind the workflow, then the workflow’s own refusals come back: 409 for a notice that is not open, 400 for an unanswered deficiency', async () => {
    stack.simulator.addRule({ match: { applicantName: '投影滞后' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '投影滞后' });
    const { caseId } = body;
    const waiting = await waitForNotice(caseId, 'handling', 1);
    const notice = waiting.correction!;
    expect(notice.deficiencies.length).toBeGreaterThan(1);

    // The projection believes another notice is open (as if it had not caught up).
    await stack.pool.query(`UPDATE cases SET correction = jsonb_set(correction, '{noticeId}', '"stale-notice"') WHERE case_id = $1`, [caseId]);
    const stale = await postSupplement(caseId, 'stale-notice', notice.deficiencies.map((d) => d.materialCode));
    expect(stale.status).toBe(409);
    expect(String(stale.body.detail)).toMatch(new RegExp(`open notice is ${notice.noticeId}`));

    // The projection lists fewer deficiencies than the notice the workflow holds.
    const [first, ...rest] = notice.deficiencies;
    await stack.pool.query(`UPDATE cases SET correction = $2 WHERE case_id = $1`, [caseId, JSON.stringify({ ...notice, deficiencies: [first] })]);
    const partial = await postSupplement(caseId, notice.noticeId, [first!.materialCode]);
    expect(partial.status).toBe(400);
    expect(String(partial.body.detail)).toMatch(new RegExp(`unanswered: ${rest.map((d) => d.materialCode).join(', ')}`));
    const outcomes = await stack.pool.query(`SELECT detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 AND action = 'case.supplement' ORDER BY id`, [caseId]);
    expect(outcomes.rows.map((r) => r.outcome)).toEqual(['rejected', 'rejected']);

    // The case still waits for its notice, and a full answer completes it.
    expect((await stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery)).correction?.noticeId).toBe(notice.noticeId);
    await stack.pool.query(`UPDATE cases SET correction = $2 WHERE case_id = $1`, [caseId, JSON.stringify(notice)]);
    const full = await postSupplement(caseId, notice.noticeId, notice.deficiencies.map((d) => d.materialCode));
    expect(full.status).toBe(202);
    expect(((await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result()) as CaseState).status).toBe('completed');
  });
});
