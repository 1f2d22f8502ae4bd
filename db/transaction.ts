// The one transaction helper, used by the api's use cases and the projection activity alike.
import type pg from 'pg';

/** Runs fn inside BEGIN … COMMIT; any throw rolls back and is rethrown. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
