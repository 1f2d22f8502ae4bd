// The API's contract in zod: request validation, response serialisation (a response carries only
// the fields declared here) and the OpenAPI document at /docs all come from these schemas.
import { PARTICIPANT_STATUSES } from '../domain/joint.js';
import { STUCK_REASONS } from '../domain/stuck.js';
import { z } from 'zod';
import {
  CASE_STAGES,
  CASE_STATUSES,
  CHANNELS,
  CONSULTATION_AGREEMENTS,
  CONSULTATION_EFFECTS,
  CONSULTATION_SIDES,
  CONSULTATION_STATUSES,
  MAX_CONSULTATION_MINUTES_CHARS,
} from '../domain/case.js';
import { SLA_STATES } from '../domain/clock.js';
import { ID_NUMBER_MESSAGES, idNumberProblem } from '../domain/idNumber.js';
import { DELIVERY_METHODS, MATERIAL_CONTENT_TYPES } from '../domain/items.js';
import { isRegionCode } from '../domain/regions.js';
import { controlCharProblem } from '../domain/text.js';

/**
 * Every string the API accepts goes through here: NUL and other control characters are refused
 * (400 naming the field; domain/text.ts says why), checked before trimming so a control
 * character at either end is refused, not silently cut.
 */
export function plainString() {
  return z.string().superRefine((value, ctx) => {
    const p = controlCharProblem(value);
    if (p) ctx.addIssue({ code: 'custom', message: p, abort: true });
  });
}

/** Trimmed text of `min` to `max` characters, free of control characters. */
export function text(max: number, min = 1) {
  return plainString().trim().min(min).max(max);
}

export const regionCode = plainString()
  .refine(isRegionCode, 'must be a six-digit administrative division code (GB/T 2260) of a known province')
  .meta({ description: 'Administrative division code (GB/T 2260)', example: '440100' });

const itemCodeField = plainString().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'lower-case letters, digits and dashes');

const idNumber = plainString()
  .trim()
  .toUpperCase()
  .superRefine((value, ctx) => {
    const p = idNumberProblem(value);
    if (p) ctx.addIssue({ code: 'custom', message: ID_NUMBER_MESSAGES[p] });
  })
  .meta({ description: 'Resident identity number (GB 11643), 18 characters with a check digit' });

const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^0\d{2,3}-?\d{7,8}$/;
const phone = plainString()
  .trim()
  .refine((v) => MOBILE.test(v) || LANDLINE.test(v), 'must be a mainland mobile number (13800138000) or a landline with area code (020-12345678)')
  .meta({ description: 'Mainland mobile (13800138000) or landline with area code (020-12345678)' });

// ---------------------------------------------------------------------------------------------
// Requests

export const caseSubmissionSchema = z
  .strictObject({
    itemCode: text(64),
    applicant: z.strictObject({
      name: text(64),
      idNumber,
      phone,
    }),
    receivingRegion: regionCode,
    handlingRegion: regionCode,
    channel: z.enum(CHANNELS),
    materials: z
      .array(z.strictObject({ materialCode: text(64), fileId: z.uuid() }))
      .min(1)
      .max(50)
      .superRefine(eachMaterialOnce),
    delivery: z
      .strictObject({
        method: z.enum(DELIVERY_METHODS),
        address: text(200, 5).optional(),
      })
      .superRefine((d, ctx) => {
        if (d.method === 'mail' && !d.address) ctx.addIssue({ code: 'custom', path: ['address'], message: 'is required when the method is mail' });
      }),
    fields: z
      .record(z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'a field key of the item'), text(100))
      .optional()
      .meta({ description: "The application's fields the item declares (applicationFields), e.g. {\"originRegion\": \"430102\"} for a household move: a joint item (多地联办) reads its participants' regions from them" }),
    consultBeforeAcceptance: z.boolean().optional().meta({
      description: '视频会商收件: the case is not passed to the handling authority until a video consultation about it has been requested and has its outcome (POST /v1/cases/{id}/consultations)',
    }),
  })
  .meta({ id: 'CaseSubmission' });
export type CaseSubmission = z.infer<typeof caseSubmissionSchema>;

