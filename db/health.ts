// The database half of /readyz: one round trip that needs a working connection and nothing else.
import type { Queryable } from './cases.js';

export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
