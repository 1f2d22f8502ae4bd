// Paper originals by post (api/originals.ts): the window records a posted parcel, the authority its
// arrival; both are entries of the hand-off ledger (GET /v1/cases/:caseId/handoffs).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allowedRoles } from '../../domain/policy.js';
import { staffOf } from '../auth.js';
import { recordOriginalsReceived, recordOriginalsSent } from '../originals.js';
import { problems } from '../problem.js';
import { caseIdParams, plainString } from '../schemas.js';
import { secured } from './common.js';

const trackingNumber = plainString().regex(/^[A-Za-z0-9-]{6,40}$/, 'must be 6–40 letters, digits or hyphens');
const entrySchema = z.object({ seq: z.number().int(), kind: z.string(), ref: z.string(), sentAt: z.string(), entryHash: z.string(), prevHash: z.string() }).meta({ id: 'HandoffReceipt' });

const receiptOf = (e: { seq: number; kind: string; ref: string; sentAt: string; entryHash: string; prevHash: string }) => ({ seq: e.seq, kind: e.kind, ref: e.ref, sentAt: e.sentAt, entryHash: e.entryHash, prevHash: e.prevHash });

export const originalsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/cases/:caseId/originals',
    {
      config: { roles: allowedRoles('case.sendOriginals'), caseAction: 'case.sendOriginals' },
      schema: {
        ...secured,
        tags: ['handoffs'],
        summary: 'Record paper originals posted to the handling authority (a hand-off ledger entry; idempotent by tracking number)',
        params: caseIdParams,
        body: z.strictObject({ trackingNumber, carrier: plainString().max(100).optional(), materialCodes: z.array(plainString().min(1).max(64)).min(1).max(50) }),
        response: { 201: entrySchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => reply.code(201).send(receiptOf(await recordOriginalsSent(app.pool, staffOf(request), request.params.caseId, request.body))),
  );

  app.post(
    '/cases/:caseId/originals/:trackingNumber/received',
    {
      config: { roles: allowedRoles('case.receiveOriginals') },
      schema: {
        ...secured,
        tags: ['handoffs'],
        summary: 'Record the arrival of a posted parcel of originals (the ledger’s acknowledgement of it)',
        params: caseIdParams.extend({ trackingNumber }),
        response: { 201: entrySchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => reply.code(201).send(receiptOf(await recordOriginalsReceived(app.pool, staffOf(request), request.params.caseId, request.params.trackingNumber))),
  );
};
