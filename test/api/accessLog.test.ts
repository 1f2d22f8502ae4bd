// The audit log of a case's personal data: every staff read is a row written before the data is
// answered (and a read that cannot be recorded answers 503 with nothing), the table refuses to be
// rewritten, supervisors of either side read a case's whole log, and the applicant's progress
// lookup shows which office read their file and when, never who.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { queryCodeFor } from '../../crypto/queryCode.js';
import { EncryptionCodec } from '../../crypto/payloadCodec.js';
import { writeAudit } from '../../db/audit.js';
import type { StaffRole } from '../../domain/case.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await h?.close();
});

/** Guangzhou took the case in for Sichuan. */
const newCase = (opts: { status?: string } = {}) =>
  insertProjectedCase(h, { item: testItem('access-log-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date(), ...opts });

const get = async (url: string, role: StaffRole, region: string, sub?: string) => h.app.inject({ method: 'GET', url, headers: await h.auth(role, region, sub) });

interface AuditRow { id: string; at: string; actor: string; role: string; region: string; action: string; reason: string | null; detail: Record<string, unknown> }
const readsOf = async (caseId: string) =>
  (await h.pool.query<{ actor: string; role: string; region: string; detail: Record<string, unknown> }>(
    `SELECT actor, role, region, detail FROM audit_log WHERE case_id = $1 AND action = 'case.read' ORDER BY id`,
    [caseId],
  )).rows;
const progressOf = async (caseId: string) => h.app.inject({ method: 'GET', url: `/v1/progress/${caseId}?code=${queryCodeFor(h.secrets.piiHashKey, caseId)}` });

describe('reads of personal data are audited', () => {
  it('When staff open a case, then each read is one case.read row with the actor, role, region, view, route and side, written before the answer', async () => {
    const caseId = await newCase();
    expect((await get(`/v1/cases/${caseId}`, 'clerk', '440100', 'clerk-wang')).statusCode).toBe(200);
    expect((await get(`/v1/cases/${caseId}`, 'approver', '510000', 'approver-li')).statusCode).toBe(200);
    expect((await get(`/v1/cases/${caseId}`, 'clerk', '440100', 'clerk-wang')).statusCode).toBe(200);
    const route = 'GET /v1/cases/:caseId';
    expect(await readsOf(caseId)).toEqual([
      { actor: 'clerk-wang', role: 'clerk', region: '440100', detail: { view: 'case', route, side: 'receiving' } },
      { actor: 'approver-li', role: 'approver', region: '510000', detail: { view: 'case', route, side: 'handling' } },
      { actor: 'clerk-wang', role: 'clerk', region: '440100', detail: { view: 'case', route, side: 'receiving' } },
    ]);
  });

  it('When staff who may not see the case ask for it, or list cases, then nothing is recorded as read', async () => {
    const caseId = await newCase();
    expect((await get(`/v1/cases/${caseId}`, 'supervisor', '330000')).statusCode).toBe(404);
    const list = await get('/v1/cases?receivingRegion=440100&limit=100', 'clerk', '440100');
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: { caseId: string }[] }>().items.map((i) => i.caseId)).toContain(caseId);
    expect(await readsOf(caseId)).toEqual([]);
  });

  it('When staff read the liaison thread, an evaluation and the follow-up queue, then each is a case.read row naming its view', async () => {
    const caseId = await newCase({ status: 'completed' });
    expect((await get(`/v1/cases/${caseId}/messages`, 'approver', '510000', 'approver-msg')).statusCode).toBe(200);
    const rated = await h.app.inject({
      method: 'POST', url: `/v1/cases/${caseId}/evaluation`, headers: await h.auth('clerk', '440100', 'clerk-eval'),
      payload: { level: '非常不满意', channel: 'window', comment: '窗口等候时间太长' },
    });
    expect(rated.statusCode, rated.body).toBe(201);
    expect((await get(`/v1/cases/${caseId}/evaluation`, 'supervisor', '440000', 'supervisor-eval')).statusCode).toBe(200);
    const queue = await get('/v1/follow-ups?state=open', 'supervisor', '440100', 'supervisor-queue');
    expect(queue.statusCode).toBe(200);
    expect(queue.json<{ items: { caseId: string }[] }>().items.map((i) => i.caseId)).toContain(caseId);
    expect((await readsOf(caseId)).map((r) => [r.actor, r.detail.view, r.detail.route, r.detail.side])).toEqual([
      ['approver-msg', 'messages', 'GET /v1/cases/:caseId/messages', 'handling'],
      ['supervisor-eval', 'evaluation', 'GET /v1/cases/:caseId/evaluation', 'receiving'],
      ['supervisor-queue', 'follow-ups', 'GET /v1/follow-ups', 'receiving'],
    ]);
  });

  it('When the read cannot be recorded in the audit log, then the case view answers 503 with Retry-After and none of the case’s data', async () => {
    const caseId = await newCase();
    const actor = `audit-refused-${randomUUID().slice(0, 8)}`;
    const fn = `refuse_${actor.replaceAll('-', '_')}`;
    // A real failure of the insert, for this one actor only (other files share the database).
    await h.pool.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.actor = '${actor}' THEN RAISE EXCEPTION 'audit insert refused for the test'; END IF; RETURN NEW; END; $$`);
    await h.pool.query(`CREATE TRIGGER ${fn} BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    try {
      const res = await get(`/v1/cases/${caseId}`, 'clerk', '440100', actor);
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json<{ detail: string }>().detail).toMatch(/could not be recorded in the audit log/);
      expect(res.body).not.toMatch(/李\*|applicant|receipt|timeline/);
      // Another staff member's read is recorded and answered as usual.
      expect((await get(`/v1/cases/${caseId}`, 'clerk', '440100', 'clerk-after')).statusCode).toBe(200);
    } finally {
      await h.pool.query(`DROP TRIGGER ${fn} ON audit_log`);
      await h.pool.query(`DROP FUNCTION ${fn}()`);
    }
    expect((await readsOf(caseId)).map((r) => r.actor)).toEqual(['clerk-after']);
  });
});

