// Schema migrations: db/migrations/*.sql, applied in lexical file-name order, each in its own transaction, recorded in
// schema_migrations(name, checksum, applied_at). Concurrent starters serialise on a session advisory lock, so two
// processes migrating the same schema never race. An applied migration whose file changed afterwards (checksum
// mismatch) is refused: write a new migration instead of editing an old one.
//
// The target schema is whatever the connection's search_path selects, so a connection string with
// `?options=-c%20search_path%3Dtest_x` migrates (and records migrations in) schema test_x; it is created if missing.
//
// CLI: `npm run migrate` (reads DATABASE_URL).
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export type MigrateOptions = {
  log?: (line: string) => void;
  /** Defaults to db/migrations next to this file. */
  migrationsDir?: string;
};

/** Applies pending migrations; returns the file names applied by this call (empty when up to date). */
export async function migrate(connectionString: string, opts: MigrateOptions = {}): Promise<string[]> {
  const log = opts.log ?? (() => undefined);
  const dir = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations = await Promise.all(
    files.map(async (name) => {
      const sql = await fs.readFile(path.join(dir, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );

  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const schema = await targetSchema(client);
    // Two-key advisory lock: one "namespace" key for tongban migrations, one per target schema, so test schemas in
    // the same database migrate in parallel while starters of the same schema serialise.
    await client.query('SELECT pg_advisory_lock(hashtext($1), hashtext($2))', ['tongban.migrate', schema]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${client.escapeIdentifier(schema)}.schema_migrations (
           name text PRIMARY KEY,
           checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await client.query<{ name: string; checksum: string }>(
        `SELECT name, checksum FROM ${client.escapeIdentifier(schema)}.schema_migrations`,
      );
      const applied = new Map(rows.map((r) => [r.name, r.checksum]));

      for (const m of migrations) {
        const prior = applied.get(m.name);
        if (prior !== undefined && prior !== m.checksum) {
          throw new Error(
            `Migration ${m.name} was changed after it was applied to schema ${schema} (checksum ${prior.slice(0, 12)}… recorded, ` +
              `file now ${m.checksum.slice(0, 12)}…). Revert the edit and add a new migration instead.`,
          );
        }
      }
      const known = new Set(files);
      for (const name of applied.keys()) {
        if (!known.has(name)) log(`warning: migration ${name} is recorded in ${schema}.schema_migrations but its file is missing`);
      }

      const done: string[] = [];
      for (const m of migrations) {
        if (applied.has(m.name)) continue;
        const t0 = Date.now();
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            `INSERT INTO ${client.escapeIdentifier(schema)}.schema_migrations (name, checksum, applied_at) VALUES ($1, $2, now())`,
            [m.name, m.checksum],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`Migration ${m.name} failed (rolled back): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        log(`applied migration ${m.name} to schema ${schema} (${Date.now() - t0} ms)`);
        done.push(m.name);
      }
      if (done.length === 0) log(`schema ${schema} is up to date (${migrations.length} migrations)`);
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', ['tongban.migrate', schema]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}

/**
 * The schema migrations go to: current_schema() if it exists, else the first schema named in search_path (e.g. a
 * per-test schema from the connection string's options, which we then create).
 */
async function targetSchema(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ current: string | null; search_path: string }>(
    'SELECT current_schema() AS current, current_setting($1) AS search_path',
    ['search_path'],
  );
  const current = rows[0]?.current;
  if (current) return current;
  const first = (rows[0]?.search_path ?? '')
    .split(',')
    .map((s) => s.trim())
    .find((s) => s.length > 0 && s !== '"$user"' && s !== '$user');
  if (!first) throw new Error(`search_path "${rows[0]?.search_path ?? ''}" names no schema to migrate`);
  return first.startsWith('"') && first.endsWith('"') ? first.slice(1, -1).replace(/""/g, '"') : first;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

function realpathOrSelf(p: string): string {
  try {
    return fsSync.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathOrSelf(process.argv[1])).href;

if (invokedDirectly) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('migrate: DATABASE_URL is not set (e.g. DATABASE_URL=postgres://user:pass@127.0.0.1:5432/tongban npm run migrate)\n');
    process.exit(1);
  }
  try {
    const applied = await migrate(url, { log: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(applied.length ? `${applied.length} migration(s) applied\n` : 'nothing to apply\n');
  } catch (err) {
    process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
