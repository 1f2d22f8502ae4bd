// Item versions end to end over HTTP: an item admin publishes version 1 of an item and a window
// takes a case in under it; version 2 changes the materials (one required added, one removed) and
// both time limits and is published while the first case is still at the handling authority;
// version 1's materials are then refused, a second case is taken in under version 2, version 2 is
// retired while that case still runs, and a new case is refused. Both cases finish through the
// simulator (each answering one correction notice, as test/e2e/corrections.e2e.test.ts drives
// them), each by its own version: its pinned version, the materials transferred and its limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorrectionNotice } from '../../domain/case.js';
import type { ItemDefinitionInput } from '../../domain/items.js';
import type { Deadlines } from '../../api/deadlines.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { itemDefinition, uniqueItemCode } from '../support/items.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let admin: string;
let clerk: string;
let supervisor: string;

interface CaseView {
  itemCode: string;
  itemVersion: number;
  stage: string;
  status: string;
  correction: CorrectionNotice | null;
  timeline: { type: string; data: Record<string, unknown> }[];
}
interface Problem {
  detail: string;
  errors?: { path: string; message: string }[];
}

const view = (caseId: string) => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body);
const waitForHandlingNotice = (caseId: string) =>
  eventually(() => view(caseId), (v) => v.status === 'awaiting_supplement' && v.correction?.side === 'handling', 30_000, `the handling notice of ${caseId}`);
const waitForCompletion = (caseId: string) => eventually(() => view(caseId), (v) => v.status === 'completed', 30_000, `completion of ${caseId}`);

