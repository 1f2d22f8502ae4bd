// Staff authentication: HS256 bearer tokens carrying the staff member's role and region. Every
// /v1 route except province callbacks runs `authenticate` before anything else, so an
// unauthenticated request learns nothing, not even whether its body would have been valid.
// Tokens must carry `iat` and `exp` and live no longer than TOKEN_MAX_AGE_SECONDS: a stolen
// token stops working within that time, whatever expiry its issuer wrote into it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { z } from 'zod';
import { STAFF_ROLES, type StaffRole } from '../domain/case.js';
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

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate`; null on routes outside the authenticated scope. */
    staff: StaffClaims | null;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; any authenticated role when absent. */
    roles?: readonly StaffRole[];
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

/** onRequest hook: verifies the bearer token, then the route's `config.roles`. */
export function authenticate(secret: string, maxAgeSeconds = DEFAULT_TOKEN_MAX_AGE_SECONDS) {
  return async function authenticateRequest(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (!header) throw unauthorized('a bearer token is required');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
    request.staff = await verifyToken(secret, match[1]!, maxAgeSeconds);
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
