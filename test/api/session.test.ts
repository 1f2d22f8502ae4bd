// Staff sign-in end to end over HTTP: the development identity provider on a real port, the API
// listening as the relying party, and a cookie-keeping client that follows the redirects and fills
// the login form as a browser does. Then what the session cookie may do: read with it; change
// something only with its CSRF token; sign out; the codec for the Temporal Web UI; and what it may
// not (tampered cookies, open redirects, accounts without a tongban role).
import { createHash, randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { EncryptionCodec } from '../../crypto/payloadCodec.js';
import { findFreePort } from '../../dev/temporal-server.js';
import { DEV_ACCOUNTS, DEV_PASSWORD, staffAccount, type DevAccount } from '../../identity/devAccounts.js';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../identity/devProvider.js';
import { mapStaffClaims, safeReturnTo } from '../../api/session.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { formOf, TestBrowser } from '../identity/browser.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, SAMPLE_BYTES, testItem, type ApiHarness } from './helpers.js';

const CLIENT_ID = 'tongban-console';
const CLIENT_SECRET = `test-${randomUUID()}`;
const UI_ORIGIN = 'http://127.0.0.1:8233';

/** Accounts besides the seeded ones: claims that map to nothing, and a platform with its own role names. */
const EXTRA_ACCOUNTS: DevAccount[] = [
  staffAccount('visitor', 'citizen', '440100', '来访者'),
  staffAccount('no-region', 'clerk', 'Guangzhou', '无地区'),
  { login: 'window-gz', password: DEV_PASSWORD, claims: { name: '周窗口', gov_role: '窗口人员', tongban_region: '440100' } },
  { login: 'gov-clerk', password: DEV_PASSWORD, claims: { name: '吴办事员', gov_role: 'clerk', tongban_region: '440100' } },
];

interface Site {
  h: ApiHarness;
  url: string;
}

let idp: DevIdentityProvider;
let main: Site;
let mapped: Site;
let caseId: string;

async function listeningSite(env: Record<string, string>, port: number, pool?: ApiHarness['pool']): Promise<Site> {
  const url = `http://127.0.0.1:${port}`;
  const h = await createApiHarness({ env: { PUBLIC_URL: url, ...env }, ...(pool ? { pool } : {}) });
  await h.app.listen({ host: '127.0.0.1', port });
  return { h, url };
}

