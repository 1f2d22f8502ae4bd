// Work liaison routes (api/liaison.ts): the message thread of a case between the two offices, and
// the handling authority's liaison callbacks (signed like every province callback).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIAISON_BODY_MAX, LIAISON_MAX_FILES } from '../../contracts/province.js';
import { allowedRoles } from '../../domain/policy.js';
import { staffOf } from '../auth.js';
import { acknowledge, getThread, postMessage, type LiaisonDeps } from '../liaison.js';
import { checkIdempotencyKey } from '../intake.js';
import { problems } from '../problem.js';
import { caseIdParams, intakeHeadersSchema, plainString } from '../schemas.js';
import { secured } from './common.js';

const side = z.enum(['receiving', 'handling']);

export const messageBodySchema = z
  .strictObject({
    to: side.meta({ description: 'The office written to; the writer must be on the other side' }),
    body: plainString().min(1).max(LIAISON_BODY_MAX),
    fileIds: z.array(z.uuid()).max(LIAISON_MAX_FILES).optional().meta({ description: 'Uploaded files (POST /v1/files) to attach' }),
    inReplyTo: z.uuid().optional().meta({ description: 'The message this one answers (it counts as acknowledged)' }),
  })
  .meta({ id: 'LiaisonMessageBody' });

const messageSchema = z
  .object({
    messageId: z.uuid(),
    caseId: z.uuid(),
    from: side,
    to: side,
    author: z.string().meta({ description: 'The staff member, or province:<code> for the authority’s own system' }),
    authorRole: z.string().nullable(),
    authorRegion: z.string().nullable(),
    body: z.string(),
    inReplyTo: z.uuid().nullable(),
    sentAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    forwardedAt: z.string().nullable().meta({ description: 'Messages to the handling side: when the authority’s system confirmed it' }),
    forwardError: z.string().nullable(),
    files: z.array(z.object({ position: z.number().int(), fileId: z.uuid(), sha256: z.string(), size: z.number().int(), contentType: z.string(), forwardedAt: z.string().nullable() })),
    waitingOfficeHours: z.number().nullable().meta({ description: 'Office hours waited without an acknowledgement' }),
    overdue: z.boolean().meta({ description: 'Unacknowledged past LIAISON_REPLY_HOURS office hours' }),
  })
  .meta({ id: 'LiaisonMessage' });

const messageParams = caseIdParams.extend({ messageId: z.uuid() });

export const liaisonRoutes: FastifyPluginAsyncZod = async (app) => {
  const deps = (): LiaisonDeps => ({ pool: app.pool, temporal: app.temporal, config: app.config, calendar: app.calendar });

  app.post(
    '/cases/:caseId/messages',
    {
      config: { roles: allowedRoles('case.message'), caseAction: 'case.message' },
      schema: {
        ...secured,
        tags: ['liaison'],
        summary: 'Write to the other office of the case (工作联络)',
        description: 'A message to the handling side is also forwarded to the authority’s own system. With an Idempotency-Key header a retry returns the same message.',
        params: caseIdParams,
        headers: intakeHeadersSchema,
        body: messageBodySchema,
        response: { 201: messageSchema, 200: messageSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const raw = request.headers['idempotency-key'];
      const key = raw === undefined || raw === '' ? null : checkIdempotencyKey(raw);
      const { message, created } = await postMessage(deps(), staffOf(request), request.params.caseId, request.body, key);
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply.code(created ? 201 : 200).send(message);
    },
  );

  app.get(
    '/cases/:caseId/messages',
    {
      // A manager or an item admin reads no case: 403 before anything is looked up (docs/security.md).
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['liaison'],
        summary: 'The case’s liaison thread, oldest first, with what waits for an acknowledgement',
        params: caseIdParams,
        response: { 200: z.object({ caseId: z.uuid(), messages: z.array(messageSchema) }), ...problems(400, 401, 404) },
      },
    },
    async (request) => getThread(deps(), staffOf(request), request.params.caseId),
  );

  app.post(
    '/cases/:caseId/messages/:messageId/ack',
    {
      config: { roles: allowedRoles('case.message') },
      schema: {
        ...secured,
        tags: ['liaison'],
        summary: 'Acknowledge a message written to your side (the first acknowledgement stands)',
        params: messageParams,
        response: { 200: messageSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => acknowledge(deps(), staffOf(request), request.params.caseId, request.params.messageId),
  );
};

