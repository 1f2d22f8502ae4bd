// /v1/cases: intake, reads from the projection, and staff commands on a running case (among them
// the supplement answering a correction notice, extensions, video consultations). Each route's
// role gate comes from the one policy table (domain/policy.ts); the side of the case is checked
// once the case is known, in the use case.
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allowedRoles } from '../../domain/policy.js';
import { caseDeadlines } from '../deadlines.js';
import { staffOf } from '../auth.js';
import { runCaseCommand, type CommandDeps } from '../caseCommands.js';
import { authorizeCaseAction, getCase, listCases } from '../caseReads.js';
import type { StepTracer } from '../../clients/tracing.js';
import { checkIdempotencyKey, submitCase } from '../intake.js';
import { listStuckForQuery, streamStuckCases, type StuckDeps } from '../stuckCases.js';
import { problems } from '../problem.js';
import { receiptFor } from '../progress.js';
import {
  caseAcceptedSchema,
  caseActionResultSchema,
  caseDetailSchema,
  caseIdParams,
  caseListQuerySchema,
  caseListSchema,
  caseSubmissionSchema,
  consultationOutcomeSchema,
  consultationParams,
  consultationRequestSchema,
  consultationResultSchema,
  deliveryConfirmationSchema,
  intakeHeadersSchema,
  staffCommandSchema,
  supplementSchema,
  extensionDecisionSchema,
  extensionParams,
  extensionRequestSchema,
  extensionResultSchema,
} from '../schemas.js';
import { secured } from './common.js';

export interface CaseRouteOptions {
  updateTimeoutMs: number;
  startTimeoutMs: number;
  /** Spans for intake's steps when tracing is on (clients/tracing.ts). */
  traceStep?: StepTracer;
}

