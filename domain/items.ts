// Service item (事项) definitions with the national standard elements (国办发〔2022〕34号 asks
// for name, code, basis, type, acceptance conditions, service object, process, materials, time
// limits and result to be uniform nationwide). A case pins the whole definition at intake, so a
// later version never changes a running case.
import { z } from 'zod';

export const ITEM_TYPES = [
  'administrative_licensing', // 行政许可
  'administrative_confirmation', // 行政确认
  'administrative_payment', // 行政给付
  'administrative_ruling', // 行政裁决
  'public_service', // 公共服务
  'other_administrative_power', // 其他行政权力
] as const;

export const HANDLING_MODES = [
  'fully_online', // 全程网办
  'remote_collection', // 异地代收代办
  'multi_location', // 多地联办
  'intra_province', // 省内通办
] as const;

export const DELIVERY_METHODS = ['window', 'mail', 'electronic'] as const;
export type DeliveryMethod = (typeof DELIVERY_METHODS)[number];

export const MATERIAL_CONTENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'application/ofd'] as const;

const code = z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'lower-case letters, digits and dashes');

export const materialDefinitionSchema = z.object({
  code,
  name: z.string().min(1),
  required: z.boolean(),
  /** Verified with the issuing system at precheck when present (电子证照). */
  eLicence: z.object({ licenceType: z.string().min(1) }).optional(),
  /** Whether the paper original must follow by post after electronic transfer. */
  originalRequired: z.boolean().default(false),
  note: z.string().optional(),
});

export const itemDefinitionSchema = z
  .object({
    code,
    version: z.number().int().min(1),
    name: z.string().min(1),
    nameEn: z.string().min(1).optional(),
    type: z.enum(ITEM_TYPES),
    department: z.string().min(1),
    legalBasis: z.array(z.string().min(1)).min(1),
    serviceObject: z.array(z.enum(['natural_person', 'legal_person'])).min(1),
    acceptanceConditions: z.array(z.string().min(1)).min(1),
    process: z.array(z.string().min(1)).min(1),
    handlingModes: z.array(z.enum(HANDLING_MODES)).min(1),
    materials: z.array(materialDefinitionSchema).min(1),
    /** 承诺办结时限, working days. */
    promisedDays: z.number().int().min(1),
    /** 法定办结时限, working days. */
    statutoryDays: z.number().int().min(1),
    result: z.object({ name: z.string().min(1), electronic: z.boolean() }),
    deliveryMethods: z.array(z.enum(DELIVERY_METHODS)).min(1),
    fee: z.object({ charged: z.boolean(), description: z.string().optional() }),
    /** Review settings: one complete notice is what the law wants; a further round is flagged. */
    review: z
      .object({
        maxCorrectionRounds: z.number().int().min(1).default(1),
        /** Working days the applicant has to supplement after a notice. */
        supplementDays: z.number().int().min(1).default(10),
        /** Working days the head of the authority may extend the limit by (art. 42: 10 for a single authority). */
        maxExtensionDays: z.number().int().min(0).default(10),
      })
      .default({ maxCorrectionRounds: 1, supplementDays: 10, maxExtensionDays: 10 }),
  })
  .superRefine((item, ctx) => {
    if (item.promisedDays > item.statutoryDays) {
      ctx.addIssue({ code: 'custom', path: ['promisedDays'], message: 'the promised limit cannot exceed the statutory limit' });
    }
    const seen = new Set<string>();
    item.materials.forEach((m, i) => {
      if (seen.has(m.code)) ctx.addIssue({ code: 'custom', path: ['materials', i, 'code'], message: `duplicate material code ${m.code}` });
      seen.add(m.code);
    });
    if (item.deliveryMethods.includes('electronic') && !item.result.electronic) {
      ctx.addIssue({ code: 'custom', path: ['deliveryMethods'], message: 'electronic delivery needs an electronic result' });
    }
  });

export type ItemDefinition = z.infer<typeof itemDefinitionSchema>;
export type MaterialDefinition = z.infer<typeof materialDefinitionSchema>;

/** Codes of required materials missing from a submission (pure; used at intake and precheck). */
export function missingRequiredMaterials(item: Pick<ItemDefinition, 'materials'>, submitted: readonly { materialCode: string }[]): string[] {
  const have = new Set(submitted.map((m) => m.materialCode));
  return item.materials.filter((m) => m.required && !have.has(m.code)).map((m) => m.code);
}
