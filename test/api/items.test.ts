// /v1/items through inject(): drafts, publishing, retiring, reads, the diff, who may do what, the
// audit rows, and what intake and the progress lookup make of the catalog. Each test works on item
// codes of its own (the run's database is shared by every test file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCodeFor } from '../../crypto/queryCode.js';
import { caseIdFor } from '../../api/intake.js';
import { sha256Hex } from '../../crypto/signing.js';
import type { ItemVersionSummary } from '../../db/items.js';
import { canonicalJson } from '../../domain/canonicalJson.js';
import { STAFF_ROLES } from '../../domain/case.js';
import { itemDefinitionSchema, type ItemDefinitionInput } from '../../domain/items.js';
import { itemDefinition, uniqueItemCode } from '../support/items.js';
import { createApiHarness, idempotencyKey, insertProjectedCase, PROBLEM_JSON, submit, uploadPdf, validIdNumber, type ApiHarness } from './helpers.js';

interface Problem {
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}
/** A version as the API answers it: the summary (db/items.ts) with the definition. */
type VersionRecord = ItemVersionSummary & { definition: Record<string, unknown> & { materials: { code: string; name: string }[] } };

let h: ApiHarness;
let admin: { authorization: string };
let clerk: { authorization: string };
beforeAll(async () => {
  h = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
  admin = await h.auth('item_admin', '110000', 'admin-catalog');
  clerk = await h.auth('clerk', '440100', 'clerk-catalog');
});
afterAll(async () => {
  await h?.close();
});

const post = (definition: unknown, auth = admin) => h.app.inject({ method: 'POST', url: '/v1/items', payload: definition as object, headers: auth });
const act = (code: string, version: number | string, action: 'publish' | 'retire', reason = `测试：${action}`, auth = admin) =>
  h.app.inject({ method: 'POST', url: `/v1/items/${code}/versions/${version}/${action}`, payload: { reason }, headers: auth });
const get = (url: string, auth = clerk) => h.app.inject({ method: 'GET', url, headers: auth });
const itemAudits = async (code: string) =>
  (
    await h.pool.query<{ actor: string; role: string; region: string; action: string; reason: string | null; detail: Record<string, unknown> }>(
      `SELECT actor, role, region, action, reason, detail FROM audit_log WHERE action LIKE 'item.%' AND detail->>'code' = $1 ORDER BY id`,
      [code],
    )
  ).rows;

/** Posts and publishes a version; returns its record. */
async function published(def: ItemDefinitionInput): Promise<VersionRecord> {
  const created = await post(def);
  expect(created.statusCode, created.body).toBe(201);
  const res = await act(def.code, def.version, 'publish');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<VersionRecord>();
}

/** A submission of the test item received in Guangzhou and handled in Sichuan, one uploaded file per material code. */
async function submission(itemCode: string, materialCodes: string[]) {
  const files = await Promise.all(materialCodes.map(() => uploadPdf(h, clerk)));
  return {
    itemCode,
    applicant: { name: '王五', idNumber: validIdNumber(), phone: '13800138000' },
    receivingRegion: '440100',
    handlingRegion: '510000',
    channel: 'window',
    materials: materialCodes.map((materialCode, i) => ({ materialCode, fileId: files[i]! })),
    delivery: { method: 'electronic' },
  };
}

