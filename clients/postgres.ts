import pg from 'pg';

/** A pool whose errors on idle clients are logged instead of crashing the process. */
export function createPool(connectionString: string, onError: (err: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 10, idleTimeoutMillis: 30_000 });
  pool.on('error', onError);
  return pool;
}
