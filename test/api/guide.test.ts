// GET /v1/guide/:code, the public intake standard (收件标准查询): no login, only the published
// version, in the applicant's words; rate-limited like the other public routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemDefinitionInput } from '../../domain/items.js';
import { itemDefinition, uniqueItemCode } from '../support/items.js';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './helpers.js';

let h: ApiHarness;
let admin: { authorization: string };
beforeAll(async () => {
  h = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
  admin = await h.auth('item_admin', '110000', 'admin-guide');
});
afterAll(async () => {
  await h?.close();
});

const guide = (code: string, app = h.app) => app.inject({ method: 'GET', url: `/v1/guide/${code}` });

async function post(def: ItemDefinitionInput) {
  const res = await h.app.inject({ method: 'POST', url: '/v1/items', payload: def as object, headers: admin });
  expect(res.statusCode, res.body).toBe(201);
}
async function publish(code: string, version: number) {
  const res = await h.app.inject({ method: 'POST', url: `/v1/items/${code}/versions/${version}/publish`, payload: { reason: '发布办事指南' }, headers: admin });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ publishedAt: string }>();
}
async function retire(code: string, version: number) {
  const res = await h.app.inject({ method: 'POST', url: `/v1/items/${code}/versions/${version}/retire`, payload: { reason: '事项取消' }, headers: admin });
  expect(res.statusCode, res.body).toBe(200);
}

/** A 行政许可 decided jointly by two authorities, with an e-licence, shared data, a special procedure and a fee. */
function jointLicensing(code: string, version = 1): ItemDefinitionInput {
  return itemDefinition(code, version, {
    name: '跨省迁移登记（测试）',
    nameEn: 'Cross-province relocation registration (test)',
    type: 'administrative_licensing',
    serviceObject: ['natural_person', 'legal_person'],
    acceptanceConditions: ['已在迁入地取得合法住所', '无未结清的行政处罚'],
    handlingModes: ['fully_online', 'remote_collection', 'multi_location'],
    materials: [
      { code: 'application-form', name: '迁移申请表', required: true, form: 'original', copies: 2, originalRequired: true },
      { code: 'resident-id-card', name: '居民身份证', required: true, eLicence: { licenceType: 'resident_id_card' }, contentTypes: ['application/pdf', 'image/jpeg'], maxSizeBytes: 5 * 1024 * 1024 },
      { code: 'household-record', name: '户籍证明', required: true, sharedData: { source: 'household-registration' } },
      { code: 'power-of-attorney', name: '授权委托书', required: false, condition: '委托他人代办的', form: 'copy' },
    ],
    promisedDays: 10,
    statutoryDays: 20,
    review: { maxExtensionDays: 10 },
    specialProcedures: [{ name: '专家评审', maxDays: 15, legalBasis: '《行政许可法》第四十五条', countsTowardLimit: false }],
    fee: { charged: true, amountYuan: 50, basis: '测试收费标准' },
    deliveryMethods: ['mail', 'electronic'],
    joint: {
      participants: [
        { key: 'origin', role: '迁出地审核', department: '迁出地公安机关', region: { from: 'receiving' }, step: 1, timeLimitDays: 5 },
        { key: 'destination', role: '迁入地审批', department: '迁入地公安机关', region: { from: 'handling' }, step: 2, timeLimitDays: 10 },
      ],
      onRejection: 'reject_case',
    },
  });
}

