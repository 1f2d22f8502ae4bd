// 多地联办 at intake: the participants resolved from the application (regions, gateways, the case
// id each authority knows the case by), the steps in order, and the application's fields checked,
// every problem at once.
import { describe, expect, it } from 'vitest';
import { participantCaseId } from '../../api/intake.js';
import { findBuiltinItem } from '../../catalog/seed.js';
import { itemDefinitionSchema } from '../../domain/items.js';
import { applicationFieldProblems, jointSteps, resolveParticipants } from '../../domain/joint.js';

const move = findBuiltinItem('household-move')!;
const relocation = findBuiltinItem('business-relocation')!;
const CASE_ID = '2f1c6a52-8d1e-4c1b-9a57-0d6f3e8b9c10';
const options = (provinces: string[]) => ({
  hasProvince: (code: string) => provinces.includes(code),
  callbackUrlFor: (code: string) => `http://tongban.test/v1/province-callbacks/${code}`,
  participantCaseId,
});

describe('joint participants (多地联办)', () => {
  it('When a household move is applied for in Guangdong from Hunan to Sichuan, then each authority is resolved to its region with its own case id', () => {
    const r = resolveParticipants(move, { caseId: CASE_ID, receivingRegion: '440100', handlingRegion: '510104', fields: { originRegion: '430102', moveReason: '投靠' } }, options(['440000', '510000', '430000']));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.onRejection).toBe('reject_case');
    expect(r.plan.participants.map((p) => [p.key, p.regionCode, p.provinceCode, p.step, p.issuesResult])).toEqual([
      ['moved-in', '510104', '510000', 1, true],
      ['moved-out', '430102', '430000', 2, false],
    ]);
    const ids = r.plan.participants.map((p) => p.participantCaseId);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Derived, so a retried intake derives the same ids.
    expect(participantCaseId(CASE_ID, 'moved-in')).toBe(ids[0]);
    expect(r.plan.participants[1]!.callbackUrl).toBe('http://tongban.test/v1/province-callbacks/430000');
  });

  it('When the region moved out of is missing or its province has no gateway, then the problem names the field', () => {
    const missing = resolveParticipants(move, { caseId: CASE_ID, receivingRegion: '440100', handlingRegion: '510104', fields: {} }, options(['510000', '430000']));
    expect(missing).toEqual({ ok: false, problems: [{ path: 'fields.originRegion', message: expect.stringContaining('迁出地公安机关') }] });
    const noGateway = resolveParticipants(move, { caseId: CASE_ID, receivingRegion: '440100', handlingRegion: '510104', fields: { originRegion: '320102' } }, options(['510000']));
    expect(noGateway.ok).toBe(false);
    if (!noGateway.ok) expect(noGateway.problems[0]).toMatchObject({ path: 'fields.originRegion', message: expect.stringContaining('320000') });
  });

  it('When a business relocates, then the two authorities of the region moved out of share step 1 and the one moved into follows', () => {
    const r = resolveParticipants(relocation, { caseId: CASE_ID, receivingRegion: '440100', handlingRegion: '510104', fields: { originRegion: '430103' } }, options(['510000', '430000']));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(jointSteps(r.plan).map((group) => group.map((p) => p.key))).toEqual([['registration-out', 'tax-clearance'], ['registration-in']]);
    // Two participants in one province: each has its own case there.
    const [out, tax] = r.plan.participants;
    expect(out!.provinceCode).toBe(tax!.provinceCode);
    expect(out!.participantCaseId).not.toBe(tax!.participantCaseId);
  });

  it('When the application has unknown, missing or malformed fields, then every one is named at once', () => {
    expect(applicationFieldProblems(move, { originRegion: '43010', extra: 'x' }).map((p) => p.path).sort()).toEqual(['fields.extra', 'fields.moveReason', 'fields.originRegion']);
    expect(applicationFieldProblems(move, { originRegion: '430102', moveReason: '投靠' })).toEqual([]);
    expect(applicationFieldProblems(findBuiltinItem('pension-transfer')!, { originRegion: '430102' })[0]).toMatchObject({ path: 'fields.originRegion', message: expect.stringContaining('has none') });
  });

  it('When a joint item has no participant taking the handling region, or two, then the definition is refused', () => {
    const raw = JSON.parse(JSON.stringify(move)) as { joint: { participants: { region: { from: string; field?: string } }[] } };
    raw.joint.participants[0]!.region = { from: 'application', field: 'originRegion' };
    const r = itemDefinitionSchema.safeParse(raw);
    expect(r.success).toBe(false);
    expect(r.error!.issues.find((i) => i.path.join('.') === 'joint.participants')?.message).toContain('exactly one participant takes the handling region');
  });
});
