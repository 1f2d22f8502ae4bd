// Three items from the national cross-province list (全国政务服务“跨省通办”事项清单), with their
// standard elements. Time limits are in working days.
import { itemDefinitionSchema, type ItemDefinition } from './items.js';

const identityCard = { code: 'resident-id-card', name: '居民身份证', required: true, eLicence: { licenceType: 'resident_id_card' }, originalRequired: false };

const raw: unknown[] = [
  {
    code: 'pension-transfer',
    version: 1,
    name: '企业职工基本养老保险关系转移接续',
    nameEn: 'Transfer of basic pension insurance for enterprise employees',
    type: 'public_service',
    department: '人力资源和社会保障部门',
    legalBasis: ['《中华人民共和国社会保险法》第十九条', '《城镇企业职工基本养老保险关系转移接续暂行办法》（国办发〔2009〕66号）'],
    serviceObject: ['natural_person'],
    acceptanceConditions: ['参保人员跨省流动就业，已在新参保地参加企业职工基本养老保险'],
    process: ['申请', '受理', '转出地审核并出具参保缴费凭证', '转入地接续', '办结'],
    handlingModes: ['fully_online', 'remote_collection'],
    materials: [
      { code: 'transfer-application', name: '基本养老保险关系转移接续申请表', required: true },
      identityCard,
      { code: 'contribution-certificate', name: '参保缴费凭证', required: true, originalRequired: true },
    ],
    promisedDays: 15,
    statutoryDays: 45,
    result: { name: '基本养老保险关系转移接续联系函', electronic: true },
    deliveryMethods: ['window', 'mail', 'electronic'],
    fee: { charged: false },
  },
  {
    code: 'medical-filing',
    version: 1,
    name: '基本医疗保险参保人员跨省异地就医备案',
    nameEn: 'Filing for cross-province medical treatment under basic medical insurance',
    type: 'public_service',
    department: '医疗保障部门',
    legalBasis: ['《中华人民共和国社会保险法》第二十九条', '《国家医保局 财政部关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》（医保发〔2022〕22号）'],
    serviceObject: ['natural_person'],
    acceptanceConditions: ['参加基本医疗保险，异地长期居住、常驻异地工作或临时外出就医'],
    process: ['申请', '受理', '参保地审核', '备案', '办结'],
    handlingModes: ['fully_online', 'remote_collection'],
    materials: [
      { code: 'filing-form', name: '跨省异地就医登记备案表', required: true },
      identityCard,
      { code: 'residence-proof', name: '异地长期居住证明或居住证', required: false, eLicence: { licenceType: 'residence_permit' } },
    ],
    promisedDays: 3,
    statutoryDays: 5,
    result: { name: '跨省异地就医备案凭证', electronic: true },
    deliveryMethods: ['window', 'electronic'],
    fee: { charged: false },
  },
  {
    code: 'housing-fund-transfer',
    version: 1,
    name: '住房公积金异地转移接续',
    nameEn: 'Cross-region transfer of housing provident fund',
    type: 'public_service',
    department: '住房公积金管理中心',
    legalBasis: ['《住房公积金管理条例》', '《全国住房公积金异地转移接续业务操作规程》（建金〔2016〕190号）'],
    serviceObject: ['natural_person'],
    acceptanceConditions: ['在转入地已建立住房公积金个人账户并正常缴存', '原缴存地账户已封存'],
    process: ['申请', '受理', '转出地审核', '资金划转', '办结'],
    handlingModes: ['fully_online', 'remote_collection'],
    materials: [
      { code: 'transfer-application', name: '住房公积金异地转移接续申请', required: true },
      identityCard,
      { code: 'deposit-proof', name: '转入地住房公积金缴存证明', required: true },
    ],
    promisedDays: 3,
    statutoryDays: 15,
    result: { name: '住房公积金转移接续确认书', electronic: true },
    deliveryMethods: ['window', 'mail', 'electronic'],
    fee: { charged: false },
  },
];

/** Parsed at load: a malformed built-in definition fails fast, naming the field. */
export const BUILTIN_ITEMS: readonly ItemDefinition[] = raw.map((r) => itemDefinitionSchema.parse(r));

export function findBuiltinItem(code: string): ItemDefinition | undefined {
  return BUILTIN_ITEMS.find((i) => i.code === code);
}
