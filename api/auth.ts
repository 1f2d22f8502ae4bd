// Staff authentication: HS256 bearer tokens carrying the staff member's role and region, or the
// console's session cookie (staff signed in with OpenID Connect, api/session.ts). Every /v1 route
// except province callbacks runs `authenticate` before anything else, so an unauthenticated
// request learns nothing, not even whether its body would have been valid.
// Tokens must carry `iat` and `exp` and live no longer than TOKEN_MAX_AGE_SECONDS: a stolen
// token stops working within that time, whatever expiry its issuer wrote into it.
// A bearer token, when sent, is the only credential looked at (scripts are unchanged). Without
// one, the `tongban_session` cookie is; a browser sends it by itself, so every cookie-authenticated
// request that can change something (any method but GET, HEAD, OPTIONS) must also carry the
// session's CSRF token in `x-csrf-token`, which a page of another origin cannot read or send.
import { createHash, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { z } from 'zod';
import { STAFF_ROLES, type StaffRole } from '../domain/case.js';
import type { CaseAction } from '../domain/policy.js';
import { isRegionCode } from '../domain/regions.js';
import { problem } from './problem.js';

export const TOKEN_ISSUER = 'tongban';
export const TOKEN_AUDIENCE = 'tongban-api';
/** TOKEN_MAX_AGE_SECONDS' default (config/index.ts): one working day. */
export const DEFAULT_TOKEN_MAX_AGE_SECONDS = 12 * 3600;
/** Clock skew tolerated between the issuer and this server. */
const CLOCK_TOLERANCE_SECONDS = 60;

export interface StaffClaims {
  sub: string;
  role: StaffRole;
  region: string;
  name?: string;
}

/** The console's session cookie (HttpOnly; its value is a random id, only its hash is stored). */
export const SESSION_COOKIE = 'tongban_session';
/** The header a cookie-authenticated state-changing request carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A live console session, as api/session.ts finds it by the cookie's value. */
export interface StaffSession {
  staff: StaffClaims;
  csrfToken: string;
}

export interface SessionLookup {
  /** The live session the cookie value opens, or null (unknown, ended, malformed). */
  find(cookieValue: string): Promise<StaffSession | null>;
}

export interface AuthenticateOptions {
  /** Accept the session cookie; without it, only bearer tokens. */
  sessions?: SessionLookup;
  /** A cookie-authenticated state-changing request this answers true for needs no CSRF header (the codec, api/routes/codec.ts). */
  csrfExempt?: (request: FastifyRequest) => boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate`; null on routes outside the authenticated scope. */
    staff: StaffClaims | null;
    /** The console session the request was authenticated by; null for a bearer token. */
    staffSession: StaffSession | null;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; any authenticated role when absent. */
    roles?: readonly StaffRole[];
    /**
     * The policy action of a route on one case (`:caseId`): the caller's side is checked before the
     * body is validated (api/caseReads.ts authorizeCaseBeforeBody), so who may not act gets its
     * 403 or 404, never a 400 telling it about the body.
     */
    caseAction?: CaseAction;
  }
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: z.enum(STAFF_ROLES),
  region: z.string().refine(isRegionCode, 'must be a division code'),
  name: z.string().min(1).max(64).optional(),
});

const keyOf = (secret: string) => new TextEncoder().encode(secret);

export async function issueToken(secret: string, claims: StaffClaims, ttlSeconds: number): Promise<string> {
  const parsed = claimsSchema.parse(claims);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: parsed.role, region: parsed.region, ...(parsed.name ? { name: parsed.name } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(parsed.sub)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(keyOf(secret));
}

function unauthorized(detail: string, error?: 'invalid_token' | 'invalid_request') {
  const challenge = error ? `Bearer realm="tongban", error="${error}", error_description="${detail}"` : 'Bearer realm="tongban"';
  return problem(401, detail, { headers: { 'www-authenticate': challenge } });
}

export async function verifyToken(secret: string, token: string, maxAgeSeconds = DEFAULT_TOKEN_MAX_AGE_SECONDS): Promise<StaffClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'iat'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw unauthorized('the token has expired', 'invalid_token');
    if (e instanceof joseErrors.JWTClaimValidationFailed && (e.claim === 'exp' || e.claim === 'iat') && e.reason === 'missing') {
      throw unauthorized('the token must carry exp and iat', 'invalid_token');
    }
    throw unauthorized('the token is invalid', 'invalid_token');
  }
  const now = Math.floor(Date.now() / 1000);
  const { exp, iat } = payload as { exp: number; iat: number };
  if (exp - iat > maxAgeSeconds) throw unauthorized(`the token lives longer than the allowed ${maxAgeSeconds} seconds`, 'invalid_token');
  if (iat > now + CLOCK_TOLERANCE_SECONDS) throw unauthorized('the token was issued in the future', 'invalid_token');
  if (now - iat > maxAgeSeconds) throw unauthorized(`the token is older than the allowed ${maxAgeSeconds} seconds`, 'invalid_token');
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw unauthorized('the token lacks a valid role or region', 'invalid_token');
  return claims.data;
}

/** Constant-time comparison of two secrets of any length (their SHA-256 digests are compared). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether the staff claims a session row holds are (still) valid claims. */
export function validClaims(claims: unknown): StaffClaims | null {
  const parsed = claimsSchema.safeParse(claims);
  return parsed.success ? parsed.data : null;
}

/**
 * onRequest hook: verifies the bearer token, or else (with `sessions`) the session cookie and, for
 * a state-changing request, its CSRF token; then the route's `config.roles`.
 */
export function authenticate(secret: string, maxAgeSeconds = DEFAULT_TOKEN_MAX_AGE_SECONDS, options: AuthenticateOptions = {}) {
  const { sessions, csrfExempt } = options;
  return async function authenticateRequest(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const cookie = sessions ? request.cookies?.[SESSION_COOKIE] : undefined;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
      request.staff = await verifyToken(secret, match[1]!, maxAgeSeconds);
    } else if (sessions && cookie) {
      const session = await sessions.find(cookie);
      if (!session) throw unauthorized('the session has ended or is not known; sign in again');
      request.staff = session.staff;
      request.staffSession = session;
      if (!SAFE_METHODS.has(request.method) && !csrfExempt?.(request)) {
        const sent = request.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) throw problem(403, 'CSRF token missing or wrong', { slug: 'csrf' });
      }
    } else {
      throw unauthorized(sessions ? 'a bearer token or a signed-in session is required' : 'a bearer token is required');
    }
    const roles = request.routeOptions.config.roles;
    if (roles && !roles.includes(request.staff.role)) {
      throw problem(403, `the role ${request.staff.role} may not do this; allowed: ${roles.join(', ')}`);
    }
  };
}

/** The authenticated staff member; only called inside the authenticated scope. */
export function staffOf(request: FastifyRequest): StaffClaims {
  if (!request.staff) throw problem(401, 'a bearer token is required', { headers: { 'www-authenticate': 'Bearer realm="tongban"' } });
  return request.staff;
}
