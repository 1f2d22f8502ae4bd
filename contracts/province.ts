// The province gateway protocol (docs/province-protocol.md) as one contract: every request,
// response, callback event and status tongban and a province exchange is a zod schema here, and
// one function builds the string both sides sign. The gateway (activities/gateway.ts,
// activities/province.ts), the callback route (api/routes/callbacks.ts) and the simulator
// (simulator/) all parse with these schemas, so the document, the client, the server and the
// fake province cannot drift apart. Pure: no I/O, so workflow code may `import type` from it.
import { z } from 'zod';
import { CHANNELS, PROVINCE_EVENT_TYPES, type ProvinceEventType } from '../domain/case.js';
import { LICENCE_ID_MESSAGES, isUnifiedSocialCreditCode, parseLicenceId } from '../domain/elicenceId.js';
import { DELIVERY_METHODS } from '../domain/items.js';
import { controlCharProblem } from '../domain/text.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

/** A string of `min`–`max` characters without NUL or other control characters (domain/text.ts). */
export function text(max: number, min = 1) {
  return z
    .string()
    .min(min, min === 1 ? 'must not be empty' : `must have at least ${min} characters`)
    .max(max, `must have at most ${max} characters`)
    .check(
      z.superRefine((value, ctx) => {
        const problem = controlCharProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
      }),
    );
}

/** Lower-case hex SHA-256 (upper case is accepted and normalised). */
export const sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be a hex SHA-256 (64 hex digits)')
  .transform((hex) => hex.toLowerCase());

export const isoInstantSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

/** Six-digit GB/T 2260 region code. */
export const regionCodeSchema = z.string().regex(/^\d{6}$/, 'must be a six-digit region code');

/** A province's own id of a case; printable ASCII, so it can sit in a URL path. */
export const provinceCaseIdSchema = z.string().regex(/^[\x21-\x7E]{1,64}$/, 'must be 1–64 printable ASCII characters');

/** An event id: 1–128 printable ASCII characters (no spaces, no control characters). */
export const eventIdSchema = z.string().regex(/^[\x21-\x7E]{1,128}$/, 'must be 1–128 printable ASCII characters');

/** An id a province gives a correction notice or an art. 45 procedure: printable ASCII, so it can sit in a URL path. */
export const noticeIdSchema = z.string().regex(/^[\x21-\x7E]{1,128}$/, 'must be 1–128 printable ASCII characters');

/** The id of an art. 45 procedure: the same rule as a notice id. */
export const procedureIdSchema = noticeIdSchema;

/** A calendar date, `YYYY-MM-DD`. */
export const isoDateSchema = z.iso.date({ error: 'must be a date YYYY-MM-DD' });

/**
 * `awaiting_supplement`: the province sent a correction notice (`review.correction_required`)
 * and waits for its answer; the review resumes (`reviewing`) once the notice is answered.
 */
export const PROVINCE_CASE_STATUSES = ['awaiting_materials', 'reviewing', 'awaiting_supplement', 'approved', 'rejected', 'withdrawn', 'delivered', 'revoked'] as const;
export const provinceCaseStatusSchema = z.enum(PROVINCE_CASE_STATUSES);
export type ProvinceCaseStatusName = z.infer<typeof provinceCaseStatusSchema>;

/** The statuses after which a case can no longer be withdrawn, and the decision each stands for. */
export const DECIDED_OUTCOME: Partial<Record<ProvinceCaseStatusName, 'approved' | 'rejected'>> = {
  approved: 'approved',
  delivered: 'approved',
  rejected: 'rejected',
};

// ---------------------------------------------------------------------------------------------
// Signatures: the one string both directions sign

export const TIMESTAMP_HEADER = 'x-tongban-timestamp';
export const SIGNATURE_HEADER = 'x-tongban-signature';
export const MAX_CLOCK_SKEW_SECONDS = 300;

/**
 * The canonical string a request's signature covers:
 * `<timestamp>.<METHOD>.<path with query>.<sha256 hex of the exact body bytes>`.
 * crypto/signing.ts signs and verifies it with HMAC-SHA256; nothing else builds it.
 */
