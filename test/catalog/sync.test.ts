// Publishing the item files at start (catalog/sync.ts) against the run's PostgreSQL: new versions
// are published and supersede older ones, a repeat changes nothing, two starters at once insert
// each version once, an edited file never overwrites its stored version, and files with problems
// are skipped while the rest publish.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadItemFolder } from '../../catalog/files.js';
import { BUILTIN_ITEMS } from '../../catalog/seed.js';
import { ITEM_FILES_ACTOR, publishItemFolder, type CatalogLog, type LoadedItemFolder } from '../../catalog/sync.js';
import { createPool } from '../../clients/postgres.js';
import { definitionSha256, findPublishedItem, listItemVersions } from '../../db/items.js';
import { itemDefinitionSchema, type ItemDefinitionInput } from '../../domain/items.js';
import { itemDefinition, uniqueItemCode } from '../support/items.js';

let pool: pg.Pool;
beforeAll(() => {
  pool = createPool(inject('databaseUrl'));
});
afterAll(async () => {
  await pool?.end();
});

/** A logger that keeps what it was told. */
function captureLog() {
  const lines: { level: 'info' | 'error'; obj: object; msg: string }[] = [];
  const log: CatalogLog = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
  return { log, lines, errors: () => lines.filter((l) => l.level === 'error').map((l) => l.msg) };
}

const fileOf = (d: ItemDefinitionInput) => `${d.code}.v${d.version}.json`;
const folder = (...defs: ItemDefinitionInput[]): LoadedItemFolder => ({
  items: defs.map((d) => ({ file: fileOf(d), item: itemDefinitionSchema.parse(d) })),
  problems: [],
});
const statuses = async (code: string) => (await listItemVersions(pool, code)).map((v) => `${v.version}:${v.status}`);
const audits = async (code: string) =>
  (await pool.query<{ actor: string; action: string; version: number }>(`SELECT actor, action, (detail->>'version')::int AS version FROM audit_log WHERE detail->>'code' = $1 ORDER BY id`, [code])).rows;

