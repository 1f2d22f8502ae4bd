// Traces (clients/tracing.ts) on the real stack: a small OTLP/HTTP receiver stands in for the
// collector; a case goes through intake, its workflow, its activities and the province (the
// simulator), and one trace id must join them all, with no applicant's data in any span. With
// OTEL_EXPORTER_OTLP_ENDPOINT unset, nothing is exported and no trace context leaves the process.
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exportersCreated, startWorkerTracing, tracingWorkflowModules } from '../../clients/tracing.js';
import { getJson, submitCase, validIdNumber, FIXTURE_APPLICANT } from '../../harness/cases.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../harness/otlpReceiver.js';
import { eventually, randomSecrets, startStack, type TestStack } from '../../harness/stack.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { WORKFLOWS_PATH, createWorkers } from '../../worker/workers.js';
import { startTestStack } from '../support/testStack.js';


// OTLP's span kinds (the protobuf enum, which the JSON encoding keeps as numbers).
const SERVER = 2;
const CLIENT = 3;
const SICHUAN = '510000';
const APPLICANT_NAME = '陈追踪';

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => process.stderr.write(`${m}\n`), log: noop };

let receiver: OtlpReceiver;
let bundlePath: string;
const stacks: TestStack[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The run's shared bundle has no tracing in it (as a worker without tracing must run); a traced
  // worker with a prebuilt bundle needs one built with the workflow interceptor modules.
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: tracingWorkflowModules(), logger: quietLogger });
  bundlePath = path.resolve(`.data/test/workflow-bundle-traced-${process.pid}.js`);
  fs.mkdirSync(path.dirname(bundlePath), { recursive: true });
  fs.writeFileSync(bundlePath, code);
});

afterAll(async () => {
  for (const stack of stacks) await stack.stop().catch(noop);
  await receiver?.close();
  if (bundlePath) fs.rmSync(bundlePath, { force: true });
});

/** Submits a case as a Guangzhou clerk for Sichuan and waits until it is completed. */
async function runCase(stack: TestStack): Promise<string> {
  const clerk = await stack.token('clerk', '440100');
  const sub = await submitCase(stack.apiUrl, clerk, { applicantName: APPLICANT_NAME, delivery: { method: 'electronic' } });
  expect(sub.status).toBe(201);
  // A search by identity number: the number is in the URL's query, and must not reach a span.
  expect((await getJson(`${stack.apiUrl}/v1/cases?idNumber=${validIdNumber()}`, clerk)).status).toBe(200);
  await eventually(
    async () => (await getJson<{ status: string }>(`${stack.apiUrl}/v1/cases/${sub.body.caseId}`, clerk)).body,
    (c) => c.status === 'completed',
    60_000,
    'case completed',
  );
  return sub.body.caseId;
}

/** Stops a stack now (flushing its traces), once. */
async function stopStack(stack: TestStack): Promise<void> {
  stacks.splice(stacks.indexOf(stack), 1);
  await stack.stop();
}

