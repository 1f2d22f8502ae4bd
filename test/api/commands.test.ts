// Staff commands (withdraw, retry, delivery confirmation) reach the workflow as Temporal updates.
// No worker runs in api tests, so the workflow never answers: these tests cover everything
// around the update — visibility, roles, validation, closed cases and the timeout.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../workflows/messages.js';
import { createApiHarness, insertProjectedCase, pensionSubmission, PROBLEM_JSON, submit, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
let clerk: { authorization: string };
let runningCase: string;
const item = testItem(`cmd-${randomUUID().slice(0, 8)}`);

beforeAll(async () => {
  h = await createApiHarness({ updateTimeoutMs: 1_000 });
  clerk = await h.auth('clerk', '440100', 'clerk-commands');
  const res = await submit(h, clerk, await pensionSubmission(h, clerk));
  runningCase = res.json<{ caseId: string }>().caseId;
});
afterAll(async () => {
  await h?.close();
});

describe('staff commands', () => {
  it('When the workflow does not answer in time, then withdraw answers 503 and the attempt is audited as unanswered', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/withdraw`, headers: clerk, payload: { reason: '申请人撤回' } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    const audit = await h.pool.query(`SELECT actor, role, region, reason, detail FROM audit_log WHERE case_id = $1 AND action = 'case.withdraw'`, [runningCase]);
    expect(audit.rows).toEqual([{ actor: 'clerk-commands', role: 'clerk', region: '440100', reason: '申请人撤回', detail: { outcome: 'unanswered' } }]);
  });

  it('When staff of an unrelated region withdraw the case, then it answers 404', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/withdraw`, headers: await h.auth('clerk', '330100'), payload: { reason: '申请人撤回' } });
    expect(res.statusCode).toBe(404);
  });

  it('When an approver of the handling province withdraws the case, then it answers 403', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/withdraw`, headers: await h.auth('approver', '510000'), payload: { reason: '申请人撤回' } });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a clerk or supervisor of the handling side withdraws the case, then it answers 403 saying only the receiving side may', async () => {
    for (const auth of [await h.auth('clerk', '510100'), await h.auth('supervisor', '510000')]) {
      const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/withdraw`, headers: auth, payload: { reason: '申请人撤回' } });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ detail: string }>().detail).toContain("only the receiving side (440100) may withdraw a case on the applicant's request");
    }
    const audit = await h.pool.query(`SELECT region FROM audit_log WHERE case_id = $1 AND action = 'case.withdraw' AND region LIKE '51%'`, [runningCase]);
    expect(audit.rowCount).toBe(0);
  });

  it('When a supervisor of the handling side confirms a delivery, then it answers 403 naming the receiving side', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/delivery-confirmation`, headers: await h.auth('supervisor', '510000'), payload: { method: 'window' } });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ detail: string }>().detail).toContain('only the receiving side (440100)');
  });

  it('When a supervisor of the receiving province confirms a delivery, then the policy lets it through to the workflow', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/delivery-confirmation`, headers: await h.auth('supervisor', '440000'), payload: { method: 'window' } });
    // No worker runs here: reaching the workflow means waiting for it, then 503.
    expect(res.statusCode).toBe(503);
  });

  it('When an approver of the handling side retries a stuck step, then the policy lets it through to the workflow', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/retry`, headers: await h.auth('approver', '510100'), payload: { reason: '省端已恢复' } });
    expect(res.statusCode).toBe(503);
  });

  it('When a withdrawal reason carries a NUL character, then it answers 400 on reason at once, without asking the workflow', async () => {
    const started = Date.now();
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/withdraw`, headers: clerk, payload: { reason: '申请\u0000人撤回' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([{ path: 'reason', message: 'contains a control character (U+0000) at position 2' }]);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('When a delivery note carries a control character, then it answers 400 on note', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/delivery-confirmation`, headers: clerk, payload: { method: 'window', note: '已领取\u0008' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['note']);
  });

  it('When the reason is too short, then it answers 400 on reason', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/retry`, headers: clerk, payload: { reason: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['reason']);
  });

  it('When a delivery confirmation names an unknown method, then it answers 400 on method', async () => {
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${runningCase}/delivery-confirmation`, headers: clerk, payload: { method: 'pigeon' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['method']);
  });

  it('When the case is already closed, then withdraw answers 409 without asking the workflow', async () => {
    const closed = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date(), status: 'withdrawn', stage: 'closed' });
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${closed}/withdraw`, headers: clerk, payload: { reason: '再次撤回' } });
    expect(res.statusCode).toBe(409);
    expect(res.json<{ detail: string }>().detail).toBe('the case is already withdrawn');
  });

  it('When the workflow has ended but the projection still says active, then a command answers 409, not 404', async () => {
    const res = await submit(h, clerk, await pensionSubmission(h, clerk));
    const ended = res.json<{ caseId: string }>().caseId;
    await h.temporal.workflow.getHandle(caseWorkflowId(ended)).terminate('test: ended before the projection caught up');
    const withdraw = await h.app.inject({ method: 'POST', url: `/v1/cases/${ended}/withdraw`, headers: clerk, payload: { reason: '申请人撤回' } });
    expect(withdraw.statusCode).toBe(409);
    expect(withdraw.json<{ detail: string }>().detail).toBe('the case has already ended');
  });

  it('When the case has no workflow, then retry answers 404', async () => {
    const orphan = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date() });
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${orphan}/retry`, headers: await h.auth('supervisor', '440000'), payload: { reason: '省端已恢复' } });
    expect(res.statusCode).toBe(404);
  });
});
