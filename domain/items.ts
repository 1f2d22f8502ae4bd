// Service item (事项) definitions with the national standard elements. 国办发〔2022〕34号 asks for
// "名称、编码、依据、类型等基本要素和受理条件、服务对象、办理流程、申请材料、办结时限、办理结果" to be uniform
// nationwide; this schema is those elements, with every rule a backend team can break checked at
// once (the one-time-notice rule the law imposes on reviewers applies to us too). A case pins the
// whole definition at intake, so a later version never changes a running case.
//
// Fields that running cases read (materials[].required, review.*, promisedDays, statutoryDays)
// keep their shape from the first version: a pinned input recorded in a workflow history must still
// read the same way. New elements are optional or defaulted for that reason. Pure.
import { z } from 'zod';
import { isUnifiedSocialCreditCode, unifiedSocialCreditCheckChar } from './elicenceId.js';

// ---------------------------------------------------------------------------------------------
// Vocabularies

/** 事项类型, with the two-digit type code that starts the basic code. */
export const ITEM_TYPE_CODES = {
  administrative_licensing: '01', // 行政许可
  administrative_payment: '05', // 行政给付
  administrative_confirmation: '07', // 行政确认
  administrative_ruling: '09', // 行政裁决
  other_administrative_power: '10', // 其他行政权力
  public_service: '20', // 公共服务
} as const;
export const ITEM_TYPES = Object.keys(ITEM_TYPE_CODES) as (keyof typeof ITEM_TYPE_CODES)[];
export type ItemType = keyof typeof ITEM_TYPE_CODES;

/** 行使层级, with the digit the implementation code carries. */
export const ITEM_LEVEL_DIGITS = { national: '1', provincial: '2', municipal: '3', county: '4' } as const;
export const ITEM_LEVELS = Object.keys(ITEM_LEVEL_DIGITS) as (keyof typeof ITEM_LEVEL_DIGITS)[];

/** 办件类型: 即办件 (decided on the spot) or 承诺件 (decided within the promised limit). */
export const HANDLING_TYPES = ['immediate', 'committed'] as const;

export const HANDLING_MODES = [
  'fully_online', // 全程网办
  'remote_collection', // 异地代收代办
  'multi_location', // 多地联办
  'intra_province', // 省内通办
] as const;

export const DELIVERY_METHODS = ['window', 'mail', 'electronic'] as const;
export type DeliveryMethod = (typeof DELIVERY_METHODS)[number];

export const MATERIAL_CONTENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'application/ofd'] as const;
/** 原件 / 复印件 / 电子件. */
export const MATERIAL_FORMS = ['original', 'copy', 'electronic'] as const;
export const DEFAULT_MATERIAL_MAX_BYTES = 20 * 1024 * 1024;

/** 办理结果类型. */
export const RESULT_TYPES = ['licence', 'certificate', 'approval_document', 'filing_receipt', 'payment', 'other'] as const;

/**
 * The e-licence types (电子证照类型) a material or a result may name. A definition naming any other
 * type is refused: a licence type nobody issues can never be verified or issued.
 */
export const LICENCE_TYPES = [
  'resident_id_card', // 居民身份证
  'residence_permit', // 居住证
  'household_register', // 居民户口簿
  'marriage_certificate', // 结婚证
  'business_licence', // 营业执照
  'social_security_card', // 社会保障卡
  'no_criminal_record_certificate', // 无犯罪记录证明
  'professional_qualification_certificate', // 职业资格证书
  'teacher_qualification_certificate', // 教师资格证书
  'motor_vehicle_driving_licence', // 机动车驾驶证
  'household_move_permit', // 准予迁入证明
  'medical_filing_receipt', // 异地就医备案凭证
  'pension_transfer_letter', // 基本养老保险关系转移接续联系函
  'housing_fund_transfer_receipt', // 住房公积金转移接续确认书
] as const;

