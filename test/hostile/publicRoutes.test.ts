// Hostile input, property-based (issue 10): fast-check throws a few hundred generated requests at
// each public route (progress lookup, licence verification, intake guide, province callbacks) and
// at the staff intake and case actions, against the api built in-process on the real PostgreSQL
// and Temporal dev server. Whatever comes in, the answer is never a 5xx; a 4xx is RFC 9457
// problem+json whose `status` is the HTTP status (a 400 names its fields); a 2xx only for input
// that is valid; and no rejected intake leaves a half-written case behind.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provinceEventSchema } from '../../contracts/province.js';
import { signRequest } from '../../crypto/signing.js';
import { STAFF_ACTIONS } from '../../domain/staffActions.js';
import { caseSubmissionSchema, staffActionBodies } from '../../api/schemas.js';
import { createApiHarness, pensionSubmission, PROBLEM_JSON, PROVINCE_SECRETS, signedCallback, submit, type ApiHarness } from '../api/helpers.js';
import { anyJson, encodeSegment, expectWellFormed, malformedUuid, nastyString, oddSegment, rawBody } from './support/hostile.js';

const RUNS = 200;
/** Every idempotency key this file sends starts with it, so its cases can be counted afterwards. */
const KEY_PREFIX = `hostile-${randomUUID().slice(0, 8)}-`;

let h: ApiHarness;
let clerk: { authorization: string };
let validBody: Record<string, unknown>;
let realCase: { caseId: string; queryCode: string };

beforeAll(async () => {
  // The public routes are rate-limited per address; every injected request comes from one.
  h = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000' } });
  clerk = await h.auth('clerk', '440100');
  validBody = await pensionSubmission(h, clerk);
  const res = await submit(h, clerk, validBody, `${KEY_PREFIX}baseline`);
  expect(res.statusCode, res.body).toBe(201);
  const accepted = res.json<{ caseId: string; receipt: { queryCode: string } }>();
  realCase = { caseId: accepted.caseId, queryCode: accepted.receipt.queryCode };
  created.add(realCase.caseId);
});

afterAll(async () => {
  await h?.close();
});

/** Case ids answered 201 by intake in this file. */
const created = new Set<string>();

async function injected(opts: InjectOptions, what: string): Promise<LightMyRequestResponse> {
  const res = await h.app.inject(opts);
  expectWellFormed(res, `${what} ${JSON.stringify(opts).slice(0, 400)}`);
  return res;
}

// ---- public routes -----------------------------------------------------------------------------

