// GET /v1/cases/:caseId/access-log: who read this case's personal data and when, and every other
// audit row of the case (each staff action with its reason), newest first. Supervisors of either
// side only (case.readAccessLog in domain/policy.ts); staff of neither side are told the case does
// not exist, other roles get 403 before the case is looked up. The read is itself audited.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allowedRoles } from '../../domain/policy.js';
import { staffOf } from '../auth.js';
import { getAccessLog } from '../caseReads.js';
import { problems } from '../problem.js';
import { caseIdParams } from '../schemas.js';
import { secured } from './common.js';

/** bigint's largest value: audit ids are bigserial, and a larger cursor is not one this API issued. */
const MAX_AUDIT_ID = 9_223_372_036_854_775_807n;

const accessLogQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) <= MAX_AUDIT_ID, 'is not a cursor this API issued')
    .optional()
    .meta({ description: 'nextCursor of the previous page' }),
});

const auditRowSchema = z
  .object({
    id: z.string().meta({ description: 'The row’s id: rows are numbered in the order they were written' }),
    at: z.string().meta({ format: 'date-time' }),
    actor: z.string().meta({ description: 'The staff member (token subject), or applicant / system:<…> for rows not written by staff' }),
    role: z.string(),
    region: z.string(),
    action: z.string().meta({ description: 'case.read (a read of the case’s personal data: detail.view, detail.route, detail.side), payload.decode, or the staff action (case.submit, case.withdraw, …)' }),
    reason: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditRow' });

const accessLogSchema = z
  .object({ caseId: z.uuid(), items: z.array(auditRowSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'AccessLog' });

export const accessLogRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/cases/:caseId/access-log',
    {
      config: { roles: allowedRoles('case.readAccessLog') },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'Who read this case’s personal data and when, and every staff action on it: the case’s audit rows, newest first (supervisors of either side)',
        description:
          'The audit log is append-only (a database trigger refuses UPDATE, DELETE and TRUNCATE). Each read of the case’s personal data by staff is a `case.read` row naming the view read, the route and the side of the case the reader stood on; reading this log is one too. 503 when the read cannot be recorded.',
        params: caseIdParams,
        querystring: accessLogQuerySchema,
        response: { 200: accessLogSchema, ...problems(400, 401, 403, 404, 503) },
      },
    },
    async (request) => getAccessLog(app.pool, staffOf(request), request.params.caseId, request.query),
  );
};