export function signedString(timestamp: string, method: string, pathWithQuery: string, bodySha256: string): string {
  return `${timestamp}.${method.toUpperCase()}.${pathWithQuery}.${bodySha256}`;
}

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457), the error bodies of both directions

export const problemBodySchema = z.object({
  type: z.string().max(500).optional(),
  title: z.string().max(500).optional(),
  status: z.number().int().optional(),
  detail: z.string().max(5000).optional(),
});
export type ProblemBody = z.infer<typeof problemBodySchema>;

/** The 409 a province answers to a withdrawal of a case it has already decided. */
export const alreadyDecidedProblemSchema = problemBodySchema.extend({
  outcome: z.enum(['approved', 'rejected']),
  caseStatus: provinceCaseStatusSchema,
});
export type AlreadyDecidedProblem = z.infer<typeof alreadyDecidedProblemSchema>;
export const ALREADY_DECIDED_SLUG = 'already-decided';
/** The 404 problem type of a case the province does not have (`GET /cases?caseId=…` among others). */
export const UNKNOWN_CASE_SLUG = 'unknown-case';

// ---------------------------------------------------------------------------------------------
// Outbound: tongban → province

/** `POST /cases` */
export const createCaseRequestSchema = z
  .object({
    caseId: z.uuid(),
    itemCode: text(64),
    itemVersion: z.number().int().min(1),
    receivingRegion: regionCodeSchema,
    handlingRegion: regionCodeSchema,
    channel: z.enum(CHANNELS),
    applicant: z.object({ name: text(100), idNumber: text(32), phone: text(32) }),
    materials: z
      .array(z.object({ materialCode: text(64), sha256: sha256Schema, size: z.number().int().min(0), contentType: text(100) }))
      .max(100),
    delivery: z.object({ method: z.enum(DELIVERY_METHODS), address: text(500).optional() }),
    callbackUrl: z.url({ protocol: /^https?$/ }).max(2000),
  })
  .superRefine((body, ctx) => {
    const codes = body.materials.map((m) => m.materialCode);
    if (new Set(codes).size !== codes.length) ctx.addIssue({ code: 'custom', path: ['materials'], message: 'duplicate materialCode' });
    if (body.delivery.method === 'mail' && !body.delivery.address) ctx.addIssue({ code: 'custom', path: ['delivery', 'address'], message: 'mail delivery needs an address' });
  });
export type CreateCaseRequest = z.infer<typeof createCaseRequestSchema>;

/** `201` to `POST /cases` */
export const createCaseResponseSchema = z.object({ provinceCaseId: provinceCaseIdSchema, status: provinceCaseStatusSchema });
export type CreateCaseResponse = z.infer<typeof createCaseResponseSchema>;

/**
 * `201`/`200` to `PUT /cases/{provinceCaseId}/materials/{materialCode}`; a supplement
 * (`?revision=N`) is answered with its `revision`, an original without one.
 */
export const materialReceiptSchema = z.object({
  materialCode: text(64),
  sha256: sha256Schema,
  size: z.number().int().min(0),
  receivedAt: isoInstantSchema,
  revision: z.number().int().min(1).optional(),
});
export type MaterialReceipt = z.infer<typeof materialReceiptSchema>;

/** The highest revision a supplement may carry (a case with more rounds than this has bigger problems). */
export const MAX_SUPPLEMENT_REVISION = 99;

/**
 * The query of a supplement upload, `PUT …/materials/{materialCode}?revision=N`: N counts the
 * supplements of that material, from 1 (the original has none). Digits only, no sign or leading zero.
 */
export const supplementQuerySchema = z.object({
  revision: z
    .string()
    .regex(/^[1-9]\d{0,1}$/, `must be a whole number from 1 to ${MAX_SUPPLEMENT_REVISION}`)
    .transform(Number),
});

/** The most deficiencies one notice may list (one per material). */
export const MAX_DEFICIENCIES = 50;

/** One problem of a correction notice: which material, what is wrong, what the applicant must bring. */
export const deficiencySchema = z.object({ materialCode: text(64), problem: text(1000), needed: text(1000) });
export type Deficiency = z.infer<typeof deficiencySchema>;