export const intakeHeadersSchema = z.looseObject({
  'idempotency-key': plainString()
    .optional()
    .meta({ description: 'Required: 8–128 characters of [A-Za-z0-9_.:-]; a repeat with the same body returns the same case' }),
});

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

export const caseIdParams = z.object({ caseId: z.uuid() });

const reason = text(500, 2);
export const staffCommandSchema = z.strictObject({ reason }).meta({ id: 'StaffCommand' });
export const extensionRequestSchema = z
  .strictObject({
    days: z.number().int().min(1).max(60).meta({ description: 'Working days to add to the limit; the item allows at most review.maxExtensionDays in all (art. 42: 10)' }),
    reason: text(1000, 2),
  })
  .meta({ id: 'ExtensionRequest' });
export const extensionDecisionSchema = z.strictObject({ approve: z.boolean(), reason: text(1000, 2) }).meta({ id: 'ExtensionDecision' });
export const extensionParams = z.object({ caseId: z.uuid(), extensionId: text(200) });
export const extensionResultSchema = z
  .object({
    caseId: z.string(),
    extension: z.object({
      extensionId: z.string(),
      days: z.number().int(),
      reason: z.string(),
      status: z.enum(['requested', 'approved', 'refused']),
      requestedBy: z.string(),
      requestedAt: z.string(),
      decidedBy: z.string().optional(),
      decidedAt: z.string().optional(),
      decisionReason: z.string().optional(),
    }),
  })
  .meta({ id: 'ExtensionResult' });
export const deliveryConfirmationSchema = z
  .strictObject({ method: z.enum(['window', 'mail']), note: text(500).optional() })
  .meta({ id: 'DeliveryConfirmation' });

/** Each material code at most once in a list of materials (intake) or supplemented items. */
function eachMaterialOnce(list: readonly { materialCode: string }[], ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  list.forEach((m, i) => {
    if (seen.has(m.materialCode)) ctx.addIssue({ code: 'custom', path: [i, 'materialCode'], message: `${m.materialCode} is listed twice` });
    seen.add(m.materialCode);
  });
}

/**
 * The applicant's supplement (补正材料) answering one correction notice: one uploaded file per
 * deficiency, each material once. Whether the notice is open and every deficiency answered is
 * the use case's question (api/caseCommands.ts), not the schema's.
 */
export const supplementSchema = z
  .strictObject({
    noticeId: text(128).meta({ description: 'The open notice this supplement answers (GET /v1/cases/{caseId} → correction.noticeId)' }),
    items: z
      .array(
        z.strictObject({
          materialCode: text(64),
          fileId: z.uuid().meta({ description: 'An upload (POST /v1/files) from the staff member’s region' }),
          note: text(500).optional(),
        }),
      )
      .min(1)
      .max(50)
      .superRefine(eachMaterialOnce),
  })
  .meta({ id: 'Supplement' });
export type SupplementBody = z.infer<typeof supplementSchema>;

/**
 * A video consultation (视频会商) asked for by either side: what it is about, who takes part (an
 * applicant without a staffId; each participant once), and 1–5 times, in order of preference, all in
 * the future. Whether the case allows one now is the workflow's question (409).
 */
export const consultationRequestSchema = z
  .strictObject({
    topic: text(200),
    participants: z
      .array(
        z.strictObject({
          side: z.enum(CONSULTATION_SIDES),
          staffId: text(128).optional().meta({ description: 'The staff member of the receiving or handling side (their token’s sub); not for the applicant' }),
        }),
      )
      .min(1)
      .max(20)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((p, i) => {
          if (p.side === 'applicant' && p.staffId !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'staffId'], message: 'an applicant has no staffId' });
          const who = `${p.side}\u0000${p.staffId ?? ''}`;
          if (seen.has(who)) ctx.addIssue({ code: 'custom', path: [i], message: `${p.side}${p.staffId ? ` ${p.staffId}` : ''} is listed twice` });
          seen.add(who);
        });
      }),
    proposedTimes: z
      .array(
        z.iso
          .datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset, e.g. 2026-11-25T10:00:00+08:00' })
          // An instant that is not one is named once, by the format check.
          .refine((t) => Number.isNaN(Date.parse(t)) || Date.parse(t) > Date.now(), 'must be in the future'),
      )
      .min(1)
      .max(5)
      .meta({ description: 'In order of preference: the first still ahead when the case books the room is booked (30 minutes)' }),
  })
  .meta({ id: 'ConsultationRequest' });