describe('traces', () => {
  it('When OTEL_EXPORTER_OTLP_ENDPOINT is set, then one trace joins the intake request, the workflow start and run, the activities and the province call, and no span carries the applicant', async () => {
    const stack = await startStack({
      temporalAddress: inject('temporalAddress'),
      databaseUrl: inject('databaseUrl'),
      workflowBundle: { codePath: bundlePath },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    stacks.push(stack);
    const caseId = await runCase(stack);
    const provinceRequests = stack.simulator.requests(SICHUAN);
    await stopStack(stack); // flushes every span still in a batch

    // OTLP over HTTP, JSON, on the signal's path below the endpoint.
    expect(receiver.posts.length).toBeGreaterThan(0);
    for (const post of receiver.posts) {
      expect(post.path).toBe('/v1/traces');
      expect(post.contentType).toMatch(/^application\/json/);
    }
    const spans = receiver.spans();

    // The api: the intake request, a SERVER span named by its route, and the workflow start under it.
    const intake = spans.find((s) => s.name === 'POST /v1/cases');
    expect(intake, `no intake span among ${spans.map((s) => s.name).join(', ')}`).toBeDefined();
    expect(intake!.service).toBe('tongban-api');
    expect(intake!.kind).toBe(SERVER);
    expect(intake!.attributes['http.response.status_code']).toBe(201);
    const traceId = intake!.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    /** The chain of ancestors of a span within the trace, nearest first. */
    const ancestors = (s: ReceivedSpan): ReceivedSpan[] => {
      const chain: ReceivedSpan[] = [];
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) chain.push(p);
      return chain;
    };

    const start = inTrace.find((s) => s.name === 'StartWorkflow:caseWorkflow');
    expect(start, 'workflow start in the intake trace').toBeDefined();
    expect(start!.service).toBe('tongban-api');
    expect(start!.attributes.temporalWorkflowId).toBe(caseWorkflowId(caseId));
    expect(ancestors(start!)).toContain(intake);
    // Intake's database waits, each a span of its own under the request's (api/intake.ts).
    for (const name of ['intake read', 'intake claim', 'intake case row']) {
      const waits = inTrace.filter((s) => s.name === name);
      expect(waits, name).toHaveLength(1);
      expect(ancestors(waits[0]!)).toContain(intake);
    }

    // The worker: the workflow run continues the start's context, across the server.
    const run = inTrace.find((s) => s.name === 'RunWorkflow:caseWorkflow');
    expect(run, 'workflow run in the intake trace').toBeDefined();
    expect(run!.service).toBe('tongban-worker');
    expect(run!.parentSpanId).toBe(start!.spanId);

    // An activity the workflow scheduled, and the province call inside it, both in the same trace.
    const activities = inTrace.filter((s) => s.name.startsWith('RunActivity:'));
    expect(activities.length).toBeGreaterThan(0);
    for (const a of activities) expect(ancestors(a)).toContain(run);
    const provinceCalls = inTrace.filter((s) => s.name.startsWith('province ') && s.attributes['tongban.province.code'] === SICHUAN);
    expect(provinceCalls.map((s) => s.attributes['tongban.province.operation'])).toContain('create_case');
    for (const call of provinceCalls) {
      expect(call.kind).toBe(CLIENT);
      expect(call.service).toBe('tongban-worker');
      expect(byId.get(call.parentSpanId)?.name).toMatch(/^RunActivity:/);
      expect(ancestors(call)).toContain(intake);
    }

    // The province received the context: W3C traceparent 00-<trace id>-<the call span's id>-<flags>.
    const received = provinceRequests.filter((r) => r.traceparent);
    expect(received.length).toBeGreaterThan(0);
    const callSpanIds = new Set(provinceCalls.map((s) => s.spanId));
    for (const r of received) {
      const [version, tid, parent] = r.traceparent!.split('-');
      expect(version).toBe('00');
      expect(tid).toBe(traceId);
      expect(callSpanIds.has(parent!)).toBe(true);
    }
    const createCase = provinceRequests.find((r) => r.method === 'POST' && r.path.endsWith('/cases'));
    expect(createCase, `the case's creation among ${provinceRequests.map((r) => `${r.method} ${r.path}`).join(', ')}`).toBeDefined();
    expect(createCase?.traceparent?.split('-')[1]).toBe(traceId);

    // The search by identity number: its span keeps the query, the number redacted.
    const search = spans.find((s) => s.name === 'GET /v1/cases' && typeof s.attributes['url.query'] === 'string');
    expect(search, 'case search span').toBeDefined();
    expect(search!.attributes['url.query']).toContain('[REDACTED]');

    // No span, of any service, carries the applicant's identity number, name or phone.
    for (const s of spans) {
      expect(s.raw).not.toContain(validIdNumber());
      expect(s.raw).not.toContain(APPLICANT_NAME);
      expect(s.raw).not.toContain(FIXTURE_APPLICANT.phone);
    }
  });

  it('When tracing is on and the prebuilt workflow bundle was built without the tracing interceptors, then the workers refuse to start and say how to build it', async () => {
    const tracing = await startWorkerTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: undefined });
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    try {
      const setup = { connection, namespace: 'default', keyring: randomSecrets([]).payloadKeys, provinces: [], provinceRateLimit: 1, tracing };
      // The run's shared bundle is the untraced one.
      await expect(createWorkers({ ...setup, workflowBundle: { codePath: inject('workflowBundlePath') } })).rejects.toThrow(/no tracing interceptors.*tracingWorkflowModules/);
      // The traced bundle passes the check (and then fails for want of a queue to serve, as any worker would).
      await expect(createWorkers({ ...setup, workflowBundle: { codePath: bundlePath } })).rejects.toThrow(/nothing to run/);
    } finally {
      await connection.close();
      await tracing?.shutdown();
    }
  });

  it('When OTEL_EXPORTER_OTLP_ENDPOINT is unset, then no exporter is created, nothing is sent and no trace context reaches the province', async () => {
    const before = exportersCreated();
    const postsBefore = receiver.posts.length;
    const stack = await startTestStack();
    stacks.push(stack);
    await runCase(stack);
    const provinceRequests = stack.simulator.requests(SICHUAN);
    await stopStack(stack);

    expect(exportersCreated()).toBe(before);
    expect(receiver.posts.length).toBe(postsBefore);
    expect(provinceRequests.length).toBeGreaterThan(0);
    for (const r of provinceRequests) expect(r.traceparent).toBeUndefined();
  });
});