/**
 * `POST /cases/{provinceCaseId}/corrections/{noticeId}/answer`: one supplement per deficiency of
 * the notice, each uploaded before with `?revision=N` while the notice was open.
 */
export const correctionAnswerRequestSchema = z
  .object({
    items: z
      .array(z.object({ materialCode: text(64), sha256: sha256Schema, revision: z.number().int().min(1).max(MAX_SUPPLEMENT_REVISION) }))
      .min(1, 'must answer at least one deficiency')
      .max(MAX_DEFICIENCIES),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((item, i) => {
      if (seen.has(item.materialCode)) ctx.addIssue({ code: 'custom', path: ['items', i, 'materialCode'], message: `duplicate materialCode ${item.materialCode}` });
      seen.add(item.materialCode);
    });
  });
export type CorrectionAnswerRequest = z.infer<typeof correctionAnswerRequestSchema>;

/** `202` to an answer: the notice is closed and the review resumes. */
export const correctionAnswerResponseSchema = z.object({ noticeId: noticeIdSchema, status: provinceCaseStatusSchema, answeredAt: isoInstantSchema });
export type CorrectionAnswerResponse = z.infer<typeof correctionAnswerResponseSchema>;

/** The 409 problem type of an answer to a notice that is not open (unknown, answered, or the case moved on). */
export const NOTICE_NOT_OPEN_SLUG = 'notice-not-open';
/**
 * The 422 of an answer that does not answer its notice; each extension member lists material
 * codes: `unanswered` (a deficiency without an item), `notReceived` (no supplement of that
 * revision and hash was uploaded for this notice), `notInNotice` (an item for no deficiency).
 */
export const ANSWER_INCOMPLETE_SLUG = 'answer-incomplete';
export const answerIncompleteProblemSchema = problemBodySchema.extend({
  unanswered: z.array(text(64)).max(MAX_DEFICIENCIES),
  notReceived: z.array(text(64)).max(MAX_DEFICIENCIES),
  notInNotice: z.array(text(64)).max(MAX_DEFICIENCIES),
});
export type AnswerIncompleteProblem = z.infer<typeof answerIncompleteProblemSchema>;

/** `POST /cases/{provinceCaseId}/submit`: an empty object. */
export const submitRequestSchema = z.object({});
/** `202` to submit */
export const submitResponseSchema = z.object({ status: provinceCaseStatusSchema });
export type SubmitResponse = z.infer<typeof submitResponseSchema>;

/** `POST /cases/{provinceCaseId}/withdraw` */
export const withdrawRequestSchema = z.object({ reason: text(1000) });
export type WithdrawRequest = z.infer<typeof withdrawRequestSchema>;
/** `200` to withdraw */
export const withdrawResponseSchema = z.object({ status: z.literal('withdrawn') });

/**
 * `POST /cases/{provinceCaseId}/revoke`: a joint case (多地联办) failed after this authority approved
 * its part, so its approval is revoked (the compensation of its step). `200` from `approved` or
 * `delivered`; a case in any other status is a `409` `not-approved` (withdraw an undecided one).
 */
export const revokeRequestSchema = z.object({ reason: text(1000) });
export type RevokeRequest = z.infer<typeof revokeRequestSchema>;
export const revokeResponseSchema = z.object({ status: z.literal('revoked') });
export const NOT_APPROVED_SLUG = 'not-approved';

/** `GET /cases?caseId=…`: the province's case for a tongban case id (`404` when it has none). */
export const findCaseQuerySchema = z.object({ caseId: z.uuid() });
export const findCaseResponseSchema = z.object({ provinceCaseId: provinceCaseIdSchema, caseId: z.uuid(), status: provinceCaseStatusSchema });
export type FindCaseResponse = z.infer<typeof findCaseResponseSchema>;