export type ConsultationRequestBody = z.infer<typeof consultationRequestSchema>;

/**
 * What came of a consultation: whether it was held, the minutes, and what was agreed; with
 * `correction`, the one-time notice's deficiencies (required then, refused otherwise).
 */
export const consultationOutcomeSchema = z
  .strictObject({
    held: z.boolean(),
    minutes: text(MAX_CONSULTATION_MINUTES_CHARS).meta({ description: 'Free text; the applicant’s personal data is masked in what is recorded' }),
    agreed: z.enum(CONSULTATION_AGREEMENTS),
    deficiencies: z
      .array(z.strictObject({ materialCode: text(64), problem: text(500), needed: text(500) }))
      .min(1)
      .max(50)
      .superRefine(eachMaterialOnce)
      .optional(),
  })
  .superRefine((body, ctx) => {
    if (body.agreed === 'correction' && !body.deficiencies) ctx.addIssue({ code: 'custom', path: ['deficiencies'], message: 'is required when agreed is correction (the one-time notice lists every deficiency)' });
    if (body.agreed !== 'correction' && body.deficiencies) ctx.addIssue({ code: 'custom', path: ['deficiencies'], message: 'only with agreed: correction' });
  })
  .meta({ id: 'ConsultationOutcome' });
export type ConsultationOutcomeBody = z.infer<typeof consultationOutcomeSchema>;
export const consultationParams = z.object({ caseId: z.uuid(), id: text(200) });

export interface ListCursor {
  /** submitted_at as microseconds since the epoch: exact, unlike a JS Date. */
  submittedAtMicros: string;
  caseId: string;
}

/**
 * 9999-12-31T23:59:59.999999Z in microseconds since the epoch. Cursors carry real submission
 * instants; a larger `t` is not one this API issued, and would overflow the query's arithmetic.
 */
const MAX_CURSOR_MICROS = 253_402_300_799_999_999n;
const cursorPayload = z.object({
  t: z.string().regex(/^\d{1,19}$/).refine((t) => BigInt(t) <= MAX_CURSOR_MICROS),
  id: z.uuid(),
});

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify({ t: c.submittedAtMicros, id: c.caseId })).toString('base64url');
}

function decodeCursor(value: string): ListCursor | null {
  try {
    const parsed = cursorPayload.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return parsed.success ? { submittedAtMicros: parsed.data.t, caseId: parsed.data.id } : null;
  } catch {
    return null;
  }
}

export const caseListQuerySchema = z.strictObject({
  stage: z.enum(CASE_STAGES).optional(),
  status: z.enum(CASE_STATUSES).optional(),
  itemCode: itemCodeField.optional(),
  handlingRegion: regionCode.optional(),
  receivingRegion: regionCode.optional(),
  needsIntervention: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  sla: z.enum(SLA_STATES).optional().meta({ description: 'green | yellow | red (overdue): where the case stands against its time limits; cases whose clock has not started have none' }),
  stuck: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'true: only stuck cases, each with its reasons and since when, longest waiting first (up to 500, no cursor); docs/operations.md "Stuck cases"' }),
  reason: z.enum(STUCK_REASONS).optional().meta({ description: 'With stuck=true: only cases stuck for this reason (a province that was down: province_silent or intervention)' }),
  idNumber: idNumber.optional().meta({ description: 'The applicant’s identity number: matched by its keyed hash (never stored, logged or shown whole); not with stuck=true' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: plainString()
    .max(512)
    .transform((v, ctx) => {
      const c = decodeCursor(v);
      if (!c) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
        return z.NEVER;
      }
      return c;
    })
    .optional()
    .meta({ description: 'nextCursor of the previous page' }),
});
export type CaseListQuery = z.infer<typeof caseListQuerySchema>;

export const itemCodeParams = z.object({ code: text(64) });

// The province callback's params, event and acknowledgement belong to the protocol contract.
export { provinceCallbackParams, provinceEventSchema, callbackAckSchema } from '../contracts/province.js';
export type { ProvinceEventInput as ProvinceEventBody } from '../contracts/province.js';

