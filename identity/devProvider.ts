// The development identity provider: a real, standards-compliant OpenID Provider (oidc-provider 8,
// OpenID Certified) standing in for a government identity platform (统一身份认证平台) on `npm
// start` and in tests, so staff sign in to the console through exactly the code path production
// uses (api/session.ts is an ordinary relying party of it). Nothing here is hand-written OIDC:
// discovery, the authorization code flow with PKCE, tokens, userinfo, JWKS and RP-initiated logout
// are the library's. What is ours is the small part every deployment of it writes itself: the
// accounts (identity/devAccounts.ts, a password check), the login page, and skipping the consent
// screen for its only, first-party client (tongban's console).
//
// The login page has `input[name="login"]`, `input[name="password"]` and a submit button (the
// browser tests fill exactly those). The signing key and the cookie keys are generated once under
// `dataDir` (mode 0600), and so is the provider's state (identity/stateAdapter.ts: its sessions,
// grants, codes), so a restart keeps staff signed in at the provider; without `dataDir` all of it
// lives in memory. tongban's own sessions are rows of its database either way (api/session.ts).
// Development only: the accounts share one published password, and http is accepted.
import { createHash, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { DEV_ACCOUNTS, type DevAccount } from './devAccounts.js';
import { createStateStore } from './stateAdapter.js';

export interface DevClient {
  clientId: string;
  clientSecret: string;
  /** Shown on the login page. */
  clientName?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

export interface DevIdentityProviderOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** Where it listens; default 127.0.0.1. */
  host?: string;
  /** Default `http://<host>:<port>`. */
  issuer?: string;
  clients: DevClient[];
  /** Default DEV_ACCOUNTS. */
  accounts?: readonly DevAccount[];
  /** Folder of its keys (created); omitted: keys in memory, new on every start. */
  dataDir?: string;
  /** Problems the provider reports (server errors); default: nothing. */
  log?: (line: string) => void;
}

export interface DevIdentityProvider {
  issuer: string;
  /** Where it answers (the issuer, unless the issuer names another host). */
  url: string;
  stop(): Promise<void>;
}

/** The provider's keys and the development client secret, as kept under dataDir. */
interface DevIdentityKeys {
  signingKey: Record<string, unknown>;
  cookieKeys: string[];
  clientSecret: string;
}

const KEYS_FILE = 'dev-idp-keys.json';
const STATE_FILE = 'dev-idp-state.json';

function generateKeys(): DevIdentityKeys {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    signingKey: { ...privateKey.export({ format: 'jwk' }), kid: `dev-${randomUUID()}`, alg: 'RS256', use: 'sig' },
    cookieKeys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
    clientSecret: randomBytes(32).toString('base64url'),
  };
}

/**
 * The keys under `dataDir`, generated and written (whole, mode 0600) on first use. `npm start`
 * reads the client secret from here to configure the API as the provider's client.
 */