/** `POST /elicences/verify` */
export const licenceVerifyRequestSchema = z.object({
  licenceType: text(64),
  holderIdNumber: text(32),
  holderName: text(100),
  sha256: sha256Schema,
});
export type LicenceVerifyRequest = z.infer<typeof licenceVerifyRequestSchema>;
/** `200` to verify: valid with the licence's particulars, or not valid with a reason. */
export const licenceVerifyResponseSchema = z.discriminatedUnion('valid', [
  z.object({ valid: z.literal(true), licenceNumber: text(128), issuer: text(200), checkedAt: isoInstantSchema }),
  z.object({ valid: z.literal(false), reason: text(2000) }),
]);
export type LicenceVerifyResponse = z.infer<typeof licenceVerifyResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Events: callbacks (province → tongban) and the entries of a status poll

/** The procedures of art. 45 of the Administrative Licensing Law, excluded from the time limits. */
export const PROCEDURE_KINDS = ['hearing', 'tender', 'auction', 'testing', 'inspection', 'quarantine', 'appraisal', 'expert_review'] as const;
export type ProcedureKind = (typeof PROCEDURE_KINDS)[number];

/** Lower-case hex SM3 digest (GB/T 32905; upper case is accepted and normalised). */
export const sm3Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be a hex SM3 digest (64 hex digits)')
  .transform((hex) => hex.toLowerCase());

/** An electronic licence identifier (GB/T 36904) with its check character (domain/elicenceId.ts). */
export const licenceIdSchema = z
  .string()
  .max(200, 'must have at most 200 characters')
  .check(
    z.superRefine((value, ctx) => {
      const parsed = parseLicenceId(value);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: LICENCE_ID_MESSAGES[parsed.problem], input: value });
    }),
  );

/** A licence type code (证照类型代码): a credit code and a three-digit sequence (domain/elicenceId.ts). */
const LICENCE_TYPE_SHAPE = /^[0-9A-HJ-NP-RTUWXY]{18}\d{3}$/;

/**
 * The electronic licence (电子证照) of an electronic result: its GB/T 36904 identifier, and the
 * issuing authority's SM2 signature (GB/T 32918.2, default user id, DER hex) of the 32 bytes of
 * the document's SM3 digest. Signing the digest, not the document, lets anyone holding the
 * authority's public key check a licence record without its document, and a document by its
 * digest (docs/province-protocol.md, `case.approved`).
 */
export const licenceSchema = z
  .object({
    licenceId: licenceIdSchema,
    licenceType: z.string().regex(LICENCE_TYPE_SHAPE, 'must be a licence type code: a credit code followed by three digits (21 characters)'),
    issuerCode: z.string().refine(isUnifiedSocialCreditCode, 'must be the issuing authority’s 18-character unified social credit code (GB 32100)'),
    documentSm3: sm3Schema,
    signature: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2}){8,72}$/, 'must be a DER-encoded SM2 signature in hex')
      .transform((hex) => hex.toLowerCase()),
    signedAt: isoInstantSchema,
  })
  .superRefine((licence, ctx) => {
    // The identifier names the licence type and the issuer; the fields must say the same (a field
    // that is itself invalid is reported once, above).
    const parsed = parseLicenceId(licence.licenceId);
    if (!parsed.ok) return;
    if (LICENCE_TYPE_SHAPE.test(licence.licenceType) && parsed.id.licenceType !== licence.licenceType) {
      ctx.addIssue({ code: 'custom', path: ['licenceType'], message: 'does not match the licence type in licenceId' });
    }
    if (isUnifiedSocialCreditCode(licence.issuerCode) && parsed.id.issuer !== licence.issuerCode) {
      ctx.addIssue({ code: 'custom', path: ['issuerCode'], message: 'does not match the issuer in licenceId' });
    }
  });
export type LicenceData = z.infer<typeof licenceSchema>;

export const certificateSchema = z.object({
  certificateId: text(128),
  issuer: text(200),
  sha256: sha256Schema,
  issuedAt: isoInstantSchema,
  /** With an electronic licence: its identifier and the issuing authority's signature. */
  licence: licenceSchema.optional(),
});
export type CertificateData = z.infer<typeof certificateSchema>;

// ---------------------------------------------------------------------------------------------
// Work liaison (工作联络) between the receiving window and the handling authority's own system.