describe('creating drafts', () => {
  it('When an item admin posts a valid definition, then a draft is created with its Location, and the change is audited', async () => {
    const code = uniqueItemCode('draft');
    const res = await post(itemDefinition(code, 1));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(`/v1/items/${code}/versions/1`);
    const body = res.json<VersionRecord>();
    expect(body).toMatchObject({
      code, version: 1, status: 'draft', source: 'api', createdBy: 'admin-catalog', publishedAt: null, publishedBy: null, retiredAt: null, retiredBy: null, retireReason: null,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // Stored with the schema's defaults filled in: what a case would pin.
    expect(body.definition).toEqual(JSON.parse(JSON.stringify(itemDefinitionSchema.parse(itemDefinition(code, 1)))));
    expect(await itemAudits(code)).toEqual([{ actor: 'admin-catalog', role: 'item_admin', region: '110000', action: 'item.create', reason: null, detail: { code, version: 1, source: 'api' } }]);
  });

  it('When a definition has many problems, then 422 lists every one of them with its path', async () => {
    const code = uniqueItemCode('bad');
    const bad = itemDefinition(code, 1, {
      name: '坏\u0000事项',
      promisedDays: 30,
      statutoryDays: 20,
      deliveryMethods: ['electronic'],
      result: { name: '结果', electronic: false },
      materials: [
        { code: 'form', name: '申请表', required: true },
        { code: 'form', name: '申请表副本', required: false },
        { code: 'id', name: '身份证', required: true, eLicence: { licenceType: 'no_such_licence' } },
      ],
      handlingModes: [],
    });
    const res = await post(bad);
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    const problem = res.json<Problem>();
    const paths = problem.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(['deliveryMethods', 'handlingModes', 'materials.1.code', 'materials.1.condition', 'materials.2.eLicence.licenceType', 'name', 'promisedDays'].sort());
    expect(problem.detail).toBe(`the definition has ${paths.length} problems`);
    expect(problem.errors!.find((e) => e.path === 'name')!.message).toMatch(/control character \(U\+0000\)/);
    expect(problem.errors!.find((e) => e.path === 'promisedDays')!.message).toMatch(/cannot exceed the statutory limit/);
    expect(await itemAudits(code)).toEqual([]);
    expect((await get(`/v1/items/${code}`)).statusCode).toBe(404);
  });

  it('When a definition carries a misspelt field, then it is a problem naming it, while an item as GET shows it can be edited and posted back', async () => {
    const code = uniqueItemCode('strict');
    const typo = await post({ ...itemDefinition(code, 1), promiseDays: 3 } as unknown as ItemDefinitionInput);
    expect(typo.statusCode).toBe(422);
    expect(typo.json<Problem>().errors).toEqual([{ path: '(item)', message: expect.stringContaining('unknown field promiseDays') }]);

    await published(itemDefinition(code, 1));
    const view = (await get(`/v1/items/${code}`)).json<Record<string, unknown>>();
    expect(view).toHaveProperty('versions');
    const again = await post({ ...view, version: 2, promisedDays: 2 } as unknown as ItemDefinitionInput);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json<VersionRecord>()).toMatchObject({ version: 2, status: 'draft', definition: { promisedDays: 2 } });
  });

  it('When a version exists, or is not above every version of the code, then 409 says which version to post', async () => {
    const code = uniqueItemCode('versions');
    expect((await post(itemDefinition(code, 2))).statusCode).toBe(201);
    const again = await post(itemDefinition(code, 2, { promisedDays: 3 }));
    expect(again.statusCode).toBe(409);
    expect(again.json<Problem>().detail).toMatch(`${code} version 2 exists (draft) and never changes: post version 3`);
    const lower = await post(itemDefinition(code, 1));
    expect(lower.statusCode).toBe(409);
    expect(lower.json<Problem>().detail).toMatch('the highest is 2 (draft); post version 3');
    expect((await get(`/v1/items/${code}/versions`)).json<{ versions: { version: number }[] }>().versions.map((v) => v.version)).toEqual([2]);
  });

  it('When a staff member who is not an item admin posts, publishes or retires, then 403 tells only the role, whatever the body, and nothing changes', async () => {
    const code = uniqueItemCode('roles');
    await published(itemDefinition(code, 1));
    for (const role of STAFF_ROLES.filter((r) => r !== 'item_admin')) {
      const auth = await h.auth(role, '440000');
      for (const res of [await post(itemDefinition(uniqueItemCode(), 1), auth), await post({ nonsense: true }, auth), await act(code, 1, 'retire', '越权', auth), await act(code, 9, 'publish', '越权', auth)]) {
        expect(res.statusCode).toBe(403);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(res.json<Problem>().detail).toBe(`the role ${role} may not do this; allowed: item_admin`);
      }
    }
    expect((await get(`/v1/items/${code}/versions/1`)).json<VersionRecord>().status).toBe('published');
    expect((await itemAudits(code)).map((a) => a.action)).toEqual(['item.create', 'item.publish']);
  });

  it('When there is no token, then reading or writing the catalog is 401', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/v1/items' })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'POST', url: '/v1/items', payload: {} })).statusCode).toBe(401);
  });
});