export function loadDevIdentityKeys(dataDir: string): DevIdentityKeys {
  const file = path.join(dataDir, KEYS_FILE);
  try {
    const keys = JSON.parse(fs.readFileSync(file, 'utf8')) as DevIdentityKeys;
    if (keys.signingKey && Array.isArray(keys.cookieKeys) && typeof keys.clientSecret === 'string') return keys;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const keys = generateKeys();
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return keys;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** SHA-256 first, so the comparison is constant-time whatever the lengths. */
function samePassword(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const STYLE = `body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;background:#f3f5f8;margin:0;padding:40px 16px;color:#1f2933}
main{max-width:380px;margin:0 auto;background:#fff;border-radius:6px;box-shadow:0 2px 8px rgba(0,0,0,.12);padding:24px 28px}
h1{font-size:1.25em;margin:0 0 4px}p.sub{color:#52606d;margin:0 0 18px;font-size:.9em}
label{display:block;margin:12px 0 4px;font-size:.9em}input{width:100%;box-sizing:border-box;padding:8px;font-size:1em;border:1px solid #9aa5b1;border-radius:4px}
button{margin-top:18px;width:100%;padding:10px;font-size:1em;background:#c8102e;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{background:#fde8e8;color:#9b1c1c;padding:8px;border-radius:4px;margin-bottom:8px}
details{margin-top:20px;font-size:.85em;color:#52606d}table{border-collapse:collapse;width:100%}td{padding:2px 4px;border-bottom:1px solid #e4e7eb}code{font-size:.95em}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function loginPage(opts: { uid: string; clientName: string; login?: string; error?: string; accounts: readonly DevAccount[] }): string {
  const rows = opts.accounts
    .map((a) => `<tr><td><code>${escapeHtml(a.login)}</code></td><td>${escapeHtml(a.claims.name)}</td><td>${escapeHtml(Object.entries(a.claims).filter(([k]) => k !== 'name').map(([, v]) => v).join(' · '))}</td></tr>`)
    .join('');
  return page(
    '登录 Sign in',
    `<h1>工作人员登录 <small>Staff sign-in</small></h1>
<p class="sub">${escapeHtml(opts.clientName)} · 开发用身份认证服务 (development identity provider)</p>
${opts.error ? `<div class="error" role="alert">${escapeHtml(opts.error)}</div>` : ''}
<form method="post" action="/interaction/${escapeHtml(opts.uid)}/login" autocomplete="off">
<label for="login">账号 Account</label><input id="login" name="login" required autofocus value="${escapeHtml(opts.login ?? '')}">
<label for="password">密码 Password</label><input id="password" name="password" type="password" required>
<button type="submit">登录 Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(opts.uid)}/abort">取消 Cancel</a></p>
<details><summary>开发用账号 Development accounts</summary><table>${rows}</table></details>`,
  );
}

async function readForm(req: http.IncomingMessage, limit = 16 * 1024): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

export async function startDevIdentityProvider(opts: DevIdentityProviderOptions): Promise<DevIdentityProvider> {
  const host = opts.host ?? '127.0.0.1';
  const accounts = opts.accounts ?? DEV_ACCOUNTS;
  const byLogin = new Map(accounts.map((a) => [a.login, a]));
  const keys = opts.dataDir ? loadDevIdentityKeys(opts.dataDir) : generateKeys();
  const log = opts.log ?? (() => undefined);
  const state = createStateStore(opts.dataDir ? path.join(opts.dataDir, STATE_FILE) : undefined);

  // Listen first: with port 0 the issuer is known only once the port is.
  let handler: http.RequestListener = (_req, res) => void res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = opts.issuer ?? url;

  // Every claim the accounts carry besides the name is released with the `tongban` scope.
  const staffClaims = [...new Set(accounts.flatMap((a) => Object.keys(a.claims)).filter((k) => k !== 'name'))];

  const configuration: Configuration = {
    adapter: (model: string) => state.adapterFor(model),
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      client_name: c.clientName ?? c.clientId,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [keys.signingKey] },
    cookies: {
      keys: keys.cookieKeys,
      // Lax, not the library's None: on plain http a browser drops SameSite=None cookies.
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    scopes: ['openid', 'profile', 'tongban'],
    claims: { openid: ['sub'], profile: ['name'], tongban: staffClaims },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 12 * 3600, Grant: 12 * 3600 },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = page(
            '退出登录 Sign out',
            `<h1>退出登录？ <small>Sign out?</small></h1><p class="sub">${escapeHtml(ctx.host)}</p>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">是，退出 Yes, sign me out</button>
<button type="submit" form="op.logoutForm" style="background:#52606d">否 No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = page('已退出 Signed out', '<h1>已退出登录 <small>Signed out</small></h1>');
        },
      },
    },
    findAccount: async (_ctx: unknown, sub: string) => {
      const account = byLogin.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...account.claims }) };
    },
    // Its clients are tongban's own console: the scopes it asks for are granted without a consent
    // screen (the library's recipe "skip consent" for first-party clients).
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session, result, provider, requestParamOIDCScopes, requestParamClaims } = ctx.oidc;
      const accountId = session?.accountId;
      if (!client || !accountId) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const grant = (grantId ? await provider.Grant.find(grantId) : undefined) ?? new provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope([...requestParamOIDCScopes].join(' '));
      if (requestParamClaims.size) grant.addOIDCClaims([...requestParamClaims]);
      await grant.save();
      return grant;
    },
    renderError: async (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('出错了 Error', `<h1>无法完成登录 <small>Sign-in failed</small></h1><p class="error">${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx: unknown, err: Error) => log(`[identity] server error: ${err.message}`));
  const oidc = provider.callback();

  async function interaction(req: http.IncomingMessage, res: http.ServerResponse, uid: string, action: string | undefined): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendHtml(res, 400, page('出错了 Error', '<p class="error">此登录请求已失效，请回到原系统重新登录。This sign-in request is no longer valid; start again.</p>'));
    const client = details.params.client_id ? await provider.Client.find(details.params.client_id) : undefined;
    const clientName = client?.clientName ?? details.params.client_id ?? '';
    if (action === '/abort') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the staff member cancelled the sign-in' }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'consent') {
      // Only reached when a grant could not be loaded; first-party: grant what was asked.
      const accountId = details.session?.accountId;
      if (!accountId || !details.params.client_id) return sendHtml(res, 400, page('出错了 Error', '<p class="error">no signed-in account</p>'));
      const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId: details.params.client_id });
      if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
      if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    if (action === '/login' && req.method === 'POST') {
      const form = await readForm(req);
      const login = (form.get('login') ?? '').trim();
      const account = byLogin.get(login);
      // The password is compared even for an unknown login, so both take the same time.
      const passwordOk = samePassword(form.get('password') ?? '', account?.password ?? randomUUID());
      if (!account || !passwordOk) {
        return sendHtml(res, 401, loginPage({ uid, clientName, login, error: '账号或密码不正确。Wrong account or password.', accounts }));
      }
      return provider.interactionFinished(req, res, { login: { accountId: account.login } }, { mergeWithLastSubmission: false });
    }
    return sendHtml(res, 200, loginPage({ uid, clientName, login: details.params.login_hint, accounts }));
  }

  handler = (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(pathname);
    if (!m) return oidc(req, res);
    interaction(req, res, m[1]!, m[2]).catch((err: Error & { status?: number; error_description?: string }) => {
      if (res.headersSent) return void res.end();
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
      if (status === 500) log(`[identity] interaction failed: ${err.message}`);
      sendHtml(res, status, page('出错了 Error', `<p class="error">此登录请求已失效或出错，请回到原系统重新登录。The sign-in request expired or failed; start again.</p><p>${escapeHtml(err.error_description ?? err.message)}</p>`));
    });
  };

  let stopped: Promise<void> | null = null;
  return {
    issuer,
    url,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => state.flush())),
  };
}
