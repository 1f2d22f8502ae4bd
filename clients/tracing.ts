// Traces across api → Temporal → activities → province calls (OpenTelemetry), off unless
// OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP over HTTP, JSON). Off, nothing of the SDK, the exporter
// or the instrumentations is loaded and no global is registered: this module then costs one
// static import of the no-op `@opentelemetry/api` and a null check per province call.
//
// Where the trace context crosses a process or a sandbox:
//   - api: @fastify/otel opens a SERVER span per request (a `traceparent` the caller sent is its parent);
//   - api → Temporal: the client interceptor puts the context into the workflow start's headers;
//   - workflow: the workflow interceptors (bundled with the workflow code, workflows/ untouched)
//     continue it in the sandbox and hand their spans to the worker through the `exporter` sink;
//   - workflow → activity: the same interceptors put it into each activity's headers, and the
//     activity interceptor opens the activity's span from them;
//   - activity → province: `traceProvinceCall` opens a CLIENT span and sends W3C `traceparent`.
//
// Why OpenTelemetry SDK 1.x: @temporalio/interceptors-opentelemetry 1.24 is built on it (the
// spans its workflow sink hands over have the 1.x shape: `parentSpanId`, `instrumentationLibrary`);
// a 2.x exporter would drop their parents. The `-v2` variant of the interceptors stops at 1.23.
//
// Citizens' data: no request or response body, no payload, no header but `traceparent` becomes a
// span attribute; URLs are recorded without credentials or identity numbers (redactUrl), and every
// string a span carries passes the same fence once more before it leaves the process.
import { createRequire } from 'node:module';
import { SpanKind, SpanStatusCode, context, propagation, type Attributes, type Tracer } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { BasicTracerProvider, ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { FastifyPluginCallback } from 'fastify';
import type { Config } from '../config/index.js';
import { redactUrl } from '../config/logger.js';

/** The settings tracing reads (config/index.ts). */
export type TracingSettings = Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>;

/**
 * Runs one step of a request inside a span of its own, child of the active one (intake's waits:
 * api/intake.ts), so a slow request shows which wait took the time. `untraced` when tracing is off.
 */
export type StepTracer = <T>(name: string, run: () => Promise<T>) => Promise<T>;

export const untraced: StepTracer = (_name, run) => run();

function stepTracer(tracer: Tracer): StepTracer {
  return (name, run) =>
    tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL }, async (span) => {
      try {
        return await run();
      } catch (e) {
        // The status only: an error's message can carry what a request was about.
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw e;
      } finally {
        span.end();
      }
    });
}

