// POST /v1/cases/:caseId/supplements and the correction in the case view. Cases are projection
// rows written directly (the open notice in the `correction` column), so the checks the api makes
// against the projection need no workflow. The 202 and the mapping of the workflow's own
// rejections run against the real case workflow in test/e2e/corrections.e2e.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorrectionNotice } from '../../domain/case.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, uploadPdf, type ApiHarness } from './helpers.js';

type Auth = { authorization: string };
interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

let h: ApiHarness;
let clerk: Auth;
const item = testItem(`sup-${randomUUID().slice(0, 8)}`);

beforeAll(async () => {
  h = await createApiHarness({ updateTimeoutMs: 5_000 });
  clerk = await h.auth('clerk', '440100', 'clerk-supplements');
});
afterAll(async () => {
  await h?.close();
});

function noticeOf(noticeId: string, codes: string[], side: CorrectionNotice['side'] = 'handling'): CorrectionNotice {
  return {
    noticeId,
    side,
    round: 1,
    deficiencies: codes.map((materialCode) => ({ materialCode, problem: '材料不清晰', needed: '重新提交清晰的扫描件' })),
    issuedAt: '2026-03-02T08:00:00.000Z',
    supplementDue: '2026-03-16',
  };
}

/** A case received in Guangzhou, handled in Chengdu, waiting for a supplement to `notice` (as the projection would record it). */
async function awaitingCase(notice: CorrectionNotice | null, status = 'awaiting_supplement'): Promise<string> {
  const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date(), status, stage: notice ? 'correction' : 'review' });
  await h.pool.query(`UPDATE cases SET correction = $2, correction_rounds = $3 WHERE case_id = $1`, [
    caseId,
    notice ? JSON.stringify(notice) : null,
    JSON.stringify({ receiving: 0, handling: notice ? notice.round : 0 }),
  ]);
  return caseId;
}

function supplement(caseId: string, auth: Auth, payload: object) {
  return h.app.inject({ method: 'POST', url: `/v1/cases/${caseId}/supplements`, headers: auth, payload });
}

async function auditOf(caseId: string) {
  const { rows } = await h.pool.query(`SELECT actor, role, region, reason, detail FROM audit_log WHERE case_id = $1 AND action = 'case.supplement' ORDER BY id`, [caseId]);
  return rows;
}

describe('supplements: who may', () => {
  it('When an approver of the handling side supplements, then it answers 403 saying which roles may', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const res = await supplement(caseId, await h.auth('approver', '510100'), { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: randomUUID() }] });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<Problem>().detail).toBe('the role approver may not do this; allowed: clerk, supervisor');
    expect(await auditOf(caseId)).toEqual([]);
  });

  it('When a clerk of the handling side supplements, then it answers 403 naming the receiving side', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const res = await supplement(caseId, await h.auth('clerk', '510100'), { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: randomUUID() }] });
    expect(res.statusCode).toBe(403);
    expect(res.json<Problem>().detail).toContain('only the receiving side (440100) may');
    expect(await auditOf(caseId)).toEqual([]);
  });

  it('When staff on neither side supplement, then it answers 404 as if the case did not exist', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const res = await supplement(caseId, await h.auth('clerk', '330100'), { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: randomUUID() }] });
    expect(res.statusCode).toBe(404);
    expect(res.json<Problem>().detail).toBe(`no case ${caseId}`);
  });
});

describe('supplements: checked against the open notice', () => {
  it('When no notice is open, then it answers 409 notice-not-open saying none is', async () => {
    const caseId = await awaitingCase(null, 'active');
    const res = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: await uploadPdf(h, clerk) }] });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    const body = res.json<Problem>();
    expect(body.type).toMatch(/\/notice-not-open$/);
    expect(body.detail).toBe('notice SC-1-bz1 is not open: no correction notice is open on this case');
  });

  it('When the supplement names another notice, then it answers 409 naming the open one', async () => {
    const caseId = await awaitingCase({ ...noticeOf('SC-1-bz2', ['contribution-certificate']), round: 2 });
    const res = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: await uploadPdf(h, clerk) }] });
    expect(res.statusCode).toBe(409);
    expect(res.json<Problem>().detail).toBe('notice SC-1-bz1 is not open: the open notice is SC-1-bz2');
    expect(await auditOf(caseId)).toEqual([]);
  });

  it('When a deficiency is left unanswered, then it answers 400 on items listing the unanswered material codes', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['resident-id-card', 'contribution-certificate']));
    const res = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [{ materialCode: 'resident-id-card', fileId: await uploadPdf(h, clerk) }] });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ path: 'items', message: 'leaves deficiencies unanswered: contribution-certificate' }]);
  });

  it('When an item is for a material the notice did not ask for, then it answers 400 on that item’s materialCode', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const [a, b] = [await uploadPdf(h, clerk), await uploadPdf(h, clerk)];
    const res = await supplement(caseId, clerk, {
      noticeId: 'SC-1-bz1',
      items: [{ materialCode: 'contribution-certificate', fileId: a }, { materialCode: 'household-register', fileId: b }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ path: 'items.1.materialCode', message: 'notice SC-1-bz1 did not ask for household-register' }]);
  });

  it('When a file was uploaded in another region, then it answers 400 on that item’s fileId, as if it had never been uploaded', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const elsewhere = await uploadPdf(h, await h.auth('clerk', '510100'));
    const res = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: elsewhere }] });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ path: 'items.0.fileId', message: `no uploaded file ${elsewhere}` }]);
  });

  it('When several things are wrong, then one 400 names every one of them', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['resident-id-card', 'contribution-certificate']));
    const missing = randomUUID();
    const res = await supplement(caseId, clerk, {
      noticeId: 'SC-1-bz1',
      items: [{ materialCode: 'resident-id-card', fileId: missing }, { materialCode: 'household-register', fileId: await uploadPdf(h, clerk) }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([
      { path: 'items', message: 'leaves deficiencies unanswered: contribution-certificate' },
      { path: 'items.1.materialCode', message: 'notice SC-1-bz1 did not ask for household-register' },
      { path: 'items.0.fileId', message: `no uploaded file ${missing}` },
    ]);
  });

  it('When the case has closed (not supplemented in time), then it answers 409 case-closed', async () => {
    const caseId = await awaitingCase(null, 'not_supplemented');
    await h.pool.query(`UPDATE cases SET stage = 'closed' WHERE case_id = $1`, [caseId]);
    const res = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: await uploadPdf(h, clerk) }] });
    expect(res.statusCode).toBe(409);
    expect(res.json<Problem>()).toMatchObject({ type: expect.stringMatching(/\/case-closed$/), detail: 'the case is already not_supplemented' });
  });

  it('When a case awaits a supplement, then other commands are not refused as closed (it is still open)', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    // No workflow runs for this row: getting past the open-status check means asking Temporal,
    // which does not know the case (404), instead of the 409 "already awaiting_supplement".
    const res = await h.app.inject({ method: 'POST', url: `/v1/cases/${caseId}/withdraw`, headers: clerk, payload: { reason: '申请人撤回' } });
    expect(res.statusCode).toBe(404);
  });
});

