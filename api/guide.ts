// The public intake standard (收件标准查询, GET /v1/guide/:code): the published version of an item
// as an applicant reads it before coming to a window, in Chinese, from the same definition intake
// checks against, so the guide and the window never disagree. Only the published version is ever
// shown: a draft is not public, and a retired item says so instead of showing a guide nobody can
// apply under.
import type pg from 'pg';
import { findPublishedItem, listItemVersions } from '../db/items.js';
import { dateInChina } from '../domain/dates.js';
import {
  DATAHUB_SOURCES,
  DELIVERY_METHODS,
  HANDLING_MODES,
  HANDLING_TYPES,
  LICENCE_TYPES,
  MATERIAL_CONTENT_TYPES,
  MATERIAL_FORMS,
  type ItemDefinition,
  type ItemType,
  type MaterialDefinition,
} from '../domain/items.js';
import { problem } from './problem.js';

type Labels<T extends readonly string[]> = Record<T[number], string>;

export const ITEM_TYPE_LABELS: Record<ItemType, string> = {
  administrative_licensing: '行政许可',
  administrative_payment: '行政给付',
  administrative_confirmation: '行政确认',
  administrative_ruling: '行政裁决',
  other_administrative_power: '其他行政权力',
  public_service: '公共服务',
};
const HANDLING_TYPE_LABELS: Labels<typeof HANDLING_TYPES> = { immediate: '即办件', committed: '承诺件' };
const SERVICE_OBJECT_LABELS: Record<ItemDefinition['serviceObject'][number], string> = { natural_person: '自然人', legal_person: '法人' };
const FORM_LABELS: Labels<typeof MATERIAL_FORMS> = { original: '原件', copy: '复印件', electronic: '电子件' };
const FILE_TYPE_LABELS: Labels<typeof MATERIAL_CONTENT_TYPES> = { 'application/pdf': 'PDF', 'image/jpeg': 'JPG', 'image/png': 'PNG', 'application/ofd': 'OFD' };
const DELIVERY_LABELS: Labels<typeof DELIVERY_METHODS> = { window: '窗口领取', mail: '邮寄送达', electronic: '电子送达（电子证照）' };
const LICENCE_LABELS: Labels<typeof LICENCE_TYPES> = {
  resident_id_card: '居民身份证',
  residence_permit: '居住证',
  household_register: '居民户口簿',
  marriage_certificate: '结婚证',
  business_licence: '营业执照',
  social_security_card: '社会保障卡',
  no_criminal_record_certificate: '无犯罪记录证明',
  professional_qualification_certificate: '职业资格证书',
  teacher_qualification_certificate: '教师资格证书',
  motor_vehicle_driving_licence: '机动车驾驶证',
  household_move_permit: '准予迁入证明',
  medical_filing_receipt: '异地就医备案凭证',
  pension_transfer_letter: '基本养老保险关系转移接续联系函',
  housing_fund_transfer_receipt: '住房公积金转移接续确认书',
};
const SHARED_DATA_LABELS: Labels<typeof DATAHUB_SOURCES> = {
  'social-insurance-contributions': '社会保险缴费记录',
  'household-registration': '户籍信息',
  'marriage-status': '婚姻登记信息',
  'housing-fund-deposits': '住房公积金缴存信息',
};
const MODE_LABELS: Labels<typeof HANDLING_MODES> = { fully_online: '全程网办', remote_collection: '异地代收代办', multi_location: '多地联办', intra_province: '省内通办' };

export interface GuideMaterial {
  code: string;
  name: string;
  required: boolean;
  /** 必要, or when the material is needed (容缺 / conditional). */
  requirement: string;
  form: string;
  copies: number;
  fileTypes: string[];
  maxSize: string;
  /** What replaces it: an e-licence, or shared data (免提交); null when the applicant brings it. */
  replacement: string | null;
  /** Whether the applicant must hand it in at all (false for 免提交). */
  submittedByApplicant: boolean;
  originalRequired: boolean;
  note: string | null;
}

export interface GuideWhere {
  mode: (typeof HANDLING_MODES)[number];
  label: string;
  text: string;
  participants?: { step: number; role: string; department: string; timeLimitDays: number }[];
}

export interface Guide {
  code: string;
  version: number;
  publishedAt: string;
  name: string;
  nameEn: string | null;
  type: { code: ItemType; label: string };
  handlingType: { code: (typeof HANDLING_TYPES)[number]; label: string };
  department: string;
  serviceObject: string[];
  acceptanceConditions: string[];
  process: string[];
  materials: GuideMaterial[];
  timeLimits: {
    promisedDays: number;
    statutoryDays: number;
    promised: string;
    statutory: string;
    specialProcedures: { name: string; maxDays: number; countsTowardLimit: boolean; legalBasis: string; text: string }[];
  };
  fee: { charged: boolean; text: string };
  result: { name: string; electronic: boolean };
  deliveryMethods: { method: (typeof DELIVERY_METHODS)[number]; label: string }[];
  whereToApply: GuideWhere[];
  legalBasis: string[];
}

function sizeText(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return Number.isInteger(mb) ? `${mb} MB` : `${Math.round(bytes / 1024)} KB`;
}

