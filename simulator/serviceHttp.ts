// What the simulated outside services (simulator/video.ts, simulator/sms.ts) share and the
// provinces do not: a bearer API key instead of HMAC signatures, JSON bodies whose 400 names
// every bad field, and idempotency keys carried in the body, compared by the body's meaning
// (key order and whitespace aside) rather than by its bytes as the province protocol does.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { describeIssues } from '../contracts/province.js';
import { ProblemError } from './problem.js';

export type BearerProblem = 'missing' | 'mismatch';

/** null when the request carries `Authorization: Bearer <apiKey>`; the key is compared in constant time. */
export function bearerProblem(request: FastifyRequest, apiKey: string): BearerProblem | null {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  if (!match) return 'missing';
  return timingSafeEqual(digest(match[1]!), digest(apiKey)) ? null : 'mismatch';
}

/** Throws the `401` (with `WWW-Authenticate`, RFC 6750) unless the request carries the key. */
export function requireApiKey(request: FastifyRequest, reply: FastifyReply, opts: { apiKey: string; realm: string; slug: string }): void {
  const problem = bearerProblem(request, opts.apiKey);
  if (!problem) return;
  reply.header('www-authenticate', problem === 'missing' ? `Bearer realm="${opts.realm}"` : `Bearer realm="${opts.realm}", error="invalid_token"`);
  const detail = problem === 'missing' ? 'an API key is required: Authorization: Bearer <key>' : 'the API key is not valid';
  throw new ProblemError(401, opts.slug, 'Unauthorized', detail);
}

/** A key a test or an operator can paste into a header: 16–256 printable ASCII characters, no spaces. */
export function isServiceApiKey(value: string): boolean {
  return /^[\x21-\x7E]{16,256}$/.test(value);
}

export function checkApiKey(apiKey: string): string {
  if (!isServiceApiKey(apiKey)) throw new Error('serviceApiKey must be 16–256 printable ASCII characters without spaces');
  return apiKey;
}

/**
 * Parses a raw JSON body against a schema; `400` `malformed-body` otherwise, with `errors`
 * naming every bad field (`[{path: "text", message: "…"}]`). An empty body reads as `{}` when
 * `emptyIsObject` (bodies whose fields are all optional).
 */
export function parseServiceBody<T>(raw: Buffer, schema: z.ZodType<T>, opts: { emptyIsObject?: boolean } = {}): T {
  let value: unknown;
  if (raw.length === 0 && opts.emptyIsObject) {
    value = {};
  } else {
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ProblemError(400, 'malformed-body', 'Malformed body', 'the body is not valid JSON', { errors: [{ path: '(body)', message: 'is not valid JSON' }] });
    }
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: issue.path.length > 0 ? issue.path.join('.') : '(body)', message: issue.message }));
  throw new ProblemError(400, 'malformed-body', 'Malformed body', describeIssues(result.error), { errors });
}

/** The same for any JSON value with the same meaning: object keys sorted, whitespace gone. */
export function fingerprintOf(value: unknown): string {
  return digest(canonicalJson(value)).toString('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export interface Answer<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/**
 * Runs a request once per idempotency key and answers repeats with the first answer (same
 * status, same body, `replayed`). Only successes are stored: `run` throwing stores nothing, so a
 * repeat after the cause is fixed is processed afresh. Synchronous from lookup to store, so
 * concurrent repeats cannot both run.
 */
export class IdempotencyStore<T> {
  private readonly entries = new Map<string, { fingerprint: string; status: number; body: T }>();

  constructor(private readonly reused: (key: string) => ProblemError) {}

  answer(key: string, fingerprint: string, run: () => { status: number; body: T }): Answer<T> {
    const stored = this.entries.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) throw this.reused(key);
      return { status: stored.status, body: stored.body, replayed: true };
    }
    const fresh = run();
    this.entries.set(key, { fingerprint, status: fresh.status, body: fresh.body });
    return { status: fresh.status, body: fresh.body, replayed: false };
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Sends an answer, marking a replay as the province protocol does. */
export function sendAnswer<T>(reply: FastifyReply, answer: Answer<T>): T {
  reply.code(answer.status);
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return answer.body;
}

export function rawBodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}
