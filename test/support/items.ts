// Item definitions for catalog tests: each test run uses codes of its own (the test database is
// shared by every file of a run, and by nothing else), so rows are easy to tell apart.
import { randomBytes } from 'node:crypto';
import type { ItemDefinitionInput } from '../../domain/items.js';

/** A code no other run or test uses: `<prefix>-<8 hex>`. */
export function uniqueItemCode(prefix = 'test-item'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A valid 承诺件 public service handled remotely (异地代收代办), two required materials and one
 * conditional; override any element.
 */
export function itemDefinition(code: string, version = 1, overrides: Partial<ItemDefinitionInput> = {}): ItemDefinitionInput {
  return {
    code,
    version,
    name: '测试事项（目录）',
    nameEn: 'Catalog test item',
    type: 'public_service',
    department: '测试厅',
    legalBasis: ['《测试条例》第三条'],
    serviceObject: ['natural_person'],
    handlingType: 'committed',
    acceptanceConditions: ['申请人在异地居住'],
    process: ['收件', '审查', '办结'],
    handlingModes: ['remote_collection'],
    materials: [
      { code: 'application-form', name: '申请表', required: true },
      { code: 'resident-id-card', name: '居民身份证', required: true },
      { code: 'power-of-attorney', name: '授权委托书', required: false, condition: '委托他人代办的' },
    ],
    promisedDays: 5,
    statutoryDays: 20,
    result: { name: '办理结果通知', type: 'other', electronic: true },
    deliveryMethods: ['window', 'mail', 'electronic'],
    fee: { charged: false },
    ...overrides,
  };
}
