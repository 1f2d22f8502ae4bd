// Evaluation routes (api/evaluation.ts). POST …/evaluation is open to the applicant with the
// receipt's query code (no login, rate-limited) and to receiving-side staff with a bearer token;
// the rest need a token.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVALUATION_LEVELS } from '../../db/evaluations.js';
import { isCalendarDate } from '../../domain/calendar.js';
import { staffOf, verifyToken, type StaffClaims } from '../auth.js';
import { allowedRoles } from '../../domain/policy.js';
import { authorizeCaseBeforeBody } from '../caseReads.js';
import { closeCaseFollowUp, evaluate, followUpList, getEvaluation, report, type EvaluationDeps } from '../evaluation.js';
import { problem, problems } from '../problem.js';
import { caseIdParams, plainString } from '../schemas.js';
import { secured } from './common.js';

const side = z.enum(['receiving', 'handling']);
const CHANNELS = ['window', 'online', 'app', 'sms', 'phone', 'self-service'] as const;

const evaluationBodySchema = z
  .strictObject({
    level: z.enum(EVALUATION_LEVELS),
    comment: plainString().max(2000).optional(),
    channel: z.enum(CHANNELS).meta({ description: 'Where the applicant gave the rating' }),
    concerns: side.optional().meta({ description: 'The office the rating is about (default: receiving, the window that served the applicant); a 差评 is followed up by its supervisors' }),
    queryCode: plainString().max(32).optional().meta({ description: 'The receipt’s query code: required without a staff token' }),
  })
  .meta({ id: 'EvaluationBody' });

const evaluationSchema = z.object({
  caseId: z.uuid(),
  level: z.enum(EVALUATION_LEVELS),
  comment: z.string().nullable(),
  channel: z.string(),
  concerns: side,
  recordedBy: z.string().meta({ description: '"applicant", or the staff member who recorded it' }),
  recordedAt: z.string(),
});
const followUpSchema = z
  .object({
    caseId: z.uuid(),
    side,
    region: z.string(),
    openedAt: z.string(),
    dueDate: z.string().meta({ format: 'date' }),
    revisit: z.string().nullable().meta({ description: '回访: what the applicant said when called back' }),
    rectification: z.string().nullable().meta({ description: '整改: what was changed' }),
    outcome: z.enum(['resolved', 'unresolved']).nullable(),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
    escalatedAt: z.string().nullable(),
    escalatedTo: z.string().nullable().meta({ description: 'The province whose supervisors an overdue follow-up was escalated to' }),
    overdue: z.boolean().optional(),
  })
  .meta({ id: 'FollowUp' });
const resultSchema = z.object({ evaluation: evaluationSchema, followUp: followUpSchema.nullable() }).meta({ id: 'EvaluationResult' });

function depsOf(app: Parameters<FastifyPluginAsyncZod>[0]): EvaluationDeps {
  return { pool: app.pool, config: app.config, calendar: app.calendar, hashKey: app.secrets.piiHashKey };
}