export const caseRoutes: FastifyPluginAsyncZod<CaseRouteOptions> = async (app, opts) => {
  const commandDeps = (): CommandDeps => ({ pool: app.pool, temporal: app.temporal, updateTimeoutMs: opts.updateTimeoutMs });
  const stuckDeps = (): StuckDeps => ({ pool: app.pool, temporal: app.temporal, config: app.config, calendar: app.calendar });

  app.post(
    '/cases',
    {
      config: { roles: allowedRoles('case.submit') },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Submit a case (收件)',
        description: 'Idempotent by the Idempotency-Key header: the same key and body return the same case; the same key with another body is 409.',
        headers: intakeHeadersSchema,
        body: caseSubmissionSchema,
        response: { 201: caseAcceptedSchema, ...problems(400, 401, 403, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const key = checkIdempotencyKey(request.headers['idempotency-key']);
      const result = await submitCase(intakeDeps(app, opts), staffOf(request), key, request.body);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply
        .code(201)
        .header('location', `/v1/cases/${result.caseId}`)
        .send({ caseId: result.caseId, status: result.status, stage: result.stage, receipt: receiptFor(app.secrets.piiHashKey, result.caseId) });
    },
  );

  app.get(
    '/cases',
    {
      config: { roles: allowedRoles('case.read') },
      // A filter left empty (`?stage=&status=`, as forms send them) means no filter.
      preValidation: async (request) => {
        const query = request.query as Record<string, unknown>;
        for (const key of Object.keys(query)) if (query[key] === '') delete query[key];
      },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Cases visible to the token’s region, newest first',
        querystring: caseListQuerySchema,
        response: { 200: caseListSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) =>
      request.query.stuck ? listStuckForQuery(stuckDeps(), staffOf(request), request.query) : listCases(app.pool, staffOf(request), request.query, app.secrets.piiHashKey),
  );

  app.get(
    '/cases/stuck/events',
    {
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'The stuck list, live (server-sent events)',
        description:
          'text/event-stream: an `event: stuck` with the whole list (as GET /v1/cases?stuck=true) at once and again whenever it changes (looked at every STUCK_STREAM_INTERVAL_MS), and a `: keep-alive` comment in between. Scoped like the list.',
        response: { ...problems(401, 403) },
      },
    },
    async (request, reply) => streamStuckCases(stuckDeps(), staffOf(request), request, reply, app.config.STUCK_STREAM_INTERVAL_MS),
  );

  app.get(
    '/cases/:caseId',
    {
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'One case: stage, status, timeline and materials; personal data masked',
        params: caseIdParams,
        response: { 200: caseDetailSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => getCase(app.pool, staffOf(request), request.params.caseId, app.secrets.piiHashKey),
  );

  app.get(
    '/cases/:caseId/deadlines',
    {
      // A manager or an item admin reads no case: 403 before anything is looked up (docs/security.md).
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'The promised and statutory time limits in working days, with their derivation',
        description:
          'Counted from the day the handling authority received the materials (or the day art. 32 deems the application accepted); the start day is not counted (art. 82); waiting for a supplement to the authority\'s notice and art. 45 procedures do not count.',
        params: caseIdParams,
        response: { 200: deadlinesSchema, ...problems(400, 401, 404, 422) },
      },
    },
    async (request) => {
      await authorizeCaseAction(app.pool, staffOf(request), request.params.caseId, 'case.read');
      return caseDeadlines(app.pool, app.calendar, { warnDaysLeft: app.config.SLA_WARN_DAYS_LEFT, warnUsedRatio: app.config.SLA_WARN_USED_RATIO }, request.params.caseId);
    },
  );

  const commandResponses = { 200: caseActionResultSchema, ...problems(400, 401, 403, 404, 409, 503) };

  app.post(
    '/cases/:caseId/withdraw',
    {
      config: { roles: allowedRoles('case.withdraw'), caseAction: 'case.withdraw' },
      schema: { ...secured, tags: ['cases'], summary: 'Withdraw the case on the applicant’s request (receiving side, before a decision)', params: caseIdParams, body: staffCommandSchema, response: commandResponses },
    },
    async (request) => runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'withdraw', reason: request.body.reason }),
  );

  app.post(
    '/cases/:caseId/retry',
    {
      config: { roles: allowedRoles('case.retry'), caseAction: 'case.retry' },
      schema: { ...secured, tags: ['cases'], summary: 'Retry the step the case is stuck on (needsIntervention)', params: caseIdParams, body: staffCommandSchema, response: commandResponses },
    },
    async (request) => runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'retry', reason: request.body.reason }),
  );

  app.post(
    '/cases/:caseId/delivery-confirmation',
    {
      config: { roles: allowedRoles('case.confirmDelivery'), caseAction: 'case.confirmDelivery' },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Record a window pick-up or a mail receipt (receiving side)',
        params: caseIdParams,
        body: deliveryConfirmationSchema,
        response: commandResponses,
      },
    },
    async (request) => {
      const { method, note } = request.body;
      return runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'confirmDelivery', method, ...(note ? { note } : {}) });
    },
  );

  app.post(
    '/cases/:caseId/supplements',
    {
      config: { roles: allowedRoles('case.supplement'), caseAction: 'case.supplement' },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Take in the applicant’s supplement answering the open correction notice (补正, receiving side)',
        description:
          'One uploaded file per deficiency of the open notice (GET /v1/cases/{caseId} → correction). 409 `notice-not-open` when that notice is not the open one; 400 naming `items` when a deficiency is left unanswered. 202: the workflow took the supplement in; it is transferred and acknowledged like an original material.',
        params: caseIdParams,
        body: supplementSchema,
        response: { 202: caseActionResultSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { noticeId, items } = request.body;
      const result = await runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'supplement', noticeId, items });
      return reply.code(202).send(result);
    },
  );

  app.post(
    '/cases/:caseId/extensions',
    {
      config: { roles: allowedRoles('case.extend'), caseAction: 'case.extend' },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Ask to extend the time limit (art. 42; an approver of the handling side)',
        description: 'At most the item’s review.maxExtensionDays in all, one request at a time, before the decision; 409 otherwise. Counts once a supervisor of the handling side approves it.',
        params: caseIdParams,
        body: extensionRequestSchema,
        response: { 201: extensionResultSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { days, reason } = request.body;
      const result = await runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'requestExtension', days, reason });
      return reply.code(201).header('location', `/v1/cases/${result.caseId}/extensions/${encodeURIComponent(result.extension!.extensionId)}`).send({ caseId: result.caseId, extension: result.extension! });
    },
  );

  app.post(
    '/cases/:caseId/extensions/:extensionId/decision',
    {
      config: { roles: allowedRoles('case.decideExtension'), caseAction: 'case.decideExtension' },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Approve or refuse an extension (the head of the authority: a supervisor of the handling side)',
        params: extensionParams,
        body: extensionDecisionSchema,
        response: { 200: extensionResultSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { approve, reason } = request.body;
      const { caseId, extensionId } = request.params;
      const result = await runCaseCommand(commandDeps(), staffOf(request), caseId, { kind: 'decideExtension', extensionId, approve, reason });
      return { caseId: result.caseId, extension: result.extension! };
    },
  );

  app.post(
    '/cases/:caseId/consultations',
    {
      config: { roles: allowedRoles('case.consult'), caseAction: 'case.consult' },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Request a video consultation (视频会商) between the offices (clerk, approver or supervisor of either side)',
        description:
          'The case books a room with the video-meeting service for the first proposed time still ahead (30 minutes) and records the room and a personal join link per participant (GET /v1/cases/{caseId} → consultations); if the service refuses or stays down past the retry budget the consultation is `failed` and may be requested again. Before the case went to the handling authority (视频会商收件) it holds the transfer until its outcome. 409 with the reason when the case does not allow one now (decided or closed, another requested or booked).',
        params: caseIdParams,
        body: consultationRequestSchema,
        response: { 202: consultationResultSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { topic, participants, proposedTimes } = request.body;
      const result = await runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'requestConsultation', topic, participants, proposedTimes });
      const { consultation, ...rest } = result;
      // Its room and links follow in the case view (GET /v1/cases/{caseId} → consultations).
      return reply.code(202).send({ ...rest, consultation: consultation! });
    },
  );

  app.post(
    '/cases/:caseId/consultations/:id/outcome',
    {
      config: { roles: allowedRoles('case.consultationOutcome'), caseAction: 'case.consultationOutcome' },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Record what came of a video consultation (staff of either side)',
        description:
          'For a booked or missed consultation. The case goes on from the agreed step: before the transfer `correction` opens a one-time notice of the receiving window with the deficiencies and `reject` closes the case not_accepted with the minutes as the reason; after it, both are the handling authority’s to issue and the agreement is recorded; `continue` changes nothing; `withdraw-advised` is recorded (the applicant may withdraw). 404 for a consultation the case does not have; 409 when it is not waiting for an outcome.',
        params: consultationParams,
        body: consultationOutcomeSchema,
        response: { 200: consultationResultSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { held, minutes, agreed, deficiencies } = request.body;
      const result = await runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, {
        kind: 'recordConsultationOutcome',
        consultationId: request.params.id,
        held,
        minutes,
        agreed,
        ...(deficiencies ? { deficiencies } : {}),
      });
      const { consultation, ...rest } = result;
      return { ...rest, consultation: consultation! };
    },
  );
};

