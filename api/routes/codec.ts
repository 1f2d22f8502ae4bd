// Remote payload codec (Temporal's codec server protocol) so authorised staff can read the
// encrypted payloads of a case's history, e.g.
//   temporal workflow show -w case:<id> --codec-endpoint http://127.0.0.1:3000/v1/codec \
//     --codec-auth "Bearer $(npm run -s token -- --role supervisor --region 440000)"
// or from the Temporal Web UI: with its codec setting "include cross-origin credentials" on, the
// browser sends the staff member's console session cookie (docs/operations.md, "Reading payloads").
//
// Decoding is case-scoped: each payload is bound to its workflow (crypto/payloadCodec.ts), and a
// payload is opened only if the staff member may decode that case's payloads under
// domain/policy.ts (a supervisor or approver of either side). Any other payload comes back as it
// was, still encrypted. Every call is audited with the workflow ids it decoded and refused, one row
// per case decoded (a read of its personal data, docs/security.md), before the payloads are answered.
// Encoding for clients is refused: data enters a case only through tongban's API.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { boundWorkflowId, EncryptionCodec, isEncrypted } from '../../crypto/payloadCodec.js';
import { writeAudit, writeCaseReads } from '../../db/audit.js';
import { findCaseHeader, type CaseHeader } from '../../db/caseQueries.js';
import { readerSide } from '../../domain/dataAccess.js';
import { allowedRoles, mayAct, sidesOf } from '../../domain/policy.js';
import { caseIdFromWorkflowId } from '../../workflows/messages.js';
import { unaudited } from '../accessLog.js';
import { authenticate, staffOf, type StaffClaims } from '../auth.js';
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

const CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const codecRoutes: FastifyPluginAsyncZod = async (app) => {
  const codec = new EncryptionCodec(app.secrets.payloadKeys);
  const origins = new Set(app.config.CODEC_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean));
  const ownOrigin = new URL(app.config.PUBLIC_URL).origin;
  // The Web UI cannot send our CSRF header, so a decode with the session cookie needs none when it
  // comes from a page of an allowed origin (the Web UI's, or our own). That is safe because the
  // browser, not the page, sets Origin: a page elsewhere that makes the staff member's browser
  // POST here carries its own origin and still needs the header. Twice over, in fact: its JSON
  // POST needs a CORS preflight this hook answers without allow-origin for it, and even a request
  // that got through would be answered to a page that may not read it. A request with no Origin
  // (not a browser's fetch) needs the header too.
  const allowedOrigin = (request: FastifyRequest) => {
    const origin = request.headers.origin;
    return typeof origin === 'string' && (origins.has(origin) || origin === ownOrigin);
  };
  const verify = authenticate(app.secrets.jwtSecret, app.config.TOKEN_MAX_AGE_SECONDS, { sessions: app.staffSessions, csrfExempt: allowedOrigin });

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

  /** Which workflows' payloads this staff member may open, with their cases (looked up once per workflow id). */
  async function decodableWorkflows(staff: StaffClaims, workflowIds: Set<string>): Promise<Map<string, CaseHeader>> {
    const allowed = new Map<string, CaseHeader>();
    for (const workflowId of workflowIds) {
      const caseId = caseIdFromWorkflowId(workflowId);
      if (!caseId || !CASE_UUID.test(caseId)) continue;
      const header = await findCaseHeader(app.pool, caseId);
      if (header && mayAct(staff, 'payload.decode', header).ok) allowed.set(workflowId, header);
    }
    return allowed;
  }

  app.post(
    '/decode',
    {
      config: { roles: allowedRoles('payload.decode') },
      schema: {
        ...secured,
        tags: ['codec'],
        summary: 'Decrypt Temporal payloads of the cases the caller may see (codec server protocol)',
        description: 'Payloads of other cases, and payloads not bound to a case, come back unchanged (still encrypted).',
        body: codecBody,
        response: { 200: codecBody, ...problems(400, 401, 403, 422) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const payloads = request.body.payloads.map(fromJson);
      const bound = new Set(payloads.filter(isEncrypted).map(boundWorkflowId).filter((id): id is string => id !== null));
      const allowed = await decodableWorkflows(staff, bound);
      let out: Payload[];
      try {
        out = payloads.map((p) => {
          if (!isEncrypted(p)) return p;
          const workflowId = boundWorkflowId(p);
          return workflowId && allowed.has(workflowId) ? codec.open(p) : p;
        });
      } catch (e) {
        throw problem(422, `the payloads could not be decoded: ${(e as Error).message}`);
      }
      const decoded = [...allowed.keys()].sort();
      const refused = [...bound].filter((id) => !allowed.has(id)).sort();
      const detail = {
        namespace: request.headers['x-namespace'] ?? null,
        payloads: payloads.length,
        workflowIds: decoded,
        refusedWorkflowIds: refused,
        unbound: payloads.filter((p) => isEncrypted(p) && boundWorkflowId(p) === null).length,
      };
      // One row per case decoded (its access log and the applicant's trail find it by case id), or
      // one without a case when nothing was; written before the clear payloads leave, or 503.
      try {
        if (allowed.size === 0) await writeAudit(app.pool, { actor: staff.sub, role: staff.role, region: staff.region, action: 'payload.decode', detail });
        else {
          await writeCaseReads(
            app.pool,
            [...allowed.values()].map((header) => ({
              actor: staff.sub, role: staff.role, region: staff.region, action: 'payload.decode' as const, caseId: header.caseId,
              detail: { ...detail, side: readerSide(sidesOf(staff, header)) },
            })),
          );
        }
      } catch (e) {
        throw unaudited(e);
      }
      return { payloads: out.map(toJson) };
    },
  );

  app.post(
    '/encode',
    {
      config: { roles: allowedRoles('payload.encode') },
      schema: {
        ...secured,
        tags: ['codec'],
        summary: 'Refused: tongban does not encrypt payloads for clients',
        description: 'Only holders of the payload key can put data into a case; staff act through the API. An empty list is answered empty (the Web UI sends one).',
        body: codecBody,
        response: { 200: codecBody, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      if (request.body.payloads.length > 0) {
        throw problem(403, 'tongban does not encrypt payloads for clients: data enters a case only through the tongban API');
      }
      return { payloads: [] };
    },
  );
};
