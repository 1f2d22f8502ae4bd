// Remote payload codec (Temporal's codec server protocol) so authorised staff can read the
// encrypted payloads of a case's history, e.g.
//   temporal workflow show -w case:<id> --codec-endpoint http://127.0.0.1:3000/v1/codec \
//     --codec-auth "Bearer $(npm run -s token -- --role supervisor --region 440000)"
// or from the Temporal Web UI behind the same token. Every call is audited: decoding shows
// citizens' data in clear.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from '../../crypto/payloadCodec.js';
import { authenticate, staffOf } from '../auth.js';
import { writeAudit } from '../db.js';
import { problem, problems } from '../problem.js';
import { secured } from './common.js';

/** Payloads as the codec protocol sends them: metadata values and data in base64. */
const jsonPayload = z.object({ metadata: z.record(z.string(), z.string()).nullish(), data: z.string().nullish() });
const codecBody = z.object({ payloads: z.array(jsonPayload).max(10_000) });
type JsonPayload = z.infer<typeof jsonPayload>;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: p.data ? Buffer.from(p.data, 'base64') : undefined,
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: p.data ? Buffer.from(p.data).toString('base64') : undefined,
});

export const codecRoutes: FastifyPluginAsyncZod = async (app) => {
  const codec = new EncryptionCodec(app.secrets.payloadKeys);
  const origins = new Set(app.config.CODEC_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean));
  const verify = authenticate(app.secrets.jwtSecret);

  // The Web UI calls from the browser: CORS for the configured UI origins, preflight unauthenticated.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin && origins.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('vary', 'origin');
    }
    if (request.method === 'OPTIONS') return reply.code(204).send();
    await verify(request, reply);
  });
  app.options('/*', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());

  for (const direction of ['decode', 'encode'] as const) {
    app.post(
      `/${direction}`,
      {
        config: { roles: ['supervisor', 'approver'] },
        schema: {
          ...secured,
          tags: ['codec'],
          summary: `${direction === 'decode' ? 'Decrypt' : 'Encrypt'} Temporal payloads (codec server protocol)`,
          body: codecBody,
          response: { 200: codecBody, ...problems(400, 401, 403, 422) },
        },
      },
      async (request) => {
        const staff = staffOf(request);
        let out: Payload[];
        try {
          const payloads = request.body.payloads.map(fromJson);
          out = direction === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        } catch (e) {
          throw problem(422, `the payloads could not be ${direction}d: ${(e as Error).message}`);
        }
        await writeAudit(app.pool, {
          actor: staff.sub,
          role: staff.role,
          region: staff.region,
          action: `payload.${direction}`,
          detail: { namespace: request.headers['x-namespace'] ?? null, payloads: out.length },
        });
        return { payloads: out.map(toJson) };
      },
    );
  }
};