/**
 * The sources of the data-sharing hub (数据共享交换平台) a material may name (免提交): 社保缴费记录,
 * 户籍, 婚姻登记, 住房公积金缴存. Defined here, not in contracts/datahub.ts (which re-exports it):
 * contracts import domain, and the other way round made a cycle (items → datahub → province → items)
 * that left DELIVERY_METHODS uninitialised whenever this module was imported first.
 */
export const DATAHUB_SOURCES = ['social-insurance-contributions', 'household-registration', 'marriage-status', 'housing-fund-deposits'] as const;

/** Where a joint participant's region comes from: one of the case's regions or a field of the application. */
export const PARTICIPANT_REGION_SOURCES = ['receiving', 'handling', 'application'] as const;

/** What a participant's rejection does to a joint case. */
export const JOINT_ON_REJECTION = [
  'reject_case', // the case is rejected; the other participants are told and their work undone
  'continue_others', // the others go on; the case is decided on what they grant
] as const;

/** Art. 42: the statutory bounds of a licensing decision, single authority and joint. */
export const LICENSING_LIMITS = { single: { days: 20, extension: 10 }, joint: { days: 45, extension: 15 } } as const;

// ---------------------------------------------------------------------------------------------
// Codes

const code = z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'use 2–64 lower-case letters, digits and dashes, starting with a letter or digit');

/**
 * 基本编码: 2-digit type code, 5-digit main-item code (主项), 3-digit sub-item code (子项, 000
 * without sub-items). The layout of the national directory's basic codes as the local standards
 * (e.g. DB52/T 1264-2018) spell it out; the type code must match `type`.
 */
export const BASIC_CODE = /^(\d{2})(\d{5})(\d{3})$/;

/**
 * 实施编码: the implementing authority's unified social credit code (18, GB 32100, check
 * character verified), the level digit (1 national … 4 county, matching `level`), the basic code,
 * and an optional 2-digit business-item suffix (业务办理项).
 */
export const IMPLEMENTATION_CODE = /^([0-9A-HJ-NPQRTUWXY]{18})([1-4])(\d{10})(\d{2})?$/;

/** The GB 32100 check character of the first 17 characters of a unified social credit code. */
export const usccCheckChar = unifiedSocialCreditCheckChar;
export const isValidUscc = isUnifiedSocialCreditCode;

// ---------------------------------------------------------------------------------------------
// The schema

const text = z.string().trim().min(1, 'must not be empty');

export const materialDefinitionSchema = z.strictObject({
  code,
  name: text,
  /** Required of every applicant; when false the material is conditional and `condition` says when it is needed. */
  required: z.boolean(),
  condition: text.optional(),
  form: z.enum(MATERIAL_FORMS).default('electronic'),
  copies: z.number().int().min(1).max(20).default(1),
  contentTypes: z.array(z.enum(MATERIAL_CONTENT_TYPES)).min(1).default([...MATERIAL_CONTENT_TYPES]),
  maxSizeBytes: z.number().int().min(1024).max(100 * 1024 * 1024).default(DEFAULT_MATERIAL_MAX_BYTES),
  /** An e-licence (电子证照) of this type can stand for it; verified with the issuing system at precheck. */
  eLicence: z.strictObject({ licenceType: z.string() }).optional(),
  /** 免提交: fetched from the data-sharing hub at precheck instead of asked of the applicant. */
  sharedData: z.strictObject({ source: z.string(), note: text.optional() }).optional(),
  /** Whether the paper original must follow by post after electronic transfer. */
  originalRequired: z.boolean().default(false),
  note: z.string().optional(),
});

export const specialProcedureSchema = z.strictObject({
  /** 特殊环节, e.g. 专家评审, 听证, 公示. */
  name: text,
  /** Its own limit, in working days. */
  maxDays: z.number().int().min(1).max(365),
  legalBasis: text,
  /** Whether its days count toward the time limit (art. 45: they do not, unless a law says so). */
  countsTowardLimit: z.boolean(),
});

