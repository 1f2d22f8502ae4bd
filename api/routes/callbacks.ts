// POST /v1/province-callbacks/:regionCode — signed by the province, not by a staff token. The
// signature covers the exact bytes sent, so this scope parses JSON itself and keeps the raw body.
// The body is validated with the protocol's event schema (contracts/province.ts), `data` by the
// event's type: a control character, an oversized field or a certificate without an issuer is a
// 400 naming every bad field, and the case never hears of it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { PROVINCE_EVENT_TYPES } from '../../domain/case.js';
import { checkSignature, findProvince, receiveProvinceEvent } from '../callbacks.js';
import type { CallbackOutcome } from '../metrics.js';
import { problem, problems } from '../problem.js';
import { callbackAckSchema, liaisonEventSchema, provinceCallbackParams, provinceEventSchema } from '../../contracts/province.js';
import { receiveLiaisonEvent } from '../liaison.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received (callback routes only). */
    rawBody: string | null;
    /** What became of a callback that reached the handler (for the metric). */
    callbackOutcome: CallbackOutcome | null;
  }
}

export interface CallbackRouteOptions {
  signalTimeoutMs: number;
}

const OUTCOME_BY_STATUS: Record<number, CallbackOutcome> = { 202: 'accepted', 200: 'duplicate', 401: 'unauthorized', 400: 'invalid', 404: 'unknown_case', 415: 'invalid', 413: 'invalid' };

export const callbackRoutes: FastifyPluginAsyncZod<CallbackRouteOptions> = async (app, opts) => {
  app.decorateRequest('rawBody', null);
  app.decorateRequest('callbackOutcome', null);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const raw = typeof body === 'string' ? body : body.toString('utf8');
    request.rawBody = raw;
    try {
      done(null, JSON.parse(raw));
    } catch {
      done(problem(400, 'the body is not valid JSON', { errors: [{ path: 'body', message: 'is not valid JSON' }] }), undefined);
    }
  });

  const countOutcome = async (request: FastifyRequest, reply: FastifyReply) => {
    const { regionCode } = request.params as { regionCode?: string };
    const type = (request.body as { type?: unknown } | undefined)?.type;
    app.metrics.provinceCallbacks.inc({
      region: regionCode && app.secrets.provinces.some((p) => p.code === regionCode) ? regionCode : 'unknown',
      type: typeof type === 'string' && (PROVINCE_EVENT_TYPES as readonly string[]).includes(type) ? type : 'unknown',
      outcome: request.callbackOutcome ?? OUTCOME_BY_STATUS[reply.statusCode] ?? 'unavailable',
    });
  };

  app.post(
    '/province-callbacks/:regionCode',
    {
      // Authenticity before shape: an unsigned request learns nothing about the schema.
      preValidation: async (request) => {
        const { regionCode } = request.params as { regionCode: string };
        checkSignature(findProvince(app.secrets.provinces, regionCode), { url: request.url, rawBody: request.rawBody ?? '', headers: request.headers });
      },
      onResponse: countOutcome,
      schema: {
        tags: ['province callbacks'],
        summary: 'A signed event from a handling province (docs/province-protocol.md)',
        description: 'Signed with X-Tongban-Timestamp and X-Tongban-Signature; a repeated eventId, or an event for a case that has ended, is acknowledged with 200 and ignored.',
        params: provinceCallbackParams,
        body: provinceEventSchema,
        response: { 202: callbackAckSchema, 200: callbackAckSchema, ...problems(400, 401, 404, 503) },
      },
    },
    async (request, reply) => {
      const deps = { pool: app.pool, temporal: app.temporal, signalTimeoutMs: opts.signalTimeoutMs, metrics: app.metrics };
      const result = await receiveProvinceEvent(deps, request.params.regionCode, request.body);
      request.callbackOutcome = result === 'closed' ? 'case_closed' : result;
      if (result === 'duplicate') return reply.code(200).send({ accepted: true, duplicate: true });
      if (result === 'closed') return reply.code(200).send({ accepted: true, caseClosed: true });
      return reply.code(202).send({ accepted: true });
    },
  );
  app.post(
    '/province-callbacks/:regionCode/liaison',
    {
      preValidation: async (request) => {
        const { regionCode } = request.params as { regionCode: string };
        checkSignature(findProvince(app.secrets.provinces, regionCode), { url: request.url, rawBody: request.rawBody ?? '', headers: request.headers });
      },
      schema: {
        tags: ['province callbacks'],
        summary: 'A liaison message from the handling authority’s system, or its acknowledgement of one (工作联络)',
        description: 'Signed like every callback. A repeated eventId is acknowledged with 200 and ignored.',
        params: provinceCallbackParams,
        body: liaisonEventSchema,
        response: { 202: callbackAckSchema, 200: callbackAckSchema, ...problems(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const result = await receiveLiaisonEvent(app.pool, request.params.regionCode, request.body);
      return result === 'duplicate' ? reply.code(200).send({ accepted: true, duplicate: true }) : reply.code(202).send({ accepted: true });
    },
  );
};
