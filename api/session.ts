// Staff sign-in with OpenID Connect, for the console in a browser (docs/security.md "Signing in").
// tongban is an ordinary relying party (openid-client 6, OpenID Certified) of the identity
// platform named by OIDC_ISSUER: the authorization code flow with PKCE, state and nonce; the id
// token validated by the library; the role and region read from claims (OIDC_ROLE_CLAIM,
// OIDC_REGION_CLAIM, OIDC_ROLE_MAP), from the id token and the userinfo endpoint. A staff member
// whose claims give no valid role or region is refused (403) and gets no session.
//
// A signed-in staff member gets a server-side session (db/sessions.ts): the `tongban_session`
// cookie holds a random id (HttpOnly, SameSite=Lax, Path=/, Secure unless PUBLIC_URL is plain
// http on a loopback host), the database only its SHA-256. It ends TOKEN_MAX_AGE_SECONDS after
// sign-in, after SESSION_IDLE_TIMEOUT_SECONDS unused, or at sign-out. Each session has a CSRF
// token (GET /auth/me answers it) that every state-changing request with the cookie must echo in
// `x-csrf-token` (api/auth.ts). Scripts keep using bearer tokens and need none of this.
//
// While the browser is at the identity provider, what the callback needs (state, nonce, PKCE
// verifier, where to return) rides in a short-lived signed cookie, `tongban_login`, limited to
// /auth/callback. Sign-in and sign-out are audit rows (`staff.sign-in`, `staff.sign-out`).
//   GET  /auth/login?returnTo=/console/…[&prompt=login]  → 303 to the identity provider
//   GET  /auth/callback                                  → session cookie, 303 to returnTo
//   GET  /auth/me                                        → {sub, name, role, region, csrfToken}
//   POST /auth/logout                                    → 204, or 200 {location} of the provider's logout
// Without OIDC_ISSUER every /auth route answers 503: bearer tokens are then the only way in.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type pg from 'pg';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { Config } from '../config/index.js';
import { writeAudit } from '../db/audit.js';
import { deleteEndedStaffSessions, deleteStaffSession, findLiveStaffSession, insertStaffSession } from '../db/sessions.js';
import { withTransaction } from '../db/transaction.js';
import { STAFF_ROLES, type StaffRole } from '../domain/case.js';
import { authenticate, SESSION_COOKIE, validClaims, type SessionLookup, type StaffClaims, type StaffSession } from './auth.js';
import { AppError, problem, problems } from './problem.js';

export const LOGIN_COOKIE = 'tongban_login';
const LOGIN_COOKIE_PATH = '/auth/callback';
/** How long a sign-in may stay at the identity provider. */
const LOGIN_TTL_SECONDS = 600;
/** Where a sign-in without a usable returnTo lands. */
export const DEFAULT_RETURN_TO = '/console/';
/** What the cookie holds: 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const IDP_RETRY_AFTER_SECONDS = 5;

declare module 'fastify' {
  interface FastifyInstance {
    /** Console sessions (the session cookie's lookup for api/auth.ts). */
    staffSessions: StaffSessions;
  }
}

// ---- sessions -------------------------------------------------------------------------------

export interface StaffSessions extends SessionLookup {
  /** Starts a session; answers the cookie value (never stored) and the CSRF token. */
  create(staff: StaffClaims, origin: { issuer: string; idToken: string | null }): Promise<{ cookieValue: string; csrfToken: string }>;
  /** Ends the session the cookie value opens; answers what it was, or null. */
  end(cookieValue: string, staff: StaffClaims): Promise<{ idToken: string | null } | null>;
}

const hashOf = (cookieValue: string) => createHash('sha256').update(cookieValue, 'utf8').digest();