function materialOf(m: MaterialDefinition): GuideMaterial {
  const shared = m.sharedData ? SHARED_DATA_LABELS[m.sharedData.source as (typeof DATAHUB_SOURCES)[number]] ?? m.sharedData.source : null;
  const licence = m.eLicence ? LICENCE_LABELS[m.eLicence.licenceType as (typeof LICENCE_TYPES)[number]] ?? m.eLicence.licenceType : null;
  const replacement = shared ? `免提交：由${shared}数据共享获取` : licence ? `可使用电子证照（${licence}）代替` : null;
  return {
    code: m.code,
    name: m.name,
    required: m.required,
    requirement: m.required ? '必要' : `条件提供：${m.condition}`,
    form: FORM_LABELS[m.form],
    copies: m.copies,
    fileTypes: m.contentTypes.map((t) => FILE_TYPE_LABELS[t]),
    maxSize: sizeText(m.maxSizeBytes),
    replacement,
    submittedByApplicant: !m.sharedData,
    originalRequired: m.originalRequired,
    note: m.note ?? null,
  };
}

function whereOf(item: ItemDefinition): GuideWhere[] {
  return item.handlingModes.map((mode) => {
    const label = MODE_LABELS[mode];
    switch (mode) {
      case 'fully_online':
        return { mode, label, text: '在线申请：通过全国一体化政务服务平台提交申请，全程网上办理，无需到现场。' };
      case 'remote_collection':
        return { mode, label, text: '可到任一地政务服务中心的跨省通办窗口提交申请，由收件地窗口代收材料并转交办理地办理，结果可邮寄或到收件窗口领取。' };
      case 'intra_province':
        return { mode, label, text: '可在本省任一地的政务服务窗口申请，不受户籍地或登记地限制。' };
      case 'multi_location': {
        const participants = [...(item.joint?.participants ?? [])]
          .sort((a, b) => a.step - b.step)
          .map((p) => ({ step: p.step, role: p.role, department: p.department, timeLimitDays: p.timeLimitDays }));
        const steps = [...new Set(participants.map((p) => p.step))]
          .map((s) => `第${s}步：${participants.filter((p) => p.step === s).map((p) => `${p.role}（${p.department}，${p.timeLimitDays}个工作日）`).join('、')}`)
          .join('；');
        return { mode, label, text: `一地申请，多地联办：在任一参与地窗口提交一次申请即可，各地分步办理。${steps}。`, participants };
      }
    }
  });
}

function feeText(fee: ItemDefinition['fee']): string {
  if (!fee.charged) return '不收费';
  const parts = [fee.amountYuan !== undefined ? `收费${fee.amountYuan}元` : '收费', fee.description, fee.basis ? `收费依据：${fee.basis}` : undefined];
  return parts.filter(Boolean).join('；');
}

/** The guide of one definition (pure). */
export function guideOf(item: ItemDefinition, publishedAt: string): Guide {
  return {
    code: item.code,
    version: item.version,
    publishedAt,
    name: item.name,
    nameEn: item.nameEn ?? null,
    type: { code: item.type, label: ITEM_TYPE_LABELS[item.type] },
    handlingType: { code: item.handlingType, label: HANDLING_TYPE_LABELS[item.handlingType] },
    department: item.department,
    serviceObject: item.serviceObject.map((o) => SERVICE_OBJECT_LABELS[o]),
    acceptanceConditions: item.acceptanceConditions,
    process: item.process,
    materials: item.materials.map(materialOf),
    timeLimits: {
      promisedDays: item.promisedDays,
      statutoryDays: item.statutoryDays,
      promised: item.promisedDays === 0 ? '即办：当场办结' : `${item.promisedDays}个工作日`,
      statutory: `${item.statutoryDays}个工作日`,
      specialProcedures: item.specialProcedures.map((p) => ({
        name: p.name,
        maxDays: p.maxDays,
        countsTowardLimit: p.countsTowardLimit,
        legalBasis: p.legalBasis,
        text: `${p.name}：不超过${p.maxDays}个工作日，${p.countsTowardLimit ? '计入' : '不计入'}办结时限（依据：${p.legalBasis}）`,
      })),
    },
    fee: { charged: item.fee.charged, text: feeText(item.fee) },
    result: { name: item.result.name, electronic: item.result.electronic },
    deliveryMethods: item.deliveryMethods.map((method) => ({ method, label: DELIVERY_LABELS[method] })),
    whereToApply: whereOf(item),
    legalBasis: item.legalBasis,
  };
}

/**
 * The guide of a code's published version. 404 when there is none: a retired item says since when
 * it takes no applications; an unknown code and one with only drafts answer alike, so the public
 * learns nothing of drafts.
 */
export async function publicGuide(pool: pg.Pool, code: string): Promise<Guide> {
  const published = await findPublishedItem(pool, code);
  if (published) return guideOf(published.definition, published.publishedAt!);
  const retired = (await listItemVersions(pool, code)).filter((v) => v.status === 'retired').sort((x, y) => (x.retiredAt! < y.retiredAt! ? -1 : 1)).at(-1);
  if (retired) {
    throw problem(404, `${code} (${retired.definition.name}) no longer accepts applications (已停止受理): version ${retired.version} was retired on ${dateInChina(retired.retiredAt!)}`, {
      slug: 'item-retired',
      title: 'Item retired',
    });
  }
  throw problem(404, `no published service item ${code}`);
}
