// Liveness, readiness and Prometheus metrics: unauthenticated, outside /v1, hidden from the docs.
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

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
    check(() => app.pool.query('select 1')),
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

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await app.metrics.registry.metrics();
    return reply.type(app.metrics.registry.contentType).send(body);
  });
};