export const applicationFieldSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'use a camelCase key of up to 40 characters'),
  label: text,
  /** What the applicant enters; a `region` is a six-digit administrative division code (GB/T 2260). */
  kind: z.enum(['region', 'text']),
  required: z.boolean().default(true),
});

export const participantSchema = z.strictObject({
  key: code,
  /** The participant's role in the procedure, e.g. 迁入地公安机关. */
  role: text,
  department: text,
  /** How its region is resolved from the application. */
  region: z.strictObject({ from: z.enum(PARTICIPANT_REGION_SOURCES), field: z.string().optional() }),
  /** Steps run in order; participants sharing a step run in parallel. */
  step: z.number().int().min(1).max(10),
  /** Its own limit for its part, in working days. */
  timeLimitDays: z.number().int().min(1).max(60),
});

export const itemDefinitionSchema = z
  .strictObject({
    /** The catalog key: stable across versions, used in URLs and in case records. */
    code,
    basicCode: z.string().optional(),
    implementationCode: z.string().optional(),
    version: z.number().int().min(1),
    name: text,
    nameEn: text.optional(),
    type: z.enum(ITEM_TYPES as [ItemType, ...ItemType[]]),
    level: z.enum(ITEM_LEVELS as [keyof typeof ITEM_LEVEL_DIGITS, ...(keyof typeof ITEM_LEVEL_DIGITS)[]]).default('national'),
    department: text,
    legalBasis: z.array(text).min(1, 'name at least one legal basis (设定依据)'),
    serviceObject: z.array(z.enum(['natural_person', 'legal_person'])).min(1),
    handlingType: z.enum(HANDLING_TYPES).default('committed'),
    acceptanceConditions: z.array(text).min(1),
    process: z.array(text).min(1),
    handlingModes: z.array(z.enum(HANDLING_MODES)).min(1),
    /** Fields of the application beyond the applicant (e.g. the region moved out of). */
    applicationFields: z.array(applicationFieldSchema).default([]),
    materials: z.array(materialDefinitionSchema).min(1),
    /** 承诺办结时限, working days (0 for 即办件). */
    promisedDays: z.number().int().min(0),
    /** 法定办结时限, working days. */
    statutoryDays: z.number().int().min(1),
    specialProcedures: z.array(specialProcedureSchema).default([]),
    result: z.strictObject({
      name: text,
      type: z.enum(RESULT_TYPES).default('other'),
      electronic: z.boolean(),
      /** The e-licence type the result is issued as (电子证照), when it is one. */
      licenceType: z.string().optional(),
    }),
    deliveryMethods: z.array(z.enum(DELIVERY_METHODS)).min(1),
    fee: z.strictObject({ charged: z.boolean(), amountYuan: z.number().min(0).optional(), basis: text.optional(), description: z.string().optional() }),
    /** Review settings: one complete notice is what the law wants; a further round is flagged. */
    review: z
      .strictObject({
        maxCorrectionRounds: z.number().int().min(1).max(5).default(1),
        /** Working days the applicant has to supplement after a notice. */
        supplementDays: z.number().int().min(1).max(60).default(10),
        /** Working days the limit may be extended by (art. 42: 10 for one authority, 15 for joint handling). */
        maxExtensionDays: z.number().int().min(0).max(60).default(10),
      })
      .default({ maxCorrectionRounds: 1, supplementDays: 10, maxExtensionDays: 10 }),
    /** 多地联办: the authorities that each do their part, and what one's rejection does. */
    joint: z
      .strictObject({
        participants: z.array(participantSchema),
        onRejection: z.enum(JOINT_ON_REJECTION),
      })
      .optional(),
    /** Seed and example items say where their content comes from and that they are sample data. */
    sample: z.strictObject({ source: text, note: text.optional() }).optional(),
  })
  // Run even when fields are malformed, so one validation reports every problem at once; each
  // rule looks only at the fields it can read.
  .superRefine(crossFieldRules, { when: () => true });
// Every object of a definition is strict: an unknown field is a problem, since a misspelt optional
// element would otherwise vanish unnoticed.