export const LIAISON_BODY_MAX = 5000;
export const LIAISON_MAX_FILES = 10;

/** `POST /cases/{provinceCaseId}/messages`: a message to the handling authority (idempotent by its key). */
export const liaisonMessageRequestSchema = z.object({
  messageId: z.uuid(),
  body: text(LIAISON_BODY_MAX),
  sentAt: isoInstantSchema,
  /** The province's message this one answers (its messageId from the callback), when it is a reply. */
  inReplyTo: z.uuid().optional(),
  /** Each attachment follows as `PUT /cases/{provinceCaseId}/messages/{messageId}/files/{position}`. */
  files: z.array(z.object({ position: z.number().int().min(0), sha256: sha256Schema, size: z.number().int().min(0), contentType: text(100) })).max(LIAISON_MAX_FILES),
});
export type LiaisonMessageRequest = z.infer<typeof liaisonMessageRequestSchema>;
export const liaisonMessageResponseSchema = z.object({ messageId: z.uuid(), receivedAt: isoInstantSchema });

/** `201`/`200` to `PUT /cases/{provinceCaseId}/messages/{messageId}/files/{position}` (hash checked). */
export const liaisonFileReceiptSchema = z.object({ messageId: z.uuid(), position: z.number().int().min(0), sha256: sha256Schema, size: z.number().int().min(0), receivedAt: isoInstantSchema });

/**
 * `POST {callbackUrl}/liaison` (signed like every callback): the authority writes to the window
 * (`liaison.message`, a reply names the message it answers, which acknowledges it) or
 * acknowledges a message it read (`liaison.acknowledged`). Never part of the status poll.
 */
export const liaisonEventSchema = z.discriminatedUnion('type', [
  z.object({
    eventId: eventIdSchema,
    caseId: z.uuid(),
    type: z.literal('liaison.message'),
    at: isoInstantSchema,
    data: z.object({ messageId: z.uuid(), body: text(LIAISON_BODY_MAX), inReplyTo: z.uuid().optional(), author: text(200).optional() }),
  }),
  z.object({
    eventId: eventIdSchema,
    caseId: z.uuid(),
    type: z.literal('liaison.acknowledged'),
    at: isoInstantSchema,
    data: z.object({ messageId: z.uuid(), by: text(200).optional() }),
  }),
]).meta({ id: 'LiaisonEvent', description: 'A liaison message from the handling authority, or its acknowledgement of one (docs/province-protocol.md)' });
export type LiaisonEvent = z.infer<typeof liaisonEventSchema>;

/** The `data` of each event type. Unknown fields are stripped: nothing unvetted reaches a case. */
export const eventDataSchemas = {
  'case.accepted': z.object({ provinceCaseId: provinceCaseIdSchema.optional() }),
  'case.approved': z.object({ provinceCaseId: provinceCaseIdSchema.optional(), certificate: certificateSchema.optional() }),
  'case.rejected': z.object({ provinceCaseId: provinceCaseIdSchema.optional(), reasons: z.array(text(1000)).min(1, 'must give at least one reason').max(20) }),
  'delivery.mailed': z.object({ trackingNumber: text(64) }),
  'delivery.received': z.object({ trackingNumber: text(64).optional(), signedBy: text(200).optional(), at: isoInstantSchema.optional() }),
  // The mail came back undelivered (退件): the result goes to the receiving window for collection.
  'delivery.returned': z.object({ trackingNumber: text(64).optional(), reason: text(500) }),
  // 审查补正 (art. 32): one notice listing every deficiency at once, one entry per material.
  'review.correction_required': z.object({
    noticeId: noticeIdSchema,
    deficiencies: z
      .array(deficiencySchema)
      .min(1, 'must list at least one deficiency')
      .max(MAX_DEFICIENCIES, `must list at most ${MAX_DEFICIENCIES} deficiencies`)
      .superRefine((deficiencies, ctx) => {
        const seen = new Set<string>();
        deficiencies.forEach((d, i) => {
          if (seen.has(d.materialCode)) ctx.addIssue({ code: 'custom', path: [i, 'materialCode'], message: `duplicate materialCode ${d.materialCode}: list every problem of a material in one entry` });
          seen.add(d.materialCode);
        });
      }),
  }),
  // Art. 45: a procedure whose time does not count toward the limit; the applicant is told in writing (`noticeRef`).
  'review.procedure_started': z.object({
    procedureId: procedureIdSchema,
    kind: z.enum(PROCEDURE_KINDS),
    reason: text(1000),
    expectedEnd: isoDateSchema.optional(),
    noticeRef: text(128).optional(),
  }),
  'review.procedure_ended': z.object({ procedureId: procedureIdSchema, result: text(1000).optional() }),
} satisfies Record<ProvinceEventType, z.ZodType>;

