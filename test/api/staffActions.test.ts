// The console's actions on a case, around the workflow: who may ask for each (role, region, side),
// the fields (every bad one named), the state checks made before anything is stored (409 with the
// reason), four-eyes requests stored with what they will do, the requester refused as the
// decider, notes and assignments recorded and audited. No worker runs here; the workflow's part
// (carrying out an approval, retries) is in test/e2e/staffActions.e2e.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, insertProjectedCase, pensionSubmission, PROBLEM_JSON, submit, testItem, uploadPdf, type ApiHarness } from './helpers.js';

let h: ApiHarness;
let clerk: { authorization: string };
let colleague: { authorization: string };
let supervisorGd: { authorization: string };
const item = testItem(`act-${randomUUID().slice(0, 8)}`);

/** A projected case in a stage, stuck on a step when `stuckOn` is given. */
async function caseAt(stage: string, stuckOn?: string, status = 'active'): Promise<string> {
  const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date(), stage, status });
  if (stuckOn) {
    const intervention = { step: stuckOn, kind: 'unreachable', error: 'connect ECONNREFUSED', since: new Date().toISOString() };
    await h.pool.query(`UPDATE cases SET needs_intervention = true, intervention = $2 WHERE case_id = $1`, [caseId, JSON.stringify(intervention)]);
  }
  return caseId;
}

const post = (url: string, headers: { authorization: string }, payload: unknown) => h.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });
const errorPaths = (res: { json: () => unknown }) => (res.json() as { errors: { path: string }[] }).errors.map((e) => e.path).sort();

beforeAll(async () => {
  h = await createApiHarness({ updateTimeoutMs: 1_000 });
  clerk = await h.auth('clerk', '440100', 'clerk-wang');
  colleague = await h.auth('clerk', '440100', 'clerk-li');
  supervisorGd = await h.auth('supervisor', '440000', 'supervisor-zhao');
});
afterAll(async () => {
  await h?.close();
});