export function createStaffSessions(pool: pg.Pool, config: Pick<Config, 'TOKEN_MAX_AGE_SECONDS' | 'SESSION_IDLE_TIMEOUT_SECONDS'>): StaffSessions {
  const idle = config.SESSION_IDLE_TIMEOUT_SECONDS;
  return {
    async find(cookieValue: string): Promise<StaffSession | null> {
      if (!SESSION_ID.test(cookieValue)) return null;
      const row = await findLiveStaffSession(pool, hashOf(cookieValue), idle);
      if (!row) return null;
      const staff = validClaims({ sub: row.sub, role: row.role, region: row.region, ...(row.name ? { name: row.name } : {}) });
      return staff ? { staff, csrfToken: row.csrfToken } : null;
    },
    async create(staff, origin) {
      const cookieValue = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      await withTransaction(pool, async (db) => {
        await deleteEndedStaffSessions(db, idle);
        await insertStaffSession(db, {
          idHash: hashOf(cookieValue),
          sub: staff.sub,
          name: staff.name ?? null,
          role: staff.role,
          region: staff.region,
          issuer: origin.issuer,
          csrfToken,
          idToken: origin.idToken,
          lifetimeSeconds: config.TOKEN_MAX_AGE_SECONDS,
        });
        await writeAudit(db, { actor: staff.sub, role: staff.role, region: staff.region, action: 'staff.sign-in', detail: { issuer: origin.issuer, ...(staff.name ? { name: staff.name } : {}) } });
      });
      return { cookieValue, csrfToken };
    },
    async end(cookieValue, staff) {
      return withTransaction(pool, async (db) => {
        const row = await deleteStaffSession(db, hashOf(cookieValue));
        if (!row) return null;
        await writeAudit(db, { actor: staff.sub, role: staff.role, region: staff.region, action: 'staff.sign-out', detail: { issuer: row.issuer } });
        return { idToken: row.idToken };
      });
    },
  };
}

/** The key of the sign-in cookie's signature: derived from JWT_SECRET, so no new secret to manage. */
export function loginCookieSecret(jwtSecret: string): Buffer {
  return createHmac('sha256', jwtSecret).update('tongban sign-in cookie').digest();
}

// ---- claims ---------------------------------------------------------------------------------

export interface ClaimMapping {
  roleClaim: string;
  regionClaim: string;
  /** The platform's role values → tongban's roles; when set, the only values accepted. */
  roleMap?: Record<string, StaffRole>;
}

export const claimMappingOf = (config: Pick<Config, 'OIDC_ROLE_CLAIM' | 'OIDC_REGION_CLAIM' | 'OIDC_ROLE_MAP'>): ClaimMapping => ({
  roleClaim: config.OIDC_ROLE_CLAIM,
  regionClaim: config.OIDC_REGION_CLAIM,
  ...(config.OIDC_ROLE_MAP ? { roleMap: config.OIDC_ROLE_MAP } : {}),
});

const isStaffRole = (v: string): v is StaffRole => (STAFF_ROLES as readonly string[]).includes(v);

/**
 * The staff member the identity provider's claims describe, or why they describe none. A role
 * claim may be one value or a list of them; the values must map to exactly one tongban role.
 */
export function mapStaffClaims(claims: Record<string, unknown>, mapping: ClaimMapping): { staff: StaffClaims } | { refused: string } {
  const rawRole = claims[mapping.roleClaim];
  const values = (Array.isArray(rawRole) ? rawRole : [rawRole]).filter((v): v is string => typeof v === 'string');
  const roles = [...new Set(values.map((v) => (mapping.roleMap ? mapping.roleMap[v] : isStaffRole(v) ? v : undefined)).filter((r): r is StaffRole => r !== undefined))];
  if (roles.length === 0) {
    return { refused: `the identity provider gives this account no tongban role (claim ${mapping.roleClaim}: ${rawRole === undefined ? 'absent' : JSON.stringify(rawRole)})` };
  }
  if (roles.length > 1) return { refused: `the identity provider gives this account several tongban roles (${roles.join(', ')}); a session has one` };
  const rawRegion = claims[mapping.regionClaim];
  const region = typeof rawRegion === 'number' ? String(rawRegion) : rawRegion;
  const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 64) : undefined;
  const staff = validClaims({ sub: claims.sub, role: roles[0], region, ...(name ? { name } : {}) });
  if (!staff) {
    return { refused: `the identity provider gives this account no valid region (claim ${mapping.regionClaim}: ${rawRegion === undefined ? 'absent' : JSON.stringify(rawRegion)}; a six-digit division code is needed)` };
  }
  return { staff };
}

// ---- the relying party ----------------------------------------------------------------------

