// The data-sharing hub (数据共享交换平台) tongban fetches shared-data materials from, as one
// contract: every request, response and problem type tongban and the hub exchange is a zod
// schema or constant here, shared by the client tongban's precheck activity will use and the
// simulator's hub (simulator/datahub.ts). docs/outside-services.md describes the API in prose.
// Pure: no I/O, so workflow code may `import type` from it.
//
// A material whose definition names a shared-data source is not asked of the applicant: tongban
// queries the hub for the applicant's record of that source, downloads its bytes (which hash to
// the record's `sha256`), and handles them like an uploaded file; `found: false` means the
// applicant brings the paper instead.
//
// Authentication is the province protocol's HMAC request signature (crypto/signing.ts:
// `signRequest`/`verifyRequest`, the `TIMESTAMP_HEADER` and `SIGNATURE_HEADER` of
// contracts/province.ts) with the hub's own secret: the hub is a government platform with a
// signed API, not a bought service with a bearer key.
//
// The applicant is named by the clear identity number, not by a keyed hash of it: the hub is the
// holder of these records and indexes them by the number, so a hash keyed with a secret both
// sides share would hide nothing from it, would add a second shared secret whose rotation breaks
// every lookup, and would protect nothing TLS and the signature do not already protect. What
// keeps the number from spreading is on tongban's side: it is unsealed only for the call and
// never logged (config/logger.ts redacts identity numbers).
import { z } from 'zod';
import { ID_NUMBER_MESSAGES, idNumberProblem } from '../domain/idNumber.js';
import { DATAHUB_SOURCES } from '../domain/items.js';
import { isoInstantSchema, problemBodySchema, sha256Schema, text } from './province.js';

export { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './province.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

/**
 * The sources the hub shares: 社保缴费记录 (social-insurance contributions), 户籍 (household
 * registration), 婚姻登记 (marriage status), 住房公积金缴存 (housing-fund deposits). Defined with the item
 * schema (domain/items.ts), which names them in material definitions.
 */
export { DATAHUB_SOURCES };
export type DatahubSource = (typeof DATAHUB_SOURCES)[number];
export const datahubSourceSchema = z.enum(DATAHUB_SOURCES);

/** What a record's bytes are: a certificate as issued (PDF) or structured data (JSON). */
export const DATAHUB_CONTENT_TYPES = ['application/pdf', 'application/json'] as const;
export type DatahubContentType = (typeof DATAHUB_CONTENT_TYPES)[number];

/** A client's request id, the query's idempotency key: 1–128 printable ASCII, e.g. `<caseId>:datahub:<materialCode>`. */
export const datahubRequestIdSchema = z.string().regex(/^[\x21-\x7E]{1,128}$/, 'must be 1–128 printable ASCII characters');

/** The hub's record id: printable ASCII without `/`, so it can sit in a URL path. */
export const datahubRecordIdSchema = z.string().regex(/^[\x21-\x2E\x30-\x7E]{1,64}$/, 'must be 1–64 printable ASCII characters without /');

/** A resident identity number (GB 11643): 17 digits then a digit or `X`, valid region, birth date and check character. */
export const datahubIdNumberSchema = z.string().superRefine((value, ctx) => {
  const problem = idNumberProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: ID_NUMBER_MESSAGES[problem] });
});

export const DATAHUB_PURPOSE_MAX_CHARS = 200;

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * `POST /datahub/records/query`: the applicant's record of one source. The same `requestId` with
 * the same body answers the first answer again (`Idempotent-Replayed: true`), `found: false`
 * included; with another body it is `409` (`IDEMPOTENCY_KEY_REUSED_SLUG`).
 */
export const datahubQueryRequestSchema = z.object({
  requestId: datahubRequestIdSchema,
  source: datahubSourceSchema,
  /** Whose record: the applicant's identity number, in clear (see the head of this file). */
  idNumber: datahubIdNumberSchema,
  /** Why tongban asks, kept in the hub's audit log, e.g. `跨省通办 养老保险关系转移 预审`. */
  purpose: text(DATAHUB_PURPOSE_MAX_CHARS),
  /** The case the query is for, for the hub's audit log and tongban's reconciliation. */
  caseId: z.uuid().optional(),
});
export type DatahubQueryRequest = z.infer<typeof datahubQueryRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Responses

/**
 * A record the hub holds. `downloadPath` is an absolute path on the hub's origin (e.g.
 * `/datahub/records/{recordId}/content`), which is also the path a signed `GET` signs; its bytes
 * hash to `sha256` and are `size` bytes long.
 */
export const datahubRecordSchema = z.object({
  recordId: datahubRecordIdSchema,
  source: datahubSourceSchema,
  /** The authority that issued it, e.g. `四川省人力资源和社会保障厅`. */
  issuer: text(200),
  issuedAt: isoInstantSchema,
  contentType: z.enum(DATAHUB_CONTENT_TYPES),
  sha256: sha256Schema,
  size: z.number().int().min(0),
  downloadPath: z.string().regex(/^\/[\x21-\x7E]{1,499}$/, 'must be an absolute path of printable ASCII'),
});
export type DatahubRecord = z.infer<typeof datahubRecordSchema>;

/** `200` to a query (and to its replays): the record, or why there is none (the applicant brings the paper). */
export const datahubQueryResponseSchema = z.discriminatedUnion('found', [
  z.object({ found: z.literal(true), record: datahubRecordSchema }),
  z.object({ found: z.literal(false), reason: text(500) }),
]);
export type DatahubQueryResponse = z.infer<typeof datahubQueryResponseSchema>;

// `GET /datahub/records/{recordId}/content` (signed, empty body): the record's bytes, with the
// record's `contentType`; they hash to its `sha256`.

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457 problem+json, `type` = `https://tongban.example/problems/<slug>`)

/** `401`: the signature headers are missing, the timestamp is more than 300 s off, or the signature does not match. */
export const INVALID_SIGNATURE_SLUG = 'invalid-signature';
/** `400`: a body that is not JSON or not valid; `errors` names every bad field, e.g. `{path: "idNumber", …}`. */
export const MALFORMED_BODY_SLUG = 'malformed-body';
export const fieldErrorsProblemSchema = problemBodySchema.extend({
  errors: z.array(z.object({ path: z.string().max(500), message: z.string().max(2000) })).max(100),
});
export type FieldErrorsProblem = z.infer<typeof fieldErrorsProblemSchema>;
/** `503`: the hub is down; nothing was answered, retry with the same `requestId`. */
export const UNAVAILABLE_SLUG = 'unavailable';
/** `409`: a `requestId` first used with a different body. */
export const IDEMPOTENCY_KEY_REUSED_SLUG = 'idempotency-key-reused';
/** `404`: no such record (a download of a record the hub does not have). */
export const UNKNOWN_RECORD_SLUG = 'unknown-record';