describe('the audit log is append-only', () => {
  it('When anyone updates, deletes or truncates audit rows, then the database refuses with a clear error and the rows stay; deleting the case leaves them', async () => {
    const caseId = await newCase();
    await writeAudit(h.pool, { actor: 'clerk-x', role: 'clerk', region: '440100', action: 'case.withdraw', caseId, reason: '申请人要求撤回' });
    expect((await get(`/v1/cases/${caseId}`, 'clerk', '440100', 'clerk-x')).statusCode).toBe(200);
    const before = (await h.pool.query(`SELECT * FROM audit_log WHERE case_id = $1 ORDER BY id`, [caseId])).rows;
    expect(before).toHaveLength(2);

    await expect(h.pool.query(`UPDATE audit_log SET reason = 'rewritten' WHERE case_id = $1`, [caseId])).rejects.toThrow(
      /audit_log is append-only: UPDATE of row \d+ \(case\.withdraw by clerk-x\) refused/,
    );
    await expect(h.pool.query(`DELETE FROM audit_log WHERE case_id = $1 AND action = 'case.read'`, [caseId])).rejects.toThrow(/audit_log is append-only: DELETE of row \d+ \(case\.read by clerk-x\) refused/);
    await expect(h.pool.query(`TRUNCATE audit_log`)).rejects.toThrow(/audit_log is append-only: TRUNCATE refused/);
    await expect(h.pool.query(`DELETE FROM audit_log WHERE case_id = $1`, [caseId])).rejects.toMatchObject({ code: '23000' });

    await h.pool.query(`DELETE FROM cases WHERE case_id = $1`, [caseId]);
    expect((await h.pool.query(`SELECT * FROM audit_log WHERE case_id = $1 ORDER BY id`, [caseId])).rows).toEqual(before);
  });
});