async function supplement(caseId: string, notice: CorrectionNotice) {
  const items = [];
  for (const { materialCode } of notice.deficiencies) {
    const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`补正 ${materialCode} ${notice.noticeId}`));
    items.push({ materialCode, fileId: up.body.fileId, note: `重新提交 ${materialCode}` });
  }
  const res = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/supplements`, clerk, { noticeId: notice.noticeId, items });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
}

async function publish(def: ItemDefinitionInput) {
  const created = await postJson(`${stack.apiUrl}/v1/items`, admin, def);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const published = await postJson<{ status: string }>(`${stack.apiUrl}/v1/items/${def.code}/versions/${def.version}/publish`, admin, { reason: `第${def.version}版施行` });
  expect(published.status, JSON.stringify(published.body)).toBe(200);
  expect(published.body.status).toBe('published');
}

const transferred = (v: CaseView) => v.timeline.filter((e) => e.type === 'material.transferred').map((e) => String(e.data.materialCode)).sort();

describe('item versions and running cases', () => {
  beforeAll(async () => {
    stack = await startTestStack({ simulator: { reviewDelayMs: 300, correctionDelayMs: 300 } });
    admin = await stack.token('item_admin', '110000');
    clerk = await stack.token('clerk', '440100');
    supervisor = await stack.token('supervisor', '510000');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When version 2 changes the materials and limits and is then retired, then cases on version 1 and version 2 each finish by their own version, and new cases are refused', async () => {
    const code = uniqueItemCode('versioned');
    // Each case waits at the authority for the answer to one correction notice, so it is still running when the catalog changes.
    stack.simulator.addRule({ match: { itemCode: code }, scenario: 'correction' });
    const v1 = itemDefinition(code, 1, { promisedDays: 5, statutoryDays: 20, deliveryMethods: ['electronic'] });
    const v2 = itemDefinition(code, 2, {
      promisedDays: 3,
      statutoryDays: 15,
      deliveryMethods: ['electronic'],
      materials: [
        { code: 'application-form', name: '申请表', required: true },
        { code: 'household-register', name: '居民户口簿', required: true },
        { code: 'power-of-attorney', name: '授权委托书', required: false, condition: '委托他人代办的' },
      ],
    });
    const v1Materials = ['application-form', 'resident-id-card'];
    const v2Materials = ['application-form', 'household-register'];

    // Version 1, and a case under it.
    await publish(v1);
    const first = await submitCase(stack.apiUrl, clerk, { itemCode: code, materialCodes: v1Materials, applicantName: '钱一' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const caseV1 = first.body.caseId;
    const noticeV1 = (await waitForHandlingNotice(caseV1)).correction!;

    // Version 2 published while that case waits at the authority: what it changes, by the catalog's own diff.
    await publish(v2);
    const diff = await getJson<{ changes: { path: string; kind: string }[] }>(`${stack.apiUrl}/v1/items/${code}/diff?from=1&to=2`, clerk);
    expect(diff.body.changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      'changed version',
      'removed materials[resident-id-card]',
      'added materials[household-register]',
      'changed promisedDays',
      'changed statutoryDays',
    ]);

    // Version 1's materials no longer make a complete application: 422 naming the material.
    const stale = await submitCase(stack.apiUrl, clerk, { itemCode: code, materialCodes: v1Materials });
    expect(stale.status).toBe(422);
    expect((stale.body as unknown as Problem).errors).toEqual([
      { path: 'materials.1.materialCode', message: `${code} has no material resident-id-card` },
      { path: 'materials', message: 'required materials missing: household-register' },
    ]);

    // A case under version 2.
    const second = await submitCase(stack.apiUrl, clerk, { itemCode: code, materialCodes: v2Materials, applicantName: '孙二' });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    const caseV2 = second.body.caseId;

    // The version 1 case answers its notice (version 1's materials) and finishes.
    expect(noticeV1.deficiencies.map((d) => d.materialCode).sort()).toEqual([...v1Materials].sort());
    await supplement(caseV1, noticeV1);
    const doneV1 = await waitForCompletion(caseV1);

    // Version 2 is retired while its case waits at the authority: new cases are refused, naming itemCode.
    const noticeV2 = (await waitForHandlingNotice(caseV2)).correction!;
    const retired = await postJson(`${stack.apiUrl}/v1/items/${code}/versions/2/retire`, admin, { reason: '事项调整，停止受理' });
    expect(retired.status, JSON.stringify(retired.body)).toBe(200);
    const refused = await submitCase(stack.apiUrl, clerk, { itemCode: code, materialCodes: v2Materials });
    expect(refused.status).toBe(422);
    expect((refused.body as unknown as Problem).errors).toEqual([{ path: 'itemCode', message: expect.stringMatching(new RegExp(`^${code} version 2 was retired on \\d{4}-\\d{2}-\\d{2}: it takes no new applications$`)) }]);
    // The case already running under it finishes.
    expect(noticeV2.deficiencies.map((d) => d.materialCode).sort()).toEqual([...v2Materials].sort());
    await supplement(caseV2, noticeV2);
    const doneV2 = await waitForCompletion(caseV2);

    // Each case ran on its own version: pinned version, materials transferred, limits.
    expect(doneV1).toMatchObject({ itemCode: code, itemVersion: 1 });
    expect(doneV2).toMatchObject({ itemCode: code, itemVersion: 2 });
    expect(transferred(doneV1)).toEqual([...v1Materials].sort());
    expect(transferred(doneV2)).toEqual([...v2Materials].sort());
    const deadlines = async (caseId: string) => (await getJson<Deadlines>(`${stack.apiUrl}/v1/cases/${caseId}/deadlines`, supervisor)).body;
    expect(await deadlines(caseV1)).toMatchObject({ started: true, promised: { limitDays: 5 }, statutory: { limitDays: 20 } });
    expect(await deadlines(caseV2)).toMatchObject({ started: true, promised: { limitDays: 3 }, statutory: { limitDays: 15 } });

    // The catalog's record of it all.
    const versions = await getJson<{ versions: { version: number; status: string }[] }>(`${stack.apiUrl}/v1/items/${code}/versions`, clerk);
    expect(versions.body.versions.map((v) => [v.version, v.status])).toEqual([[1, 'superseded'], [2, 'retired']]);
    const audits = await stack.pool.query<{ action: string; version: string }>(`SELECT action, detail->>'version' AS version FROM audit_log WHERE action LIKE 'item.%' AND detail->>'code' = $1 ORDER BY id`, [code]);
    expect(audits.rows.map((r) => `${r.action}:${r.version}`)).toEqual(['item.create:1', 'item.publish:1', 'item.create:2', 'item.publish:2', 'item.retire:2']);
  });
});
