// The SMS gateway that sends notifications to applicants, as one contract: the requests,
// responses and problem types tongban and the gateway exchange, shared by the client tongban's
// activities will use and the simulator's gateway (simulator/sms.ts). docs/outside-services.md
// describes the API in prose. Pure: no I/O, so workflow code may `import type` from it.
//
// The gateway is idempotent: a send repeated with the same key never sends a second message, so
// a notification activity may retry freely with a key derived from the case and the step.
import { z } from 'zod';
import { isoInstantSchema, problemBodySchema, text } from './province.js';

export const SMS_TEXT_MAX_CHARS = 500;

/** A mainland China mobile number: 11 digits, `1` then `3`–`9`, no country code or separators. */
export const mainlandMobileSchema = z.string().regex(/^1[3-9]\d{9}$/, 'must be a mainland mobile number: 11 digits starting 13–19');

/** How the gateway shows a number it sent to: the first 3 and last 4 digits, e.g. `138****8000`. */
export const maskedMobileSchema = z.string().regex(/^1\d{2}\*{4}\d{4}$/, 'must be a masked mobile number like 138****8000');

/** A client's idempotency key: 1–128 printable ASCII characters, e.g. `<caseId>:sms:accepted`. */
export const smsIdempotencyKeySchema = z.string().regex(/^[\x21-\x7E]{1,128}$/, 'must be 1–128 printable ASCII characters');

/** The gateway's message id: printable ASCII, so it can sit in a URL path. */
export const messageIdSchema = z.string().regex(/^[\x21-\x7E]{1,64}$/, 'must be 1–64 printable ASCII characters');

/** The name of the approved template the text follows (registered with the carrier), e.g. `case-accepted`. */
export const smsTemplateSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1–64 letters, digits, `_`, `.` or `-`, starting with a letter or digit');

/**
 * `accepted`: taken by the gateway, not yet reported by the carrier; then `delivered` or
 * `failed` (the carrier could not deliver it: number out of service, handset off too long, …).
 */
export const SMS_STATUSES = ['accepted', 'delivered', 'failed'] as const;
export type SmsStatus = (typeof SMS_STATUSES)[number];

// ---------------------------------------------------------------------------------------------
// Requests and responses

/**
 * `POST /sms/messages`. The same `idempotencyKey` with the same body answers the first
 * acceptance again (`Idempotent-Replayed: true`) and sends nothing; with another body it is
 * `409` (`IDEMPOTENCY_KEY_REUSED_SLUG`). A text over `SMS_TEXT_MAX_CHARS` is `400` naming `text`.
 */
export const sendSmsRequestSchema = z.object({
  idempotencyKey: smsIdempotencyKeySchema,
  to: mainlandMobileSchema,
  template: smsTemplateSchema,
  text: text(SMS_TEXT_MAX_CHARS),
  /** The case the message is about, for the gateway's records and tongban's reconciliation. */
  caseId: z.uuid().optional(),
});
export type SendSmsRequest = z.infer<typeof sendSmsRequestSchema>;

/** `202` to a send (and to its replays). */
export const sendSmsResponseSchema = z.object({ messageId: messageIdSchema, status: z.literal('accepted') });
export type SendSmsResponse = z.infer<typeof sendSmsResponseSchema>;

const messageFields = {
  messageId: messageIdSchema,
  /** Masked: a status read never shows the full number again. */
  to: maskedMobileSchema,
  template: smsTemplateSchema,
  caseId: z.uuid().optional(),
  acceptedAt: isoInstantSchema,
};

/** `GET /sms/messages/{messageId}`: the message's delivery status. The text is not shown again. */
export const smsMessageSchema = z.discriminatedUnion('status', [
  z.object({ ...messageFields, status: z.literal('accepted') }),
  z.object({ ...messageFields, status: z.literal('delivered'), deliveredAt: isoInstantSchema }),
  z.object({ ...messageFields, status: z.literal('failed'), failedAt: isoInstantSchema, failureReason: text(500) }),
]);
export type SmsMessage = z.infer<typeof smsMessageSchema>;

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457 problem+json, `type` = `https://tongban.example/problems/<slug>`)

/** `401`: no `Authorization: Bearer <key>`, or not the right key. */
export const UNAUTHORIZED_SLUG = 'unauthorized';
/** `503`: the gateway is down or failed this request; nothing was sent, retry with the same key. */
export const UNAVAILABLE_SLUG = 'unavailable';
/** `409`: an idempotency key first used with a different body; nothing was sent. */
export const IDEMPOTENCY_KEY_REUSED_SLUG = 'idempotency-key-reused';
/** `404`: no such message. */
export const UNKNOWN_MESSAGE_SLUG = 'unknown-message';

/** `400`: a body that is not JSON or not valid; `errors` names every bad field, e.g. `{path: "text", …}`. */
export const MALFORMED_BODY_SLUG = 'malformed-body';
export const fieldErrorsProblemSchema = problemBodySchema.extend({
  errors: z.array(z.object({ path: z.string().max(500), message: z.string().max(2000) })).max(100),
});
export type FieldErrorsProblem = z.infer<typeof fieldErrorsProblemSchema>;
