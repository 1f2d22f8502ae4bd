// The receipt's query code and the public progress lookup (GET /v1/progress/:caseId?code=…): no
// login, nothing personal beyond the masked name, a wrong code indistinguishable from an unknown
// case, what the applicant must do next in their words, and a rate limit per client address.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_CODE_LENGTH, queryCodeFor } from '../../crypto/queryCode.js';
import { findBuiltinItem } from '../../catalog/seed.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await h?.close();
});

const lookup = (caseId: string, code: string) => h.app.inject({ method: 'GET', url: `/v1/progress/${caseId}?code=${encodeURIComponent(code)}` });

describe('the receipt and the progress lookup', () => {
  it('When staff open a case, then its receipt carries the query code, and the applicant’s lookup with it shows the progress without personal data', async () => {
    const caseId = await insertProjectedCase(h, { item: testItem('progress-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date(), stage: 'review' });
    const view = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: await h.auth('clerk', '440100') });
    expect(view.statusCode).toBe(200);
    const { receipt } = view.json<{ receipt: { queryCode: string; progressPath: string } }>();
    expect(receipt.queryCode).toMatch(new RegExp(`^[0-9A-HJKMNP-TV-Z]{${QUERY_CODE_LENGTH}}$`));
    expect(receipt.queryCode).toBe(queryCodeFor(h.secrets.piiHashKey, caseId));
    // Another case, another code.
    expect(queryCodeFor(h.secrets.piiHashKey, randomUUID())).not.toBe(receipt.queryCode);

    const res = await h.app.inject({ method: 'GET', url: receipt.progressPath });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      caseId,
      itemName: '测试事项',
      applicantName: '李*',
      stage: 'review',
      status: 'active',
      statusText: '办理地审查中',
      nextStep: '无需操作，请耐心等待。',
      expectedDate: null,
      submittedAt: expect.any(String),
      closedAt: null,
      // The clerk's look at the case above, by office and side, never by name.
      dataAccess: [{ at: expect.any(String), office: { region: '440100', province: '广东省', side: 'receiving', label: '广东省 收件地' }, kind: 'case.read', view: 'case', text: '查看办件信息' }],
    });
    // The seeded applicant's identity number and phone appear nowhere, in clear or masked.
    expect(res.body).not.toMatch(/110105|13900139000|1390\*/);
  });

  it('When the code is wrong, then the answer is the same 404 as for a case that does not exist; a code typed in lower case with a hyphen still works', async () => {
    const caseId = await insertProjectedCase(h, { item: testItem('progress-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date() });
    const code = queryCodeFor(h.secrets.piiHashKey, caseId);
    const wrong = await lookup(caseId, code.slice(0, -1) + (code.endsWith('0') ? '1' : '0'));
    const unknown = await lookup(randomUUID(), code);
    expect(wrong.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(wrong.headers['content-type']).toMatch(PROBLEM_JSON);
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect((await lookup(caseId, `${code.slice(0, 5).toLowerCase()}-${code.slice(5)}`)).statusCode).toBe(200);
  });

  it('When the code is missing or the case number malformed, then 400 names the field', async () => {
    const missing = await h.app.inject({ method: 'GET', url: `/v1/progress/${randomUUID()}` });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['query.code']);
    const malformed = await lookup('not-a-case', 'ABCDEFGHJK');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['params.caseId']);
  });

  it('When a supplement is asked for, then the lookup names each material and its problem, and the deadline is the expected date', async () => {
    const item = findBuiltinItem('pension-transfer')!;
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date(), stage: 'correction', status: 'awaiting_supplement' });
    const correction = {
      noticeId: 'N-1', side: 'handling', round: 1, supplementDue: '2026-12-15', issuedAt: new Date().toISOString(),
      deficiencies: [{ materialCode: 'contribution-certificate', problem: '缴费月数不清晰', needed: '重新开具' }],
    };
    await h.pool.query(`UPDATE cases SET correction = $2, due_date = '2026-12-31' WHERE case_id = $1`, [caseId, JSON.stringify(correction)]);
    const res = await lookup(caseId, queryCodeFor(h.secrets.piiHashKey, caseId));
    expect(res.statusCode).toBe(200);
    const name = item.materials.find((m) => m.code === 'contribution-certificate')!.name;
    expect(res.json()).toMatchObject({
      statusText: '待补正材料',
      nextStep: `请于2026-12-15前到受理窗口补齐以下材料：${name}（缴费月数不清晰；重新开具）。逾期未补正的，将终止办理。`,
      expectedDate: '2026-12-15',
    });
  });

  it('When the case runs against its promised limit, then the expected date is the promised due date; once closed there is none', async () => {
    const caseId = await insertProjectedCase(h, { item: testItem('progress-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date(), stage: 'review' });
    await h.pool.query(`UPDATE cases SET due_date = '2026-12-24', sla_state = 'green' WHERE case_id = $1`, [caseId]);
    const code = queryCodeFor(h.secrets.piiHashKey, caseId);
    expect((await lookup(caseId, code)).json()).toMatchObject({ expectedDate: '2026-12-24' });
    await h.pool.query(`UPDATE cases SET stage = 'closed', status = 'rejected', closed_at = now() WHERE case_id = $1`, [caseId]);
    expect((await lookup(caseId, code)).json()).toMatchObject({ status: 'rejected', statusText: '不予许可', expectedDate: null });
  });
});

describe('the public routes’ rate limit', () => {
  it('When one address asks more often than allowed, then it gets 429 problem+json with Retry-After', async () => {
    const limited = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const caseId = randomUUID();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.app.inject({ method: 'GET', url: `/v1/progress/${caseId}?code=ABCDEFGHJK` })).statusCode);
      expect(statuses).toEqual([404, 404, 404, 429]);
      const res = await limited.app.inject({ method: 'GET', url: `/v1/progress/${caseId}?code=ABCDEFGHJK` });
      expect(res.statusCode).toBe(429);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.json()).toMatchObject({ status: 429, detail: expect.stringContaining('at most 3 per minute') });
      // Staff routes are not limited by it.
      const staff = await limited.auth('clerk', '440100');
      for (let i = 0; i < 5; i++) expect((await limited.app.inject({ method: 'GET', url: '/v1/cases?limit=1', headers: staff })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
