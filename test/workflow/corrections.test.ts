// Corrections (补正) on the real dev server with the simulator over HTTP: one notice listing every
// deficiency, the supplement answering it, rounds counted per side, a missed supplement deadline,
// and art. 32's late notice. Supplements are taken in through the workflow's `supplement` update,
// as the API does after its own checks (the API's validation has its tests in test/api).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState } from '../../domain/case.js';
import { caseWorkflowId, getStateQuery, supplementUpdate, type SupplementItem } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { samplePdf, submitCase, uploadFile } from '../../harness/cases.js';

let stack: TestStack;
let clerk: string;

const handleOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId));
const stateOf = (caseId: string) => handleOf(caseId).query(getStateQuery);
const eventsOf = async (caseId: string) =>
  (await stack.pool.query<{ seq: number; type: string; data: Record<string, unknown> }>('SELECT seq, type, data FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;

/** Uploads a new file for each material code and sends the supplement for the open notice. */
async function supplement(caseId: string, noticeId: string, codes: string[]): Promise<CaseState> {
  const items: SupplementItem[] = [];
  for (const materialCode of codes) {
    const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`supplement-${materialCode}-${noticeId}`));
    expect(up.status).toBe(201);
    items.push({ materialCode, fileId: up.body.fileId, sha256: up.body.sha256, size: up.body.size, contentType: up.body.contentType });
  }
  return handleOf(caseId).executeUpdate(supplementUpdate, { args: [{ actor: 'test-clerk-440100', role: 'clerk', region: '440100', noticeId, items }] });
}

const awaitingNotice = (caseId: string, side: 'receiving' | 'handling', round: number) =>
  eventually(() => stateOf(caseId), (s) => s.status === 'awaiting_supplement' && s.correction?.side === side && s.correction.round === round, 30_000, `${side} notice round ${round}`);

describe('corrections on both sides', () => {
  beforeAll(async () => {
    // Time limits on the calendar, as in production (the seam unset): the notice's due date is a
    // real working day (test/domain/calendar.test.ts checks the data reaches far enough).
    stack = await startTestStack({ env: { WORKING_DAY_MS: '' }, simulator: { reviewDelayMs: 300, correctionDelayMs: 300 } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the receiving window cannot verify an e-licence, then one notice lists it, the case waits, and the supplement lets it go on to completion', async () => {
    stack.simulator.setScenario('510000', 'elicence-invalid');
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '补正收件' });
    const { caseId } = body;
    let waiting: CaseState;
    try {
      waiting = await awaitingNotice(caseId, 'receiving', 1);
    } finally {
      stack.simulator.setScenario('510000', 'approve');
    }
    expect(waiting.stage).toBe('correction');
    expect(waiting.correction!.deficiencies.map((d) => d.materialCode)).toEqual(['resident-id-card']);
    expect(waiting.correction!.supplementDue).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // Nothing went to the handling authority yet.
    expect(stack.simulator.requests('510000').some((r) => r.idempotencyKey === `${caseId}:create`)).toBe(false);

    const after = await supplement(caseId, waiting.correction!.noticeId, ['resident-id-card']);
    expect(after.correction).toBeNull();
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ status: 'completed', correctionRounds: { receiving: 1, handling: 0 } });
    const types = (await eventsOf(caseId)).map((e) => e.type);
    expect(types.slice(0, 5)).toEqual(['case.submitted', 'correction.notice_issued', 'correction.supplemented', 'precheck.passed', 'transfer.created']);
    // The province received the supplemented file, not the original.
    const supplemented = (await eventsOf(caseId)).find((e) => e.type === 'correction.supplemented')!.data as { items: { sha256: string }[] };
    const uploaded = stack.simulator.requests('510000').filter((r) => r.idempotencyKey === `${caseId}:material:resident-id-card`);
    expect(uploaded.length).toBeGreaterThan(0);
    const projected = await stack.pool.query('SELECT sha256 FROM case_materials WHERE case_id = $1 AND material_code = $2', [caseId, 'resident-id-card']);
    expect(projected.rows[0]).toBeTruthy();
    expect(supplemented.items[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const sent = (await eventsOf(caseId)).find((e) => e.type === 'material.transferred' && e.data.materialCode === 'resident-id-card')!;
    expect(sent.data.sha256).toBe(supplemented.items[0]!.sha256);
    expect(sent.data.sha256).not.toBe(projected.rows[0].sha256);
    // The supplemented file is kept with the case (so the unattached-files sweep leaves it alone).
    const kept = await stack.pool.query('SELECT material_code, sha256 FROM case_supplements WHERE case_id = $1', [caseId]);
    expect(kept.rows).toEqual([{ material_code: 'resident-id-card', sha256: supplemented.items[0]!.sha256 }]);
  });

  it('When the handling authority asks for a correction, then the supplement goes to it as revision 1 with the answer, and its review goes on to an approval', async () => {
    stack.simulator.addRule({ match: { applicantName: '补正审查' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '补正审查' });
    const { caseId } = body;
    const waiting = await awaitingNotice(caseId, 'handling', 1);
    const codes = waiting.correction!.deficiencies.map((d) => d.materialCode);
    expect(codes.length).toBeGreaterThan(0);
    const projected = await eventually(
      () => stack.pool.query('SELECT status, stage, correction FROM cases WHERE case_id = $1', [caseId]).then((r) => r.rows[0]),
      (row) => row.status === 'awaiting_supplement',
      10_000,
      'projected notice',
    );
    expect(projected.correction).toMatchObject({ noticeId: waiting.correction!.noticeId, side: 'handling', round: 1 });

    await supplement(caseId, waiting.correction!.noticeId, codes);
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ status: 'completed', decision: { outcome: 'approved' }, correctionRounds: { receiving: 0, handling: 1 } });
    const keys = stack.simulator.requests('510000').map((r) => r.idempotencyKey);
    for (const code of codes) expect(keys).toContain(`${caseId}:material:${code}:r1`);
    expect(keys).toContain(`${caseId}:answer:${waiting.correction!.noticeId}`);
    const types = (await eventsOf(caseId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['correction.notice_issued', 'correction.supplemented', 'supplement.transferred', 'correction.answered', 'decision.approved']));
    expect(types).not.toContain('correction.rounds_exceeded');
  });

  it('When the handling authority asks twice, then both rounds are counted, the second is flagged past the item’s one round, and the case completes', async () => {
    stack.simulator.addRule({ match: { applicantName: '补正两轮' }, scenario: 'correction-2' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '补正两轮' });
    const { caseId } = body;
    const first = await awaitingNotice(caseId, 'handling', 1);
    await supplement(caseId, first.correction!.noticeId, first.correction!.deficiencies.map((d) => d.materialCode));
    const second = await awaitingNotice(caseId, 'handling', 2);
    expect(second.correction!.noticeId).not.toBe(first.correction!.noticeId);

    // A supplement for the first, closed notice, or one that leaves a deficiency out, is refused.
    await expect(supplement(caseId, first.correction!.noticeId, first.correction!.deficiencies.map((d) => d.materialCode))).rejects.toMatchObject({
      cause: { type: 'NoticeNotOpen', message: expect.stringMatching(/open notice is/) },
    });
    const all = second.correction!.deficiencies.map((d) => d.materialCode);
    expect(all.length).toBeGreaterThan(0);
    await expect(supplement(caseId, second.correction!.noticeId, [])).rejects.toMatchObject({ cause: { type: 'SupplementIncomplete', message: expect.stringMatching(/unanswered/) } });

    await supplement(caseId, second.correction!.noticeId, all);
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ status: 'completed', correctionRounds: { handling: 2 } });
    const events = await eventsOf(caseId);
    expect(events.filter((e) => e.type === 'correction.notice_issued').map((e) => e.data.round)).toEqual([1, 2]);
    expect(events.find((e) => e.type === 'correction.rounds_exceeded')?.data).toMatchObject({ side: 'handling', round: 2, maxRounds: 1 });
    // The first material went twice: revisions 1 and 2.
    const code = second.correction!.deficiencies[0]!.materialCode;
    const keys = stack.simulator.requests('510000').map((r) => r.idempotencyKey);
    expect(keys).toEqual(expect.arrayContaining([`${caseId}:material:${code}:r1`, `${caseId}:material:${code}:r2`]));
  });
});