export interface ApiTracing {
  serviceName: string;
  /** Spans for the steps of a request (intake's database waits), under the request's span. */
  step: StepTracer;
  /** Register before any route: one SERVER span per request, named by method and route. */
  fastifyPlugin: FastifyPluginCallback;
  /** For the api's Temporal client: the workflow start (and signals, updates) carry the context. */
  workflowClientInterceptors: WorkflowClientInterceptor[];
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface WorkerTracing {
  serviceName: string;
  /**
   * The worker options that trace workflows and activities. `bundling`: the worker bundles the
   * workflow code itself (no prebuilt bundle), so the workflow interceptor modules are added here;
   * a prebuilt bundle must have been built with them (`tracingWorkflowModules()`).
   */
  workerOptions(bundling: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  shutdown(): Promise<void>;
}

/**
 * The workflow interceptor modules to bundle with the workflow code when tracing is on
 * (`bundleWorkflowCode({ workflowInterceptorModules })`). Resolving the path loads nothing.
 */
export function tracingWorkflowModules(): string[] {
  return [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
}

/**
 * Whether a prebuilt workflow bundle's code has the tracing interceptors in it: the bundler names
 * every module it includes by path, and the interceptors' module only when asked to include it.
 */
export function bundleHasTracing(code: string): boolean {
  return code.includes('interceptors-opentelemetry/lib/workflow-interceptors');
}

/** A trace of the api's requests and the workflow starts they make; null when tracing is off. */
export async function startApiTracing(settings: TracingSettings): Promise<ApiTracing | null> {
  if (!settings.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const base = await startProvider(settings.OTEL_EXPORTER_OTLP_ENDPOINT, settings.OTEL_SERVICE_NAME ?? 'tongban-api');
  try {
    const [{ FastifyOtelInstrumentation }, { OpenTelemetryWorkflowClientInterceptor }] = await Promise.all([
      import('@fastify/otel'),
      import('@temporalio/interceptors-opentelemetry/lib/client/index.js'),
    ]);
    const instrumentation = new FastifyOtelInstrumentation({
      // The request span and the handler's; a span per hook (auth, rate limit, …) is noise here.
      instrumentHooks: false,
      // Probes and scrapes would drown the requests that matter.
      ignorePaths: (route: { url?: string }) => IGNORED_PATHS.has((route.url ?? '').split('?')[0] ?? ''),
      requestHook: (span, request) => {
        // The route template names the span (`POST /v1/cases`), never the concrete path with its ids;
        // the concrete path and query are kept, redacted (an identity number can be a search term).
        const [path = '', query] = request.url.split('?', 2);
        span.updateName(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`);
        span.setAttribute('url.path', redactUrl(path));
        if (query) span.setAttribute('url.query', redactUrl(`?${query}`).slice(1));
      },
    });
    instrumentation.setTracerProvider(base.provider);
    return {
      serviceName: base.serviceName,
      fastifyPlugin: instrumentation.plugin(),
      step: stepTracer(base.tracer),
      workflowClientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer: base.tracer })],
      shutdown: async () => {
        instrumentation.disable();
        await base.shutdown();
      },
    };
  } catch (e) {
    await base.shutdown();
    throw e;
  }
}

/** A trace of workflow runs, activities and province calls; null when tracing is off. */
export async function startWorkerTracing(settings: TracingSettings): Promise<WorkerTracing | null> {
  if (!settings.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const base = await startProvider(settings.OTEL_EXPORTER_OTLP_ENDPOINT, settings.OTEL_SERVICE_NAME ?? 'tongban-worker');
  try {
    const { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } = await import(
      '@temporalio/interceptors-opentelemetry/lib/worker/index.js'
    );
    const { tracer } = base;
    // Workflow spans are made in the sandbox and arrive through this sink, into the same batch.
    const sinks: WorkerOptions['sinks'] = { exporter: makeWorkflowExporter(base.processor, base.resource) };
    provinceCallTracer = tracer;
    return {
      serviceName: base.serviceName,
      workerOptions: (bundling) => ({
        interceptors: {
          activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
          ...(bundling ? { workflowModules: tracingWorkflowModules() } : {}),
        },
        sinks,
      }),
      shutdown: async () => {
        if (provinceCallTracer === tracer) provinceCallTracer = null;
        await base.shutdown();
      },
    };
  } catch (e) {
    await base.shutdown();
    throw e;
  }
}

/** A call to a province system, as `traceProvinceCall` records it. */
export interface ProvinceCall {
  provinceCode: string;
  /** The protocol operation (activities/gateway.ts `operationOf`): names the span without ids. */
  operation: string;
  method: string;
  url: URL;
  /** The request's headers: `traceparent` is added to them before `send` runs. */
  headers: Record<string, string>;
}

/** The worker's tracer while its tracing runs; null otherwise (then calls go out untouched). */
let provinceCallTracer: Tracer | null = null;

/**
 * Runs `send` (the HTTP call) inside a CLIENT span, child of the running activity's, with the
 * W3C trace context injected into `call.headers`. With tracing off, just runs `send`.
 */
export function traceProvinceCall(call: ProvinceCall, send: () => Promise<Response>): Promise<Response> {
  const tracer = provinceCallTracer;
  if (!tracer) return send();
  const attributes: Attributes = {
    'http.request.method': call.method,
    'url.full': redactUrl(call.url.href),
    'server.address': call.url.hostname,
    'server.port': Number(call.url.port || (call.url.protocol === 'https:' ? 443 : 80)),
    'tongban.province.code': call.provinceCode,
    'tongban.province.operation': call.operation,
  };
  return tracer.startActiveSpan(`province ${call.operation}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    propagation.inject(context.active(), call.headers);
    try {
      const response = await send();
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: redactUrl((e as Error).message ?? String(e)) });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** How many OTLP exporters this process has created (tests: none while tracing is off). */
export function exportersCreated(): number {
  return exporterCount;
}

const IGNORED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

let exporterCount = 0;

interface Provider {
  serviceName: string;
  provider: BasicTracerProvider;
  processor: SpanProcessor;
  resource: Resource;
  tracer: Tracer;
  shutdown(): Promise<void>;
}

/** One tracer provider per service (api and worker share a process under `npm start` and in tests). */
async function startProvider(endpoint: string, serviceName: string): Promise<Provider> {
  const [{ BasicTracerProvider, BatchSpanProcessor }, { Resource }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  // OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; each signal has its path below it.
  const exporter = new RedactingExporter(new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }));
  exporterCount += 1;
  const resource = new Resource({ 'service.name': serviceName, 'service.namespace': 'tongban' });
  const processor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  await holdGlobals();
  let stopped: Promise<void> | null = null;
  return {
    serviceName,
    provider,
    processor,
    resource,
    tracer: provider.getTracer('tongban'),
    shutdown: () =>
      (stopped ??= (async () => {
        try {
          await provider.shutdown();
        } finally {
          releaseGlobals();
        }
      })()),
  };
}

/**
 * The context manager (AsyncLocalStorage, so the active span follows awaits) and the W3C
 * propagator are process-wide; the api and the worker may both hold them in one process, and the
 * last one to stop takes them down, so a process with tracing stopped is as one that never had it.
 */
let globalHolders = 0;

async function holdGlobals(): Promise<void> {
  if (globalHolders++ > 0) return;
  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
  ]);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

function releaseGlobals(): void {
  if (--globalHolders > 0) return;
  context.disable();
  propagation.disable();
}

/** Chinese mobile numbers: the applicant's phone must not leave in a span either. */
const MOBILE = /(?<!\d)1[3-9]\d{9}(?!\d)/g;

function scrub(text: string): string {
  return redactUrl(text).replace(MOBILE, '[REDACTED]');
}

function scrubAttributes(attributes: Attributes | undefined): void {
  if (!attributes) return;
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') attributes[key] = scrub(value);
    else if (Array.isArray(value)) attributes[key] = value.map((v) => (typeof v === 'string' ? scrub(v) : v)) as typeof value;
  }
}

/**
 * The last fence before spans leave the process: every string attribute, event attribute (an
 * exception's message and stack), status message and span name is scrubbed of identity numbers,
 * mobile numbers and credentials. The spans are finished, so changing them in place is safe; it
 * also covers the workflow's spans, which arrive as plain objects through the sink.
 */
class RedactingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const writable = span as { -readonly [K in keyof ReadableSpan]: ReadableSpan[K] };
      writable.name = scrub(span.name);
      scrubAttributes(span.attributes);
      for (const event of span.events) scrubAttributes(event.attributes);
      if (span.status.message) writable.status = { ...span.status, message: scrub(span.status.message) };
    }
    this.inner.export(spans, done);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