describe('publishing and retiring', () => {
  it('When a draft is published and then a second version, then the first is superseded in the same step, and each change is audited with its reason', async () => {
    const code = uniqueItemCode('publish');
    const v1 = await published(itemDefinition(code, 1));
    expect(v1).toMatchObject({ status: 'published', publishedBy: 'admin-catalog', publishedAt: expect.any(String) });

    expect((await post(itemDefinition(code, 2, { promisedDays: 3 }))).statusCode).toBe(201);
    const res = await act(code, 2, 'publish', '缩短承诺时限');
    expect(res.statusCode).toBe(200);
    expect(res.json<VersionRecord>()).toMatchObject({ version: 2, status: 'published' });
    const versions = (await get(`/v1/items/${code}/versions`)).json<{ code: string; versions: VersionRecord[] }>();
    expect(versions.code).toBe(code);
    expect(versions.versions.map((v) => [v.version, v.status])).toEqual([[1, 'superseded'], [2, 'published']]);
    // Summaries carry no definition.
    expect(versions.versions[0]).not.toHaveProperty('definition');

    expect((await itemAudits(code)).map((a) => [a.action, a.reason, a.detail])).toEqual([
      ['item.create', null, { code, version: 1, source: 'api' }],
      ['item.publish', '测试：publish', { code, version: 1, superseded: null }],
      ['item.create', null, { code, version: 2, source: 'api' }],
      ['item.publish', '缩短承诺时限', { code, version: 2, superseded: 1 }],
    ]);
  });

  it('When a version is not a draft, or older than a published one, then publishing it is 409 saying why; an unknown version is 404', async () => {
    const code = uniqueItemCode('publish-409');
    await published(itemDefinition(code, 1));
    const twice = await act(code, 1, 'publish');
    expect(twice.statusCode).toBe(409);
    expect(twice.json<Problem>().detail).toMatch(`${code} version 1 is published: only a draft can be published`);

    expect((await post(itemDefinition(code, 2))).statusCode).toBe(201);
    await published(itemDefinition(code, 3));
    const behind = await act(code, 2, 'publish');
    expect(behind.statusCode).toBe(409);
    expect(behind.json<Problem>().detail).toMatch(`${code} version 3 (published) is newer than version 2: publishing it would go back; post version 4`);

    expect((await act(code, 7, 'publish')).statusCode).toBe(404);
    expect((await act(uniqueItemCode('nothing'), 1, 'publish')).statusCode).toBe(404);
    const noReason = await h.app.inject({ method: 'POST', url: `/v1/items/${code}/versions/2/publish`, payload: {}, headers: admin });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json<Problem>().errors!.map((e) => e.path)).toEqual(['reason']);
  });

  it('When versions are retired, then a published or superseded one becomes retired with who and why, and a draft or a retired one is 409', async () => {
    const code = uniqueItemCode('retire');
    await published(itemDefinition(code, 1));
    await published(itemDefinition(code, 2));
    expect((await post(itemDefinition(code, 3))).statusCode).toBe(201);

    const draft = await act(code, 3, 'retire');
    expect(draft.statusCode).toBe(409);
    expect(draft.json<Problem>().detail).toMatch('is a draft: it was never published');

    const res = await act(code, 2, 'retire', '政策调整，停止受理');
    expect(res.statusCode).toBe(200);
    expect(res.json<VersionRecord>()).toMatchObject({ status: 'retired', retiredBy: 'admin-catalog', retireReason: '政策调整，停止受理', retiredAt: expect.any(String) });
    const again = await act(code, 2, 'retire');
    expect(again.statusCode).toBe(409);
    expect(again.json<Problem>().detail).toMatch(`${code} version 2 was already retired on`);
    expect((await act(code, 1, 'retire', '旧版本一并停用')).json<VersionRecord>().status).toBe('retired');

    expect((await get(`/v1/items/${code}/versions`)).json<{ versions: VersionRecord[] }>().versions.map((v) => v.status)).toEqual(['retired', 'retired', 'draft']);
    expect((await itemAudits(code)).filter((a) => a.action === 'item.retire').map((a) => [a.reason, a.detail])).toEqual([
      ['政策调整，停止受理', { code, version: 2, was: 'published' }],
      ['旧版本一并停用', { code, version: 1, was: 'superseded' }],
    ]);
  });
});

