import { describe, expect, it } from 'vitest';
import { diffItems } from '../../domain/itemDiff.js';
import { itemDefinitionSchema } from '../../domain/items.js';
import { itemDefinition } from '../support/items.js';

const v1 = itemDefinitionSchema.parse(itemDefinition('diff-item', 1));

describe('the difference between two item versions', () => {
  it('When a version is compared with itself, then there is no change', () => {
    expect(diffItems(v1, structuredClone(v1))).toEqual([]);
  });

  it('When the materials are only reordered, then nothing is reported; a material changed in place is named by its code', () => {
    const reordered = { ...v1, materials: [...v1.materials].reverse() };
    expect(diffItems(v1, reordered)).toEqual([]);
    const changed = { ...v1, materials: [...v1.materials].reverse().map((m) => (m.code === 'power-of-attorney' ? { ...m, required: true, condition: undefined } : m)) };
    expect(diffItems(v1, changed)).toEqual([
      { path: 'materials[power-of-attorney].required', kind: 'changed', from: false, to: true },
      { path: 'materials[power-of-attorney].condition', kind: 'removed', from: '委托他人代办的' },
    ]);
  });

  it('When a material is added and another removed, and the limits and a nested setting change, then each is one entry with its values', () => {
    const v2 = itemDefinitionSchema.parse(
      itemDefinition('diff-item', 2, {
        promisedDays: 3,
        statutoryDays: 15,
        review: { supplementDays: 5 },
        materials: [
          { code: 'application-form', name: '申请表', required: true },
          { code: 'resident-id-card', name: '居民身份证', required: true },
          { code: 'household-register', name: '居民户口簿', required: true },
        ],
      }),
    );
    const changes = diffItems(v1, v2);
    expect(changes).toEqual([
      { path: 'version', kind: 'changed', from: 1, to: 2 },
      { path: 'materials[power-of-attorney]', kind: 'removed', from: v1.materials[2] },
      { path: 'materials[household-register]', kind: 'added', to: v2.materials[2] },
      { path: 'promisedDays', kind: 'changed', from: 5, to: 3 },
      { path: 'statutoryDays', kind: 'changed', from: 20, to: 15 },
      { path: 'review.supplementDays', kind: 'changed', from: 10, to: 5 },
    ]);
  });

  it('When a list without codes changes (legal basis, delivery methods), then the list is one changed value; an element added to an object is added', () => {
    const v2 = { ...v1, legalBasis: ['《测试条例》第四条'], deliveryMethods: ['electronic' as const], sample: { source: '测试来源' } };
    expect(diffItems(v1, v2)).toEqual([
      { path: 'legalBasis', kind: 'changed', from: ['《测试条例》第三条'], to: ['《测试条例》第四条'] },
      { path: 'deliveryMethods', kind: 'changed', from: ['window', 'mail', 'electronic'], to: ['electronic'] },
      { path: 'sample', kind: 'added', to: { source: '测试来源' } },
    ]);
  });

  it('When joint participants are compared, then they are matched by key', () => {
    const joint = (days: [number, number]) => ({
      participants: [
        { key: 'out', role: '迁出地', department: '公安', region: { from: 'receiving' as const }, step: 1, timeLimitDays: days[0] },
        { key: 'in', role: '迁入地', department: '公安', region: { from: 'handling' as const }, step: 2, timeLimitDays: days[1] },
      ],
      onRejection: 'reject_case' as const,
    });
    const a = { ...v1, joint: joint([5, 5]) };
    const b = { ...v1, joint: { ...joint([5, 8]), participants: [...joint([5, 8]).participants].reverse() } };
    expect(diffItems(a, b)).toEqual([{ path: 'joint.participants[in].timeLimitDays', kind: 'changed', from: 5, to: 8 }]);
  });
});
