// RFC 9457 problem details: the only error format of the API. Handlers throw AppError (usually
// through problem()); one error handler turns it, schema validation errors, fastify's own 4xx
// errors and anything unexpected into application/problem+json. An unreachable database is not
// "unexpected": it answers 503 with Retry-After on every route (callbacks included, which the
// province protocol says get 503), and the next request after the database returns succeeds.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../clients/postgres.js';
import { hasZodFastifySchemaValidationErrors, type ZodFastifySchemaValidationError } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://tongban.example/problems/';

export interface FieldError {
  /** Dotted path of the invalid field: `applicant.idNumber`, `materials.0.fileId`, `headers.idempotency-key`. */
  path: string;
  message: string;
}

const DEFAULTS: Record<number, { slug: string; title: string }> = {
  400: { slug: 'invalid-request', title: 'Invalid request' },
  401: { slug: 'unauthorized', title: 'Unauthorized' },
  403: { slug: 'forbidden', title: 'Forbidden' },
  404: { slug: 'not-found', title: 'Not found' },
  406: { slug: 'not-acceptable', title: 'Not acceptable' },
  409: { slug: 'conflict', title: 'Conflict' },
  413: { slug: 'payload-too-large', title: 'Payload too large' },
  414: { slug: 'uri-too-long', title: 'URI too long' },
  415: { slug: 'unsupported-media-type', title: 'Unsupported media type' },
  422: { slug: 'unprocessable-content', title: 'Unprocessable content' },
  429: { slug: 'too-many-requests', title: 'Too many requests' },
  500: { slug: 'internal-error', title: 'Internal error' },
  503: { slug: 'unavailable', title: 'Service unavailable' },
};

/** Seconds a client should wait before retrying when the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

function defaultsFor(status: number) {
  return DEFAULTS[status] ?? (status >= 500 ? DEFAULTS[500]! : DEFAULTS[400]!);
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

export interface ProblemOptions {
  slug?: string;
  title?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** An AppError to throw from a handler: `throw problem(404, 'no such case')`. */
export function problem(status: number, detail: string, opts: ProblemOptions = {}): AppError {
  const d = defaultsFor(status);
  return new AppError(status, opts.slug ?? d.slug, opts.title ?? d.title, detail, opts.errors, opts.headers);
}

export const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

export type ProblemBody = z.infer<typeof problemSchema>;

const problemResponse = {
  description: 'Problem details (RFC 9457)',
  content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
};

/** Response schemas for the problem statuses a route can answer with (always including 5xx). */
export function problems<const S extends readonly number[]>(...statuses: S): Record<S[number] | '5xx', typeof problemResponse> {
  const out: Record<string, typeof problemResponse> = { '5xx': problemResponse };
  for (const s of statuses) out[String(s)] = problemResponse;
  return out as Record<S[number] | '5xx', typeof problemResponse>;
}

/** How a validation context is named in an error path; the body's fields need no prefix. */
const CONTEXT_NAME: Record<string, string> = { body: 'body', params: 'params', querystring: 'query', headers: 'headers' };

/** Zod issues (as the type provider hands them to fastify) → one FieldError per invalid field. */
function validationErrors(context: string | undefined, validation: ZodFastifySchemaValidationError[]): FieldError[] {
  const name = CONTEXT_NAME[context ?? 'body'] ?? String(context);
  const pathOf = (parts: string[]) => (name === 'body' ? parts : [name, ...parts]).join('.') || name;
  return validation.flatMap((v) => {
    const parts = v.instancePath.split('/').filter((p) => p !== '');
    const keys: unknown = v.params.keys;
    // One issue names every unknown key of an object; each is its own invalid field.
    if (v.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
      return keys.map((k) => ({ path: pathOf([...parts, String(k)]), message: 'unknown field' }));
    }
    return [{ path: pathOf(parts), message: v.message ?? 'is invalid' }];
  });
}

/** Which part of the request fastify's own 400 is about, as a FieldError path. */
function partOfRequest(code: string | undefined): string {
  if (code === 'FST_ERR_BAD_URL') return 'url';
  if (code?.startsWith('FST_ERR_CTP_')) return 'body';
  return 'request';
}

function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = validationErrors(error.validationContext, error.validation);
    return problem(400, `${errors.length} invalid field${errors.length === 1 ? '' : 's'}`, { errors });
  }
  const status = (error as FastifyError).statusCode;
  // fastify's and its plugins' own client errors (bad JSON, wrong media type, body too large)
  // carry safe messages of their own.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (error as FastifyError).code;
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return problem(415, 'the request must be multipart/form-data');
    // A 400 names what was wrong like a validation error does: the body that does not parse, the
    // URL that does not decode.
    return problem(status, error.message, status === 400 ? { errors: [{ path: partOfRequest(code), message: error.message }] } : {});
  }
  if (isDatabaseUnavailable(error)) {
    return problem(503, 'the database is unavailable; retry later', { headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } });
  }
  return problem(500, 'internal error');
}

export function problemBody(err: AppError, request: FastifyRequest): ProblemBody {
  const body: ProblemBody = {
    type: `${PROBLEM_TYPE_BASE}${err.slug}`,
    title: err.title,
    status: err.status,
    detail: err.status >= 500 && err.status !== 503 ? `an unexpected error occurred (request ${request.id})` : err.detail,
    instance: request.url.split('?')[0] ?? request.url,
  };
  if (err.errors?.length) body.errors = err.errors;
  return body;
}

export function sendProblem(reply: FastifyReply, err: AppError) {
  if (err.headers) reply.headers(err.headers);
  return reply.code(err.status).type(PROBLEM_CONTENT_TYPE).send(problemBody(err, reply.request));
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const err = toAppError(error);
  if (err.status >= 500 && err.status !== 503) {
    request.log.error({ err: error }, 'request failed');
  } else if (err.status === 503) {
    request.log.warn({ err: error, cause: error.cause }, err.detail);
  }
  return sendProblem(reply, err);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(reply, problem(404, `no route for ${request.method} ${request.url.split('?')[0]}`));
}