describe('the public intake standard (收件标准查询)', () => {
  it('When anyone asks for a published item without logging in, then the guide shows its elements, materials with what replaces them, limits, fee and where to apply', async () => {
    const code = uniqueItemCode('guide');
    await post(jointLicensing(code));
    const { publishedAt } = await publish(code, 1);
    const res = await guide(code);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      code,
      version: 1,
      publishedAt,
      name: '跨省迁移登记（测试）',
      nameEn: 'Cross-province relocation registration (test)',
      type: { code: 'administrative_licensing', label: '行政许可' },
      handlingType: { code: 'committed', label: '承诺件' },
      department: '测试厅',
      serviceObject: ['自然人', '法人'],
      acceptanceConditions: ['已在迁入地取得合法住所', '无未结清的行政处罚'],
      process: ['收件', '审查', '办结'],
      materials: [
        { code: 'application-form', name: '迁移申请表', required: true, requirement: '必要', form: '原件', copies: 2, fileTypes: ['PDF', 'JPG', 'PNG', 'OFD'], maxSize: '20 MB', replacement: null, submittedByApplicant: true, originalRequired: true, note: null },
        { code: 'resident-id-card', name: '居民身份证', required: true, requirement: '必要', form: '电子件', copies: 1, fileTypes: ['PDF', 'JPG'], maxSize: '5 MB', replacement: '可使用电子证照（居民身份证）代替', submittedByApplicant: true, originalRequired: false, note: null },
        { code: 'household-record', name: '户籍证明', required: true, requirement: '必要', form: '电子件', copies: 1, fileTypes: ['PDF', 'JPG', 'PNG', 'OFD'], maxSize: '20 MB', replacement: '免提交：由户籍信息数据共享获取', submittedByApplicant: false, originalRequired: false, note: null },
        { code: 'power-of-attorney', name: '授权委托书', required: false, requirement: '条件提供：委托他人代办的', form: '复印件', copies: 1, fileTypes: ['PDF', 'JPG', 'PNG', 'OFD'], maxSize: '20 MB', replacement: null, submittedByApplicant: true, originalRequired: false, note: null },
      ],
      timeLimits: {
        promisedDays: 10,
        statutoryDays: 20,
        promised: '10个工作日',
        statutory: '20个工作日',
        specialProcedures: [{ name: '专家评审', maxDays: 15, countsTowardLimit: false, legalBasis: '《行政许可法》第四十五条', text: '专家评审：不超过15个工作日，不计入办结时限（依据：《行政许可法》第四十五条）' }],
      },
      fee: { charged: true, text: '收费50元；收费依据：测试收费标准' },
      result: { name: '办理结果通知', electronic: true },
      deliveryMethods: [{ method: 'mail', label: '邮寄送达' }, { method: 'electronic', label: '电子送达（电子证照）' }],
      whereToApply: [
        { mode: 'fully_online', label: '全程网办', text: expect.stringContaining('在线申请') },
        { mode: 'remote_collection', label: '异地代收代办', text: expect.stringContaining('任一地政务服务中心的跨省通办窗口') },
        {
          mode: 'multi_location',
          label: '多地联办',
          text: expect.stringContaining('第1步：迁出地审核（迁出地公安机关，5个工作日）；第2步：迁入地审批（迁入地公安机关，10个工作日）'),
          participants: [
            { step: 1, role: '迁出地审核', department: '迁出地公安机关', timeLimitDays: 5 },
            { step: 2, role: '迁入地审批', department: '迁入地公安机关', timeLimitDays: 10 },
          ],
        },
      ],
      legalBasis: ['《测试条例》第三条'],
    });
  });

  it('When an item is 即办件 and charges nothing, then the guide says so', async () => {
    const code = uniqueItemCode('guide-immediate');
    await post(itemDefinition(code, 1, { handlingType: 'immediate', promisedDays: 0, statutoryDays: 1 }));
    await publish(code, 1);
    expect((await guide(code)).json()).toMatchObject({
      handlingType: { code: 'immediate', label: '即办件' },
      type: { code: 'public_service', label: '公共服务' },
      timeLimits: { promised: '即办：当场办结', statutory: '1个工作日' },
      fee: { charged: false, text: '不收费' },
    });
  });

  it('When a newer version is only a draft, then the guide still shows the published one; a code with only drafts answers exactly like an unknown code', async () => {
    const code = uniqueItemCode('guide-draft');
    await post(itemDefinition(code, 1));
    await publish(code, 1);
    await post(itemDefinition(code, 2, { name: '尚未发布的名称', promisedDays: 2 }));
    expect((await guide(code)).json()).toMatchObject({ version: 1, name: '测试事项（目录）', timeLimits: { promisedDays: 5 } });

    const draftOnly = uniqueItemCode('guide-draft-only');
    await post(itemDefinition(draftOnly, 1));
    const unknown = uniqueItemCode('guide-unknown');
    const [a, b] = [await guide(draftOnly), await guide(unknown)];
    expect([a.statusCode, b.statusCode]).toEqual([404, 404]);
    expect(a.headers['content-type']).toMatch(PROBLEM_JSON);
    expect({ ...a.json(), instance: null, detail: a.json<{ detail: string }>().detail.replace(draftOnly, 'X') }).toEqual({ ...b.json(), instance: null, detail: b.json<{ detail: string }>().detail.replace(unknown, 'X') });
  });

  it('When the published version is retired, then the guide is a 404 saying the item no longer accepts applications and since when', async () => {
    const code = uniqueItemCode('guide-retired');
    await post(itemDefinition(code, 1));
    await publish(code, 1);
    await retire(code, 1);
    const res = await guide(code);
    expect(res.statusCode).toBe(404);
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
    expect(res.json()).toMatchObject({ title: 'Item retired', detail: `${code} (测试事项（目录）) no longer accepts applications (已停止受理): version 1 was retired on ${today}` });
  });

  it('When the code is longer than any item code, then 400 names params.code', async () => {
    const res = await guide('x'.repeat(65));
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['params.code']);
  });

  it('When one address asks more often than allowed, then it gets 429 problem+json with Retry-After', async () => {
    const limited = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const code = uniqueItemCode('guide-limit');
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await guide(code, limited.app)).statusCode);
      expect(statuses).toEqual([404, 404, 404, 429]);
      const res = await guide(code, limited.app);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json()).toMatchObject({ status: 429, detail: expect.stringContaining('at most 3 per minute') });
    } finally {
      await limited.close();
    }
  });
});