describe('supplements: the request body', () => {
  it('When a note carries a NUL character, then it answers 400 on that note', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const res = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [{ materialCode: 'contribution-certificate', fileId: randomUUID(), note: '重新\u0000开具' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ path: 'items.0.note', message: 'contains a control character (U+0000) at position 2' }]);
  });

  it('When items are empty, repeat a material, or a fileId is not a uuid, then it answers 400 naming each field', async () => {
    const caseId = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate']));
    const empty = await supplement(caseId, clerk, { noticeId: 'SC-1-bz1', items: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json<Problem>().errors?.map((e) => e.path)).toEqual(['items']);
    const bad = await supplement(caseId, clerk, {
      noticeId: '\u0007',
      items: [{ materialCode: 'contribution-certificate', fileId: randomUUID() }, { materialCode: 'contribution-certificate', fileId: 'not-a-uuid' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Problem>().errors?.map((e) => e.path).sort()).toEqual(['items.1.fileId', 'items.1.materialCode', 'noticeId']);
  });
});

describe('the correction in the case view and the list', () => {
  it('When a notice is open, then GET shows it and the rounds per side; without one, correction is null', async () => {
    const notice = noticeOf('SC-1-bz1', ['contribution-certificate']);
    const caseId = await awaitingCase(notice);
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: await h.auth('approver', '510100') });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ stage: string; status: string; correction: unknown; correctionRounds: unknown }>();
    expect(body).toMatchObject({ stage: 'correction', status: 'awaiting_supplement', correctionRounds: { receiving: 0, handling: 1 } });
    expect(body.correction).toEqual({
      noticeId: 'SC-1-bz1', side: 'handling', round: 1,
      deficiencies: [{ materialCode: 'contribution-certificate', problem: '材料不清晰', needed: '重新提交清晰的扫描件' }],
      supplementDue: '2026-03-16', issuedAt: '2026-03-02T08:00:00.000Z',
    });

    const none = await h.app.inject({ method: 'GET', url: `/v1/cases/${await awaitingCase(null, 'active')}`, headers: clerk });
    expect(none.json()).toMatchObject({ correction: null, correctionRounds: { receiving: 0, handling: 0 } });
  });

  it('When the list is filtered by status awaiting_supplement or stage correction, then only such cases come back', async () => {
    const waiting = await awaitingCase(noticeOf('SC-1-bz1', ['contribution-certificate'], 'receiving'));
    await awaitingCase(null, 'active');
    for (const filter of ['status=awaiting_supplement', 'stage=correction']) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/cases?itemCode=${item.code}&${filter}&limit=100`, headers: clerk });
      expect(res.statusCode).toBe(200);
      const items = res.json<{ items: { caseId: string; status: string }[] }>().items;
      expect(items.map((c) => c.caseId)).toContain(waiting);
      expect(items.every((c) => c.status === 'awaiting_supplement')).toBe(true);
    }
  });
});

describe('the OpenAPI document', () => {
  it('When /docs/json is read, then the supplements route and the case view’s correction are documented', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    const doc = res.json<{
      paths: Record<string, { post?: { requestBody?: unknown; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>();
    const post = doc.paths['/v1/cases/{caseId}/supplements']?.post;
    expect(Object.keys(post?.responses ?? {}).sort()).toEqual(['202', '400', '401', '403', '404', '409', '503', '5XX']);
    expect(JSON.stringify(post?.requestBody)).toContain('Supplement');
    expect(Object.keys(doc.components.schemas.CorrectionNotice?.properties ?? {}).sort()).toEqual(['deficiencies', 'issuedAt', 'noticeId', 'participant', 'round', 'side', 'supplementDue']);
    expect(doc.components.schemas.CaseDetail?.properties).toHaveProperty('correctionRounds');
  });
});
