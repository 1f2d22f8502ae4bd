// SQL of the unattached-files sweep (activities/maintenance.ts): uploads that no case references
// are deleted once they are older than the configured TTL. Kept apart from the API's file records
// because it runs in the worker, on a schedule, and must be safe against an intake attaching the
// same file at the same moment.
import type { Pool } from 'pg';

/**
 * Deletes up to `limit` files uploaded before `cutoff` that no case_materials, case_supplements or
 * case_message_files row references, and
 * returns their hashes. One statement: the NOT EXISTS guard is evaluated together with the delete,
 * and `FOR UPDATE SKIP LOCKED` passes over a row that an intake is attaching right now (its
 * foreign-key check holds a KEY SHARE lock on the files row until it commits); if the intake comes
 * second, its foreign-key check fails instead of attaching a deleted file.
 */
export async function deleteUnattachedFiles(pool: Pool, cutoff: Date, limit: number): Promise<{ fileId: string; sha256: string }[]> {
  const { rows } = await pool.query<{ file_id: string; sha256: string }>(
    `DELETE FROM files f
      WHERE f.file_id IN (
              SELECT c.file_id FROM files c
               WHERE c.created_at < $1
                 AND NOT EXISTS (SELECT 1 FROM case_materials m WHERE m.file_id = c.file_id)
                 AND NOT EXISTS (SELECT 1 FROM case_supplements s WHERE s.file_id = c.file_id)
                 AND NOT EXISTS (SELECT 1 FROM case_message_files x WHERE x.file_id = c.file_id)
               ORDER BY c.created_at
               LIMIT $2
                 FOR UPDATE SKIP LOCKED)
        AND NOT EXISTS (SELECT 1 FROM case_materials m WHERE m.file_id = f.file_id)
        AND NOT EXISTS (SELECT 1 FROM case_supplements s WHERE s.file_id = f.file_id)
        AND NOT EXISTS (SELECT 1 FROM case_message_files x WHERE x.file_id = f.file_id)
      RETURNING f.file_id, f.sha256`,
    [cutoff, limit],
  );
  return rows.map((r) => ({ fileId: r.file_id, sha256: r.sha256 }));
}

/** Of the given hashes, those that no files row uses any more (their blobs may go). */
export async function unreferencedHashes(pool: Pool, hashes: readonly string[]): Promise<string[]> {
  if (hashes.length === 0) return [];
  const { rows } = await pool.query<{ sha256: string }>(
    `SELECT h.sha256 FROM unnest($1::char(64)[]) AS h(sha256)
      WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = h.sha256)`,
    [[...new Set(hashes)]],
  );
  return rows.map((r) => r.sha256);
}
