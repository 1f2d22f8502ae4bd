// The transaction helper when the server ends its connection between two statements (a fast
// shutdown, an operator's pg_terminate_backend): the transaction fails with that error instead of
// an unhandled 'error' event ending the process (the fault scenario "Temporal and PostgreSQL
// restarted" saw the api die of it), and the broken client is not lent again.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../clients/postgres.js';
import { withTransaction } from '../../db/transaction.js';
import { createDatabase } from '../../harness/database.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let pool: pg.Pool;
let admin: pg.Pool;

describe('withTransaction', () => {
  beforeAll(async () => {
    db = await createDatabase('tongban_tx');
    pool = createPool(db.url);
    admin = new pg.Pool({ connectionString: db.url, max: 1 });
  });
  afterAll(async () => {
    await pool?.end();
    await admin?.end();
    await db?.drop();
  });

  it('When the server ends the connection while no statement runs, then the transaction fails with it, nothing goes unhandled, and the pool lends a working client next', async () => {
    let pid = 0;
    const outcome = withTransaction(pool, async (client) => {
      pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // The server's notice arrives while the transaction waits on something else.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.query('SELECT 1');
    });

    await expect(outcome).rejects.toThrow(/terminat|not queryable|Connection/i);
    const next = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(next.rows[0]!.pid).not.toBe(pid);
    expect(pool.totalCount).toBe(1);
  });
});
