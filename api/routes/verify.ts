// POST /v1/verify — the public verification of an electronic licence (电子证照核验, api/verify.ts):
// by its GB/T 36904 identifier or by the document itself (base64). Public: no login, rate-limited
// per client address (PUBLIC_RATE_LIMIT_PER_MINUTE). A licence that is not genuine is a 200 with
// `genuine: false` and the reason; only a malformed request is a 400.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { licenceIdSchema } from '../../contracts/province.js';
import { problems } from '../problem.js';
import { NOT_GENUINE_REASONS, verifyLicence, type NotGenuineCode } from '../verify.js';

/** The largest document accepted (decoded); licence documents are far smaller. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
const MAX_DOCUMENT_BASE64 = Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4;

const verifyBodySchema = z
  .strictObject({
    licenceId: licenceIdSchema.optional().meta({
      description: 'The licence identifier (GB/T 36904): 1.2.156.3005.2.<licence type>.<issuer>.<serial>.<version>.<check>',
      example: '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
    }),
    document: z
      .base64('must be base64 (RFC 4648, with padding)')
      .min(1, 'must not be empty')
      .max(MAX_DOCUMENT_BASE64, `must be at most ${MAX_DOCUMENT_BYTES} bytes once decoded`)
      .optional()
      .meta({ description: 'The licence document itself, base64' }),
  })
  .superRefine((body, ctx) => {
    const given = (body.licenceId !== undefined ? 1 : 0) + (body.document !== undefined ? 1 : 0);
    if (given === 1) return;
    const message = given === 0 ? 'give either licenceId or document' : 'give either licenceId or document, not both';
    ctx.addIssue({ code: 'custom', path: ['licenceId'], message });
    ctx.addIssue({ code: 'custom', path: ['document'], message });
  })
  .meta({ id: 'VerifyRequest', description: 'A licence identifier or a licence document: exactly one of the two' });

const NOT_GENUINE_CODES = Object.keys(NOT_GENUINE_REASONS) as [NotGenuineCode, ...NotGenuineCode[]];

const verifyResultSchema = z
  .discriminatedUnion('genuine', [
    z.object({
      genuine: z.literal(true),
      licenceId: z.string(),
      licenceType: z.string().meta({ description: 'The licence type code (证照类型代码)' }),
      issuer: z.object({
        name: z.string(),
        code: z.string().meta({ description: 'The issuing authority’s unified social credit code (GB 32100)' }),
        province: z.string().meta({ description: 'The province (GB/T 2260 code) whose registered key verified the signature' }),
      }),
      issuedAt: z.string().meta({ format: 'date-time' }),
      signedAt: z.string().meta({ format: 'date-time' }),
    }),
    z.object({
      genuine: z.literal(false),
      code: z.enum(NOT_GENUINE_CODES).meta({
        description:
          'unknown-licence: no licence with this identifier; unknown-document: the document matches no licence (not one, or changed after issue); signature-invalid: the record’s signature does not verify under the issuer’s registered key (forged); issuer-key-not-registered; record-inconsistent',
      }),
      reason: z.string().meta({ description: 'Why, in the applicant’s words (Chinese)' }),
    }),
  ])
  .meta({ id: 'VerifyResult' });

export const verifyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/verify',
    {
      bodyLimit: MAX_DOCUMENT_BASE64 + 64 * 1024,
      config: { rateLimit: { max: app.config.PUBLIC_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ['public'],
        summary: 'Is this electronic licence genuine? By its identifier or by the document (no login)',
        description:
          'Genuine: tongban recorded the licence, and the issuing authority’s SM2 signature of the document’s SM3 digest verifies under the key registered for that province. A tampered document, an unknown identifier or a forged signature is 200 with genuine: false and the reason. Rate-limited per client address: 429 with Retry-After.',
        body: verifyBodySchema,
        response: { 200: verifyResultSchema, ...problems(400, 413, 429) },
      },
    },
    async (request) => {
      const { licenceId, document } = request.body;
      return verifyLicence(app.pool, app.secrets.provinces, licenceId !== undefined ? { licenceId } : { document: Buffer.from(document!, 'base64') });
    },
  );
};
