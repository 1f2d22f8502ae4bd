// GET /v1/guide/:code — the public intake standard (收件标准查询) of an item's published version
// (api/guide.ts). Public: no login, rate-limited per client address like the progress lookup
// (PUBLIC_RATE_LIMIT_PER_MINUTE); it shows only what an applicant reads at a window, never a draft.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DELIVERY_METHODS, HANDLING_MODES, HANDLING_TYPES, ITEM_TYPES, type ItemType } from '../../domain/items.js';
import { publicGuide } from '../guide.js';
import { problems } from '../problem.js';
import { itemCodeParams } from '../schemas.js';

const labelled = <T extends z.ZodType>(code: T) => z.object({ code, label: z.string() });

const guideSchema = z
  .object({
    code: z.string(),
    version: z.number().int().meta({ description: 'The published version this guide shows' }),
    publishedAt: z.string().meta({ format: 'date-time' }),
    name: z.string(),
    nameEn: z.string().nullable(),
    type: labelled(z.enum(ITEM_TYPES as [ItemType, ...ItemType[]])).meta({ description: '事项类型, e.g. 行政许可' }),
    handlingType: labelled(z.enum(HANDLING_TYPES)).meta({ description: '即办件 or 承诺件' }),
    department: z.string(),
    serviceObject: z.array(z.string()).meta({ description: '服务对象: 自然人, 法人' }),
    acceptanceConditions: z.array(z.string()),
    process: z.array(z.string()),
    materials: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        required: z.boolean(),
        requirement: z.string().meta({ description: '必要, or 条件提供 with the condition' }),
        form: z.string().meta({ description: '原件, 复印件 or 电子件' }),
        copies: z.number().int(),
        fileTypes: z.array(z.string()),
        maxSize: z.string(),
        replacement: z.string().nullable().meta({ description: 'What replaces it: 可使用电子证照（…）代替, or 免提交：由…数据共享获取' }),
        submittedByApplicant: z.boolean().meta({ description: 'false when the material is fetched by data sharing (免提交)' }),
        originalRequired: z.boolean().meta({ description: 'The paper original follows by post' }),
        note: z.string().nullable(),
      }),
    ),
    timeLimits: z.object({
      promisedDays: z.number().int(),
      statutoryDays: z.number().int(),
      promised: z.string().meta({ description: '承诺办结时限, in working days' }),
      statutory: z.string().meta({ description: '法定办结时限, in working days' }),
      specialProcedures: z.array(z.object({ name: z.string(), maxDays: z.number().int(), countsTowardLimit: z.boolean(), legalBasis: z.string(), text: z.string() })),
    }),
    fee: z.object({ charged: z.boolean(), text: z.string() }),
    result: z.object({ name: z.string(), electronic: z.boolean() }),
    deliveryMethods: z.array(z.object({ method: z.enum(DELIVERY_METHODS), label: z.string() })),
    whereToApply: z.array(
      z.object({
        mode: z.enum(HANDLING_MODES),
        label: z.string().meta({ description: '全程网办, 异地代收代办, 多地联办, 省内通办' }),
        text: z.string(),
        participants: z.array(z.object({ step: z.number().int(), role: z.string(), department: z.string(), timeLimitDays: z.number().int() })).optional(),
      }),
    ),
    legalBasis: z.array(z.string()),
  })
  .meta({ id: 'Guide' });

export const guideRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/guide/:code',
    {
      config: { rateLimit: { max: app.config.PUBLIC_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ['public'],
        summary: 'The intake standard of an item (收件标准查询, no login): conditions, materials and what replaces them, time limits, fee, where to apply',
        description: 'Shows the published version only. 404 for an unknown item or one without a published version (a retired item says since when). Rate-limited per client address: 429 with Retry-After.',
        params: itemCodeParams,
        response: { 200: guideSchema, ...problems(400, 404, 429) },
      },
    },
    async (request) => publicGuide(app.pool, request.params.code),
  );
};