// ---------------------------------------------------------------------------------------------
// Responses

export const fileSchema = z
  .object({ fileId: z.uuid(), sha256: z.string(), size: z.number().int(), contentType: z.enum(MATERIAL_CONTENT_TYPES) })
  .meta({ id: 'File' });

export const receiptSchema = z
  .object({
    queryCode: z.string().meta({ description: 'Printed on the receipt (回执): with the case number, the applicant looks up the progress without logging in' }),
    progressPath: z.string().meta({ description: 'GET this path (no login) for the progress' }),
  })
  .meta({ id: 'Receipt' });

export const caseAcceptedSchema = z
  .object({ caseId: z.uuid(), status: z.enum(CASE_STATUSES), stage: z.enum(CASE_STAGES), receipt: receiptSchema })
  .meta({ id: 'CaseAccepted' });

export const caseActionResultSchema = z
  .object({ caseId: z.uuid(), stage: z.enum(CASE_STAGES), status: z.enum(CASE_STATUSES), needsIntervention: z.boolean() })
  .meta({ id: 'CaseActionResult' });

const timestamp = z.string().meta({ format: 'date-time' });

const interventionSchema = z.object({
  step: z.string(),
  kind: z.enum(['unreachable', 'refused', 'projection']).optional().meta({
    description: 'unreachable: the province did not answer past the retry budget (retry later); refused: it answered with a final refusal (see reason); projection: tongban could not record the case',
  }),
  error: z.string(),
  reason: z.string().optional().meta({ description: "The province's own reason for a refusal" }),
  status: z.number().int().optional().meta({ description: 'HTTP status of a refusal' }),
  since: z.string(),
});
const decisionSchema = z.object({ outcome: z.enum(['approved', 'rejected']), reasons: z.array(z.string()), at: z.string() });
const licenceSchema = z
  .object({ licenceId: z.string(), licenceType: z.string(), issuerCode: z.string(), documentSm3: z.string(), signature: z.string(), signedAt: z.string() })
  .meta({ description: 'The electronic licence (电子证照): its GB/T 36904 identifier and the issuing authority’s SM2 signature; check it with POST /v1/verify' });
const certificateSchema = z.object({ certificateId: z.string(), issuer: z.string(), sha256: z.string(), issuedAt: z.string(), licence: licenceSchema.optional() });
const deliveryStateSchema = z.object({
  method: z.enum(DELIVERY_METHODS),
  status: z.enum(['pending', 'issued', 'mailed', 'returned', 'confirmed']),
  returnedReason: z.string().optional().meta({ description: 'Mail that came back undelivered: why (the result then waits at the receiving window)' }),
  trackingNumber: z.string().optional(),
  certificate: certificateSchema.optional(),
  confirmedBy: z.string().optional(),
  confirmedAt: z.string().optional(),
});

export const participantStateSchema = z
  .object({
    key: z.string(),
    role: z.string(),
    regionCode: z.string(),
    step: z.number().int().meta({ description: 'Steps run in order; participants of one step in parallel' }),
    status: z.enum(PARTICIPANT_STATUSES),
    provinceCaseId: z.string().nullable(),
    startedAt: timestamp.nullable(),
    dueDate: z.string().nullable().meta({ format: 'date', description: 'Last day of its own limit (timeLimitDays working days from its start)' }),
    dueAt: timestamp.nullable(),
    overdue: z.boolean(),
    decidedAt: timestamp.nullable(),
    reasons: z.array(z.string()),
    compensation: z.string().nullable().meta({ description: 'What undoing its part did after the case failed or was withdrawn: withdrawn, revoked, skipped, nothing_to_undo' }),
  })
  .meta({ id: 'JointParticipant', description: 'One authority of a joint case (多地联办) and its progress' });

