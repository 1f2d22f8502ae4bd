// Uploaded material files: who uploaded which stored bytes (content-addressed by SHA-256), from
// which region. Intake reads them back to attach them to a case.
import type { Queryable } from './cases.js';

export interface FileRecord {
  fileId: string;
  sha256: string;
  size: number;
  contentType: string;
  fileName: string | null;
  uploadedBy: string;
  uploadedRegion: string;
}

export async function insertFile(db: Queryable, f: FileRecord): Promise<void> {
  await db.query(
    `INSERT INTO files (file_id, sha256, size, content_type, file_name, uploaded_by, uploaded_region) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
    [f.fileId, f.sha256, f.size, f.contentType, f.fileName, f.uploadedBy, f.uploadedRegion],
  );
}

/** A file tongban fetched for a case (免提交): registered once, whichever attempt of the fetch gets here first. */
export async function registerFetchedFile(db: Queryable, f: FileRecord): Promise<void> {
  await db.query(
    `INSERT INTO files (file_id, sha256, size, content_type, file_name, uploaded_by, uploaded_region) VALUES ($1,$2,$3,$4,$5,$6,$7)
     ON CONFLICT (file_id) DO NOTHING`,
    [f.fileId, f.sha256, f.size, f.contentType, f.fileName, f.uploadedBy, f.uploadedRegion],
  );
}

/** The files among `fileIds` that exist (in no particular order). */
export async function findFiles(db: Queryable, fileIds: readonly string[]): Promise<FileRecord[]> {
  const { rows } = await db.query<{ file_id: string; sha256: string; size: string; content_type: string; file_name: string | null; uploaded_by: string; uploaded_region: string }>(
    `SELECT file_id, sha256, size, content_type, file_name, uploaded_by, uploaded_region FROM files WHERE file_id = ANY($1::uuid[])`,
    [fileIds],
  );
  return rows.map((r) => ({
    fileId: r.file_id,
    sha256: r.sha256,
    size: Number(r.size),
    contentType: r.content_type,
    fileName: r.file_name,
    uploadedBy: r.uploaded_by,
    uploadedRegion: r.uploaded_region,
  }));
}
