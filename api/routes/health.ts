// Liveness and readiness (unauthenticated, outside /v1) and Prometheus metrics. Metrics show
// traffic and case counts by item, so they are not public: with METRICS_PORT set they are served
// only on that port (api/server.ts, for a scraper inside the network) and this app answers 404;
// otherwise /metrics needs a supervisor's or manager's bearer token.
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pingDatabase } from '../../db/health.js';
import { authenticate } from '../auth.js';

/** Roles that may scrape /metrics with a token (when METRICS_PORT is unset). */
export const METRICS_ROLES = ['supervisor', 'manager'] as const;

const CHECK_TIMEOUT_MS = 2_000;

type CheckResult = 'ok' | 'unavailable';

async function check(probe: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

async function readiness(app: FastifyInstance) {
  const [postgres, temporal] = await Promise.all([
    check(() => pingDatabase(app.pool)),
    check(() => app.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => app.temporal.workflowService.getSystemInfo({}))),
  ]);
  return { ready: postgres === 'ok' && temporal === 'ok', checks: { postgres, temporal } };
}

const checkValue = z.enum(['ok', 'unavailable']);
const readySchema = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.object({ postgres: checkValue, temporal: checkValue }) });

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { tags: ['health'], response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
    const { ready, checks } = await readiness(app);
    return ready ? reply.code(200).send({ status: 'ready', checks }) : reply.code(503).send({ status: 'unavailable', checks });
  });

  if (app.config.METRICS_PORT !== undefined) return;
  app.get(
    '/metrics',
    {
      config: { roles: METRICS_ROLES },
      onRequest: authenticate(app.secrets.jwtSecret, app.config.TOKEN_MAX_AGE_SECONDS),
      schema: { hide: true },
    },
    async (_request, reply) => {
      const body = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(body);
    },
  );
};