describe('notes and reassignment', () => {
  it('When a clerk adds a note, then it is stored on their side, listed with the case and audited with the text as the reason', async () => {
    const caseId = await caseAt('transfer');
    const res = await post(`/v1/cases/${caseId}/actions/note`, clerk, { reason: '已电话联系申请人，明日补交材料' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ caseId, action: 'note', note: { author: 'clerk-wang', side: 'receiving', text: '已电话联系申请人，明日补交材料' } });
    const list = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/notes`, headers: await h.auth('approver', '510100') });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ notes: { text: string }[] }>().notes.map((n) => n.text)).toEqual(['已电话联系申请人，明日补交材料']);
    const audit = await h.pool.query(`SELECT actor, reason FROM audit_log WHERE case_id = $1 AND action = 'case.note'`, [caseId]);
    expect(audit.rows).toEqual([{ actor: 'clerk-wang', reason: '已电话联系申请人，明日补交材料' }]);
  });

  it('When a clerk reassigns a case to a colleague, then the side shows the new assignee and the audit keeps the previous one', async () => {
    const caseId = await caseAt('review');
    const first = await post(`/v1/cases/${caseId}/actions/reassign`, clerk, { assignee: 'clerk-wang', reason: '本人跟进' });
    expect(first.statusCode).toBe(200);
    const second = await post(`/v1/cases/${caseId}/actions/reassign`, clerk, { assignee: 'clerk-li', reason: '本人休假，交同事跟进' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ action: 'reassign', assignee: { side: 'receiving', assignee: 'clerk-li', assignedBy: 'clerk-wang' } });
    const audit = await h.pool.query(`SELECT detail FROM audit_log WHERE case_id = $1 AND action = 'case.reassign' ORDER BY id`, [caseId]);
    expect(audit.rows.map((r) => r.detail)).toEqual([
      { side: 'receiving', assignee: 'clerk-wang', previous: null },
      { side: 'receiving', assignee: 'clerk-li', previous: 'clerk-wang' },
    ]);
  });

  it('When a closed case is reassigned, then it answers 409 saying it is closed', async () => {
    const caseId = await caseAt('closed', undefined, 'completed');
    const res = await post(`/v1/cases/${caseId}/actions/reassign`, clerk, { assignee: 'clerk-li', reason: '交同事' });
    expect(res.statusCode).toBe(409);
    expect(res.json<{ detail: string }>().detail).toMatch(/already completed/);
  });

  it('When a manager, an item admin or staff of an unrelated region act, then they get 403 (role) or 404 (the case does not exist for them)', async () => {
    const caseId = await caseAt('transfer');
    for (const role of ['manager', 'item_admin'] as const) {
      const res = await post(`/v1/cases/${caseId}/actions/note`, await h.auth(role, '440000'), { reason: '看看' });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    }
    const stranger = await post(`/v1/cases/${caseId}/actions/note`, await h.auth('clerk', '330100'), { reason: '看看' });
    expect(stranger.statusCode).toBe(404);
    expect(stranger.json<{ detail: string }>().detail).not.toContain('510100');
  });

  it('When the reason is missing or the body has unknown fields, then it answers 400 naming each', async () => {
    const caseId = await caseAt('transfer');
    const res = await post(`/v1/cases/${caseId}/actions/reassign`, clerk, { colleague: 'x' });
    expect(res.statusCode).toBe(400);
    expect(errorPaths(res)).toEqual(['assignee', 'colleague', 'reason']);
  });
});

describe('the workflow’s own actions through /actions (retry, withdraw, extend)', () => {
  let running: string;
  beforeAll(async () => {
    // A workflow no worker serves: an allowed action reaches it and waits (503).
    running = (await submit(h, clerk, await pensionSubmission(h, clerk))).json<{ caseId: string }>().caseId;
  });

  it('When each is asked by whom the policy allows, then it reaches the workflow (503 here, as no worker answers) and the attempt is audited as unanswered', async () => {
    const approver = await h.auth('approver', '510100', 'approver-sun');
    for (const [action, auth, body] of [
      ['retry', clerk, { reason: '省端已恢复' }],
      ['withdraw', clerk, { reason: '申请人撤回' }],
      ['extend', approver, { days: 5, reason: '需补充现场核查' }],
    ] as const) {
      const res = await post(`/v1/cases/${running}/actions/${action}`, auth, body);
      expect(res.statusCode, action).toBe(503);
    }
    const audit = await h.pool.query(`SELECT action, detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 AND action IN ('case.retry', 'case.withdraw', 'case.extension-request') ORDER BY id`, [running]);
    expect(audit.rows).toEqual([
      { action: 'case.retry', outcome: 'unanswered' },
      { action: 'case.withdraw', outcome: 'unanswered' },
      { action: 'case.extension-request', outcome: 'unanswered' },
    ]);
  });

  it('When the role or the side does not fit, then each answers 403 before asking the workflow', async () => {
    const started = Date.now();
    expect((await post(`/v1/cases/${running}/actions/retry`, await h.auth('manager', '440000'), { reason: '重试' })).statusCode).toBe(403);
    const withdrawByHandling = await post(`/v1/cases/${running}/actions/withdraw`, await h.auth('clerk', '510100'), { reason: '撤回' });
    expect(withdrawByHandling.statusCode).toBe(403);
    expect(withdrawByHandling.json<{ detail: string }>().detail).toMatch(/only the receiving side/);
    expect((await post(`/v1/cases/${running}/actions/extend`, clerk, { days: 5, reason: '延期' })).statusCode).toBe(403);
    const extendByReceivingApprover = await post(`/v1/cases/${running}/actions/extend`, await h.auth('approver', '440100'), { days: 5, reason: '延期' });
    expect(extendByReceivingApprover.statusCode).toBe(403);
    expect(extendByReceivingApprover.json<{ detail: string }>().detail).toMatch(/only the handling side/);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('When the case is closed, then each answers 409 saying so; an extension without days is 400 on days', async () => {
    const closed = await caseAt('closed', undefined, 'rejected');
    for (const [action, auth, body] of [
      ['retry', clerk, { reason: '重试' }],
      ['withdraw', clerk, { reason: '撤回' }],
      ['extend', await h.auth('approver', '510100'), { days: 5, reason: '延期' }],
    ] as const) {
      const res = await post(`/v1/cases/${closed}/actions/${action}`, auth, body);
      expect(res.statusCode, action).toBe(409);
      expect(res.json<{ detail: string }>().detail).toBe('the case is already rejected');
    }
    const noDays = await post(`/v1/cases/${closed}/actions/extend`, await h.auth('approver', '510100'), { reason: '延期' });
    expect(noDays.statusCode).toBe(400);
    expect(errorPaths(noDays)).toEqual(['days']);
  });
});

describe('four-eyes requests (reroute, record-offline)', () => {
  it('When a clerk of the receiving side asks to reroute a case in transfer, then it answers 202 with an approvalId and what it will do, stored as pending', async () => {
    const caseId = await caseAt('transfer', 'createProvinceCase');
    const preview = await post(`/v1/cases/${caseId}/actions/reroute/preview`, clerk, { handlingRegion: '330100', reason: '办理地系统长期停机，改由浙江办理' });
    expect(preview.statusCode).toBe(200);
    const res = await post(`/v1/cases/${caseId}/actions/reroute`, clerk, { handlingRegion: '330100', reason: '办理地系统长期停机，改由浙江办理' });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ approvalId: string; status: string; side: string; effects: { summary: string; deadlines: { limit: string; note: string }[]; otherOffice: string } }>();
    expect(body).toMatchObject({ caseId, action: 'reroute', status: 'pending', side: 'receiving', requestedBy: 'clerk-wang', params: { handlingRegion: '330100', from: '510100' } });
    expect(body.effects).toEqual(preview.json<{ effects: unknown }>().effects);
    expect(body.effects.summary).toContain('330100');
    expect(body.effects.deadlines.map((d) => d.limit)).toEqual(['promised', 'statutory']);
    expect(body.effects.otherOffice).toMatch(/withdrawn/);
    expect(res.headers.location).toBe(`/v1/cases/${caseId}/approvals/${body.approvalId}`);

    const listed = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/approvals`, headers: colleague });
    expect(listed.json<{ items: { approvalId: string; status: string }[] }>().items).toEqual([expect.objectContaining({ approvalId: body.approvalId, status: 'pending' })]);
    const waiting = await h.app.inject({ method: 'GET', url: `/v1/approvals?status=pending&limit=200`, headers: supervisorGd });
    expect(waiting.json<{ items: { approvalId: string }[] }>().items.map((a) => a.approvalId)).toContain(body.approvalId);
    const notMine = await h.app.inject({ method: 'GET', url: `/v1/approvals`, headers: await h.auth('supervisor', '330000') });
    expect(notMine.json<{ items: { approvalId: string }[] }>().items.map((a) => a.approvalId)).not.toContain(body.approvalId);

    // A second request for the same case waits for the first.
    const again = await post(`/v1/cases/${caseId}/actions/reroute`, colleague, { handlingRegion: '440300', reason: '改由深圳办理' });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ detail: string }>().detail).toContain(body.approvalId);
  });

  it('When the requester decides their own request, then it answers 403; a clerk, an approver, or a supervisor of the other side get 403 too, and the request stays pending', async () => {
    const caseId = await caseAt('transfer');
    const requester = await h.auth('supervisor', '440100', 'supervisor-requester');
    const res = await post(`/v1/cases/${caseId}/actions/reroute`, requester, { handlingRegion: '330100', reason: '改由浙江办理' });
    expect(res.statusCode).toBe(202);
    const { approvalId } = res.json<{ approvalId: string }>();
    const decide = (auth: { authorization: string }) => post(`/v1/cases/${caseId}/approvals/${approvalId}`, auth, { approve: true, reason: '同意改派' });

    const own = await decide(requester);
    expect(own.statusCode).toBe(403);
    expect(own.json<{ detail: string }>().detail).toMatch(/second staff member/);
    expect((await decide(colleague)).statusCode).toBe(403);
    expect((await decide(await h.auth('approver', '440100'))).statusCode).toBe(403);
    const handling = await decide(await h.auth('supervisor', '510000'));
    expect(handling.statusCode).toBe(403);
    expect(handling.json<{ detail: string }>().detail).toMatch(/receiving side/);
    expect((await decide(await h.auth('supervisor', '330000'))).statusCode).toBe(404);

    const row = await h.pool.query(`SELECT status FROM case_approvals WHERE approval_id = $1`, [approvalId]);
    expect(row.rows).toEqual([{ status: 'pending' }]);
  });

  it('When a supervisor refuses a request, then it is refused with their reason and audited; deciding it again is 409', async () => {
    const caseId = await caseAt('transfer');
    const { approvalId } = (await post(`/v1/cases/${caseId}/actions/reroute`, clerk, { handlingRegion: '330100', reason: '改由浙江办理' })).json<{ approvalId: string }>();
    const refused = await post(`/v1/cases/${caseId}/approvals/${approvalId}`, supervisorGd, { approve: false, reason: '办理地已恢复，无需改派' });
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toMatchObject({ status: 'refused', decidedBy: 'supervisor-zhao', decisionReason: '办理地已恢复，无需改派' });
    const again = await post(`/v1/cases/${caseId}/approvals/${approvalId}`, await h.auth('supervisor', '440000', 'supervisor-qian'), { approve: true, reason: '同意' });
    expect(again.statusCode).toBe(409);
    const audit = await h.pool.query(`SELECT action, actor, detail->>'outcome' AS outcome FROM audit_log WHERE case_id = $1 ORDER BY id`, [caseId]);
    expect(audit.rows).toEqual([
      { action: 'case.reroute-request', actor: 'clerk-wang', outcome: null },
      { action: 'case.reroute-decision', actor: 'supervisor-zhao', outcome: 'refused' },
    ]);
  });

  it('When a reroute does not fit the case (the authority has the materials, the same region, a closed case), then it answers 409 with the reason and stores nothing', async () => {
    const inReview = await caseAt('review');
    const review = await post(`/v1/cases/${inReview}/actions/reroute`, clerk, { handlingRegion: '330100', reason: '改由浙江办理' });
    expect(review.statusCode).toBe(409);
    expect(review.json<{ detail: string }>().detail).toMatch(/already has the materials/);
    const same = await post(`/v1/cases/${await caseAt('transfer')}/actions/reroute`, clerk, { handlingRegion: '510100', reason: '改派' });
    expect(same.statusCode).toBe(409);
    const closed = await post(`/v1/cases/${await caseAt('closed', undefined, 'withdrawn')}/actions/reroute`, clerk, { handlingRegion: '330100', reason: '改派' });
    expect(closed.statusCode).toBe(409);
    const stored = await h.pool.query(`SELECT count(*)::int AS n FROM case_approvals WHERE case_id = $1`, [inReview]);
    expect(stored.rows[0].n).toBe(0);
  });

  it('When the handling side or an approver asks for a reroute, then it answers 403 naming the receiving side or the role', async () => {
    const caseId = await caseAt('transfer');
    const handling = await post(`/v1/cases/${caseId}/actions/reroute`, await h.auth('clerk', '510100'), { handlingRegion: '330100', reason: '改派' });
    expect(handling.statusCode).toBe(403);
    expect(handling.json<{ detail: string }>().detail).toMatch(/only the receiving side/);
    const approver = await post(`/v1/cases/${caseId}/actions/reroute`, await h.auth('approver', '440100'), { handlingRegion: '330100', reason: '改派' });
    expect(approver.statusCode).toBe(403);
  });

  it('When a reroute names a province with no gateway or a malformed region, then it answers 400 on handlingRegion', async () => {
    const caseId = await caseAt('transfer');
    const noGateway = await post(`/v1/cases/${caseId}/actions/reroute`, clerk, { handlingRegion: '110100', reason: '改派' });
    expect(noGateway.statusCode).toBe(400);
    expect(errorPaths(noGateway)).toEqual(['handlingRegion']);
    const malformed = await post(`/v1/cases/${caseId}/actions/reroute`, clerk, { handlingRegion: '99', reason: 'x' });
    expect(malformed.statusCode).toBe(400);
    expect(errorPaths(malformed)).toEqual(['handlingRegion', 'reason']);
  });

  it('When a clerk asks to record the stuck creation as done offline with evidence and the number the authority gave, then it answers 202 and the effects name that number', async () => {
    const caseId = await caseAt('transfer', 'createProvinceCase');
    const evidenceFileId = await uploadPdf(h, clerk);
    const res = await post(`/v1/cases/${caseId}/actions/record-offline`, clerk, { step: 'createProvinceCase', evidenceFileId, provinceCaseId: 'SC-2026-000123', reason: '省端系统停机，已电话建档' });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ side: string; params: { evidence: { fileId: string; sha256: string } }; effects: { otherOffice: string } }>();
    expect(body).toMatchObject({ action: 'record-offline', side: 'receiving', params: { step: 'createProvinceCase', provinceCaseId: 'SC-2026-000123' } });
    expect(body.params.evidence).toMatchObject({ fileId: evidenceFileId, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(body.effects.otherOffice).toContain('SC-2026-000123');
  });

  it('When record-offline lacks the authority number for a creation or names an unknown file, then it answers 400 naming both', async () => {
    const caseId = await caseAt('transfer', 'createProvinceCase');
    const res = await post(`/v1/cases/${caseId}/actions/record-offline`, clerk, { step: 'createProvinceCase', evidenceFileId: randomUUID(), reason: '已线下建档' });
    expect(res.statusCode).toBe(400);
    expect(errorPaths(res)).toEqual(['evidenceFileId', 'provinceCaseId']);
  });

  it('When record-offline names a step the case is not stuck on, or one that cannot be done offline, then it answers 409 saying why', async () => {
    const evidenceFileId = await uploadPdf(h, clerk);
    const notStuck = await post(`/v1/cases/${await caseAt('transfer')}/actions/record-offline`, clerk, { step: 'submitProvinceCase', evidenceFileId, reason: '已线下提交' });
    expect(notStuck.statusCode).toBe(409);
    expect(notStuck.json<{ detail: string }>().detail).toMatch(/not stuck/);
    const other = await post(`/v1/cases/${await caseAt('transfer', 'uploadMaterial:resident-id-card')}/actions/record-offline`, clerk, { step: 'submitProvinceCase', evidenceFileId, reason: '已线下提交' });
    expect(other.statusCode).toBe(409);
    expect(other.json<{ detail: string }>().detail).toMatch(/stuck on uploadMaterial:resident-id-card, not submitProvinceCase/);
    const poll = await post(`/v1/cases/${await caseAt('review', 'pollProvinceStatus')}/actions/record-offline`, clerk, { step: 'pollProvinceStatus', evidenceFileId, reason: '电话确认' });
    expect(poll.statusCode).toBe(409);
    expect(poll.json<{ detail: string }>().detail).toMatch(/cannot be done outside the system/);
  });

  it('When the handling side asks to record a transfer step offline, then it answers 403: the step is the receiving side’s', async () => {
    const caseId = await caseAt('transfer', 'submitProvinceCase');
    const approver = await h.auth('approver', '510100');
    const evidenceFileId = await uploadPdf(h, approver);
    const res = await post(`/v1/cases/${caseId}/actions/record-offline`, approver, { step: 'submitProvinceCase', evidenceFileId, reason: '我方已在本地系统受理' });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ detail: string }>().detail).toMatch(/receiving side's step/);
  });
});