const clockReadingSchema = z
  .object({
    dueDate: z.string().nullable().meta({ description: 'The last day of the limit; null while a pause is open' }),
    dueDateIfResumedToday: z.string(),
    limitDays: z.number().int(),
    extendedBy: z.number().int(),
    used: z.number().int(),
    paused: z.number().int(),
    remaining: z.number().int(),
    state: z.enum(['green', 'yellow', 'red']),
    stopped: z.boolean(),
    derivation: z.object({
      start: z.string(),
      limitDays: z.number().int(),
      extensions: z.array(z.object({ days: z.number().int(), approvedOn: z.string(), reason: z.string() })),
      pauses: z.array(z.object({ kind: z.enum(['correction', 'procedure']), from: z.string(), to: z.string().nullable(), reason: z.string(), workingDays: z.number().int() })),
      holidays: z.array(z.object({ date: z.string(), name: z.string() })),
      adjustedWorkingDays: z.array(z.string()),
      weekendDays: z.number().int(),
    }),
  })
  .meta({ id: 'ClockReading' });

const deadlinesSchema = z
  .object({
    caseId: z.string(),
    started: z.boolean(),
    asOf: z.string(),
    promised: clockReadingSchema.nullable(),
    statutory: clockReadingSchema.nullable(),
    delivery: clockReadingSchema
      .extend({ approvedOn: z.string().meta({ format: 'date' }), deliveredOn: z.string().nullable().meta({ format: 'date' }) })
      .nullable()
      .meta({ description: 'Art. 44: the result reaches the applicant within 10 working days of the approval; counted to the day it was delivered' }),
    calendarGap: z.string().nullable().optional().meta({ description: 'Why a limit is null: the working-day calendar data ends before it' }),
  })
  .meta({ id: 'CaseDeadlines' });

function intakeDeps(app: FastifyInstance, opts: CaseRouteOptions) {
  return { pool: app.pool, temporal: app.temporal, config: app.config, secrets: app.secrets, metrics: app.metrics, startTimeoutMs: opts.startTimeoutMs, traceStep: opts.traceStep };
}
