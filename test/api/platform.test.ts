// Health, readiness, metrics, the OpenAPI document, and the error format of the whole API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { createPool } from '../../clients/postgres.js';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('health and readiness', () => {
  it('When /healthz is called without a token, then it answers 200 ok', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('When Temporal and Postgres are reachable, then /readyz answers 200 with both checks ok', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
  });

  it('When Postgres is unreachable, then /readyz answers 503 naming postgres', async () => {
    const deadPool = createPool('postgres://postgres@127.0.0.1:1/none');
    const app = await buildApp({ config: h.config, secrets: h.secrets, pool: deadPool, temporal: h.temporal, logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'unavailable', temporal: 'ok' } });
    } finally {
      await app.close();
      await deadPool.end();
    }
  });
});

describe('metrics', () => {
  it('When /metrics is scraped, then it shows default metrics and request durations by route template', async () => {
    await h.app.inject({ method: 'GET', url: '/healthz' });
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('process_cpu_user_seconds_total');
    expect(res.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+/);
    expect(res.body).toContain('tongban_cases_submitted_total');
    expect(res.body).toContain('tongban_province_callbacks_total');
  });
});

describe('OpenAPI', () => {
  it('When /docs/json is fetched, then it documents /v1/cases from the zod schemas with bearer auth', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    const post = doc.paths['/v1/cases']?.post;
    expect(post).toBeDefined();
    expect(post?.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '409', '422']));
    expect(JSON.stringify(post?.requestBody)).toContain('CaseSubmission');
    expect(doc.components.schemas).toHaveProperty('CaseSubmission');
    expect(JSON.stringify(doc.components.schemas.CaseSubmission)).toContain('idNumber');
    expect(doc.paths).toHaveProperty(['/v1/cases/{caseId}']);
    expect(doc.paths).toHaveProperty(['/v1/province-callbacks/{regionCode}']);
    expect(doc.paths).not.toHaveProperty(['/metrics']);
  });

  it('When /docs is opened, then swagger-ui is served', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('errors as problem details', () => {
  it('When a route does not exist, then the answer is a 404 problem', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not found', instance: '/nowhere', type: expect.stringContaining('not-found') });
  });

  it('When a JSON body is malformed, then the answer is a 400 problem', async () => {
    const auth = await h.auth('clerk', '440100');
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/cases',
      payload: '{"itemCode": ',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'malformed-json-1' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json()).toMatchObject({ status: 400 });
  });

  it('When a body has an unsupported media type, then the answer is a 415 problem', async () => {
    const auth = await h.auth('clerk', '440100');
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/cases',
      payload: '<case/>',
      headers: { ...auth, 'content-type': 'application/xml', 'idempotency-key': 'xml-body-1' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a JSON body exceeds the body limit, then the answer is a 413 problem', async () => {
    const auth = await h.auth('clerk', '440100');
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/cases',
      payload: JSON.stringify({ itemCode: 'x'.repeat(2 * 1024 * 1024) }),
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'big-body-1' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a request fails unexpectedly, then the 500 problem names the request id and no internals', async () => {
    const brokenPool = createPool('postgres://postgres@127.0.0.1:1/none');
    const app = await buildApp({ config: h.config, secrets: h.secrets, pool: brokenPool, temporal: h.temporal, logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/cases', headers: await h.auth('supervisor', '440000') });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      const body = res.json<{ detail: string }>();
      expect(body.detail).toContain(res.headers['x-request-id']);
      expect(res.body).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
    } finally {
      await app.close();
      await brokenPool.end();
    }
  });
});
