// One pino configuration for api, worker and scripts: citizens' data and secrets never reach a
// log line. Known fields are redacted by path; anything shaped like an identity number is
// redacted from every message as a second fence; tokens sent in a URL (?access_token=…, a Bearer
// value, anything JWT-shaped) are cut out of logged request URLs; and the fields PostgreSQL adds
// to its errors (`detail`, `where`, `hint`, the query and its parameters), which echo the rows
// being written, are dropped from logged errors.
import pino, { type LoggerOptions } from 'pino';
import { redactIdNumbers } from '../crypto/pii.js';

const CENSOR = '[REDACTED]';

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-tongban-signature"]',
  '*.idNumber', '*.*.idNumber', '*.phone', '*.*.phone', '*.address', '*.*.address',
  'applicant', '*.applicant',
  'secret', '*.secret', 'password', '*.password',
];

/** Query parameters whose value is a credential, whatever it looks like. */
const SECRET_PARAM = /([?&;](?:[^=&#;]*(?:token|secret|password|passwd|api[-_]?key|apikey|signature|session|credential|auth)[^=&#;]*)=)[^&#;]*/gi;
const BEARER = /(bearer(?:\s|%20|\+)+)[^\s&#;]+/gi;
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** A URL safe to log: credentials in its query (or anywhere, when JWT- or Bearer-shaped) replaced. */
export function redactUrl(url: string): string {
  return redactIdNumbers(url.replace(JWT_SHAPED, CENSOR).replace(BEARER, `$1${CENSOR}`).replace(SECRET_PARAM, `$1${CENSOR}`));
}

/**
 * Fields a PostgreSQL (pg) error carries besides its message: `detail` ("Key (x)=(…) already
 * exists"), `where` (the PL/pgSQL context with values), `hint`, `internalQuery`, and, on some
 * drivers and wrappers, the query and its parameters.
 */
const DATABASE_ERROR_FIELDS = ['detail', 'where', 'hint', 'internalQuery', 'internalPosition', 'query', 'parameters', 'params', 'values', 'position'];

function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 5) return err;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const field of DATABASE_ERROR_FIELDS) if (field in out) out[field] = CENSOR;
  if (typeof out.message === 'string') out.message = redactIdNumbers(out.message);
  if (typeof out.stack === 'string') out.stack = redactIdNumbers(out.stack);
  if (err.cause instanceof Error) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  hostname?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

export function loggerOptions(level: string, name = 'tongban'): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactIdNumbers(a) : a)) as Parameters<typeof method>);
      },
    },
    serializers: {
      err: serializeError,
      error: serializeError,
      cause: serializeError,
      // fastify logs every request as `req`; only these fields, and the URL without credentials.
      req(req: RequestLike) {
        return {
          method: req.method,
          url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
          host: req.host ?? req.hostname,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        };
      },
    },
  };
}