describe('reading the catalog', () => {
  it('When any staff role lists the catalog, then each code shows its published and latest version and how many versions are in each status', async () => {
    const code = uniqueItemCode('list');
    await published(itemDefinition(code, 1));
    expect((await post(itemDefinition(code, 2, { name: '测试事项（第二版）' }))).statusCode).toBe(201);
    const draftOnly = uniqueItemCode('list-draft');
    expect((await post(itemDefinition(draftOnly, 1, { handlingType: 'immediate', promisedDays: 0 }))).statusCode).toBe(201);
    for (const role of STAFF_ROLES) {
      const res = await get('/v1/items', await h.auth(role, '110000'));
      expect(res.statusCode).toBe(200);
      const { items } = res.json<{ items: Record<string, unknown>[] }>();
      expect(items.find((i) => i.code === code)).toEqual({
        code, name: '测试事项（目录）', type: 'public_service', handlingType: 'committed', publishedVersion: 1, latestVersion: 2, statuses: { draft: 1, published: 1, superseded: 0, retired: 0 },
      });
      expect(items.find((i) => i.code === draftOnly)).toMatchObject({ publishedVersion: null, latestVersion: 1, handlingType: 'immediate', statuses: { draft: 1, published: 0 } });
    }
  });

  it('When one item is read, then its published definition comes with every version’s summary; without a published version, the latest draft', async () => {
    const code = uniqueItemCode('one');
    const v1 = await published(itemDefinition(code, 1));
    expect((await post(itemDefinition(code, 2, { name: '草稿名称' }))).statusCode).toBe(201);
    const res = await get(`/v1/items/${code}`, await h.auth('manager', '110000'));
    expect(res.statusCode).toBe(200);
    const item = res.json<Record<string, unknown> & { versions: VersionRecord[] }>();
    const { versions, status, publishedAt, ...definition } = item;
    expect(definition).toEqual(v1.definition);
    expect({ status, publishedAt }).toEqual({ status: 'published', publishedAt: v1.publishedAt });
    expect(versions.map((v) => [v.version, v.status])).toEqual([[1, 'published'], [2, 'draft']]);

    const draftOnly = uniqueItemCode('one-draft');
    await post(itemDefinition(draftOnly, 1));
    await post(itemDefinition(draftOnly, 2, { name: '最新草稿' }));
    expect((await get(`/v1/items/${draftOnly}`)).json()).toMatchObject({ version: 2, name: '最新草稿', status: 'draft', publishedAt: null });

    const unknown = await get(`/v1/items/${uniqueItemCode('unknown')}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When one version is read, then every field of its record and its definition come back; a missing version is 404 and a malformed one 400', async () => {
    const code = uniqueItemCode('version');
    const v1 = await published(itemDefinition(code, 1));
    const res = await get(`/v1/items/${code}/versions/1`, await h.auth('approver', '510000'));
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(
      ['code', 'version', 'status', 'source', 'sha256', 'createdAt', 'createdBy', 'publishedAt', 'publishedBy', 'retiredAt', 'retiredBy', 'retireReason', 'definition'].sort(),
    );
    expect(res.json()).toEqual(v1);
    expect((await get(`/v1/items/${code}/versions/2`)).statusCode).toBe(404);
    expect((await get(`/v1/items/${uniqueItemCode()}/versions`)).statusCode).toBe(404);
    const malformed = await get(`/v1/items/${code}/versions/latest`);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json<Problem>().errors!.map((e) => e.path)).toEqual(['params.version']);
  });
});

describe('the difference between versions', () => {
  it('When two versions are compared, then materials are matched by code, reordering is no change, and added, removed and changed fields are listed', async () => {
    const code = uniqueItemCode('diff');
    await published(itemDefinition(code, 1));
    const v1Materials = itemDefinition(code, 1).materials!;
    const v2 = itemDefinition(code, 2, {
      promisedDays: 3,
      materials: [
        { ...v1Materials[1]!, name: '居民身份证（正反面）' },
        v1Materials[0]!,
        { code: 'household-register', name: '居民户口簿', required: true },
      ],
    });
    expect((await post(v2)).statusCode).toBe(201);
    const res = await get(`/v1/items/${code}/diff?from=1&to=2`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ code: string; from: number; to: number; changes: { path: string; kind: string; from?: unknown; to?: unknown }[] }>();
    expect(body).toMatchObject({ code, from: 1, to: 2 });
    expect(body.changes.map((c) => [c.path, c.kind])).toEqual([
      ['version', 'changed'],
      ['materials[resident-id-card].name', 'changed'],
      ['materials[power-of-attorney]', 'removed'],
      ['materials[household-register]', 'added'],
      ['promisedDays', 'changed'],
    ]);
    expect(body.changes.find((c) => c.path === 'promisedDays')).toEqual({ path: 'promisedDays', kind: 'changed', from: 5, to: 3 });
    expect((await get(`/v1/items/${code}/diff?from=2&to=2`)).json<{ changes: unknown[] }>().changes).toEqual([]);
  });

  it('When from or to is not a version number, then 400 names query.from or query.to; a version the item lacks is 404 naming it', async () => {
    const code = uniqueItemCode('diff-bad');
    await published(itemDefinition(code, 1));
    const words = await get(`/v1/items/${code}/diff?from=one&to=0`);
    expect(words.statusCode).toBe(400);
    expect(words.json<Problem>().errors!.map((e) => e.path).sort()).toEqual(['query.from', 'query.to']);
    const missing = await get(`/v1/items/${code}/diff?from=1`);
    expect(missing.statusCode).toBe(400);
    expect(missing.json<Problem>().errors!.map((e) => e.path)).toEqual(['query.to']);
    const absent = await get(`/v1/items/${code}/diff?from=1&to=9`);
    expect(absent.statusCode).toBe(404);
    expect(absent.json<Problem>().errors).toEqual([{ path: 'query.to', message: `${code} has no version 9; it has 1` }]);
  });
});

describe('intake and the catalog', () => {
  it('When a case is taken in, then it pins the published version; a code with only drafts, a retired code and an unknown code are 422 naming itemCode', async () => {
    const code = uniqueItemCode('intake');
    await published(itemDefinition(code, 1));
    expect((await post(itemDefinition(code, 2, { materials: [{ code: 'application-form', name: '申请表', required: true }] }))).statusCode).toBe(201);
    const res = await submit(h, clerk, await submission(code, ['application-form', 'resident-id-card']), idempotencyKey());
    expect(res.statusCode, res.body).toBe(201);
    const { caseId } = res.json<{ caseId: string }>();
    expect((await get(`/v1/cases/${caseId}`)).json()).toMatchObject({ itemCode: code, itemVersion: 1 });

    const drafts = uniqueItemCode('intake-draft');
    await post(itemDefinition(drafts, 1));
    const notPublished = await submit(h, clerk, await submission(drafts, ['application-form', 'resident-id-card']));
    expect(notPublished.statusCode).toBe(422);
    expect(notPublished.json<Problem>().errors).toEqual([{ path: 'itemCode', message: `${drafts} is not published: it has only drafts, which take no applications` }]);

    expect((await act(code, 1, 'retire', '停止受理')).statusCode).toBe(200);
    const retired = await submit(h, clerk, await submission(code, ['application-form', 'resident-id-card']));
    expect(retired.statusCode).toBe(422);
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
    expect(retired.json<Problem>().errors).toEqual([{ path: 'itemCode', message: `${code} version 1 was retired on ${today}: it takes no new applications` }]);

    const unknown = await submit(h, clerk, await submission(uniqueItemCode('intake-unknown'), ['application-form']));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<Problem>().errors).toEqual([{ path: 'itemCode', message: 'is not a known service item' }]);
  });

  it('When an intake is retried after a newer version was published, then the case keeps the version its first attempt pinned', async () => {
    const code = uniqueItemCode('intake-retry');
    await published(itemDefinition(code, 1));
    const body = await submission(code, ['application-form', 'resident-id-card']);
    const key = idempotencyKey();
    // The first attempt claimed the key under version 1 and stopped there (its answer was lost).
    await h.pool.query(
      `INSERT INTO intake_requests (idempotency_key, request_hash, case_id, actor, created_at, item_version) VALUES ($1,$2,$3,$4,now(),1)`,
      [key, sha256Hex(canonicalJson(body)), caseIdFor('clerk-catalog', key), 'clerk-catalog'],
    );
    await published(itemDefinition(code, 2, { promisedDays: 2 }));
    const retry = await submit(h, clerk, body, key);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.json()).toMatchObject({ caseId: caseIdFor('clerk-catalog', key) });
    expect((await get(`/v1/cases/${caseIdFor('clerk-catalog', key)}`)).json()).toMatchObject({ itemCode: code, itemVersion: 1 });
    // A new application takes version 2.
    const fresh = await submit(h, clerk, await submission(code, ['application-form', 'resident-id-card']));
    expect((await get(`/v1/cases/${fresh.json<{ caseId: string }>().caseId}`)).json()).toMatchObject({ itemVersion: 2 });
  });

  it('When a case runs on version 1 and version 2 renames a material, then the progress lookup names it as version 1 does', async () => {
    const code = uniqueItemCode('names');
    const v1 = await published(itemDefinition(code, 1));
    await published(itemDefinition(code, 2, { materials: [{ code: 'application-form', name: '申请表（第二版）', required: true }, { code: 'resident-id-card', name: '身份证', required: true }] }));
    const caseId = await insertProjectedCase(h, { item: v1.definition as never, receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date(), stage: 'correction', status: 'awaiting_supplement' });
    const correction = {
      noticeId: 'N-1', side: 'handling', round: 1, supplementDue: '2026-12-15', issuedAt: new Date().toISOString(),
      deficiencies: [{ materialCode: 'application-form', problem: '未签字', needed: '签字后重新提交' }],
    };
    await h.pool.query(`UPDATE cases SET correction = $2 WHERE case_id = $1`, [caseId, JSON.stringify(correction)]);
    const res = await h.app.inject({ method: 'GET', url: `/v1/progress/${caseId}?code=${queryCodeFor(h.secrets.piiHashKey, caseId)}` });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ nextStep: string }>().nextStep).toContain('补齐以下材料：申请表（未签字；签字后重新提交）');
  });
});

describe('the API description', () => {
  it('When /docs/json is read, then every catalog route and the public guide are documented with their tags and statuses', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json<{ paths: Record<string, Record<string, { tags: string[]; responses: Record<string, unknown>; security?: unknown }>> }>().paths;
    const op = (path: string, method: string) => paths[path]?.[method];
    expect(Object.keys(op('/v1/items', 'post')!.responses)).toEqual(expect.arrayContaining(['201', '403', '409', '422']));
    for (const [path, method] of [['/v1/items', 'get'], ['/v1/items/{code}', 'get'], ['/v1/items/{code}/versions', 'get'], ['/v1/items/{code}/versions/{version}', 'get'], ['/v1/items/{code}/versions/{version}/publish', 'post'], ['/v1/items/{code}/versions/{version}/retire', 'post'], ['/v1/items/{code}/diff', 'get']] as const) {
      expect(op(path, method)?.tags, `${method} ${path}`).toEqual(['items']);
      expect(op(path, method)?.security, `${method} ${path}`).toBeDefined();
    }
    expect(op('/v1/guide/{code}', 'get')).toMatchObject({ tags: ['public'] });
    expect(op('/v1/guide/{code}', 'get')!.security).toBeUndefined();
    expect(Object.keys(op('/v1/guide/{code}', 'get')!.responses)).toEqual(expect.arrayContaining(['200', '404', '429']));
  });
});
