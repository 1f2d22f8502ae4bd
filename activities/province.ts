// The province activities: every call tongban makes to a handling province's system, through the
// signed gateway (activities/gateway.ts), each answer parsed with its schema from
// contracts/province.ts. They run on the per-province task queues and may run in a province's own
// network, so they need no database. Idempotency keys arrive from the workflow, derived from the
// case and the step, so every retry of a call carries the same key.
//
// While a call is in flight the activity heartbeats every second and the fetch listens to the
// activity's cancellation signal: a withdrawal can cancel a call and wait until it has stopped.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ProvinceEndpoint } from '../config/index.js';
import {
  ALREADY_DECIDED_SLUG,
  alreadyDecidedProblemSchema,
  caseStatusResponseSchema,
  correctionAnswerResponseSchema,
  createCaseResponseSchema,
  findCaseResponseSchema,
  licenceVerifyResponseSchema,
  liaisonFileReceiptSchema,
  liaisonMessageResponseSchema,
  materialReceiptSchema,
  type LiaisonMessageRequest,
  problemBodySchema,
  submitResponseSchema,
  UNKNOWN_CASE_SLUG,
  withdrawResponseSchema,
  revokeResponseSchema,
  NOT_APPROVED_SLUG,
  type CorrectionAnswerRequest,
  type CreateCaseRequest,
  type ProvinceCaseStatusName,
  type ProvinceEventMessage,
} from '../contracts/province.js';
import { createCaseRequestOf, type CaseInput } from '../domain/case.js';
import type { MaterialsStore } from '../materials/store.js';
import { MaterialNotFoundError } from '../materials/store.js';
import { createProvinceGateway, PROVINCE_RESPONSE_INVALID, type ProvinceGateway, type ProvinceRequest } from './gateway.js';

/** What the province activities need: they may run in a province's own network, without our database. */
export interface ProvinceDeps {
  store: MaterialsStore;
  provinces: readonly ProvinceEndpoint[];
  /** Per-attempt timeout of a province HTTP call. */
  callTimeoutMs: number;
  gateway?: ProvinceGateway;
  /** How often a running call heartbeats, default 1000 ms. */
  heartbeatIntervalMs?: number;
}

export interface ProvinceCall {
  caseId: string;
  provinceCode: string;
  idempotencyKey: string;
}

export interface ELicenceCheck {
  materialCode: string;
  licenceType: string;
  valid: boolean;
  licenceNumber?: string;
  issuer?: string;
  reason?: string;
}

export interface ProvinceCaseStatus {
  provinceCaseId: string;
  status: ProvinceCaseStatusName;
  /** Every event the province sent (or should have), each checked to belong to the case. */
  events: ProvinceEventMessage[];
}

/** A withdrawal's answer: done, or refused because the province has already decided. */
export type WithdrawalResult = { status: 'withdrawn' } | { status: 'decided'; outcome: 'approved' | 'rejected' };

/** The province's case for a tongban case, as a find-by-reference reports it. */
export interface ProvinceCaseRef {
  provinceCaseId: string;
  status: ProvinceCaseStatusName;
}

/** A supplement to send: a material's new revision, answering the open correction notice. */
export interface SupplementUpload extends ProvinceCall {
  provinceCaseId: string;
  materialCode: string;
  sha256: string;
  contentType: string;
  /** 1 for a material's first supplement, counting up (the original has none). */
  revision: number;
}

/** The answer to a correction notice: the supplement of each deficiency, as uploaded. */
export interface CorrectionAnswer extends ProvinceCall {
  provinceCaseId: string;
  noticeId: string;
  items: CorrectionAnswerRequest['items'];
}