const caseSummaryFields = {
  caseId: z.uuid(),
  itemCode: z.string(),
  itemVersion: z.number().int(),
  itemName: z.string(),
  receivingRegion: z.string(),
  handlingRegion: z.string(),
  channel: z.enum(CHANNELS),
  stage: z.enum(CASE_STAGES),
  status: z.enum(CASE_STATUSES),
  needsIntervention: z.boolean(),
  promisedDays: z.number().int(),
  statutoryDays: z.number().int(),
  slaState: z.enum(SLA_STATES).nullable().meta({ description: 'The worse of the promised and statutory limits; null before the handling authority has the materials' }),
  dueDate: z.string().nullable().meta({ format: 'date', description: 'Last day of the promised limit (China time); null before the clock starts or while a pause stops it' }),
  statutoryDueDate: z.string().nullable().meta({ format: 'date', description: 'Last day of the statutory limit' }),
  submittedAt: timestamp,
  updatedAt: timestamp,
  closedAt: timestamp.nullable(),
  participants: z.array(participantStateSchema).nullable().meta({ description: '多地联办: each participating authority’s progress and deadline; null for a case with one handling authority' }),
};

export const stuckReasonSchema = z
  .object({ reason: z.enum(STUCK_REASONS), since: timestamp, detail: z.string() })
  .meta({ id: 'StuckReason', description: 'Why a case is stuck and since when' });

export const caseSummarySchema = z
  .object({
    ...caseSummaryFields,
    applicantName: z.string().meta({ description: 'masked' }),
    stuck: z.array(stuckReasonSchema).optional().meta({ description: 'With ?stuck=true: every reason the case is stuck, oldest first' }),
    stuckSince: timestamp.optional().meta({ description: 'With ?stuck=true: since when it has waited (its oldest reason); the list is sorted by it' }),
  })
  .meta({ id: 'CaseSummary' });
export type CaseSummary = z.infer<typeof caseSummarySchema>;

export const caseListSchema = z.object({ items: z.array(caseSummarySchema), nextCursor: z.string().nullable() }).meta({ id: 'CaseList' });

export const correctionNoticeSchema = z
  .object({
    noticeId: z.string(),
    side: z.enum(['receiving', 'handling']).meta({ description: 'receiving: the window’s precheck (收件补正); handling: the handling authority’s review (审查补正)' }),
    round: z.number().int().meta({ description: 'The notice’s round on its side, from 1' }),
    deficiencies: z.array(z.object({ materialCode: z.string(), problem: z.string(), needed: z.string() })),
    supplementDue: z.string().nullable().meta({ format: 'date', description: 'Last day (China time) to supplement; null when no deadline applies' }),
    issuedAt: timestamp,
    participant: z.string().optional().meta({ description: '多地联办: the participant whose authority issued the notice' }),
  })
  .meta({ id: 'CorrectionNotice', description: 'The open one-time notice (一次性告知): every deficiency at once, answered by one supplement' });

const slaLimitSchema = z.object({
  state: z.enum(SLA_STATES),
  dueDate: z.string().nullable().meta({ format: 'date' }),
  dueAt: timestamp.nullable().meta({ description: 'The last instant before the limit is overdue' }),
  limitDays: z.number().int(),
  extendedBy: z.number().int(),
  used: z.number().int(),
  remaining: z.number().int(),
  stopped: z.boolean().meta({ description: 'A pause (a supplement to the authority’s notice, an art. 45 procedure) stops the clock' }),
});

export const caseSlaSchema = z
  .object({
    state: z.enum(SLA_STATES),
    promised: slaLimitSchema,
    statutory: slaLimitSchema,
    escalatedAt: timestamp.nullable().meta({ description: 'When an overdue limit was escalated to the handling side’s supervisors' }),
    settled: z.boolean().meta({ description: 'The clock stopped for good: decided or closed' }),
    readAt: timestamp.meta({ description: 'When the workflow read these figures (it reads again at every change); GET …/deadlines computes them now, with the derivation' }),
    delivery: slaLimitSchema.nullable().optional().meta({ description: 'Art. 44, once approved: the delivery of a result by mail or at the window, 10 working days from the approval' }),
  })
  .meta({ id: 'CaseSla' });

const consultationParticipantOut = z.object({ side: z.enum(CONSULTATION_SIDES), staffId: z.string().optional() });
const deficiencyOut = z.object({ materialCode: z.string(), problem: z.string(), needed: z.string() });