/** POST /v1/cases/:caseId/evaluation: the applicant (query code) or receiving-side staff (token). */
export const evaluationPublicRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/cases/:caseId/evaluation',
    {
      config: { rateLimit: { max: app.config.PUBLIC_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 }, caseAction: 'case.evaluate' },
      schema: {
        tags: ['evaluation'],
        summary: 'Rate the service once the case has closed (好差评): the applicant with the receipt’s query code, or receiving-side staff for the applicant',
        description: '不满意 and 非常不满意 open a follow-up owned by the supervisors of the side the rating concerns. One evaluation per case (409). A wrong query code is the same 404 as an unknown case.',
        params: caseIdParams,
        body: evaluationBodySchema,
        response: { 201: resultSchema, ...problems(400, 401, 403, 404, 409, 429) },
      },
      // A bearer token is judged, and the staff member's side of the case checked, before the body:
      // who may not record an evaluation gets 401/403/404, never a 400 about the body.
      preValidation: async (request) => {
        const header = request.headers.authorization;
        if (!header) return;
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!match) throw problem(401, 'the Authorization header must be "Bearer <token>"');
        request.staff = await verifyToken(app.secrets.jwtSecret, match[1]!, app.config.TOKEN_MAX_AGE_SECONDS);
        // As a role gate does elsewhere: a role that may not is told so before the case is looked up.
        const roles = allowedRoles('case.evaluate');
        if (!roles.includes(request.staff.role)) throw problem(403, `the role ${request.staff.role} may not do this; allowed: ${roles.join(', ')}`);
        await authorizeCaseBeforeBody(app.pool)(request);
      },
    },
    async (request, reply) => {
      const staff: StaffClaims | null = request.staff;
      const result = await evaluate(depsOf(app), staff, request.params.caseId, request.body);
      return reply.code(201).send(result);
    },
  );
};

const dateParam = plainString().refine(isCalendarDate, 'must be a date YYYY-MM-DD');

/** Reading evaluations, the follow-up queue and the report; closing a follow-up. Staff only. */
export const evaluationRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/cases/:caseId/evaluation',
    // A manager or an item admin reads no case: 403 before anything is looked up (docs/security.md).
    { config: { roles: allowedRoles('case.read') }, schema: { ...secured, tags: ['evaluation'], summary: 'The case’s evaluation and its follow-up', params: caseIdParams, response: { 200: resultSchema, ...problems(400, 401, 404) } } },
    async (request) => getEvaluation(depsOf(app), staffOf(request), request.params.caseId),
  );

  app.post(
    '/cases/:caseId/evaluation/follow-up',
    {
      // Neither side: 404 before the body (the follow-up's owner, a side's or its province's supervisors, is on a side).
      config: { roles: ['supervisor'], caseAction: 'case.read' },
      schema: {
        ...secured,
        tags: ['evaluation'],
        summary: 'Close the follow-up of a 差评 (回访 and 整改): a supervisor of the side responsible, or of the province it was escalated to',
        params: caseIdParams,
        body: z.strictObject({ revisit: plainString().min(2).max(2000), rectification: plainString().min(2).max(2000), outcome: z.enum(['resolved', 'unresolved']) }),
        response: { 200: followUpSchema, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => closeCaseFollowUp(depsOf(app), staffOf(request), request.params.caseId, request.body),
  );

  app.get(
    '/follow-ups',
    {
      // The applicants' comments: staff who read cases (domain/policy.ts case.read), not managers or item admins.
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['evaluation'],
        summary: 'Follow-ups of 差评 in the staff member’s region (or escalated to it), open ones first by due date',
        querystring: z.strictObject({ state: z.enum(['open', 'overdue', 'closed']).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: { 200: z.object({ items: z.array(followUpSchema.extend({ evaluation: evaluationSchema })) }), ...problems(400, 401) },
      },
    },
    async (request) => followUpList(depsOf(app), staffOf(request), request.query),
  );

  app.get(
    '/evaluations/report',
    {
      config: { roles: ['supervisor', 'manager'] },
      schema: {
        ...secured,
        tags: ['evaluation'],
        summary: 'Ratings per level, the 差评 rate and the follow-ups, for the cases of the staff member’s region evaluated in [from, to)',
        querystring: z.strictObject({ from: dateParam, to: dateParam }),
        response: {
          200: z.object({
            region: z.string(),
            from: z.string(),
            to: z.string(),
            total: z.number().int(),
            byLevel: z.record(z.string(), z.number().int()),
            negative: z.number().int(),
            negativeRate: z.number(),
            followUps: z.object({ open: z.number().int(), overdue: z.number().int(), escalated: z.number().int(), resolved: z.number().int(), unresolved: z.number().int() }),
          }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => report(depsOf(app), staffOf(request), request.query),
  );
};