export function createProvinceActivities(deps: ProvinceDeps) {
  const gateway = deps.gateway ?? createProvinceGateway(deps.provinces);
  const heartbeatMs = deps.heartbeatIntervalMs ?? 1000;

  /** One gateway call with the activity's cancellation and a heartbeat while it runs. */
  const call: ProvinceGateway['call'] = async (provinceCode, req, schema, onStatus) => {
    const ctx = Context.current();
    ctx.heartbeat();
    const beat = setInterval(() => ctx.heartbeat(), heartbeatMs);
    try {
      const request: ProvinceRequest = { ...req, timeoutMs: deps.callTimeoutMs, signal: ctx.cancellationSignal };
      return await gateway.call(provinceCode, request, schema, onStatus);
    } finally {
      clearInterval(beat);
    }
  };
  const timeoutMs = deps.callTimeoutMs;
  const casePath = (provinceCaseId: string) => `/cases/${encodeURIComponent(provinceCaseId)}`;

  /** Reads the bytes from the content-addressed store and PUTs them: an original, or a supplement with its revision. */
  const putMaterial = async (args: ProvinceCall & { provinceCaseId: string; materialCode: string; sha256: string; contentType: string }, revision: number | undefined) => {
    let bytes: Buffer;
    try {
      bytes = await deps.store.read(args.sha256);
    } catch (e) {
      if (e instanceof MaterialNotFoundError) throw ApplicationFailure.nonRetryable(e.message, 'MaterialMissing');
      throw e;
    }
    const query = revision === undefined ? '' : `?revision=${revision}`;
    return call(
      args.provinceCode,
      {
        method: 'PUT',
        path: `${casePath(args.provinceCaseId)}/materials/${encodeURIComponent(args.materialCode)}${query}`,
        timeoutMs,
        idempotencyKey: args.idempotencyKey,
        bytes,
        contentType: args.contentType,
        headers: { 'x-content-sha256': args.sha256 },
      },
      materialReceiptSchema,
    );
  };

  return {
    async verifyELicence(args: { provinceCode: string; materialCode: string; licenceType: string; holderName: string; holderIdNumber: string; sha256: string }): Promise<ELicenceCheck> {
      const res = await call(
        args.provinceCode,
        {
          method: 'POST',
          path: '/elicences/verify',
          timeoutMs,
          json: { licenceType: args.licenceType, holderIdNumber: args.holderIdNumber, holderName: args.holderName, sha256: args.sha256 },
        },
        licenceVerifyResponseSchema,
      );
      const base = { materialCode: args.materialCode, licenceType: args.licenceType };
      return res.valid ? { ...base, valid: true, licenceNumber: res.licenceNumber, issuer: res.issuer } : { ...base, valid: false, reason: res.reason };
    },

    /**
     * Creates the case at the handling authority. Workflows send the request itself; tasks
     * scheduled by workflow code older than that carry the whole case input instead.
     */
    async createProvinceCase(args: ProvinceCall & ({ request: CreateCaseRequest } | { input: CaseInput })): Promise<{ provinceCaseId: string }> {
      const body: CreateCaseRequest = 'request' in args ? args.request : createCaseRequestOf(args.input);
      const res = await call(args.provinceCode, { method: 'POST', path: '/cases', timeoutMs, idempotencyKey: args.idempotencyKey, json: body }, createCaseResponseSchema);
      return { provinceCaseId: res.provinceCaseId };
    },

    /** Reads the material from the content-addressed store and sends it; the hash is checked on both sides. */
    async uploadMaterial(args: ProvinceCall & { provinceCaseId: string; materialCode: string; sha256: string; contentType: string }): Promise<{ sha256: string; size: number }> {
      const res = await putMaterial(args, undefined);
      return { sha256: res.sha256, size: res.size };
    },

    /**
     * Sends a supplement (补正材料) while a correction notice is open: the same upload with
     * `?revision=N`. The receipt must name that revision and hash; the province refuses (409
     * `notice-not-open`) when no notice is open.
     */
    async uploadSupplement(args: SupplementUpload): Promise<{ sha256: string; size: number; revision: number }> {
      const res = await putMaterial(args, args.revision);
      const what = `PUT ${casePath(args.provinceCaseId)}/materials/${args.materialCode}?revision=${args.revision}`;
      if (res.revision !== args.revision || res.sha256 !== args.sha256.toLowerCase() || res.materialCode !== args.materialCode) {
        throw ApplicationFailure.nonRetryable(
          `province ${args.provinceCode} answered ${what} with the receipt of another upload: ${res.materialCode} revision ${res.revision ?? '(none)'} sha256 ${res.sha256}`,
          PROVINCE_RESPONSE_INVALID,
        );
      }
      return { sha256: res.sha256, size: res.size, revision: args.revision };
    },

    /**
     * Answers a correction notice: the province closes it and resumes its review. Refusals keep
     * their problem type in the failure's details: `…/notice-not-open` (409: unknown, already
     * answered with another key, or the case moved on) and `…/answer-incomplete` (422: a
     * deficiency without a supplement, named in the reason).
     */
    async answerCorrection(args: CorrectionAnswer): Promise<{ noticeId: string; status: ProvinceCaseStatusName; answeredAt: string }> {
      const path = `${casePath(args.provinceCaseId)}/corrections/${encodeURIComponent(args.noticeId)}/answer`;
      const res = await call(args.provinceCode, { method: 'POST', path, timeoutMs, idempotencyKey: args.idempotencyKey, json: { items: args.items } }, correctionAnswerResponseSchema);
      if (res.noticeId !== args.noticeId) {
        throw ApplicationFailure.nonRetryable(`province ${args.provinceCode} answered POST ${path} about notice ${res.noticeId}`, PROVINCE_RESPONSE_INVALID);
      }
      return { noticeId: res.noticeId, status: res.status, answeredAt: res.answeredAt };
    },

    async submitProvinceCase(args: ProvinceCall & { provinceCaseId: string }): Promise<{ status: string }> {
      const res = await call(args.provinceCode, { method: 'POST', path: `${casePath(args.provinceCaseId)}/submit`, timeoutMs, idempotencyKey: args.idempotencyKey, json: {} }, submitResponseSchema);
      return { status: res.status };
    },

    /** The status poll; the answer and every event in it must belong to this case. */
    async getProvinceCaseStatus(args: { caseId: string; provinceCode: string; provinceCaseId: string }): Promise<ProvinceCaseStatus> {
      const path = casePath(args.provinceCaseId);
      const res = await call(args.provinceCode, { method: 'GET', path, timeoutMs }, caseStatusResponseSchema);
      const wrong: string[] = [];
      if (res.provinceCaseId !== args.provinceCaseId) wrong.push(`provinceCaseId: expected ${args.provinceCaseId}, got ${res.provinceCaseId}`);
      if (res.caseId !== args.caseId) wrong.push(`caseId: expected ${args.caseId}, got ${res.caseId}`);
      res.events.forEach((event, i) => {
        if (event.caseId !== args.caseId) wrong.push(`events.${i}.caseId: expected ${args.caseId}, got ${event.caseId}`);
      });
      if (wrong.length > 0) {
        throw ApplicationFailure.nonRetryable(`province ${args.provinceCode} answered GET ${path} with events of another case: ${wrong.join('; ')}`, PROVINCE_RESPONSE_INVALID);
      }
      return { provinceCaseId: res.provinceCaseId, status: res.status, events: res.events };
    },

    /**
     * Finds the province's case for a tongban case without creating one (a withdrawal whose
     * create was cut short asks this); null when the province has no such case.
     */
    async findProvinceCase(args: { caseId: string; provinceCode: string }): Promise<ProvinceCaseRef | null> {
      const res = await call(
        args.provinceCode,
        { method: 'GET', path: `/cases?caseId=${encodeURIComponent(args.caseId)}`, timeoutMs },
        findCaseResponseSchema,
        // Only the protocol's "no such case" means "none"; any other 404 (a wrong base URL, a
        // gateway's own page) must not pass for an answer.
        (answer) => (answer.status === 404 && isProblemOfType(answer.body, UNKNOWN_CASE_SLUG) ? null : undefined),
      );
      if (res === null) return null;
      if (res.caseId !== args.caseId) {
        throw ApplicationFailure.nonRetryable(`province ${args.provinceCode} answered the lookup of case ${args.caseId} with case ${res.caseId}`, PROVINCE_RESPONSE_INVALID);
      }
      return { provinceCaseId: res.provinceCaseId, status: res.status };
    },

    /** Withdraws the case, or reports the decision when the province has already made one (409 already-decided). */
    /**
     * Forwards a liaison message to the handling authority's system (工作联络), then each
     * attachment's bytes (hash-checked there). Idempotent by message: a retry repeats nothing.
     */
    async sendLiaisonMessage(args: ProvinceCall & { provinceCaseId: string; message: LiaisonMessageRequest }): Promise<{ receivedAt: string }> {
      const res = await call(
        args.provinceCode,
        { method: 'POST', path: `${casePath(args.provinceCaseId)}/messages`, timeoutMs, idempotencyKey: args.idempotencyKey, json: args.message },
        liaisonMessageResponseSchema,
      );
      return { receivedAt: res.receivedAt };
    },

    async uploadLiaisonFile(args: ProvinceCall & { provinceCaseId: string; messageId: string; position: number; sha256: string; contentType: string }): Promise<{ sha256: string; size: number }> {
      let bytes: Buffer;
      try {
        bytes = await deps.store.read(args.sha256);
      } catch (e) {
        if (e instanceof MaterialNotFoundError) throw ApplicationFailure.nonRetryable(e.message, 'MaterialMissing');
        throw e;
      }
      const res = await call(
        args.provinceCode,
        {
          method: 'PUT',
          path: `${casePath(args.provinceCaseId)}/messages/${args.messageId}/files/${args.position}`,
          timeoutMs,
          idempotencyKey: args.idempotencyKey,
          bytes,
          contentType: args.contentType,
          headers: { 'x-content-sha256': args.sha256 },
        },
        liaisonFileReceiptSchema,
      );
      if (res.sha256 !== args.sha256.toLowerCase()) {
        throw ApplicationFailure.nonRetryable(`province ${args.provinceCode} received attachment ${args.position} of message ${args.messageId} with sha256 ${res.sha256}`, PROVINCE_RESPONSE_INVALID);
      }
      return { sha256: res.sha256, size: res.size };
    },

    /**
     * Revokes an approval when the joint case it was part of failed (多地联办 compensation).
     * `not-approved` when the province's case is not an approval (it was never decided, or rejected).
     */
    async revokeProvinceCase(args: ProvinceCall & { provinceCaseId: string; reason: string }): Promise<{ status: 'revoked' | 'not-approved' }> {
      return call(
        args.provinceCode,
        { method: 'POST', path: `${casePath(args.provinceCaseId)}/revoke`, timeoutMs, idempotencyKey: args.idempotencyKey, json: { reason: args.reason } },
        revokeResponseSchema,
        (answer): { status: 'not-approved' } | undefined => (answer.status === 409 && isProblemOfType(answer.body, NOT_APPROVED_SLUG) ? { status: 'not-approved' } : undefined),
      );
    },

    async withdrawProvinceCase(args: ProvinceCall & { provinceCaseId: string; reason: string }): Promise<WithdrawalResult> {
      return call(
        args.provinceCode,
        { method: 'POST', path: `${casePath(args.provinceCaseId)}/withdraw`, timeoutMs, idempotencyKey: args.idempotencyKey, json: { reason: args.reason } },
        withdrawResponseSchema,
        (answer): WithdrawalResult | undefined => {
          if (answer.status !== 409) return undefined;
          const decided = alreadyDecidedProblemSchema.safeParse(answer.body);
          if (!decided.success || !isProblemOfType(answer.body, ALREADY_DECIDED_SLUG)) return undefined;
          return { status: 'decided', outcome: decided.data.outcome };
        },
      );
    },
  };
}

export type ProvinceActivities = ReturnType<typeof createProvinceActivities>;

/** A problem body whose `type` ends in `/<slug>`. */
function isProblemOfType(body: unknown, slug: string): boolean {
  const parsed = problemBodySchema.safeParse(body);
  return parsed.success && (parsed.data.type?.endsWith(`/${slug}`) ?? false);
}