describe('public routes under hostile input', () => {
  it('the progress lookup', async () => {
    const caseIdPath = fc.oneof(fc.constant(null), fc.uuid(), malformedUuid.map(encodeSegment), oddSegment);
    const query = fc.oneof(
      fc.constant(null),
      nastyString.map((c) => `code=${encodeSegment(c)}`),
      fc.constantFrom('code=', 'code', 'code=a&code=b', 'code[]=1', 'code[a]=1', 'x=1', 'code=ok&x=1', '&&', '=', 'code=%', 'code=%zz', 'code=%00'),
      fc.constant('real'),
    );
    await fc.assert(
      fc.asyncProperty(caseIdPath, query, async (id, q) => {
        const caseId = id ?? realCase.caseId;
        const qs = q === 'real' ? `code=${realCase.queryCode}` : q;
        const url = `/v1/progress/${caseId}${qs === null ? '' : `?${qs}`}`;
        const res = await injected({ method: 'GET', url }, 'progress');
        if (res.statusCode < 300) {
          expect(caseId, url).toBe(realCase.caseId);
          expect(qs, url).toBe(`code=${realCase.queryCode}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('licence verification', async () => {
    const body = fc.oneof(
      rawBody,
      fc.record({
        payload: fc
          .record({ licenceId: fc.option(fc.oneof(nastyString, fc.jsonValue()), { nil: undefined }), document: fc.option(fc.oneof(nastyString, fc.base64String(), fc.jsonValue()), { nil: undefined }) })
          .map((v) => JSON.stringify(v)),
        contentType: fc.constant('application/json'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ payload, contentType }) => {
        const res = await injected({ method: 'POST', url: '/v1/verify', payload, headers: contentType ? { 'content-type': contentType } : {} }, 'verify');
        if (res.statusCode < 300) {
          const parsed = JSON.parse(payload) as Record<string, unknown>;
          const keys = Object.keys(parsed).filter((k) => parsed[k] !== undefined);
          expect(keys.length, payload).toBe(1);
          expect(['licenceId', 'document'], payload).toContain(keys[0]);
          expect(res.json<{ genuine: boolean }>().genuine, payload).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the intake guide', async () => {
    const code = fc.oneof(oddSegment, fc.constantFrom('pension-transfer', 'pension-transfer%20', '%20pension-transfer', 'PENSION-TRANSFER', 'pension-transfer%00', 'pension-transfer%2F..'));
    await fc.assert(
      fc.asyncProperty(code, fc.option(fc.constantFrom('?x=1', '?version=-1', '?%zz', '?code=a&code=b'), { nil: '' }), async (segment, qs) => {
        const url = `/v1/guide/${segment}${qs}`;
        const res = await injected({ method: 'GET', url }, 'guide');
        if (res.statusCode < 300) {
          expect(res.json<{ code: string }>().code, url).toBe(decodeURIComponent(segment).trim());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('province callbacks: garbage signatures and validly signed garbage', async () => {
    const region = fc.oneof(fc.constantFrom(...(Object.keys(PROVINCE_SECRETS) as (keyof typeof PROVINCE_SECRETS)[])), fc.constantFrom('110000', '440100', '000000'), oddSegment);
    const signature = fc.oneof(
      fc.constant('valid' as const),
      fc.record({
        'x-tongban-timestamp': fc.option(fc.oneof(fc.integer().map(String), fc.constantFrom('', 'now', '1e10', '-0', String(Math.floor(Date.now() / 1000)))), { nil: undefined }),
        'x-tongban-signature': fc.option(fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 80 }), fc.base64String({ maxLength: 80 }), fc.string({ maxLength: 80 })), { nil: undefined }),
      }),
    );
    const liaison = fc.boolean();
    await fc.assert(
      fc.asyncProperty(region, signature, rawBody, liaison, async (code, sig, { payload, contentType }, toLiaison) => {
        const known = Object.hasOwn(PROVINCE_SECRETS, code);
        let req: { method: 'POST'; url: string; payload: string; headers: Record<string, string> };
        if (sig === 'valid' && known) {
          req = signedCallback(code as keyof typeof PROVINCE_SECRETS, payload);
          if (toLiaison) {
            req.url = `${req.url}/liaison`;
            req.headers = { ...req.headers, ...signRequest(PROVINCE_SECRETS[code as keyof typeof PROVINCE_SECRETS], 'POST', req.url, payload) };
          }
        } else {
          const headers: Record<string, string> = {};
          if (sig !== 'valid') for (const [k, v] of Object.entries(sig)) if (v !== undefined) headers[k] = v.replace(/[^\x20-\x7e]/g, '');
          req = { method: 'POST', url: `/v1/province-callbacks/${code}${toLiaison ? '/liaison' : ''}`, payload, headers };
        }
        if (contentType) req.headers['content-type'] = contentType;
        else if (sig !== 'valid') delete req.headers['content-type'];
        const res = await injected(req, 'callback');
        if (res.statusCode < 300) {
          expect(sig, 'only a signed callback is accepted').toBe('valid');
          if (!toLiaison) expect(provinceEventSchema.safeParse(JSON.parse(payload)).success, payload).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- staff intake and actions ------------------------------------------------------------------

const BODY_PATHS = [
  'itemCode',
  'applicant',
  'applicant.name',
  'applicant.idNumber',
  'applicant.phone',
  'receivingRegion',
  'handlingRegion',
  'channel',
  'materials',
  'materials.0',
  'materials.0.materialCode',
  'materials.0.fileId',
  'materials.2.fileId',
  'delivery',
  'delivery.method',
  'delivery.address',
  'fields',
  'consultBeforeAcceptance',
] as const;

type Mutation = { op: 'set' | 'delete' | 'add'; path: (typeof BODY_PATHS)[number]; value: unknown; key: string };

function mutate(body: Record<string, unknown>, mutations: Mutation[]): unknown {
  const out = structuredClone(body) as Record<string, unknown>;
  for (const m of mutations) {
    const parts = m.path.split('.');
    const last = parts.pop()!;
    let parent: unknown = out;
    for (const p of parts) parent = parent && typeof parent === 'object' ? (parent as Record<string, unknown>)[p] : undefined;
    if (!parent || typeof parent !== 'object') continue;
    const target = parent as Record<string, unknown>;
    if (m.op === 'set') target[last] = m.value;
    else if (m.op === 'delete') delete target[last];
    else if (target[last] && typeof target[last] === 'object') (target[last] as Record<string, unknown>)[m.key] = m.value;
    else target[m.key] = m.value;
  }
  return out;
}

describe('staff routes under hostile input', () => {
  /** Idempotency keys whose intake answered anything but 201. */
  const rejectedKeys: string[] = [];

  it('intake: arbitrary bodies, headers and content types', async () => {
    const keyHeader = fc.oneof(
      fc.constant('fresh' as const),
      fc.constant(undefined),
      fc.constantFrom('', 'short', 'has space in it', 'x'.repeat(129), 'ünïcode-key-123', '../../etc/passwd'),
      fc.string({ unit: fc.constantFrom('a', '-', '.', ':', '_', '/', '%', ';', ',', '"'), minLength: 1, maxLength: 140 }),
    );
    const extraHeaders = fc.dictionary(fc.constantFrom('x-forwarded-for', 'accept', 'content-encoding', 'transfer-encoding', 'x-unknown', 'accept-language', 'if-match'), fc.string({ unit: fc.constantFrom('a', '*', '/', ',', ';', '=', ' ', 'gzip', 'zh'), maxLength: 30 }), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(rawBody, keyHeader, extraHeaders, async ({ payload, contentType }, key, extra) => {
        const idem = key === 'fresh' ? `${KEY_PREFIX}${randomUUID()}` : key;
        const headers: Record<string, string> = { ...extra, ...clerk };
        if (contentType) headers['content-type'] = contentType;
        if (idem !== undefined) headers['idempotency-key'] = idem;
        const res = await injected({ method: 'POST', url: '/v1/cases', payload, headers }, 'intake');
        if (idem?.startsWith(KEY_PREFIX) && res.statusCode !== 201) rejectedKeys.push(idem);
        expect(res.statusCode, `${res.statusCode} ${res.body.slice(0, 300)}`).not.toBe(201);
      }),
      { numRuns: RUNS },
    );
  });

  it('intake: mutations of a valid submission', async () => {
    const mutation: fc.Arbitrary<Mutation> = fc.record({
      op: fc.constantFrom('set', 'delete', 'add'),
      path: fc.constantFrom(...BODY_PATHS),
      value: fc.oneof(anyJson, malformedUuid, fc.constantFrom('440100', '510100', '999999', 'mail', 'window', true, 0, -1, 1e308, null)),
      key: fc.oneof(nastyString.filter((s) => s.length < 100), fc.constantFrom('extra', '__proto__', 'constructor')),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        // What the server receives: the JSON text (an undefined drops out, a __proto__ key stays a key).
        const payload = JSON.stringify(mutate(validBody, mutations));
        const body: unknown = JSON.parse(payload);
        const key = `${KEY_PREFIX}${randomUUID()}`;
        const res = await h.app.inject({ method: 'POST', url: '/v1/cases', payload, headers: { ...clerk, 'content-type': 'application/json', 'idempotency-key': key } });
        expectWellFormed(res, `intake ${payload.slice(0, 400)}`);
        const valid = caseSubmissionSchema.safeParse(body).success;
        if (!valid) expect(res.statusCode, `schema-invalid body answered ${res.statusCode}: ${payload.slice(0, 1500)}`).toBe(400);
        if (res.statusCode !== 201) {
          rejectedKeys.push(key);
          return;
        }
        expect(valid, 'a 201 only for a body the schema accepts').toBe(true);
        const { caseId } = res.json<{ caseId: string }>();
        created.add(caseId);
        if (!h.startedCases.includes(caseId)) h.startedCases.push(caseId);
        const submission = caseSubmissionSchema.parse(body);
        const { rows } = await h.pool.query<{ item_code: string; receiving_region: string; handling_region: string; materials: number; audits: number }>(
          `SELECT c.item_code, c.receiving_region, c.handling_region,
                  (SELECT count(*)::int FROM case_materials m WHERE m.case_id = c.case_id) AS materials,
                  (SELECT count(*)::int FROM audit_log a WHERE a.case_id = c.case_id AND a.action = 'case.submit') AS audits
             FROM cases c WHERE c.case_id = $1`,
          [caseId],
        );
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ item_code: submission.itemCode, receiving_region: submission.receivingRegion, handling_region: submission.handlingRegion, audits: 1 });
        expect(rows[0]!.materials).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('intake: no rejected request left a case behind, every accepted one is whole', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const { rows } = await h.pool.query<{ case_id: string; idempotency_key: string; materials: number; audits: number }>(
      `SELECT c.case_id, r.idempotency_key,
              (SELECT count(*)::int FROM case_materials m WHERE m.case_id = c.case_id) AS materials,
              (SELECT count(*)::int FROM audit_log a WHERE a.case_id = c.case_id AND a.action = 'case.submit') AS audits
         FROM intake_requests r JOIN cases c ON c.case_id = r.case_id
        WHERE r.idempotency_key LIKE $1`,
      [`${KEY_PREFIX}%`],
    );
    // Some mutations keep the body valid (a dropped optional field, a same-valued field): the
    // 2xx branch above was taken, not only the 4xx one.
    expect(created.size).toBeGreaterThan(1);
    expect(new Set(rows.map((r) => r.case_id))).toEqual(created);
    expect(rows.filter((r) => rejectedKeys.includes(r.idempotency_key))).toEqual([]);
    for (const r of rows) expect(r, r.case_id).toMatchObject({ materials: expect.any(Number), audits: 1 });
    expect(rows.every((r) => r.materials > 0)).toBe(true);
  });

  it('case actions: arbitrary bodies and case ids', async () => {
    const caseIdPath = fc.oneof(fc.constant('real' as const), fc.uuid(), malformedUuid.map(encodeSegment), oddSegment);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...STAFF_ACTIONS), caseIdPath, rawBody, fc.boolean(), async (action, id, { payload, contentType }, preview) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(payload);
        } catch {
          parsed = undefined;
        }
        // A valid action on the live case would wait for its (absent) worker; that is not hostile input.
        fc.pre(!(id === 'real' && staffActionBodies[action].safeParse(parsed).success));
        const caseId = id === 'real' ? realCase.caseId : id;
        const fourEyes = action === 'record-offline' || action === 'reroute';
        const url = `/v1/cases/${caseId}/actions/${action}${preview && fourEyes ? '/preview' : ''}`;
        const headers: Record<string, string> = { ...clerk };
        if (contentType) headers['content-type'] = contentType;
        const res = await injected({ method: 'POST', url, payload, headers }, 'action');
        if (res.statusCode < 300) expect(staffActionBodies[action].safeParse(parsed).success, `${url} ${payload}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the api is still ready afterwards', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode, res.body).toBe(200);
  });
});

// ---- what the properties found, kept as plain regressions --------------------------------------

describe('regressions found by the properties', () => {
  it('a URL that does not decode is a 400 problem naming the url (was fastify’s own JSON)', async () => {
    for (const url of ['/v1/progress/%?code=x', '/v1/guide/%', '/v1/province-callbacks/%', '/v1/cases/%/actions/retry']) {
      const res = await h.app.inject({ method: url.includes('actions') || url.includes('callbacks') ? 'POST' : 'GET', url, headers: clerk, payload: url.includes('actions') ? '{' : undefined });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toMatch(PROBLEM_JSON);
      expect(res.json(), url).toMatchObject({ status: 400, title: 'Invalid request', errors: [{ path: 'url', message: expect.stringContaining('not a valid url component') }] });
    }
  });

  it('a multipart upload that does not parse is a 400 naming the body, and one that parses is still stored (was a 500; found by everyRoute.test.ts)', async () => {
    const headers = { ...clerk, 'content-type': 'multipart/form-data; boundary=x' };
    const part = '--x\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 material';
    // No boundary at all, a part header that never ends, a file part the body ends inside.
    for (const payload of ['x', '--x\r\ngarbage\r\n\r\n', part]) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/files', payload, headers });
      expect(res.statusCode, payload).toBe(400);
      expect(res.headers['content-type'], payload).toMatch(PROBLEM_JSON);
      expect(res.json(), payload).toMatchObject({ status: 400, detail: expect.stringContaining('multipart body does not parse'), errors: [{ path: 'body', message: expect.any(String) }] });
    }
    const whole = await h.app.inject({ method: 'POST', url: '/v1/files', payload: `${part}\r\n--x--\r\n`, headers });
    expect(whole.statusCode, whole.body).toBe(201);
    expect(whole.json()).toMatchObject({ size: '%PDF-1.4 material'.length, contentType: 'application/pdf' });
  });

  it('a validly signed callback whose body is JSON but not an object is a 400 naming the body (null was a 500)', async () => {
    for (const body of ['null', '0', '"event"', '[]', 'true']) {
      const liaisonUrl = '/v1/province-callbacks/510000/liaison';
      const liaison = { method: 'POST' as const, url: liaisonUrl, payload: body, headers: { ...signRequest(PROVINCE_SECRETS['510000'], 'POST', liaisonUrl, body), 'content-type': 'application/json' } };
      for (const req of [signedCallback('510000', body), liaison]) {
        const res = await h.app.inject(req);
        expect(res.statusCode, `${req.url} ${body}`).toBe(400);
        expect(res.headers['content-type'], `${req.url} ${body}`).toMatch(PROBLEM_JSON);
        expect(res.json<{ errors: unknown[] }>().errors.length, `${req.url} ${body}`).toBeGreaterThan(0);
      }
    }
  });

  it('a path parameter over the router’s length limit is a 414 problem (was fastify’s own JSON)', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/guide/${'a'.repeat(200)}` });
    expect(res.statusCode).toBe(414);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json()).toMatchObject({ status: 414, title: 'URI too long' });
  });

  it('a body that is not JSON, or empty, is a 400 naming the body (had no errors)', async () => {
    const cases = [
      { method: 'POST' as const, url: '/v1/verify', payload: '{', headers: { 'content-type': 'application/json' } },
      { method: 'POST' as const, url: '/v1/cases', payload: '', headers: { ...clerk, 'content-type': 'application/json', 'idempotency-key': `${KEY_PREFIX}empty-body` } },
      { method: 'POST' as const, url: '/v1/cases', payload: '{"itemCode":{"__proto__":""}}', headers: { ...clerk, 'content-type': 'application/json', 'idempotency-key': `${KEY_PREFIX}proto-body` } },
      { method: 'POST' as const, url: `/v1/cases/${randomUUID()}/actions/retry`, payload: '{', headers: { ...clerk, 'content-type': 'application/json' } },
      signedCallback('510000', '{'),
    ];
    for (const req of cases) {
      const res = await h.app.inject(req);
      expect(res.statusCode, req.url).toBe(400);
      expect(res.headers['content-type'], req.url).toMatch(PROBLEM_JSON);
      expect(res.json(), req.url).toMatchObject({ status: 400, errors: [{ path: 'body', message: expect.any(String) }] });
    }
  });
});
