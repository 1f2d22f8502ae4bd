// Publishes the item files (items/<code>.v<version>.json, loaded by catalog/files.ts) into the
// catalog when the API starts. A file is a version: a (code, version) the catalog lacks is
// inserted and published, superseding the version published before it (or, when a newer version
// is already published, kept as superseded); one the catalog holds with the same content is left
// alone; one whose content differs is refused with an error naming the file, because a published
// version never changes under the cases that pinned it: the change belongs in a new file with the
// next version. Files with problems are logged and skipped; the rest still publish.
//
// Idempotent, and safe when two processes start at once: everything happens in one transaction
// under a catalog-wide advisory lock (and each code's own lock, which the API's writers take too),
// so the second starter finds the first one's rows and does nothing. Audited as system:item-files.
import type pg from 'pg';
import { writeAudit } from '../db/audit.js';
import { definitionSha256, insertItemVersion, listItemVersions, lockCatalog, lockItemCode, publishItemVersion } from '../db/items.js';
import { withTransaction } from '../db/transaction.js';
import type { ItemDefinition } from '../domain/items.js';

export const ITEM_FILES_ACTOR = 'system:item-files';

/** What catalog/files.ts `loadItemFolder` gives: the valid definitions and every problem found. */
export interface LoadedItemFolder {
  items: readonly { file: string; item: ItemDefinition }[];
  problems: readonly { file: string; path: string; message: string }[];
}

/** The part of a pino or fastify logger this needs. */
export interface CatalogLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ItemFolderReport {
  /** Files inserted and published. */
  published: string[];
  /** Files inserted as superseded: a newer version of their code was already published. */
  superseded: string[];
  /** Files the catalog already holds with the same content. */
  unchanged: string[];
  /** Files whose content differs from the stored version: refused, the catalog left as it was. */
  changed: string[];
  /** Files with problems: not looked at. */
  skipped: string[];
}

const byCodeThenVersion = (a: { item: ItemDefinition }, b: { item: ItemDefinition }) =>
  a.item.code < b.item.code ? -1 : a.item.code > b.item.code ? 1 : a.item.version - b.item.version;

export async function publishItemFolder(pool: pg.Pool, loaded: LoadedItemFolder, log: CatalogLog): Promise<ItemFolderReport> {
  const report: ItemFolderReport = { published: [], superseded: [], unchanged: [], changed: [], skipped: [] };
  const bad = new Set(loaded.problems.map((p) => p.file));
  for (const p of loaded.problems) log.error({ file: p.file, path: p.path }, `item file ${p.file}: ${p.path}: ${p.message} (file skipped)`);
  report.skipped = [...bad].sort();
  // Oldest first, so v1 is published before v2 supersedes it.
  const files = loaded.items.filter((f) => !bad.has(f.file)).sort(byCodeThenVersion);

  await withTransaction(pool, async (client) => {
    await lockCatalog(client);
    for (const { file, item } of files) {
      await lockItemCode(client, item.code);
      const versions = await listItemVersions(client, item.code);
      const stored = versions.find((v) => v.version === item.version);
      if (stored) {
        if (stored.sha256 === definitionSha256(item)) {
          report.unchanged.push(file);
        } else {
          const next = (versions.at(-1)?.version ?? item.version) + 1;
          log.error(
            { file, code: item.code, version: item.version, status: stored.status, source: stored.source },
            `item file ${file} differs from ${item.code} version ${item.version} in the catalog (${stored.status}); a published version never changes: add ${item.code}.v${next}.json (the catalog keeps version ${item.version} as it is)`,
          );
          report.changed.push(file);
        }
        continue;
      }
      const newer = versions.filter((v) => v.version > item.version && v.status !== 'draft').at(-1);
      // The catalog is national: its audit rows name no region ('000000').
      const audit = { actor: ITEM_FILES_ACTOR, role: 'system', region: '000000' } as const;
      if (newer) {
        await insertItemVersion(client, { definition: item, status: 'superseded', source: 'file', createdBy: ITEM_FILES_ACTOR });
        await writeAudit(client, { ...audit, action: 'item.create', reason: `from ${file}`, detail: { code: item.code, version: item.version, source: 'file', status: 'superseded', newer: newer.version } });
        report.superseded.push(file);
        continue;
      }
      await insertItemVersion(client, { definition: item, status: 'draft', source: 'file', createdBy: ITEM_FILES_ACTOR });
      const superseded = await publishItemVersion(client, item.code, item.version, ITEM_FILES_ACTOR);
      await writeAudit(client, { ...audit, action: 'item.create', reason: `from ${file}`, detail: { code: item.code, version: item.version, source: 'file' } });
      await writeAudit(client, { ...audit, action: 'item.publish', reason: `from ${file}`, detail: { code: item.code, version: item.version, superseded } });
      report.published.push(file);
    }
  });
  log.info(
    { published: report.published.length, superseded: report.superseded.length, unchanged: report.unchanged.length, changed: report.changed.length, skipped: report.skipped.length },
    `item files: ${report.published.length} published, ${report.unchanged.length} unchanged, ${report.changed.length + report.skipped.length} refused`,
  );
  return report;
}