export type ProvinceEventData = { [T in ProvinceEventType]: z.output<(typeof eventDataSchemas)[T]> };

const eventEnvelopeSchema = z.object({
  eventId: eventIdSchema,
  caseId: z.uuid(),
  type: z.enum(PROVINCE_EVENT_TYPES),
  at: isoInstantSchema,
  data: z.record(z.string(), z.unknown()),
});

/** A validated event: its `data` has the shape of its type. */
export type ProvinceEventMessage = {
  [T in ProvinceEventType]: { eventId: string; caseId: string; type: T; at: string; data: ProvinceEventData[T] };
}[ProvinceEventType];

function isEventType(value: unknown): value is ProvinceEventType {
  return typeof value === 'string' && (PROVINCE_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * A callback body or poll entry. The envelope and the type's `data` are checked in one pass, so
 * one answer names every bad field (`eventId`, `data.certificate.issuer`, …); the result's data
 * keeps only the fields its type defines.
 */
export const provinceEventSchema = eventEnvelopeSchema
  .check(
    z.superRefine(
      (event, ctx) => {
        // It runs on any input, `null` and other non-objects included (the envelope reports those).
        if (typeof event !== 'object' || event === null) return;
        const { type, data } = event as { type?: unknown; data?: unknown };
        if (!isEventType(type) || typeof data !== 'object' || data === null || Array.isArray(data)) return;
        const result = eventDataSchemas[type].safeParse(data);
        if (result.success) return;
        for (const issue of result.error.issues) {
          ctx.addIssue({ code: 'custom', message: issue.message, path: ['data', ...issue.path], input: data });
        }
      },
      // Run even when the envelope has issues of its own, so they are all reported at once.
      { when: () => true },
    ),
  )
  .transform((event): ProvinceEventMessage => {
    // Validated above; parsing again yields the stripped data of this type.
    const data: unknown = eventDataSchemas[event.type].parse(event.data);
    return { ...event, data } as ProvinceEventMessage;
  })
  .meta({ id: 'ProvinceEvent', description: 'A province event; `data` depends on `type` (docs/province-protocol.md)' });
export type ProvinceEventInput = z.input<typeof provinceEventSchema>;

/** `GET /cases/{provinceCaseId}`: the case's status and every event the province sent (or should have). */
export const caseStatusResponseSchema = z.object({
  provinceCaseId: provinceCaseIdSchema,
  caseId: z.uuid(),
  status: provinceCaseStatusSchema,
  events: z.array(provinceEventSchema).max(200),
});
export type CaseStatusResponse = z.infer<typeof caseStatusResponseSchema>;

/** tongban's answer to a callback. */
export const callbackAckSchema = z
  .object({ accepted: z.literal(true), duplicate: z.boolean().optional(), caseClosed: z.boolean().optional() })
  .meta({ id: 'CallbackAck' });
export type CallbackAck = z.infer<typeof callbackAckSchema>;

export const provinceCallbackParams = z.object({ regionCode: z.string().regex(/^\d{6}$/, 'must be a six-digit province code') });

// ---------------------------------------------------------------------------------------------
// Reading zod's verdict

/** `path: message` per issue, e.g. `provinceCaseId: expected string`, for failure messages. */
export function describeIssues(error: z.ZodError, max = 10): string {
  const parts = error.issues.slice(0, max).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`);
  if (error.issues.length > max) parts.push(`… ${error.issues.length - max} more`);
  return parts.join('; ');
}