export const consultationSchema = z
  .object({
    consultationId: z.string(),
    topic: z.string(),
    participants: z.array(consultationParticipantOut),
    proposedTimes: z.array(timestamp),
    requestedBy: z.string(),
    requestedAt: timestamp,
    beforeAcceptance: z.boolean().meta({ description: 'Requested before the case went to the handling authority (视频会商收件): it holds the transfer until its outcome' }),
    status: z.enum(CONSULTATION_STATUSES).meta({
      description: 'requested → booked (or failed: the video service refused or stayed down; request again) → held / not_held with the outcome, or missed when its time passed without one',
    }),
    roomId: z.string().nullable(),
    startsAt: timestamp.nullable(),
    endsAt: timestamp.nullable(),
    joinLinks: z
      .array(consultationParticipantOut.extend({ url: z.string() }))
      .meta({ description: 'One personal link per participant; a link is its own credential: hand it to its person only' }),
    failure: z.string().nullable(),
    missedAt: timestamp.nullable().meta({ description: 'When its time passed without an outcome (kept when one is recorded later)' }),
    outcome: z
      .object({
        held: z.boolean(),
        minutes: z.string(),
        agreed: z.enum(CONSULTATION_AGREEMENTS),
        deficiencies: z.array(deficiencyOut).optional(),
        effect: z.enum(CONSULTATION_EFFECTS).meta({
          description:
            'What the agreement does: receiving-notice (a one-time notice of the receiving window), not-accepted (the case closed), authority-notice / authority-decides (after the transfer: the handling authority’s to issue), none',
        }),
        recording: z.object({ recordingId: z.string(), url: z.string(), sha256: z.string(), durationSeconds: z.number().int() }).nullable(),
        recordedBy: z.string(),
        recordedAt: timestamp,
      })
      .nullable(),
  })
  .meta({ id: 'Consultation', description: 'A video consultation (视频会商) between the offices' });

export const consultationResultSchema = z
  .object({ caseId: z.uuid(), stage: z.enum(CASE_STAGES), status: z.enum(CASE_STATUSES), needsIntervention: z.boolean(), consultation: consultationSchema })
  .meta({ id: 'ConsultationResult' });

