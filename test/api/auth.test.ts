// Bearer tokens on every /v1 route except province callbacks; roles and regions; the item catalogue.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, verifyToken } from '../../api/auth.js';
import { BUILTIN_ITEMS } from '../../catalog/seed.js';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

const CASE_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const protectedRoutes = [
  { method: 'GET' as const, url: '/v1/cases' },
  { method: 'GET' as const, url: `/v1/cases/${CASE_ID}` },
  { method: 'POST' as const, url: '/v1/cases' },
  { method: 'POST' as const, url: `/v1/cases/${CASE_ID}/withdraw` },
  { method: 'POST' as const, url: `/v1/cases/${CASE_ID}/retry` },
  { method: 'POST' as const, url: `/v1/cases/${CASE_ID}/delivery-confirmation` },
  { method: 'POST' as const, url: '/v1/files' },
  { method: 'GET' as const, url: '/v1/items' },
  { method: 'GET' as const, url: '/v1/items/pension-transfer' },
];

describe('authentication', () => {
  it.each(protectedRoutes)('When $method $url is called without a token, then it answers 401 with a Bearer challenge', async ({ method, url }) => {
    const res = await h.app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it('When the token is signed with another secret, then it answers 401 invalid_token', async () => {
    const forged = await issueToken('another-secret-another-secret-1234', { sub: 'mallory', role: 'supervisor', region: '440000' }, 600);
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${forged}` } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('When the token has expired, then it answers 401 saying so', async () => {
    const key = new TextEncoder().encode(h.secrets.jwtSecret);
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ role: 'clerk', region: '440100' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('late')
      .setIssuer('tongban')
      .setAudience('tongban-api')
      .setIssuedAt(past - 60)
      .setExpirationTime(past)
      .sign(key);
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${expired}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ detail: string }>().detail).toContain('expired');
  });

  const signed = (claims: { iat?: number; exp?: number }) => {
    let jwt = new SignJWT({ role: 'clerk', region: '440100' }).setProtectedHeader({ alg: 'HS256' }).setSubject('s').setIssuer('tongban').setAudience('tongban-api');
    if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
    if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
    return jwt.sign(new TextEncoder().encode(h.secrets.jwtSecret));
  };
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['no exp', () => ({ iat: now() })],
    ['no iat', () => ({ exp: now() + 600 })],
  ])('When the token has %s, then it answers 401 saying both are required', async (_what, claims) => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${await signed(claims())}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ detail: string }>().detail).toBe('the token must carry exp and iat');
  });

  it('When the token would live longer than TOKEN_MAX_AGE_SECONDS (12 h by default), then it answers 401', async () => {
    const tooLong = await signed({ iat: now(), exp: now() + 12 * 3600 + 60 });
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${tooLong}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ detail: string }>().detail).toContain('43200 seconds');
    const justRight = await signed({ iat: now(), exp: now() + 12 * 3600 });
    const ok = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${justRight}` } });
    expect(ok.statusCode).toBe(200);
  });

  it('When TOKEN_MAX_AGE_SECONDS is lowered, then an older token is refused though it has not expired', async () => {
    const strict = await createApiHarness({ env: { TOKEN_MAX_AGE_SECONDS: '600' } });
    try {
      const old = await signed({ iat: now() - 700, exp: now() + 60 });
      const res = await strict.app.inject({ method: 'GET', url: '/v1/items', headers: { authorization: `Bearer ${await signedWith(strict.secrets.jwtSecret, old)}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json<{ detail: string }>().detail).toContain('600 seconds');
    } finally {
      await strict.close();
    }
  });

  it('When the token was issued in the future, then it answers 401', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${await signed({ iat: now() + 3600, exp: now() + 7200 })}` } });
    expect(res.statusCode).toBe(401);
  });

  it('When the token carries an unknown role, then it answers 401', async () => {
    const key = new TextEncoder().encode(h.secrets.jwtSecret);
    const token = await new SignJWT({ role: 'root', region: '440000' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('tongban')
      .setAudience('tongban-api')
      .setExpirationTime('10m')
      .sign(key);
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(401);
  });

  it('When the Authorization header is not a bearer token, then it answers 401', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/items', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.statusCode).toBe(401);
  });

  it('When a token is issued, then it verifies to the same claims', async () => {
    const token = await issueToken(h.secrets.jwtSecret, { sub: 'alice', role: 'approver', region: '510000', name: '王五' }, 60);
    await expect(verifyToken(h.secrets.jwtSecret, token)).resolves.toEqual({ sub: 'alice', role: 'approver', region: '510000', name: '王五' });
  });
});

/** Re-signs a token's claims with another secret (the stricter app has secrets of its own). */
async function signedWith(secret: string, token: string): Promise<string> {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

describe('roles', () => {
  it('When a manager submits a case, then it answers 403', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/cases', headers: await h.auth('manager', '440000'), payload: {} });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When an approver confirms a delivery, then it answers 403', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/cases/${CASE_ID}/delivery-confirmation`,
      headers: await h.auth('approver', '440000'),
      payload: { method: 'window' },
    });
    expect(res.statusCode).toBe(403);
  });

  it('When an item admin withdraws a case, then it answers 403', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/cases/${CASE_ID}/withdraw`,
      headers: await h.auth('item_admin', '440000'),
      payload: { reason: 'test' },
    });
    expect(res.statusCode).toBe(403);
  });

  it('When a manager uploads a file, then it answers 403', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/files', headers: await h.auth('manager', '440000'), payload: {} });
    expect(res.statusCode).toBe(403);
  });
});

describe('items', () => {
  it('When any role lists the items, then every seed item is there with its published version', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/items', headers: await h.auth('manager', '110000') });
    expect(res.statusCode).toBe(200);
    const { items } = res.json<{ items: { code: string; publishedVersion: number | null }[] }>();
    for (const seed of BUILTIN_ITEMS) expect(items.find((i) => i.code === seed.code)?.publishedVersion, seed.code).toBe(seed.version);
  });

  it('When one item is asked for by code, then its full published definition is returned', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/items/medical-filing', headers: await h.auth('item_admin', '440000') });
    expect(res.statusCode).toBe(200);
    const { status, publishedAt: _publishedAt, versions: _versions, ...definition } = res.json<Record<string, unknown>>();
    expect(status).toBe('published');
    expect(definition).toEqual(JSON.parse(JSON.stringify(BUILTIN_ITEMS.find((i) => i.code === 'medical-filing'))));
  });

  it('When an unknown item is asked for, then it answers a 404 problem', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/items/no-such-item', headers: await h.auth('clerk', '440100') });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });
});