describe('art. 45 procedures', () => {
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { reviewDelayMs: 300, procedureDelayMs: 300 } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the handling authority runs an expert review, then its start and end are recorded (the clock leaves them out) and the case completes', async () => {
    stack.simulator.addRule({ match: { applicantName: '专家评审' }, scenario: 'procedure' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '专家评审' });
    const final = (await handleOf(body.caseId).result()) as CaseState;
    expect(final.status).toBe('completed');
    const events = await eventsOf(body.caseId);
    const started = events.find((e) => e.type === 'procedure.started');
    const ended = events.find((e) => e.type === 'procedure.ended');
    expect(started?.data).toMatchObject({ kind: 'expert_review' });
    expect(ended?.data.procedureId).toBe(started?.data.procedureId);
    expect(started!.seq).toBeLessThan(ended!.seq);
    expect(ended!.seq).toBeLessThan(events.find((e) => e.type === 'decision.approved')!.seq);
  });
});

describe('supplement deadlines and late notices (working days of 200 ms)', () => {
  beforeAll(async () => {
    // The seam: a working day lasts 200 ms, so the item's 10-day supplement deadline is 2 s, and a
    // notice 1.5 s after the materials arrived is 7 "working days" late (art. 32: more than 5).
    stack = await startTestStack({ env: { WORKING_DAY_MS: '200' }, simulator: { reviewDelayMs: 300, correctionDelayMs: 1500 } });
    clerk = await stack.token('clerk', '440100');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the applicant does not supplement in time, then the case closes as not_supplemented and the handling authority withdraws its case', async () => {
    stack.simulator.addRule({ match: { applicantName: '补正逾期' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '补正逾期' });
    const final = (await handleOf(body.caseId).result()) as CaseState;
    expect(final).toMatchObject({ stage: 'closed', status: 'not_supplemented', correction: null });
    const events = await eventsOf(body.caseId);
    expect(events.at(-1)).toMatchObject({ type: 'correction.expired', data: { side: 'handling', round: 1, province: 'withdrawn' } });
    const row = await stack.pool.query('SELECT status, closed_at FROM cases WHERE case_id = $1', [body.caseId]);
    expect(row.rows[0].status).toBe('not_supplemented');
    expect(row.rows[0].closed_at).not.toBeNull();
  });

  it('When the handling authority’s notice comes more than 5 working days after it received the materials, then acceptance by law on the day they arrived is recorded and the notice is still processed', async () => {
    stack.simulator.addRule({ match: { applicantName: '补正迟延' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '补正迟延' });
    const waiting = await awaitingNotice(body.caseId, 'handling', 1);
    const deemed = (await eventsOf(body.caseId)).find((e) => e.type === 'acceptance.deemed');
    expect(deemed?.data).toMatchObject({ noticeId: waiting.correction!.noticeId });
    expect(deemed!.data.workingDays as number).toBeGreaterThan(5);
    expect(deemed!.data.acceptedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await supplement(body.caseId, waiting.correction!.noticeId, waiting.correction!.deficiencies.map((d) => d.materialCode));
    expect(((await handleOf(body.caseId).result()) as CaseState).status).toBe('completed');
  });
});