/** A same-origin path to return to after sign-in; anything else (another origin, `//host`, `/\host`) gives the console. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || value.length > 2048 || !value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return DEFAULT_RETURN_TO;
  const base = 'http://tongban.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : DEFAULT_RETURN_TO;
}

const loginStateSchema = z.object({ state: z.string(), nonce: z.string(), verifier: z.string(), returnTo: z.string() });

/** The identity provider's answer or silence, as a problem the staff member can act on. */
function identityProviderProblem(e: unknown, log: FastifyRequest['log']) {
  if (e instanceof oidc.AuthorizationResponseError) {
    return problem(403, `the identity provider did not sign you in (${e.error}${e.error_description ? `: ${e.error_description}` : ''})`, { slug: 'sign-in-refused' });
  }
  if (e instanceof oidc.ResponseBodyError) {
    return problem(400, `the identity provider refused to complete the sign-in (${e.error}); start again`, { slug: 'sign-in-failed' });
  }
  const cause = e instanceof Error ? e : new Error(String(e));
  // fetch's failures (refused, reset, timed out) are the provider being unreachable, not a bad answer.
  if (cause instanceof TypeError || cause.name === 'AbortError' || cause.name === 'TimeoutError' || (cause.cause instanceof Error && /ECONN|ETIMEDOUT|EAI_AGAIN|ENOTFOUND/.test(String((cause.cause as NodeJS.ErrnoException).code)))) {
    log.warn({ err: cause }, 'the identity provider cannot be reached');
    return problem(503, 'the identity provider cannot be reached; retry later', { headers: { 'retry-after': String(IDP_RETRY_AFTER_SECONDS) } });
  }
  log.warn({ err: cause }, 'a sign-in response was refused');
  return problem(400, `the sign-in response was not valid (${cause.message}); start again`, { slug: 'sign-in-failed' });
}