export type ItemDefinition = z.infer<typeof itemDefinitionSchema>;
/** A definition as written, before defaults are filled in. */
export type ItemDefinitionInput = z.input<typeof itemDefinitionSchema>;
export type MaterialDefinition = z.infer<typeof materialDefinitionSchema>;
export type JointParticipant = z.infer<typeof participantSchema>;

type Ctx = z.core.$RefinementCtx<ItemDefinition>;

function issue(ctx: Ctx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

/** The rules across fields; each problem names its path and what to do about it. */
function crossFieldRules(item: ItemDefinition, ctx: Ctx): void {
  for (const rules of [checkCodes, checkLimits, checkMaterials, checkResult, checkJoint]) {
    try {
      rules(item, ctx);
    } catch {
      // A field these rules read is itself malformed: its own problem is already reported.
    }
  }
}

function checkCodes(item: ItemDefinition, ctx: Ctx): void {
  const typeCode = ITEM_TYPE_CODES[item.type] as string | undefined;
  if (typeof item.basicCode === 'string') {
    const m = BASIC_CODE.exec(item.basicCode);
    if (!m) issue(ctx, ['basicCode'], 'a basic code (基本编码) is 10 digits: 2 of item type, 5 of the main item, 3 of the sub-item (000 without one)');
    else if (typeCode && m[1] !== typeCode) issue(ctx, ['basicCode'], `starts with type code ${m[1]}, but a ${item.type} item's type code is ${typeCode}`);
  }
  if (typeof item.implementationCode === 'string') {
    const m = IMPLEMENTATION_CODE.exec(item.implementationCode);
    if (!m) {
      issue(ctx, ['implementationCode'], 'an implementation code (实施编码) is the authority\'s 18-character unified social credit code, a level digit 1–4, the 10-digit basic code and an optional 2-digit business-item suffix');
    } else {
      const [, uscc, level, basic] = m as unknown as [string, string, string, string];
      if (!isValidUscc(uscc)) issue(ctx, ['implementationCode'], `${uscc} is not a valid unified social credit code (GB 32100 check character should be ${usccCheckChar(uscc.slice(0, 17))})`);
      if (ITEM_LEVEL_DIGITS[item.level] && level !== ITEM_LEVEL_DIGITS[item.level]) issue(ctx, ['implementationCode'], `carries level digit ${level}, but a ${item.level} item's is ${ITEM_LEVEL_DIGITS[item.level]}`);
      if (item.basicCode === undefined) issue(ctx, ['basicCode'], 'is required when an implementation code is given: the implementation code embeds it');
      else if (basic !== item.basicCode) issue(ctx, ['implementationCode'], `embeds basic code ${basic}, but basicCode is ${item.basicCode}`);
    }
  }
}

function checkLimits(item: ItemDefinition, ctx: Ctx): void {
  if (typeof item.promisedDays === 'number' && typeof item.statutoryDays === 'number' && item.promisedDays > item.statutoryDays) issue(ctx, ['promisedDays'], `the promised limit (${item.promisedDays}) cannot exceed the statutory limit (${item.statutoryDays})`);
  if (item.handlingType === 'immediate' && item.promisedDays !== 0) issue(ctx, ['promisedDays'], 'an immediate item (即办件) is decided on the spot: its promised limit is 0 working days');
  if (item.handlingType === 'committed' && item.promisedDays === 0) issue(ctx, ['promisedDays'], 'a committed item (承诺件) promises at least 1 working day; use handlingType immediate for 即办件');
  if (item.type === 'administrative_licensing') {
    const bound = item.joint ? LICENSING_LIMITS.joint : LICENSING_LIMITS.single;
    const kind = item.joint ? 'a joint licensing decision' : 'a licensing decision by one authority';
    if (item.statutoryDays > bound.days) issue(ctx, ['statutoryDays'], `Administrative Licensing Law art. 42: ${kind} is due within ${bound.days} working days`);
    if (item.review.maxExtensionDays > bound.extension) issue(ctx, ['review', 'maxExtensionDays'], `Administrative Licensing Law art. 42: ${kind} may be extended by at most ${bound.extension} working days`);
  }
  const seen = new Set<string>();
  item.specialProcedures.forEach((p, i) => {
    if (seen.has(p.name)) issue(ctx, ['specialProcedures', i, 'name'], `special procedure ${p.name} is listed twice`);
    seen.add(p.name);
  });
}

function checkMaterials(item: ItemDefinition, ctx: Ctx): void {
  const seen = new Set<string>();
  item.materials.forEach((m, i) => {
    if (!m || typeof m !== 'object') return;
    const at = (...rest: string[]) => ['materials', i, ...rest];
    if (seen.has(m.code)) issue(ctx, at('code'), `material code ${m.code} is used twice; give each material its own code`);
    seen.add(m.code);
    if (!m.required && !m.condition) issue(ctx, at('condition'), 'a material that is not required is conditional: say when it is needed');
    if (m.required && m.condition) issue(ctx, at('condition'), 'a required material has no condition; set required to false to make it conditional');
    if (m.eLicence && !(LICENCE_TYPES as readonly string[]).includes(m.eLicence.licenceType)) {
      issue(ctx, at('eLicence', 'licenceType'), `${m.eLicence.licenceType} is not a known e-licence type (one of ${LICENCE_TYPES.join(', ')})`);
    }
    if (m.sharedData && !(DATAHUB_SOURCES as readonly string[]).includes(m.sharedData.source)) {
      issue(ctx, at('sharedData', 'source'), `${m.sharedData.source} is not a source of the data-sharing hub (one of ${DATAHUB_SOURCES.join(', ')})`);
    }
    if (m.sharedData && m.form === 'original') issue(ctx, at('form'), 'a material fetched from the data-sharing hub cannot be an original on paper');
    if (Array.isArray(m.contentTypes) && new Set(m.contentTypes).size !== m.contentTypes.length) issue(ctx, at('contentTypes'), 'lists a content type twice');
  });
}

function checkResult(item: ItemDefinition, ctx: Ctx): void {
  const { result } = item;
  if (item.deliveryMethods.includes('electronic') && !result.electronic) issue(ctx, ['deliveryMethods'], 'electronic delivery needs an electronic result (result.electronic: true)');
  if (result.type === 'licence' && !result.licenceType) issue(ctx, ['result', 'licenceType'], 'a licence result names the e-licence type it is issued as');
  if (result.licenceType && !(LICENCE_TYPES as readonly string[]).includes(result.licenceType)) {
    issue(ctx, ['result', 'licenceType'], `${result.licenceType} is not a known e-licence type (one of ${LICENCE_TYPES.join(', ')})`);
  }
  if (item.fee.charged && item.fee.amountYuan === undefined && !item.fee.description) issue(ctx, ['fee'], 'a charged item states the amount (amountYuan) or how it is worked out (description)');
  if (!item.fee.charged && item.fee.amountYuan) issue(ctx, ['fee', 'amountYuan'], 'an item that charges nothing has no amount');
}

function checkJoint(item: ItemDefinition, ctx: Ctx): void {
  const multi = item.handlingModes.includes('multi_location');
  const fieldKeys = new Set<string>();
  item.applicationFields.forEach((f, i) => {
    if (fieldKeys.has(f.key)) issue(ctx, ['applicationFields', i, 'key'], `application field ${f.key} is declared twice`);
    fieldKeys.add(f.key);
  });
  if (!item.joint) {
    if (multi) issue(ctx, ['joint'], 'a multi_location (多地联办) item declares its participants under joint');
    return;
  }
  if (!multi) issue(ctx, ['handlingModes'], 'an item with joint participants is handled multi_location (多地联办): add it to handlingModes');
  const { participants } = item.joint;
  if (participants.length < 2) issue(ctx, ['joint', 'participants'], `joint handling needs at least 2 participants; ${participants.length} declared`);
  const keys = new Set<string>();
  participants.forEach((p, i) => {
    const at = (...rest: string[]) => ['joint', 'participants', i, ...rest];
    if (keys.has(p.key)) issue(ctx, at('key'), `participant key ${p.key} is used twice`);
    keys.add(p.key);
    if (p.region.from === 'application') {
      const field = item.applicationFields.find((f) => f.key === p.region.field);
      if (!p.region.field) issue(ctx, at('region', 'field'), 'names the application field the region is read from');
      else if (!field) issue(ctx, at('region', 'field'), `${p.region.field} is not declared in applicationFields`);
      else if (field.kind !== 'region') issue(ctx, at('region', 'field'), `${p.region.field} is a ${field.kind} field, not a region`);
      else if (!field.required) issue(ctx, at('region', 'field'), `${p.region.field} must be a required field: every case needs this participant's region`);
    } else if (p.region.field !== undefined) {
      issue(ctx, at('region', 'field'), `only a region read from the application names a field; this one comes from the ${p.region.from} region`);
    }
  });
  const issuers = participants.filter((p) => p.region.from === 'handling');
  if (participants.length >= 2 && issuers.length !== 1) {
    issue(ctx, ['joint', 'participants'], `exactly one participant takes the handling region (region.from: handling): it issues the result; ${issuers.length} do`);
  }
  const steps = [...new Set(participants.map((p) => p.step))].sort((a, b) => a - b);
  steps.forEach((s, i) => {
    if (s !== i + 1) issue(ctx, ['joint', 'participants'], `steps are numbered 1, 2, 3… without gaps; step ${i + 1} is missing`);
  });
  const longest = steps.reduce((sum, s) => sum + Math.max(...participants.filter((p) => p.step === s).map((p) => p.timeLimitDays)), 0);
  if (participants.length >= 2 && longest > item.statutoryDays) {
    issue(ctx, ['joint', 'participants'], `the steps take up to ${longest} working days in sequence, more than the statutory ${item.statutoryDays}`);
  }
}

/** A validation problem as an API and the command line report it. */
export interface ItemProblem {
  path: string;
  message: string;
}

/** Fields of the API's item view (GET /v1/items/{code}) that are not part of a definition: dropped when one is posted back. */
export const ITEM_VIEW_FIELDS = ['status', 'publishedAt', 'versions'] as const;

/** Every problem of a definition at once, or the parsed definition. */
export function validateItem(raw: unknown): { ok: true; item: ItemDefinition } | { ok: false; problems: ItemProblem[] } {
  const r = itemDefinitionSchema.safeParse(raw);
  if (r.success) return { ok: true, item: r.data };
  return { ok: false, problems: r.error.issues.map((i) => ({ path: i.path.join('.') || '(item)', message: actionable(i) })) };
}

/** zod's wording, where it is not one a person can act on, said plainly. */
function actionable(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `is required (${issue.expected})`;
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}: check the spelling against docs/items.md`;
  return issue.message;
}

/**
 * Problems across a set of definitions (a folder of item files): each (code, version) once, and an
 * implementation code not shared by different items. The path starts with the file.
 */
export function validateCatalog(items: readonly { file: string; item: ItemDefinition }[]): ItemProblem[] {
  const problems: ItemProblem[] = [];
  const byVersion = new Map<string, string>();
  const byImpl = new Map<string, string>();
  for (const { file, item } of items) {
    const key = `${item.code}@${item.version}`;
    const earlier = byVersion.get(key);
    if (earlier) problems.push({ path: `${file}: version`, message: `${item.code} version ${item.version} is also defined in ${earlier}` });
    else byVersion.set(key, file);
    if (item.implementationCode) {
      const other = byImpl.get(item.implementationCode);
      if (other && other !== item.code) problems.push({ path: `${file}: implementationCode`, message: `${item.implementationCode} is already the implementation code of ${other}` });
      else byImpl.set(item.implementationCode, item.code);
    }
  }
  return problems;
}
