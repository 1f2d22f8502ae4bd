// GET /v1/progress/:caseId?code=… — the applicant's progress lookup with the query code from the
// receipt (api/progress.ts). Public: no login, rate-limited per client address
// (PUBLIC_RATE_LIMIT_PER_MINUTE), nothing personal beyond the masked name; which offices read the
// applicant's file and when, never who (dataAccess).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CASE_STAGES, CASE_STATUSES } from '../../domain/case.js';
import { DATA_ACCESS_ACTIONS, READ_VIEWS, type ReadView } from '../../domain/dataAccess.js';
import { DATA_ACCESS_TRAIL_LIMIT } from '../accessLog.js';
import { lookupProgress } from '../progress.js';
import { problems } from '../problem.js';
import { plainString } from '../schemas.js';

const dataAccessSchema = z
  .object({
    at: z.string().meta({ format: 'date-time' }),
    office: z.object({
      region: z.string().meta({ description: 'The reading office’s division code' }),
      province: z.string(),
      side: z.enum(['receiving', 'handling', 'both']).nullable().meta({ description: 'The side of the case the office is on: the receiving window (收件地), the handling authority (办理地), or both' }),
      label: z.string().meta({ description: '"四川省 办理地"' }),
    }),
    kind: z.enum(DATA_ACCESS_ACTIONS).meta({ description: 'case.read: a staff view of the case; payload.decode: its encrypted workflow data opened' }),
    view: z.enum(Object.keys(READ_VIEWS) as [ReadView, ...ReadView[]]).nullable().meta({ description: 'Which view was read (null for a decode)' }),
    text: z.string().meta({ description: 'What was read, in the applicant’s words (Chinese)' }),
  })
  .meta({ id: 'DataAccess' });

const progressSchema = z
  .object({
    caseId: z.uuid(),
    itemName: z.string(),
    applicantName: z.string().meta({ description: 'masked' }),
    stage: z.enum(CASE_STAGES),
    status: z.enum(CASE_STATUSES),
    statusText: z.string().meta({ description: 'Where the case stands, in the applicant’s words (Chinese)' }),
    nextStep: z.string().meta({ description: 'What the applicant must do next, or that nothing is needed' }),
    expectedDate: z.string().nullable().meta({ format: 'date', description: 'The supplement deadline while one is asked for, else the promised due date; null when not yet known or closed' }),
    submittedAt: z.string().meta({ format: 'date-time' }),
    closedAt: z.string().nullable().meta({ format: 'date-time' }),
    dataAccess: z
      .array(dataAccessSchema)
      .meta({ description: `Staff reads of the applicant’s personal data, newest first (at most ${DATA_ACCESS_TRAIL_LIMIT}): which office, when and what; never the staff member` }),
  })
  .meta({ id: 'Progress' });

export const progressRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/progress/:caseId',
    {
      config: { rateLimit: { max: app.config.PUBLIC_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ['public'],
        summary: 'The applicant’s progress lookup with the query code from the receipt (no login)',
        description: 'A wrong code answers 404 exactly like an unknown case. Rate-limited per client address: 429 with Retry-After.',
        params: z.object({ caseId: z.uuid() }),
        querystring: z.strictObject({ code: plainString().min(1).max(32).meta({ description: 'The query code printed on the receipt (回执)' }) }),
        response: { 200: progressSchema, ...problems(400, 404, 429) },
      },
    },
    async (request) => lookupProgress(app.pool, app.secrets.piiHashKey, request.params.caseId, request.query.code),
  );
};
