// The PostgreSQL pool every process uses, and how to tell "the database is unreachable" (answer
// 503 and let the client retry) from every other database error. The pool fails fast when it
// cannot connect (connectionTimeoutMillis) instead of queueing requests until they time out, and
// recovers by itself: each checkout opens a new connection once the database is back.
import pg from 'pg';

/** How long a request waits for a connection before it is answered 503. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** A pool whose errors on idle clients are logged instead of crashing the process. */
export function createPool(connectionString: string, onError: (err: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 10, idleTimeoutMillis: 30_000, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', onError);
  return pool;
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** SQLSTATEs meaning the server is unreachable, going away or full: connection exceptions (08…), admin/crash/cannot-connect-now shutdowns, too many connections. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const CONNECTION_MESSAGES = [/^Connection terminated/i, /timeout exceeded when trying to connect/i, /Client has encountered a connection error/i, /Connection ended unexpectedly/i];

/** Whether an error (or any error in its cause chain) means the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (CONNECTION_ERROR_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code)) return true;
  }
  if (typeof e.message === 'string' && CONNECTION_MESSAGES.some((re) => re.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
