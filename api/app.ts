// The API as a plugin tree; nothing here listens (api/server.ts does), so tests build an app and
// call inject(). Shared resources are decorators on the root instance; the caller owns them and
// closes them, so many apps can share one pool and one Temporal client.
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { shippedCalendar } from '../calendar/load.js';
import type { ApiTracing } from '../clients/tracing.js';
import type { Config } from '../config/index.js';
import { loggerOptions } from '../config/logger.js';
import type { Secrets } from '../config/secrets.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { createFilesystemStore, type MaterialsStore } from '../materials/store.js';
import { authenticate } from './auth.js';
import { authorizeCaseBeforeBody } from './caseReads.js';
import { createMetrics, type Metrics } from './metrics.js';
import { errorHandler, notFoundHandler, problem } from './problem.js';
import { accessLogRoutes } from './routes/accessLog.js';
import { actionRoutes } from './routes/actions.js';
import { calendarRoutes } from './routes/calendar.js';
import { callbackRoutes } from './routes/callbacks.js';
import { caseRoutes } from './routes/cases.js';
import { codecRoutes } from './routes/codec.js';
import { consoleRoutes } from './routes/console.js';
import { evaluationPublicRoutes, evaluationRoutes } from './routes/evaluation.js';
import { fileRoutes } from './routes/files.js';
import { guideRoutes } from './routes/guide.js';
import { handoffRoutes } from './routes/handoffs.js';
import { healthRoutes } from './routes/health.js';
import { itemRoutes } from './routes/items.js';
import { liaisonRoutes } from './routes/liaison.js';
import { originalsRoutes } from './routes/originals.js';
import { progressRoutes } from './routes/progress.js';
import { reportRoutes } from './routes/reports.js';
import { verifyRoutes } from './routes/verify.js';
import { createStaffSessions, loginCookieSecret, sessionRoutes } from './session.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    secrets: Secrets;
    pool: pg.Pool;
    temporal: Client;
    store: MaterialsStore;
    metrics: Metrics;
    /** The working-day calendar (the worker's activities answer from the same data). */
    calendar: WorkingCalendar;
  }
}

export interface AppDeps {
  config: Config;
  secrets: Secrets;
  pool: pg.Pool;
  temporal: Client;
  /** Defaults to the filesystem store under config.MATERIALS_DIR. */
  store?: MaterialsStore;
  /** Defaults to the data shipped under calendar/. */
  calendar?: WorkingCalendar;
  /** Defaults to the shared pino options at config.LOG_LEVEL; false silences the app. */
  logger?: FastifyServerOptions['logger'];
  /** How long a staff command waits for the workflow (no worker ⇒ 503 after this). */
  updateTimeoutMs?: number;
  /** How long intake waits for Temporal to start a workflow before rolling back. */
  startTimeoutMs?: number;
  /** How long a callback waits for its signal to be accepted. */
  signalTimeoutMs?: number;
  /** Told of every route as it is registered (test/hostile/authzMatrix.test.ts: no route escapes the matrix). */
  onRoute?: (route: RouteOptions) => void;
  /** Request spans (clients/tracing.ts), when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: ApiTracing | null;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, secrets } = deps;
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(config.LOG_LEVEL, 'tongban-api'),
    genReqId: () => randomUUID(),
    // A URL that does not decode, or a path parameter over the router's length limit, is answered
    // by the router before any route: without this it would be fastify's own JSON, not a problem.
    frameworkErrors: errorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  // First, so every route and hook registered after it runs inside the request's span.
  if (deps.tracing) await app.register(deps.tracing.fastifyPlugin);

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  app.decorate('config', config);
  app.decorate('secrets', secrets);
  app.decorate('pool', deps.pool);
  app.decorate('temporal', deps.temporal);
  app.decorate('store', deps.store ?? createFilesystemStore(config.MATERIALS_DIR));
  app.decorate('metrics', createMetrics({ pool: deps.pool }));
  app.decorate('calendar', deps.calendar ?? shippedCalendar());
  app.decorateRequest('staff', null);
  app.decorateRequest('staffSession', null);
  // Console sessions (api/session.ts): cookies parsed on every route, the sign-in cookie signed.
  app.decorate('staffSessions', createStaffSessions(deps.pool, config));
  await app.register(cookie, { secret: loginCookieSecret(secrets.jwtSecret) });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    app.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'tongban API', description: 'Cross-province government services (跨省通办) case orchestration', version: '1' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Rate limits apply only where a route asks for one (the public routes).
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => problem(429, `too many requests from this address: at most ${context.max} per minute; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  await app.register(healthRoutes);
  // Staff sign-in with OpenID Connect (outside /v1: browser navigations and the session itself).
  await app.register(sessionRoutes, { prefix: '/auth' });
  await app.register(consoleRoutes);
  await app.register(callbackRoutes, { prefix: '/v1', signalTimeoutMs: deps.signalTimeoutMs ?? 10_000 });
  // Its own scope: the Web UI's CORS preflight carries no token.
  await app.register(codecRoutes, { prefix: '/v1/codec' });
  // The public's own routes (the applicant's progress, licence verification, the intake standard): no login.
  await app.register(progressRoutes, { prefix: '/v1' });
  await app.register(guideRoutes, { prefix: '/v1' });
  await app.register(verifyRoutes, { prefix: '/v1' });
  await app.register(evaluationPublicRoutes, { prefix: '/v1' });
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', authenticate(secrets.jwtSecret, config.TOKEN_MAX_AGE_SECONDS, { sessions: app.staffSessions }));
      // A route on one case checks the caller's side before its body (config.caseAction).
      v1.addHook('preValidation', authorizeCaseBeforeBody(deps.pool));
      await v1.register(fileRoutes);
      await v1.register(itemRoutes);
      await v1.register(calendarRoutes);
      await v1.register(liaisonRoutes);
      await v1.register(evaluationRoutes);
      await v1.register(originalsRoutes);
      await v1.register(caseRoutes, { updateTimeoutMs: deps.updateTimeoutMs ?? 15_000, startTimeoutMs: deps.startTimeoutMs ?? 10_000, traceStep: deps.tracing?.step });
      await v1.register(handoffRoutes);
      await v1.register(accessLogRoutes);
      await v1.register(reportRoutes);
      await v1.register(actionRoutes, { updateTimeoutMs: deps.updateTimeoutMs ?? 15_000 });
    },
    { prefix: '/v1' },
  );
  return app;
}