describe('publishing the item files at start', () => {
  it('When the repo’s item folder is published again, as every start does, then each file is already in the catalog unchanged and the newest version of each seed item is the published one', async () => {
    const loaded = loadItemFolder();
    expect(loaded.problems).toEqual([]);
    expect(loaded.items.length).toBeGreaterThanOrEqual(12);
    const log = captureLog();
    const report = await publishItemFolder(pool, loaded, log.log);
    expect({ ...report, unchanged: [...report.unchanged].sort() }).toEqual({ published: [], superseded: [], unchanged: loaded.items.map((i) => i.file).sort(), changed: [], skipped: [] });
    expect(log.errors()).toEqual([]);
    for (const seed of BUILTIN_ITEMS) {
      const published = await findPublishedItem(pool, seed.code);
      expect(published, seed.code).toMatchObject({ version: seed.version, source: 'file', createdBy: ITEM_FILES_ACTOR });
      expect(published!.definition).toEqual(seed);
    }
  });

  it('When a new file is published twice, then the first run inserts and publishes it as system:item-files, and the second changes nothing', async () => {
    const code = uniqueItemCode('sync-new');
    const loaded = folder(itemDefinition(code, 1));
    const first = await publishItemFolder(pool, loaded, captureLog().log);
    expect(first).toMatchObject({ published: [`${code}.v1.json`], unchanged: [], changed: [], skipped: [] });
    const [v1] = await listItemVersions(pool, code);
    expect(v1).toMatchObject({ status: 'published', source: 'file', createdBy: ITEM_FILES_ACTOR, publishedBy: ITEM_FILES_ACTOR, sha256: definitionSha256(loaded.items[0]!.item) });
    expect(v1!.definition).toEqual(loaded.items[0]!.item);

    const again = captureLog();
    const second = await publishItemFolder(pool, loaded, again.log);
    expect(second).toMatchObject({ published: [], unchanged: [`${code}.v1.json`], changed: [] });
    expect(again.errors()).toEqual([]);
    expect(await statuses(code)).toEqual(['1:published']);
    expect(await audits(code)).toEqual([
      { actor: ITEM_FILES_ACTOR, action: 'item.create', version: 1 },
      { actor: ITEM_FILES_ACTOR, action: 'item.publish', version: 1 },
    ]);
  });

  it('When two processes publish the same folder at once, then each version is inserted once and the newest is the one published', async () => {
    const code = uniqueItemCode('sync-race');
    const loaded = folder(itemDefinition(code, 2, { promisedDays: 4 }), itemDefinition(code, 1));
    const [a, b] = await Promise.all([publishItemFolder(pool, loaded, captureLog().log), publishItemFolder(pool, loaded, captureLog().log)]);
    // One of them did the work, in version order; the other found it done.
    const [worker, idle] = a.published.length ? [a, b] : [b, a];
    expect(worker.published).toEqual([`${code}.v1.json`, `${code}.v2.json`]);
    expect(idle).toMatchObject({ published: [], unchanged: [`${code}.v1.json`, `${code}.v2.json`] });
    expect(await statuses(code)).toEqual(['1:superseded', '2:published']);
    expect((await audits(code)).map((r) => `${r.action}:${r.version}`)).toEqual(['item.create:1', 'item.publish:1', 'item.create:2', 'item.publish:2']);
  });

  it('When a file with the next version arrives, then it is published and supersedes the one before; a file older than the published version is kept as superseded', async () => {
    const code = uniqueItemCode('sync-next');
    await publishItemFolder(pool, folder(itemDefinition(code, 2)), captureLog().log);
    expect(await statuses(code)).toEqual(['2:published']);

    const older = await publishItemFolder(pool, folder(itemDefinition(code, 1), itemDefinition(code, 2)), captureLog().log);
    expect(older).toMatchObject({ published: [], superseded: [`${code}.v1.json`], unchanged: [`${code}.v2.json`] });
    expect(await statuses(code)).toEqual(['1:superseded', '2:published']);
    const [v1] = await listItemVersions(pool, code);
    expect(v1).toMatchObject({ publishedAt: null, publishedBy: null });

    const next = await publishItemFolder(pool, folder(itemDefinition(code, 1), itemDefinition(code, 2), itemDefinition(code, 3, { statutoryDays: 15 })), captureLog().log);
    expect(next).toMatchObject({ published: [`${code}.v3.json`], unchanged: [`${code}.v1.json`, `${code}.v2.json`] });
    expect(await statuses(code)).toEqual(['1:superseded', '2:superseded', '3:published']);
  });

  it('When a stored version’s file is edited, then an error names the file and the next version to add, and the catalog keeps the stored definition', async () => {
    const code = uniqueItemCode('sync-edit');
    const original = folder(itemDefinition(code, 1));
    await publishItemFolder(pool, original, captureLog().log);
    const before = await listItemVersions(pool, code);

    const edited = captureLog();
    const report = await publishItemFolder(pool, folder(itemDefinition(code, 1, { promisedDays: 2 })), edited.log);
    expect(report).toMatchObject({ published: [], changed: [`${code}.v1.json`] });
    expect(edited.errors()).toEqual([expect.stringContaining(`item file ${code}.v1.json differs`)]);
    expect(edited.errors()[0]).toContain(`a published version never changes: add ${code}.v2.json`);
    expect(await listItemVersions(pool, code)).toEqual(before);
    expect(before[0]!.definition.promisedDays).toBe(5);
    expect((await audits(code)).map((r) => r.action)).toEqual(['item.create', 'item.publish']);
  });

  it('When the folder has problems, then they are logged, those files are skipped and the others are published', async () => {
    const good = uniqueItemCode('sync-good');
    const bad = uniqueItemCode('sync-bad');
    const loaded: LoadedItemFolder = {
      items: [...folder(itemDefinition(good, 1)).items, ...folder(itemDefinition(bad, 1)).items],
      problems: [
        { file: `${bad}.v1.json`, path: 'implementationCode', message: 'is already the implementation code of another item' },
        { file: `${bad}.v2.json`, path: 'promisedDays', message: 'the promised limit (30) cannot exceed the statutory limit (20)' },
      ],
    };
    const log = captureLog();
    const report = await publishItemFolder(pool, loaded, log.log);
    expect(report).toMatchObject({ published: [`${good}.v1.json`], skipped: [`${bad}.v1.json`, `${bad}.v2.json`] });
    expect(log.errors()).toEqual([
      `item file ${bad}.v1.json: implementationCode: is already the implementation code of another item (file skipped)`,
      `item file ${bad}.v2.json: promisedDays: the promised limit (30) cannot exceed the statutory limit (20) (file skipped)`,
    ]);
    expect(await statuses(good)).toEqual(['1:published']);
    expect(await statuses(bad)).toEqual([]);
  });
});
