// /v1/cases: intake, reads from the projection, and staff commands on a running case (among them
// the supplement answering a correction notice). Each route's
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
import { checkIdempotencyKey, submitCase } from '../intake.js';
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
}

export const caseRoutes: FastifyPluginAsyncZod<CaseRouteOptions> = async (app, opts) => {
  const commandDeps = (): CommandDeps => ({ pool: app.pool, temporal: app.temporal, updateTimeoutMs: opts.updateTimeoutMs });

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
        response: { 200: caseListSchema, ...problems(400, 401) },
      },
    },
    async (request) => listCases(app.pool, staffOf(request), request.query),
  );

  app.get(
    '/cases/:caseId',
    {
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'One case: stage, status, timeline and materials; personal data masked',
        params: caseIdParams,
        response: { 200: caseDetailSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => getCase(app.pool, staffOf(request), request.params.caseId, app.secrets.piiHashKey),
  );

  app.get(
    '/cases/:caseId/deadlines',
    {
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
      config: { roles: allowedRoles('case.withdraw') },
      schema: { ...secured, tags: ['cases'], summary: 'Withdraw the case on the applicant’s request (receiving side, before a decision)', params: caseIdParams, body: staffCommandSchema, response: commandResponses },
    },
    async (request) => runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'withdraw', reason: request.body.reason }),
  );

  app.post(
    '/cases/:caseId/retry',
    {
      config: { roles: allowedRoles('case.retry') },
      schema: { ...secured, tags: ['cases'], summary: 'Retry the step the case is stuck on (needsIntervention)', params: caseIdParams, body: staffCommandSchema, response: commandResponses },
    },
    async (request) => runCaseCommand(commandDeps(), staffOf(request), request.params.caseId, { kind: 'retry', reason: request.body.reason }),
  );

  app.post(
    '/cases/:caseId/delivery-confirmation',
    {
      config: { roles: allowedRoles('case.confirmDelivery') },
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
      config: { roles: allowedRoles('case.supplement') },
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
      config: { roles: allowedRoles('case.extend') },
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
      config: { roles: allowedRoles('case.decideExtension') },
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
    calendarGap: z.string().nullable().optional().meta({ description: 'Why a limit is null: the working-day calendar data ends before it' }),
  })
  .meta({ id: 'CaseDeadlines' });

function intakeDeps(app: FastifyInstance, opts: CaseRouteOptions) {
  return { pool: app.pool, temporal: app.temporal, config: app.config, secrets: app.secrets, metrics: app.metrics, startTimeoutMs: opts.startTimeoutMs };
}