beforeAll(async () => {
  const [mainPort, mappedPort] = [await findFreePort(), await findFreePort()];
  const redirects = [mainPort, mappedPort].map((p) => `http://127.0.0.1:${p}`);
  idp = await startDevIdentityProvider({
    accounts: [...DEV_ACCOUNTS, ...EXTRA_ACCOUNTS],
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: redirects.map((r) => `${r}/auth/callback`), postLogoutRedirectUris: redirects.map((r) => `${r}/console/`) }],
  });
  const oidcEnv = { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET };
  main = await listeningSite(oidcEnv, mainPort);
  mapped = await listeningSite({ ...oidcEnv, OIDC_ROLE_CLAIM: 'gov_role', OIDC_ROLE_MAP: JSON.stringify({ 窗口人员: 'clerk' }) }, mappedPort, main.h.pool);
  // Received in Guangzhou (440100) for Sichuan (510000).
  caseId = await insertProjectedCase(main.h, { item: testItem('session-codec-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date() });
});
afterAll(async () => {
  await mapped?.h.close();
  await main?.h.close();
  await idp?.stop();
});

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Signs `login` in through the whole flow, as a browser: /auth/login → the provider → its login
 * form → back to /auth/callback. Answers the callback's response and the browser holding the cookies.
 */
async function signIn(login: string, opts: { site?: Site; returnTo?: string; browser?: TestBrowser; password?: string } = {}) {
  const site = opts.site ?? main;
  const browser = opts.browser ?? new TestBrowser();
  const start = `${site.url}/auth/login${opts.returnTo !== undefined ? `?returnTo=${encodeURIComponent(opts.returnTo)}` : ''}`;
  const atCallback = (next: string) => next.startsWith(`${site.url}/auth/callback`);
  let flow = await browser.follow(start, { stopBefore: atCallback });
  if (!flow.next) {
    // The provider asks who is there.
    const html = await flow.res.text();
    expect(flow.res.status, html).toBe(200);
    const { action } = formOf(html, flow.url);
    flow = await browser.follow(action, {
      stopBefore: atCallback,
      init: { method: 'POST', body: new URLSearchParams({ login, password: opts.password ?? DEV_PASSWORD }), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    });
  }
  expect(flow.next, `no redirect back to tongban for ${login}`).toBeTruthy();
  const callback = await browser.request(flow.next!);
  return { browser, callback };
}

async function me(browser: TestBrowser, site: Site = main) {
  return browser.request(`${site.url}/auth/me`);
}

async function csrfOf(browser: TestBrowser): Promise<string> {
  const res = await me(browser);
  expect(res.status).toBe(200);
  return (await bodyOf<{ csrfToken: string }>(res)).csrfToken;
}

/** A response's JSON body, typed as the test expects it. */
async function bodyOf<T = { detail: string }>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

function pdfForm(): FormData {
  const form = new FormData();
  form.append('file', new Blob([SAMPLE_BYTES['application/pdf'], randomUUID()], { type: 'application/pdf' }), 'material.pdf');
  return form;
}

describe('staff sign-in with OpenID Connect', () => {
  it('When a clerk signs in at the provider, then tongban sets an HttpOnly, SameSite=Lax session cookie, returns to the page asked for, and /auth/me shows the clerk with a CSRF token', async () => {
    const { browser, callback } = await signIn('clerk-gd', { returnTo: '/console/cases?stuck=true#top' });
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/console/cases?stuck=true#top');
    const set = callback.headers.getSetCookie().find((c) => c.startsWith('tongban_session='))!;
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Lax/);
    expect(set).toMatch(/; Path=\//);
    expect(set).toMatch(/; Max-Age=43200/);
    // PUBLIC_URL is plain http on 127.0.0.1, the one place a session cookie may go without TLS.
    expect(set).not.toMatch(/; Secure/);
    // The sign-in cookie is gone once used.
    expect(browser.cookie('tongban_login')).toBeUndefined();

    const res = await me(browser);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await bodyOf<unknown>(res);
    expect(body).toEqual({ sub: 'clerk-gd', name: '陈窗口（广州收件）', role: 'clerk', region: '440100', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    // The database holds the cookie's hash, never the cookie.
    const cookieValue = browser.cookie('tongban_session')!.value;
    const { rows } = await main.h.pool.query(`SELECT sub, role, region, (id_hash = $1) AS hashed FROM staff_sessions WHERE sub = 'clerk-gd'`, [sha256(cookieValue)]);
    expect(rows).toContainEqual({ sub: 'clerk-gd', role: 'clerk', region: '440100', hashed: true });
    const leaked = await main.h.pool.query(`SELECT 1 FROM staff_sessions WHERE encode(id_hash, 'escape') LIKE '%' || $1 || '%' OR csrf_token = $1`, [cookieValue]);
    expect(leaked.rowCount).toBe(0);
    const audit = await main.h.pool.query(`SELECT role, region, detail FROM audit_log WHERE actor = 'clerk-gd' AND action = 'staff.sign-in' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows[0]).toMatchObject({ role: 'clerk', region: '440100', detail: { issuer: idp.issuer } });
  });

  it('When the signed-in clerk reads the case list with the cookie, then it answers as for a bearer token', async () => {
    const { browser } = await signIn('clerk-gd');
    const res = await browser.request(`${main.url}/v1/cases?limit=5`);
    expect(res.status).toBe(200);
    expect(Array.isArray((await bodyOf<{ items: unknown }>(res)).items)).toBe(true);
  });

  it('When a cookie-authenticated request changes something without the CSRF token, or with a wrong one, then it is refused 403; with the token it goes through', async () => {
    const { browser } = await signIn('clerk-gd');
    const csrf = await csrfOf(browser);
    const without = await browser.request(`${main.url}/v1/files`, { method: 'POST', body: pdfForm() });
    expect(without.status).toBe(403);
    expect(without.headers.get('content-type')).toMatch(PROBLEM_JSON);
    expect((await bodyOf(without)).detail).toBe('CSRF token missing or wrong');
    // One character changed; always another one (a 32-byte token's last character is A one time in 16).
    const wrongToken = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
    expect(wrongToken).not.toBe(csrf);
    const wrong = await browser.request(`${main.url}/v1/files`, { method: 'POST', body: pdfForm(), headers: { 'x-csrf-token': wrongToken } });
    expect(wrong.status).toBe(403);
    // Another session's token does not fit this one.
    const other = await csrfOf((await signIn('clerk-gz2')).browser);
    expect((await browser.request(`${main.url}/v1/files`, { method: 'POST', body: pdfForm(), headers: { 'x-csrf-token': other } })).status).toBe(403);

    const withToken = await browser.request(`${main.url}/v1/files`, { method: 'POST', body: pdfForm(), headers: { 'x-csrf-token': csrf } });
    expect(withToken.status).toBe(201);
    const { fileId } = await bodyOf<{ fileId: string }>(withToken);
    const stored = await main.h.pool.query(`SELECT uploaded_by, uploaded_region FROM files WHERE file_id = $1`, [fileId]);
    expect(stored.rows[0]).toEqual({ uploaded_by: 'clerk-gd', uploaded_region: '440100' });
  });

  it('When a script sends a bearer token, then it needs no CSRF token, and a session cookie sent alongside is not looked at', async () => {
    const auth = await main.h.auth('clerk', '440100', 'script-clerk');
    const res = await fetch(`${main.url}/v1/files`, { method: 'POST', body: pdfForm(), headers: auth });
    expect(res.status).toBe(201);
    const { browser } = await signIn('supervisor-gd');
    const both = await browser.request(`${main.url}/auth/me`, { headers: auth });
    expect(await bodyOf<unknown>(both)).toMatchObject({ sub: 'script-clerk', role: 'clerk', csrfToken: null });
    // A wrong bearer token is refused even with a good cookie: no fallback from one to the other.
    expect((await browser.request(`${main.url}/auth/me`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
  });

  it('When the staff member signs out, then the session is deleted and audited, the cookie cleared, the old cookie opens nothing, and the provider’s logout ends its session too', async () => {
    const { browser } = await signIn('approver-sc');
    const cookieValue = browser.cookie('tongban_session')!.value;
    const csrf = await csrfOf(browser);
    expect((await browser.request(`${main.url}/auth/logout`, { method: 'POST' })).status).toBe(403);
    expect((await me(browser)).status).toBe(200);

    const out = await browser.request(`${main.url}/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().some((c) => /^tongban_session=;/.test(c) && /Expires=Thu, 01 Jan 1970|Max-Age=0/.test(c))).toBe(true);
    const { location } = await bodyOf<{ location: string }>(out);
    const logout = new URL(location);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`${main.url}/console/`);
    expect(logout.searchParams.get('id_token_hint')).toBeTruthy();

    expect(browser.cookie('tongban_session')).toBeUndefined();
    const stale = await fetch(`${main.url}/auth/me`, { headers: { cookie: `tongban_session=${cookieValue}` } });
    expect(stale.status).toBe(401);
    expect((await main.h.pool.query(`SELECT 1 FROM staff_sessions WHERE id_hash = $1`, [sha256(cookieValue)])).rowCount).toBe(0);
    const audit = await main.h.pool.query(`SELECT role, region FROM audit_log WHERE actor = 'approver-sc' AND action = 'staff.sign-out'`);
    expect(audit.rows).toContainEqual({ role: 'approver', region: '510100' });

    // At the provider: confirm, land on the console, and the next sign-in asks for the password again.
    const confirmPage = await browser.request(location);
    const { action, hidden } = formOf(await confirmPage.text(), location, 'op.logoutForm');
    const done = await browser.follow(action, { init: { method: 'POST', body: new URLSearchParams({ ...hidden, logout: 'yes' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }, stopBefore: (next) => next.startsWith(main.url) });
    expect(done.next).toBe(`${main.url}/console/`);
    const again = await browser.follow(`${main.url}/auth/login`, { stopBefore: (next) => next.startsWith(`${main.url}/auth/callback`) });
    expect(again.next).toBeNull();
    expect(await again.res.text()).toMatch(/name="password"/);
  });

  it('When the cookie is unknown, tampered with or malformed, then the request is 401 and nothing is learnt', async () => {
    const { browser } = await signIn('clerk-gd');
    const good = browser.cookie('tongban_session')!.value;
    const flipped = `${good.slice(0, 10)}${good[10] === 'A' ? 'B' : 'A'}${good.slice(11)}`;
    for (const value of [flipped, randomUUID(), 'x', `${good}x`, '']) {
      const res = await fetch(`${main.url}/v1/cases`, { headers: { cookie: `tongban_session=${value}` } });
      expect(res.status, value).toBe(401);
      expect(res.headers.get('content-type')).toMatch(PROBLEM_JSON);
    }
    const none = await fetch(`${main.url}/v1/cases`);
    expect((await bodyOf(none)).detail).toBe('a bearer token or a signed-in session is required');
  });

  it('When a session has been idle past the timeout, or outlived its lifetime, then it no longer opens', async () => {
    const idle = await signIn('clerk-gz2');
    await main.h.pool.query(`UPDATE staff_sessions SET last_seen_at = now() - interval '31 minutes' WHERE id_hash = $1`, [sha256(idle.browser.cookie('tongban_session')!.value)]);
    expect((await me(idle.browser)).status).toBe(401);
    const old = await signIn('clerk-gz2');
    await main.h.pool.query(`UPDATE staff_sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1`, [sha256(old.browser.cookie('tongban_session')!.value)]);
    expect((await me(old.browser)).status).toBe(401);
    // A session in use is marked used (at most once a minute), which is what keeps it alive.
    const used = await signIn('clerk-gz2');
    const hash = sha256(used.browser.cookie('tongban_session')!.value);
    await main.h.pool.query(`UPDATE staff_sessions SET last_seen_at = now() - interval '20 minutes' WHERE id_hash = $1`, [hash]);
    expect((await me(used.browser)).status).toBe(200);
    const { rows } = await main.h.pool.query(`SELECT now() - last_seen_at < interval '1 minute' AS fresh FROM staff_sessions WHERE id_hash = $1`, [hash]);
    expect(rows[0].fresh).toBe(true);
  });

  it('When returnTo names another site, then the sign-in lands on the console instead', async () => {
    for (const returnTo of ['https://evil.example/phish', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const { callback } = await signIn('clerk-gd', { returnTo });
      expect(callback.status).toBe(303);
      expect(callback.headers.get('location'), returnTo).toBe('/console/');
    }
    expect(safeReturnTo('/console/cases/abc?x=1')).toBe('/console/cases/abc?x=1');
    expect(safeReturnTo('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
    expect(safeReturnTo('/console/\u0000')).toBe('/console/');
    expect(safeReturnTo(undefined)).toBe('/console/');
  });

  it('When the provider’s claims give no tongban role or no valid region, then the sign-in is refused 403 and no session is made', async () => {
    for (const [login, detail] of [['visitor', /no tongban role.*"citizen"/], ['no-region', /no valid region.*"Guangzhou"/]] as const) {
      const { browser, callback } = await signIn(login);
      expect(callback.status).toBe(403);
      expect(callback.headers.get('content-type')).toMatch(PROBLEM_JSON);
      expect((await bodyOf(callback)).detail).toMatch(detail);
      expect(callback.headers.getSetCookie().some((c) => c.startsWith('tongban_session='))).toBe(false);
      expect(browser.cookie('tongban_session')).toBeUndefined();
      expect((await main.h.pool.query(`SELECT 1 FROM staff_sessions WHERE sub = $1`, [login])).rowCount).toBe(0);
    }
  });

  it('When the platform names its roles differently, then OIDC_ROLE_CLAIM and OIDC_ROLE_MAP map them, and only mapped values count', async () => {
    const { browser, callback } = await signIn('window-gz', { site: mapped });
    expect(callback.status).toBe(303);
    expect(await bodyOf<unknown>(await me(browser, mapped))).toMatchObject({ sub: 'window-gz', role: 'clerk', region: '440100' });
    // "clerk" is tongban's name, but this platform's map does not list it.
    expect((await signIn('gov-clerk', { site: mapped })).callback.status).toBe(403);

    const mapping = { roleClaim: 'roles', regionClaim: 'division', roleMap: { 窗口人员: 'clerk' as const, 科长: 'supervisor' as const } };
    expect(mapStaffClaims({ sub: 'a', roles: ['其他', '窗口人员'], division: 440100 }, mapping)).toEqual({ staff: { sub: 'a', role: 'clerk', region: '440100' } });
    expect(mapStaffClaims({ sub: 'a', roles: ['窗口人员', '科长'], division: '440100' }, mapping)).toMatchObject({ refused: expect.stringMatching(/several tongban roles/) });
    expect(mapStaffClaims({ sub: 'a', tongban_role: 'approver', tongban_region: '510100', name: '  王  ' }, { roleClaim: 'tongban_role', regionClaim: 'tongban_region' })).toEqual({ staff: { sub: 'a', role: 'approver', region: '510100', name: '王' } });
  });

  it('When the callback comes without the sign-in cookie, or with a forged one, then it is refused 400 and no session is made', async () => {
    const browser = new TestBrowser();
    const flow = await browser.follow(`${main.url}/auth/login`, { stopBefore: (next) => next.startsWith(idp.issuer) });
    expect(flow.res.status).toBe(303);
    expect(flow.res.headers.get('cache-control')).toBe('no-store');
    const login = browser.cookie('tongban_login')!;
    expect(login.path).toBe('/auth/callback');
    expect(login.attributes.httponly).toBe(true);
    const noCookie = await fetch(`${main.url}/auth/callback?code=abc&state=def`);
    expect(noCookie.status).toBe(400);
    const forged = await fetch(`${main.url}/auth/callback?code=abc&state=def`, { headers: { cookie: `tongban_login=${encodeURIComponent(JSON.stringify({ state: 'def', nonce: 'n', verifier: 'v', returnTo: '/' }))}` } });
    expect(forged.status).toBe(400);
    expect((await bodyOf(forged)).detail).toMatch(/no sign-in is in progress/);
  });
});

describe('the payload codec with the console session (Temporal Web UI, credentials included)', () => {
  const ID = '11010519491231002X';
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  type WirePayload = { metadata: Record<string, string>; data: string };

  async function payload(): Promise<WirePayload> {
    const [p] = await new EncryptionCodec(main.h.secrets.payloadKeys).encode([defaultPayloadConverter.toPayload({ applicant: { idNumber: ID } })], { type: 'workflow', namespace: 'default', workflowId: caseWorkflowId(caseId) });
    return { metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(p!.data!) };
  }
  const decode = async (browser: TestBrowser, headers: Record<string, string>, sent?: WirePayload) =>
    browser.request(`${main.url}/v1/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify({ payloads: [sent ?? (await payload())] }) });
  const clear = async (res: Response): Promise<unknown> => JSON.parse(Buffer.from((await bodyOf<{ payloads: WirePayload[] }>(res)).payloads[0]!.data, 'base64').toString());

  it('When a signed-in supervisor’s Web UI decodes from its allowed origin, then the payload opens without a CSRF header, with CORS for credentials, and is audited', async () => {
    const { browser } = await signIn('supervisor-gd');
    const res = await decode(browser, { origin: UI_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await clear(res)).toEqual({ applicant: { idNumber: ID } });
    const audit = await main.h.pool.query(`SELECT case_id FROM audit_log WHERE actor = 'supervisor-gd' AND action = 'payload.decode' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows[0].case_id).toBe(caseId);
  });

  it('When the same cookie comes from another origin or with no origin, then the CSRF header is required', async () => {
    const { browser } = await signIn('supervisor-gd');
    const foreign = await decode(browser, { origin: 'http://127.0.0.1:9999' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect((await decode(browser, {})).status).toBe(403);
    // The console itself (same origin) may decode too; a script with the cookie must send the token.
    expect((await decode(browser, { origin: main.url })).status).toBe(200);
    expect((await decode(browser, { 'x-csrf-token': await csrfOf(browser) })).status).toBe(200);
  });

  it('When a clerk, or a supervisor on neither side of the case, decodes, then nothing opens: the clerk is refused, the supervisor gets the ciphertext back', async () => {
    const clerk = await decode((await signIn('clerk-gd')).browser, { origin: UI_ORIGIN });
    expect(clerk.status).toBe(403);
    expect(await clerk.text()).not.toContain(ID);
    // Chengdu's supervisor: the case is handled by the province of Sichuan, not the city.
    const sent = await payload();
    const outsider = await decode((await signIn('supervisor-sc')).browser, { origin: UI_ORIGIN }, sent);
    expect(outsider.status).toBe(200);
    const back = (await bodyOf<{ payloads: WirePayload[] }>(outsider)).payloads[0]!;
    expect(back).toEqual(sent);
    expect(Buffer.from(back.data, 'base64').toString('latin1')).not.toContain(ID);
  });
});

describe('sign-in configuration', () => {
  it('When no identity provider is configured, then /auth answers 503 and bearer tokens still work', async () => {
    const plain = await createApiHarness({ pool: main.h.pool });
    try {
      for (const url of ['/auth/login', '/auth/me', '/auth/callback?code=x']) {
        const res = await plain.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(503);
        expect(res.json().detail).toMatch(/sign-in is not configured/);
      }
      const res = await plain.app.inject({ method: 'GET', url: '/v1/cases', headers: await plain.auth('clerk', '440100') });
      expect(res.statusCode).toBe(200);
    } finally {
      await plain.close();
    }
  });

  it('When the identity provider cannot be reached, then /auth/login answers 503 with Retry-After', async () => {
    const deadPort = await findFreePort();
    const down = await createApiHarness({ pool: main.h.pool, env: { OIDC_ISSUER: `http://127.0.0.1:${deadPort}`, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET } });
    try {
      const res = await down.app.inject({ method: 'GET', url: '/auth/login' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json().detail).toMatch(/cannot be reached/);
    } finally {
      await down.close();
    }
  });

  it('When the variables are read, then the client comes with the issuer, the role map is checked, and the cookie is Secure except on plain-http loopback', () => {
    const base = { NODE_ENV: 'test', DATA_DIR: '/tmp/tongban-config-test' };
    expect(() => loadConfig({ ...base, OIDC_ISSUER: 'https://id.example.gov.cn' })).toThrow(/OIDC_CLIENT_ID: required with OIDC_ISSUER[\s\S]*OIDC_CLIENT_SECRET/);
    expect(() => loadConfig({ ...base, OIDC_CLIENT_ID: 'x' })).toThrow(/OIDC_ISSUER: required/);
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', OIDC_ISSUER: 'http://id.example.gov.cn', OIDC_CLIENT_ID: 'x', OIDC_CLIENT_SECRET: 'y' })).toThrow(/must be https/);
    expect(() => loadConfig({ ...base, OIDC_ROLE_MAP: '{"窗口人员": "window"}' })).toThrow(/OIDC_ROLE_MAP: must map role values to one of clerk/);
    expect(() => loadConfig({ ...base, OIDC_ROLE_MAP: 'not json' })).toThrow(/OIDC_ROLE_MAP: not valid JSON/);
    expect(loadConfig({ ...base, OIDC_ROLE_MAP: '{"窗口人员": "clerk"}' }).OIDC_ROLE_MAP).toEqual({ 窗口人员: 'clerk' });
    expect(loadConfig({ ...base, PUBLIC_URL: 'http://127.0.0.1:3000' }).SESSION_COOKIE_SECURE).toBe(false);
    expect(loadConfig({ ...base, PUBLIC_URL: 'http://localhost:3000' }).SESSION_COOKIE_SECURE).toBe(false);
    expect(loadConfig({ ...base, PUBLIC_URL: 'http://10.0.0.5:3000' }).SESSION_COOKIE_SECURE).toBe(true);
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://tongban.example.gov.cn' }).SESSION_COOKIE_SECURE).toBe(true);
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://tongban.example.gov.cn', SESSION_COOKIE_SECURE: 'false' }).SESSION_COOKIE_SECURE).toBe(false);
  });
});
