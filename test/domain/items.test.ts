import { describe, expect, it } from 'vitest';
import { BUILTIN_ITEMS, findBuiltinItem } from '../../domain/builtinItems.js';
import { itemDefinitionSchema, missingRequiredMaterials } from '../../domain/items.js';

const pension = findBuiltinItem('pension-transfer')!;

describe('item definitions', () => {
  it('When the built-in items load, then there are three valid national items with materials and limits', () => {
    expect(BUILTIN_ITEMS.map((i) => i.code)).toEqual(['pension-transfer', 'medical-filing', 'housing-fund-transfer']);
    for (const item of BUILTIN_ITEMS) {
      expect(item.materials.some((m) => m.required)).toBe(true);
      expect(item.promisedDays).toBeLessThanOrEqual(item.statutoryDays);
      expect(item.legalBasis.length).toBeGreaterThan(0);
    }
  });

  it('When a definition promises more days than the statute allows, then validation names promisedDays', () => {
    const r = itemDefinitionSchema.safeParse({ ...pension, promisedDays: 60 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain('promisedDays');
  });

  it('When material codes repeat or required fields are missing, then every problem is reported with its path', () => {
    const r = itemDefinitionSchema.safeParse({ ...pension, name: '', materials: [pension.materials[0], pension.materials[0]] });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['name', 'materials.1.code']));
  });

  it('When electronic delivery is offered without an electronic result, then validation refuses it', () => {
    const r = itemDefinitionSchema.safeParse({ ...pension, result: { name: '纸质联系函', electronic: false } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('deliveryMethods');
  });

  it('When a submission lacks required materials, then they are listed and optional ones are not', () => {
    expect(missingRequiredMaterials(pension, [{ materialCode: 'resident-id-card' }])).toEqual(['transfer-application', 'contribution-certificate']);
    const medical = findBuiltinItem('medical-filing')!;
    expect(missingRequiredMaterials(medical, [{ materialCode: 'filing-form' }, { materialCode: 'resident-id-card' }])).toEqual([]);
  });
});
