// The development identity provider on a real port, driven as a browser and an OpenID relying
// party (openid-client) would: discovery, the code flow with PKCE through its login page, the
// password check, no consent screen for its first-party client, the staff claims, and its keys
// and sessions surviving a restart on the same data folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../dev/temporal-server.js';
import { DEV_ACCOUNTS, DEV_PASSWORD } from '../../identity/devAccounts.js';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../identity/devProvider.js';
import { formOf, TestBrowser } from './browser.js';

const CLIENT_ID = 'tongban-console';
const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
const REDIRECT_URI = 'http://127.0.0.1:3999/auth/callback';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-idp-test-'));
let port: number;
let idp: DevIdentityProvider;

const start = () =>
  startDevIdentityProvider({ port, dataDir, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientName: '跨省通办 tongban', redirectUris: [REDIRECT_URI] }] });

beforeAll(async () => {
  port = await findFreePort();
  idp = await start();
});
afterAll(async () => {
  await idp?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function client(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(idp.issuer), CLIENT_ID, undefined, oidc.ClientSecretBasic(CLIENT_SECRET), { execute: [oidc.allowInsecureRequests] });
}

async function authorizationRequest(config: oidc.Configuration, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile tongban',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url: url.href, verifier, state, nonce };
}

const atCallback = (next: string) => next.startsWith(REDIRECT_URI);

/** Starts a code flow in `browser` and answers the login page (or the callback URL if none was asked for). */
async function openLogin(browser: TestBrowser, config: oidc.Configuration) {
  const request = await authorizationRequest(config);
  const { res, url, next } = await browser.follow(request.url, { stopBefore: atCallback });
  return { request, res, pageUrl: url, html: next ? '' : await res.text(), callback: next };
}

async function submitLogin(browser: TestBrowser, html: string, pageUrl: string, login: string, password: string) {
  const { action } = formOf(html, pageUrl);
  return browser.follow(action, { stopBefore: atCallback, init: { method: 'POST', body: new URLSearchParams({ login, password }), headers: { 'content-type': 'application/x-www-form-urlencoded' } } });
}

describe('development identity provider', () => {
  it('When a relying party reads its discovery document, then it offers the code flow with PKCE, userinfo, RP-initiated logout and the staff claims', async () => {
    const meta = (await client()).serverMetadata();
    expect(meta.issuer).toBe(`http://127.0.0.1:${port}`);
    expect(meta.response_types_supported).toContain('code');
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.userinfo_endpoint).toBeTruthy();
    expect(meta.end_session_endpoint).toBeTruthy();
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'tongban']));
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['name', 'tongban_role', 'tongban_region']));
  });

  it('When a clerk signs in with the seeded account, then the login page has the fields the browser tests fill, no consent screen follows, and the tokens carry the clerk’s role and region', async () => {
    const config = await client();
    const browser = new TestBrowser();
    const { request, res, html, pageUrl } = await openLogin(browser, config);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(html).toMatch(/<input[^>]*name="login"/);
    expect(html).toMatch(/<input[^>]*name="password"[^>]*type="password"|<input[^>]*type="password"[^>]*name="password"/);
    expect(html).toMatch(/<button[^>]*type="submit"/);
    expect(html).toContain('跨省通办 tongban');

    const signedIn = await submitLogin(browser, html, pageUrl, 'clerk-gd', DEV_PASSWORD);
    expect(signedIn.next).toMatch(/^http:\/\/127\.0\.0\.1:3999\/auth\/callback\?code=/);
    // Straight from the login to the client: no page in between asked to consent.
    expect(signedIn.hops.every((h) => h.status === 303 || h.status === 302)).toBe(true);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(signedIn.next!), { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true });
    expect(tokens.claims()!.sub).toBe('clerk-gd');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, 'clerk-gd');
    expect(userinfo).toMatchObject({ sub: 'clerk-gd', name: DEV_ACCOUNTS[0]!.claims.name, tongban_role: 'clerk', tongban_region: '440100' });
  });

  it('When the password is wrong or the account unknown, then the login page comes back with an error and no code is issued', async () => {
    const config = await client();
    const browser = new TestBrowser();
    const { html, pageUrl } = await openLogin(browser, config);
    for (const [login, password] of [['clerk-gd', 'wrong-password'], ['nobody', DEV_PASSWORD]] as const) {
      const attempt = await submitLogin(browser, html, pageUrl, login, password);
      expect(attempt.res.status).toBe(401);
      expect(attempt.next).toBeNull();
      const again = await attempt.res.text();
      expect(again).toContain('Wrong account or password');
      expect(again).toMatch(/<input[^>]*name="password"/);
    }
    // The same login page still works with the right password.
    const ok = await submitLogin(browser, html, pageUrl, 'approver-sc', DEV_PASSWORD);
    expect(ok.next).toMatch(/\/auth\/callback\?code=/);
  });

  it('When an authorization request comes without PKCE, then it is refused', async () => {
    const config = await client();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: oidc.randomState() });
    const { next } = await new TestBrowser().follow(url.href, { stopBefore: atCallback });
    expect(next).toMatch(/[?&]error=invalid_request/);
    expect(decodeURIComponent(next!)).toMatch(/PKCE|code_challenge/i);
  });

  it('When the provider restarts on the same data folder, then its signing key is the same, its key file is private, and a signed-in browser is still signed in', async () => {
    const config = await client();
    const browser = new TestBrowser();
    const { html, pageUrl } = await openLogin(browser, config);
    expect((await submitLogin(browser, html, pageUrl, 'supervisor-gd', DEV_PASSWORD)).next).toMatch(/code=/);
    const jwksBefore = await (await fetch(`${idp.issuer}/jwks`)).json();

    await idp.stop();
    // Let this process's HTTP client see its kept-alive connections closed (a browser would retry).
    await new Promise((resolve) => setTimeout(resolve, 100));
    idp = await start();

    expect(await (await fetch(`${idp.issuer}/jwks`)).json()).toEqual(jwksBefore);
    expect(fs.statSync(path.join(dataDir, 'dev-idp-keys.json')).mode & 0o777).toBe(0o600);
    // The provider's session came back with it: a new authorization request needs no login.
    const again = await openLogin(browser, await client());
    expect(again.callback).toMatch(/\/auth\/callback\?code=/);
  });
});