describe('bulk retry', () => {
  it('When a clerk retries cases in bulk, then it answers 202 with the count, and each case the clerk may not retry fails with the reason while the progress is the clerk’s alone', async () => {
    // A running workflow that no worker serves: its retry is not answered in time.
    const visible = (await submit(h, clerk, await pensionSubmission(h, clerk))).json<{ caseId: string }>().caseId;
    const closed = await caseAt('closed', undefined, 'completed');
    const foreign = await insertProjectedCase(h, { item, receivingRegion: '330100', handlingRegion: '510100', submittedAt: new Date() });
    const res = await post(`/v1/bulk/retry`, clerk, { caseIds: [visible, closed, foreign, closed], reason: '省端已恢复，批量重试' });
    expect(res.statusCode).toBe(202);
    const { bulkId, total } = res.json<{ bulkId: string; total: number }>();
    expect(total).toBe(3);
    let progress: { pending: number; items: { caseId: string; status: string; httpStatus: number | null; detail: string | null }[] } | undefined;
    for (let i = 0; i < 50; i++) {
      const got = await h.app.inject({ method: 'GET', url: `/v1/bulk/${bulkId}`, headers: clerk });
      expect(got.statusCode).toBe(200);
      progress = got.json();
      if (progress!.items.find((x) => x.caseId !== visible && x.status === 'pending') === undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const byCase = new Map(progress!.items.map((x) => [x.caseId, x]));
    expect(byCase.get(closed)).toMatchObject({ status: 'failed', httpStatus: 409, detail: 'the case is already completed' });
    expect(byCase.get(foreign)).toMatchObject({ status: 'failed', httpStatus: 404 });
    expect(byCase.get(foreign)!.detail).not.toContain('330100');
    // No worker: the visible case's update is not answered, so it stays pending for a later pass.
    expect(byCase.get(visible)!.status).toBe('pending');

    const other = await h.app.inject({ method: 'GET', url: `/v1/bulk/${bulkId}`, headers: colleague });
    expect(other.statusCode).toBe(404);
  });

  it('When a bulk retry names no case or more than 500, then it answers 400 on caseIds', async () => {
    const none = await post(`/v1/bulk/retry`, clerk, { caseIds: [], reason: '批量重试' });
    expect(none.statusCode).toBe(400);
    expect(errorPaths(none)).toEqual(['caseIds']);
    const many = await post(`/v1/bulk/retry`, clerk, { caseIds: Array.from({ length: 501 }, () => randomUUID()), reason: '批量重试' });
    expect(many.statusCode).toBe(400);
  });
});
