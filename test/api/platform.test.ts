// Health, readiness, metrics, the OpenAPI document, and the error format of the whole API.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { startApi } from '../../api/server.js';
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
  it('When /metrics is scraped with a supervisor’s token, then it shows default metrics and request durations by route template', async () => {
    await h.app.inject({ method: 'GET', url: '/healthz' });
    const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: await h.auth('supervisor', '440000') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('process_cpu_user_seconds_total');
    expect(res.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+/);
    expect(res.body).toContain('tongban_cases_submitted_total');
    expect(res.body).toContain('tongban_province_callbacks_total');
    const manager = await h.app.inject({ method: 'GET', url: '/metrics', headers: await h.auth('manager', '110000') });
    expect(manager.statusCode).toBe(200);
  });

  it('When METRICS_PORT is unset and /metrics is asked for without a token or by a clerk, then it answers 401 or 403', async () => {
    const anonymous = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(anonymous.body).not.toContain('process_cpu_user_seconds_total');
    const clerk = await h.app.inject({ method: 'GET', url: '/metrics', headers: await h.auth('clerk', '440100') });
    expect(clerk.statusCode).toBe(403);
  });

  it('When METRICS_PORT is set, then /metrics is served on that port without a token and the api port answers 404', async () => {
    const config = { ...h.config, METRICS_PORT: 0 };
    const api = await startApi({ config, secrets: h.secrets, pool: h.pool, temporal: h.temporal, logger: false, host: '127.0.0.1', port: 0 });
    try {
      expect(api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(api.metricsUrl).not.toContain(new URL(api.url).port);
      const scraped = await fetch(api.metricsUrl!);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('process_cpu_user_seconds_total');
      const other = await fetch(api.metricsUrl!.replace('/metrics', '/healthz'));
      expect(other.status).toBe(404);
      const onApi = await fetch(`${api.url}/metrics`, { headers: await h.auth('supervisor', '440000') });
      expect(onApi.status).toBe(404);
    } finally {
      await api.close();
    }
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
    // A database without our tables: every query fails with "relation does not exist".
    const url = new URL(inject('databaseUrl'));
    url.searchParams.set('options', '-c search_path=no_such_schema');
    const brokenPool = createPool(url.toString());
    const app = await buildApp({ config: h.config, secrets: h.secrets, pool: brokenPool, temporal: h.temporal, logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/cases', headers: await h.auth('supervisor', '440000') });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      const body = res.json<{ detail: string }>();
      expect(body.detail).toContain(res.headers['x-request-id']);
      expect(res.body).not.toMatch(/relation|does not exist|at .*\.ts:\d+/);
    } finally {
      await app.close();
      await brokenPool.end();
    }
  });

  it('When the database cannot be reached, then every data route answers 503 problem+json with Retry-After and no internals', async () => {
    const deadPool = createPool('postgres://postgres@127.0.0.1:1/none');
    const app = await buildApp({ config: h.config, secrets: h.secrets, pool: deadPool, temporal: h.temporal, logger: false });
    try {
      const supervisor = await h.auth('supervisor', '440000');
      const reads = [
        await app.inject({ method: 'GET', url: '/v1/cases', headers: supervisor }),
        await app.inject({ method: 'GET', url: '/v1/cases/6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', headers: supervisor }),
      ];
      for (const res of reads) {
        expect(res.statusCode).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(res.json()).toMatchObject({ status: 503, detail: 'the database is unavailable; retry later' });
        expect(res.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at .*\.ts:\d+/);
      }
    } finally {
      await app.close();
      await deadPool.end();
    }
  });

  it('When the database is unreachable at first and then comes back, then the same pool serves again without a restart', async () => {
    // A TCP proxy in front of the real database: closed first (connections refused), then opened.
    const target = new URL(inject('databaseUrl'));
    const port = await freePort();
    const proxied = new URL(target.toString());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    const pool = createPool(proxied.toString());
    const app = await buildApp({ config: h.config, secrets: h.secrets, pool, temporal: h.temporal, logger: false });
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    try {
      const supervisor = await h.auth('supervisor', '440000');
      const down = await app.inject({ method: 'GET', url: '/v1/cases?limit=1', headers: supervisor });
      expect(down.statusCode).toBe(503);
      await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
      const up = await app.inject({ method: 'GET', url: '/v1/cases?limit=1', headers: supervisor });
      expect(up.statusCode).toBe(200);
    } finally {
      await app.close();
      await pool.end();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