/** Discovers the issuer once, and again after a failure. */
function relyingParty(config: Config): () => Promise<oidc.Configuration> {
  let discovered: Promise<oidc.Configuration> | null = null;
  return () => {
    discovered ??= oidc
      .discovery(new URL(config.OIDC_ISSUER!), config.OIDC_CLIENT_ID!, undefined, oidc.ClientSecretBasic(config.OIDC_CLIENT_SECRET!), {
        timeout: 10,
        // A production issuer must be https (config/index.ts); the development provider is http.
        ...(new URL(config.OIDC_ISSUER!).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((e: unknown) => {
        discovered = null;
        throw e;
      });
    return discovered;
  };
}

const meSchema = z.object({
  sub: z.string(),
  name: z.string().nullable(),
  role: z.enum(STAFF_ROLES),
  region: z.string(),
  csrfToken: z.string().nullable().describe('Echo in x-csrf-token on every state-changing request made with the session cookie; null for a bearer token'),
});

export const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  const config = app.config;
  const configured = Boolean(config.OIDC_ISSUER && config.OIDC_CLIENT_ID && config.OIDC_CLIENT_SECRET);
  const redirectUri = `${config.PUBLIC_URL.replace(/\/$/, '')}/auth/callback`;
  const postLogoutRedirectUri = `${config.PUBLIC_URL.replace(/\/$/, '')}${DEFAULT_RETURN_TO}`;
  const rp = configured ? relyingParty(config) : null;
  const mapping = claimMappingOf(config);
  const cookieBase = { httpOnly: true, sameSite: 'lax' as const, secure: config.SESSION_COOKIE_SECURE };

  app.addHook('onRequest', async () => {
    if (!configured) throw problem(503, 'sign-in is not configured (OIDC_ISSUER is not set); use a bearer token', { slug: 'sign-in-not-configured' });
  });
  const verify = authenticate(app.secrets.jwtSecret, config.TOKEN_MAX_AGE_SECONDS, { sessions: app.staffSessions });
  const discover = async (request: FastifyRequest) => {
    try {
      return await rp!();
    } catch (e) {
      throw identityProviderProblem(e, request.log);
    }
  };

  app.get(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Start a staff sign-in at the identity provider (browser navigation)',
        description: `Redirects to the provider with an authorization code request (PKCE, state, nonce). returnTo: a path of this site to land on afterwards (default ${DEFAULT_RETURN_TO}); anything else is ignored. prompt=login asks the provider to ask for the password again even if it has a session.`,
        querystring: z.object({ returnTo: z.string().optional(), prompt: z.enum(['login']).optional() }),
        response: { ...problems(400, 503) },
      },
    },
    async (request, reply) => {
      const configuration = await discover(request);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const returnTo = safeReturnTo(request.query.returnTo);
      reply.setCookie(LOGIN_COOKIE, JSON.stringify({ state, nonce, verifier, returnTo }), { ...cookieBase, path: LOGIN_COOKIE_PATH, maxAge: LOGIN_TTL_SECONDS, signed: true });
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri,
        scope: config.OIDC_SCOPES,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(request.query.prompt ? { prompt: request.query.prompt } : {}),
      });
      return reply.header('cache-control', 'no-store').redirect(url.href, 303);
    },
  );

  app.get(
    '/callback',
    {
      schema: {
        tags: ['auth'],
        summary: 'The identity provider returns here: starts the session and redirects to returnTo',
        response: { ...problems(400, 403, 503) },
      },
    },
    async (request, reply) => {
      const raw = request.cookies[LOGIN_COOKIE];
      reply.clearCookie(LOGIN_COOKIE, { ...cookieBase, path: LOGIN_COOKIE_PATH });
      const unsigned = raw ? request.unsignCookie(raw) : null;
      let login: z.infer<typeof loginStateSchema> | null = null;
      if (unsigned?.valid && unsigned.value) {
        try {
          login = loginStateSchema.parse(JSON.parse(unsigned.value));
        } catch {
          login = null;
        }
      }
      if (!login) {
        throw problem(400, `no sign-in is in progress in this browser (it expires after ${LOGIN_TTL_SECONDS / 60} minutes); start again at /auth/login`, { slug: 'sign-in-expired' });
      }
      const configuration = await discover(request);
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      let staff: StaffClaims;
      let idToken: string | null;
      try {
        const tokens = await oidc.authorizationCodeGrant(configuration, new URL(`${redirectUri}${query}`), {
          pkceCodeVerifier: login.verifier,
          expectedState: login.state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims()!;
        idToken = tokens.id_token ?? null;
        let claims: Record<string, unknown> = { ...idClaims };
        // Platforms release staff attributes in the id token, the userinfo response or both.
        if (configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
          claims = { ...claims, ...(await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)), sub: idClaims.sub };
        }
        const mapped = mapStaffClaims(claims, mapping);
        if ('refused' in mapped) {
          request.log.warn({ sub: idClaims.sub, reason: mapped.refused }, 'sign-in refused');
          throw problem(403, mapped.refused, { slug: 'no-staff-role' });
        }
        staff = mapped.staff;
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw identityProviderProblem(e, request.log);
      }
      const { cookieValue } = await app.staffSessions.create(staff, { issuer: configuration.serverMetadata().issuer, idToken });
      reply.setCookie(SESSION_COOKIE, cookieValue, { ...cookieBase, path: '/', maxAge: config.TOKEN_MAX_AGE_SECONDS });
      return reply.header('cache-control', 'no-store').redirect(login.returnTo, 303);
    },
  );

  app.get(
    '/me',
    {
      onRequest: verify,
      schema: {
        tags: ['auth'],
        summary: 'Who is signed in, and the session’s CSRF token',
        response: { 200: meSchema, ...problems(401) },
      },
    },
    async (request, reply) => {
      const staff = request.staff!;
      reply.header('cache-control', 'no-store');
      return { sub: staff.sub, name: staff.name ?? null, role: staff.role, region: staff.region, csrfToken: request.staffSession?.csrfToken ?? null };
    },
  );

  app.post(
    '/logout',
    {
      onRequest: verify,
      schema: {
        tags: ['auth'],
        summary: 'Sign out: ends the console session (needs x-csrf-token)',
        description: 'Answers 204, or 200 with the identity provider’s logout URL in `location` when it offers RP-initiated logout; navigate there to end the session at the provider too.',
        response: { 200: z.object({ location: z.string() }), 204: z.null().describe('Signed out'), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const staff = request.staff!;
      const cookieValue = request.cookies[SESSION_COOKIE];
      if (!request.staffSession || !cookieValue) throw problem(400, 'sign-out ends a console session; a bearer token has none');
      const ended = await app.staffSessions.end(cookieValue, staff);
      reply.clearCookie(SESSION_COOKIE, { ...cookieBase, path: '/' });
      reply.header('cache-control', 'no-store');
      const location = await endSessionUrl(app, rp!, { idToken: ended?.idToken ?? null, postLogoutRedirectUri, clientId: config.OIDC_CLIENT_ID! });
      return location ? reply.code(200).send({ location }) : reply.code(204).send(null);
    },
  );
};

/** The provider's RP-initiated logout URL, when it offers one and can be reached; null otherwise. */
async function endSessionUrl(app: FastifyInstance, rp: () => Promise<oidc.Configuration>, opts: { idToken: string | null; postLogoutRedirectUri: string; clientId: string }): Promise<string | null> {
  let configuration: oidc.Configuration;
  try {
    configuration = await rp();
  } catch (e) {
    app.log.warn({ err: e }, 'the identity provider cannot be reached for its logout URL');
    return null;
  }
  if (!configuration.serverMetadata().end_session_endpoint) return null;
  return oidc.buildEndSessionUrl(configuration, {
    client_id: opts.clientId,
    post_logout_redirect_uri: opts.postLogoutRedirectUri,
    ...(opts.idToken ? { id_token_hint: opts.idToken } : {}),
  }).href;
}