describe('GET /v1/cases/{id}/access-log', () => {
  it('When a supervisor of either side reads it, then every audit row of the case comes back newest first, paged, and the read itself is recorded', async () => {
    const caseId = await newCase();
    await writeAudit(h.pool, { actor: 'clerk-a', role: 'clerk', region: '440100', action: 'case.withdraw', caseId, reason: '申请人要求撤回', detail: { stage: 'review' } });
    expect((await get(`/v1/cases/${caseId}`, 'approver', '510000', 'approver-b')).statusCode).toBe(200);
    expect((await get(`/v1/cases/${caseId}`, 'clerk', '440100', 'clerk-c')).statusCode).toBe(200);

    const first = await get(`/v1/cases/${caseId}/access-log?limit=2`, 'supervisor', '510000', 'supervisor-sc');
    expect(first.statusCode, first.body).toBe(200);
    const page1 = first.json<{ caseId: string; items: AuditRow[]; nextCursor: string | null }>();
    expect(page1.caseId).toBe(caseId);
    expect(page1.items.map((r) => [r.actor, r.action, r.detail.view ?? null])).toEqual([
      ['supervisor-sc', 'case.read', 'access-log'],
      ['clerk-c', 'case.read', 'case'],
    ]);
    expect(page1.items[0]).toMatchObject({ role: 'supervisor', region: '510000', detail: { route: 'GET /v1/cases/:caseId/access-log', side: 'handling' } });
    expect(page1.nextCursor).toEqual(expect.any(String));

    const second = await get(`/v1/cases/${caseId}/access-log?limit=2&cursor=${page1.nextCursor}`, 'supervisor', '510000', 'supervisor-sc');
    const page2 = second.json<{ items: AuditRow[]; nextCursor: string | null }>();
    expect(page2.items.map((r) => [r.actor, r.action])).toEqual([
      ['approver-b', 'case.read'],
      ['clerk-a', 'case.withdraw'],
    ]);
    expect(page2.items[1]).toMatchObject({ reason: '申请人要求撤回', detail: { stage: 'review' }, at: expect.any(String) });
    expect(page2.nextCursor).toBeNull();
    const ids = [...page1.items, ...page2.items].map((r) => BigInt(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));

    const receiving = await get(`/v1/cases/${caseId}/access-log`, 'supervisor', '440000', 'supervisor-gd');
    expect(receiving.statusCode).toBe(200);
    // The second page of the handling supervisor and this read are rows too.
    expect(receiving.json<{ items: AuditRow[] }>().items.map((r) => r.actor)).toEqual(['supervisor-gd', 'supervisor-sc', 'supervisor-sc', 'clerk-c', 'approver-b', 'clerk-a']);
  });

  it('When anyone but a supervisor of one of its sides asks, then a supervisor elsewhere gets 404 and every other role 403, and nothing is recorded', async () => {
    const caseId = await newCase();
    const url = `/v1/cases/${caseId}/access-log`;
    const outsider = await get(url, 'supervisor', '330000');
    expect(outsider.statusCode).toBe(404);
    expect(outsider.json<{ detail: string }>().detail).toBe(`no case ${caseId}`);
    const unknown = await get(`/v1/cases/${randomUUID()}/access-log`, 'supervisor', '440000');
    expect(unknown.statusCode).toBe(404);
    for (const [role, region] of [['manager', '440000'], ['manager', '330000'], ['approver', '510000'], ['clerk', '440100'], ['item_admin', '440000']] as const) {
      const res = await get(url, role, region);
      expect(res.statusCode, `${role} ${region}`).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.json<{ detail: string }>().detail).toBe(`the role ${role} may not do this; allowed: supervisor`);
    }
    expect((await h.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE case_id = $1`, [caseId])).rows[0].n).toBe(0);
  });

  it('When the paging parameters are malformed, then the 400 names each of them', async () => {
    const caseId = await newCase();
    const res = await get(`/v1/cases/${caseId}/access-log?limit=0&cursor=abc`, 'supervisor', '440000');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort()).toEqual(['query.cursor', 'query.limit']);
    const tooBig = await get(`/v1/cases/${caseId}/access-log?cursor=99999999999999999999`, 'supervisor', '440000');
    expect(tooBig.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([{ path: 'query.cursor', message: 'is not a cursor this API issued' }]);
  });
});

describe('the applicant’s data-access trail', () => {
  it('When staff of both sides read the case and a supervisor decodes its payloads, then the progress lookup shows each office, side, kind and time, newest first, and no staff identity', async () => {
    const caseId = await newCase();
    expect((await progressOf(caseId)).json<{ dataAccess: unknown[] }>().dataAccess).toEqual([]);

    expect((await get(`/v1/cases/${caseId}`, 'clerk', '440100', 'clerk-zhangsan-7731')).statusCode).toBe(200);
    expect((await get(`/v1/cases/${caseId}/messages`, 'approver', '510000', 'approver-lisi-9921')).statusCode).toBe(200);
    const [payload] = await new EncryptionCodec(h.secrets.payloadKeys).encode([defaultPayloadConverter.toPayload({ note: 'x' })], { type: 'workflow', namespace: 'default', workflowId: caseWorkflowId(caseId) });
    const wire = { metadata: Object.fromEntries(Object.entries(payload!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(payload!.data!).toString('base64') };
    const decoded = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', headers: await h.auth('supervisor', '510000', 'supervisor-wangwu-5512'), payload: { payloads: [wire] } });
    expect(decoded.statusCode).toBe(200);
    const sinceReads = new Date(Date.now() - 60_000).toISOString();

    const res = await progressOf(caseId);
    expect(res.statusCode).toBe(200);
    const { dataAccess } = res.json<{ dataAccess: { at: string }[] }>();
    expect(dataAccess).toEqual([
      { at: expect.any(String), office: { region: '510000', province: '四川省', side: 'handling', label: '四川省 办理地' }, kind: 'payload.decode', view: null, text: '查看办件原始数据（解密）' },
      { at: expect.any(String), office: { region: '510000', province: '四川省', side: 'handling', label: '四川省 办理地' }, kind: 'case.read', view: 'messages', text: '查看工作联络' },
      { at: expect.any(String), office: { region: '440100', province: '广东省', side: 'receiving', label: '广东省 收件地' }, kind: 'case.read', view: 'case', text: '查看办件信息' },
    ]);
    for (const e of dataAccess) expect(e.at >= sinceReads).toBe(true);
    // Who read it stays with the staff-side access log.
    for (const who of ['zhangsan', 'lisi', 'wangwu', 'clerk', 'approver', 'supervisor']) expect(res.body).not.toContain(who);
    // The lookup itself is no staff read.
    expect((await progressOf(caseId)).json<{ dataAccess: unknown[] }>().dataAccess).toHaveLength(3);
  });
});
