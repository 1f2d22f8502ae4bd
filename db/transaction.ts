// The one transaction helper, used by the api's use cases and the projection activity alike.
import type pg from 'pg';

/**
 * Runs fn inside BEGIN … COMMIT; any throw rolls back and is rethrown.
 *
 * While a client is checked out the pool no longer listens for its errors, and a connection the
 * server ends between two statements (a fast shutdown's "terminating connection due to
 * administrator command") would be an unhandled 'error' event, which ends the process. So the
 * transaction listens itself: the error fails the next statement instead, and the broken client is
 * released with it so the pool discards it rather than lending it again.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    if (!broken) await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