export const caseDetailSchema = z
  .object({
    ...caseSummaryFields,
    receipt: receiptSchema,
    sla: caseSlaSchema.nullable(),
    intervention: interventionSchema.nullable(),
    correction: correctionNoticeSchema.nullable(),
    consultations: z.array(consultationSchema).meta({ description: 'Video consultations (视频会商), in the order requested' }),
    correctionRounds: z
      .object({ receiving: z.number().int(), handling: z.number().int() })
      .meta({ description: 'Correction notices issued so far, per side' }),
    applicant: z
      .object({ name: z.string(), idNumber: z.string(), phone: z.string() })
      .meta({ description: 'masked; the clear values are sealed and never leave the server' }),
    delivery: deliveryStateSchema,
    decision: decisionSchema.nullable(),
    provinceCaseId: z.string().nullable(),
    materials: z.array(
      z.object({
        materialCode: z.string(),
        fileId: z.uuid(),
        sha256: z.string(),
        size: z.number().int(),
        contentType: z.string(),
        transferredAt: timestamp.nullable(),
      }),
    ),
    timeline: z.array(
      z.object({
        seq: z.number().int(),
        type: z.string(),
        stage: z.string(),
        status: z.string(),
        actor: z.string(),
        at: timestamp,
        data: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .meta({ id: 'CaseDetail' });
export type CaseDetail = z.infer<typeof caseDetailSchema>;


// ---------------------------------------------------------------------------------------------
// Staff actions (api/staffActions.ts): every body has a mandatory reason.

const actionReason = text(500, 2).meta({ description: 'Why (mandatory; audited)' });
export const staffActionBodies = {
  retry: z.strictObject({ reason: actionReason }),
  withdraw: z.strictObject({ reason: actionReason }),
  extend: z.strictObject({ days: z.number().int().min(1).max(60).meta({ description: 'Working days to add (art. 42); a supervisor of the handling side approves' }), reason: actionReason }),
  note: z.strictObject({ reason: text(2000, 1).meta({ description: 'The note itself' }) }),
  reassign: z.strictObject({ assignee: text(128).meta({ description: "The colleague's staff id (the sub of their sign-in)" }), reason: actionReason }),
  'record-offline': z.strictObject({
    step: text(200).meta({ description: 'The step the case is stuck on (needsIntervention.step)' }),
    evidenceFileId: z.uuid().meta({ description: 'The evidence, uploaded first with POST /v1/files' }),
    provinceCaseId: text(100).optional().meta({ description: 'For createProvinceCase: the number the authority gave the case it created' }),
    reason: actionReason,
  }),
  reroute: z.strictObject({ handlingRegion: regionCode.meta({ description: 'The new handling authority’s region' }), reason: actionReason }),
} as const;

const actionEffectsSchema = z.object({
  summary: z.string(),
  deadlines: z.array(z.object({ limit: z.enum(['promised', 'statutory']), before: z.string().nullable(), after: z.string().nullable(), note: z.string() })),
  otherOffice: z.string(),
});
export const actionPreviewSchema = z.object({ effects: actionEffectsSchema }).meta({ id: 'ActionPreview' });
export const approvalSchema = z
  .object({
    approvalId: z.uuid(),
    caseId: z.uuid(),
    action: z.enum(['record-offline', 'reroute']),
    status: z.enum(['pending', 'deciding', 'approved', 'refused', 'failed']),
    params: z.record(z.string(), z.unknown()),
    side: z.enum(['receiving', 'handling']),
    reason: z.string(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    effects: actionEffectsSchema,
    decidedBy: z.string().nullable(),
    decisionReason: z.string().nullable(),
    decidedAt: z.string().nullable(),
    failure: z.string().nullable(),
  })
  .meta({ id: 'Approval' });
export const approvalListSchema = z.object({ items: z.array(approvalSchema) });
export const caseApprovalListSchema = z.object({ caseId: z.uuid(), items: z.array(approvalSchema) });
export const approvalParams = z.object({ caseId: z.uuid(), approvalId: z.uuid() });
export const approvalDecisionSchema = z.strictObject({ approve: z.boolean(), reason: text(500, 2) }).meta({ id: 'ApprovalDecision' });
export const pendingApprovalsQuery = z.strictObject({ status: z.literal('pending').default('pending'), limit: z.coerce.number().int().min(1).max(200).default(50) });

const noteSchema = z.object({ noteId: z.string(), author: z.string(), role: z.string(), region: z.string(), side: z.enum(['receiving', 'handling']), text: z.string(), createdAt: z.string() });
const assigneeSchema = z.object({ side: z.enum(['receiving', 'handling']), assignee: z.string(), assignedBy: z.string(), assignedAt: z.string() });
export const staffActionResultSchema = z
  .object({
    caseId: z.uuid(),
    action: z.enum(['retry', 'record-offline', 'reroute', 'extend', 'withdraw', 'reassign', 'note']),
    stage: z.enum(CASE_STAGES),
    status: z.enum(CASE_STATUSES),
    needsIntervention: z.boolean(),
    note: noteSchema.optional(),
    assignee: assigneeSchema.optional(),
    extension: extensionResultSchema.shape.extension.optional(),
  })
  .meta({ id: 'StaffActionResult' });
export const caseNotesSchema = z.object({ caseId: z.uuid(), notes: z.array(noteSchema), assignees: z.array(assigneeSchema) });

export const bulkRetrySchema = z.strictObject({
  caseIds: z.array(z.uuid()).min(1).max(500).meta({ description: 'The cases to retry (at most 500)' }),
  reason: text(500, 2),
});
export const bulkStartedSchema = z.object({ bulkId: z.uuid(), total: z.number().int() });
export const bulkParams = z.object({ bulkId: z.uuid() });
export const bulkProgressSchema = z
  .object({
    bulkId: z.uuid(),
    action: z.literal('retry'),
    reason: z.string(),
    requestedBy: z.string(),
    createdAt: z.string(),
    total: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    pending: z.number().int(),
    items: z.array(z.object({ caseId: z.uuid(), status: z.enum(['pending', 'done', 'failed']), httpStatus: z.number().int().nullable(), detail: z.string().nullable() })),
  })
  .meta({ id: 'BulkProgress' });
