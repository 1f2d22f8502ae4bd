// SQL of the item catalog (migration 012_items.sql): versions of service item definitions, their
// status (draft → published → superseded, or retired) and who moved them there. The rules of those
// moves live with their callers (api/items.ts for the API, catalog/sync.ts for the item files);
// here each statement does one thing, and writers serialise per code with lockItemCode inside
// their transaction. A stored definition was validated when it was written and never changes, so
// it is read back as it is, not parsed again: a rule added to the schema later must not make a
// published version unreadable for the cases that pin it.
import { sha256Hex } from '../crypto/signing.js';
import { canonicalJson } from '../domain/canonicalJson.js';
import type { ItemDefinition } from '../domain/items.js';
import type { Queryable } from './cases.js';

export const ITEM_VERSION_STATUSES = ['draft', 'published', 'superseded', 'retired'] as const;
export type ItemVersionStatus = (typeof ITEM_VERSION_STATUSES)[number];
export const ITEM_SOURCES = ['file', 'api'] as const;
export type ItemSource = (typeof ITEM_SOURCES)[number];

/** One version without its definition: what lists show. */
export interface ItemVersionSummary {
  code: string;
  version: number;
  status: ItemVersionStatus;
  source: ItemSource;
  sha256: string;
  createdAt: string;
  createdBy: string;
  publishedAt: string | null;
  publishedBy: string | null;
  retiredAt: string | null;
  retiredBy: string | null;
  retireReason: string | null;
}

export interface ItemVersionRecord extends ItemVersionSummary {
  definition: ItemDefinition;
}

/** The hash a version is stored with: SHA-256 of the definition's canonical JSON (key order does not count). */
export function definitionSha256(definition: ItemDefinition): string {
  return sha256Hex(canonicalJson(definition));
}

interface ItemVersionRow {
  code: string;
  version: number;
  status: ItemVersionStatus;
  source: ItemSource;
  sha256: string;
  created_at: Date;
  created_by: string;
  published_at: Date | null;
  published_by: string | null;
  retired_at: Date | null;
  retired_by: string | null;
  retire_reason: string | null;
  definition?: ItemDefinition;
}

const SUMMARY_COLUMNS = 'code, version, status, source, sha256, created_at, created_by, published_at, published_by, retired_at, retired_by, retire_reason';
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const summaryOf = (r: ItemVersionRow): ItemVersionSummary => ({
  code: r.code,
  version: r.version,
  status: r.status,
  source: r.source,
  sha256: r.sha256,
  createdAt: r.created_at.toISOString(),
  createdBy: r.created_by,
  publishedAt: iso(r.published_at),
  publishedBy: r.published_by,
  retiredAt: iso(r.retired_at),
  retiredBy: r.retired_by,
  retireReason: r.retire_reason,
});

const recordOf = (r: ItemVersionRow): ItemVersionRecord => ({ ...summaryOf(r), definition: r.definition! });

/**
 * Serialises the writers of one code's versions until the transaction ends (two admins publishing,
 * a start publishing item files while an admin posts).
 */
export async function lockItemCode(db: Queryable, code: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`item:${code}`]);
}

/** Serialises whole-catalog writers (two processes publishing the item files at start) until the transaction ends. */
export async function lockCatalog(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, ['tongban.item-files']);
}

/** Every version of one code, oldest first, with definitions. */
export async function listItemVersions(db: Queryable, code: string): Promise<ItemVersionRecord[]> {
  const { rows } = await db.query<ItemVersionRow>(`SELECT ${SUMMARY_COLUMNS}, definition FROM item_versions WHERE code = $1 ORDER BY version`, [code]);
  return rows.map(recordOf);
}

export async function findItemVersion(db: Queryable, code: string, version: number): Promise<ItemVersionRecord | null> {
  const { rows } = await db.query<ItemVersionRow>(`SELECT ${SUMMARY_COLUMNS}, definition FROM item_versions WHERE code = $1 AND version = $2`, [code, version]);
  return rows[0] ? recordOf(rows[0]) : null;
}

/** The one published version of a code, or null. */
export async function findPublishedItem(db: Queryable, code: string): Promise<ItemVersionRecord | null> {
  const { rows } = await db.query<ItemVersionRow>(`SELECT ${SUMMARY_COLUMNS}, definition FROM item_versions WHERE code = $1 AND status = 'published'`, [code]);
  return rows[0] ? recordOf(rows[0]) : null;
}

/** One row per version of every code, by code then version, with the fields a catalog list shows. */
export async function listCatalog(db: Queryable): Promise<(ItemVersionSummary & { name: string; type: string; handlingType: string })[]> {
  const { rows } = await db.query<ItemVersionRow & { name: string; type: string; handling_type: string }>(
    `SELECT ${SUMMARY_COLUMNS}, definition->>'name' AS name, definition->>'type' AS type, definition->>'handlingType' AS handling_type
       FROM item_versions ORDER BY code, version`,
  );
  return rows.map((r) => ({ ...summaryOf(r), name: r.name, type: r.type, handlingType: r.handling_type }));
}

export interface NewItemVersion {
  definition: ItemDefinition;
  status: 'draft' | 'published' | 'superseded';
  source: ItemSource;
  createdBy: string;
}

/** Inserts a version (its code and number are the definition's); false when that (code, version) exists. */
export async function insertItemVersion(db: Queryable, v: NewItemVersion): Promise<boolean> {
  const published = v.status === 'published';
  const { rowCount } = await db.query(
    `INSERT INTO item_versions (code, version, status, definition, sha256, source, created_by, published_at, published_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END, CASE WHEN $8 THEN $7 END)
     ON CONFLICT (code, version) DO NOTHING`,
    [v.definition.code, v.definition.version, v.status, JSON.stringify(v.definition), definitionSha256(v.definition), v.source, v.createdBy, published],
  );
  return rowCount === 1;
}

/**
 * Publishes a draft (or a freshly inserted file version) and supersedes the version published
 * before it, in that order (the unique index allows one published version per code). Call inside
 * a transaction holding lockItemCode; returns the version superseded, if any.
 */
export async function publishItemVersion(db: Queryable, code: string, version: number, by: string): Promise<number | null> {
  const { rows } = await db.query<{ version: number }>(
    `UPDATE item_versions SET status = 'superseded' WHERE code = $1 AND status = 'published' AND version <> $2 RETURNING version`,
    [code, version],
  );
  await db.query(
    `UPDATE item_versions SET status = 'published', published_at = coalesce(published_at, now()), published_by = coalesce(published_by, $3)
      WHERE code = $1 AND version = $2`,
    [code, version, by],
  );
  return rows[0]?.version ?? null;
}

/** Retires a version; call inside a transaction holding lockItemCode, after checking its status. */
export async function retireItemVersion(db: Queryable, code: string, version: number, by: string, reason: string): Promise<void> {
  await db.query(`UPDATE item_versions SET status = 'retired', retired_at = now(), retired_by = $3, retire_reason = $4 WHERE code = $1 AND version = $2`, [code, version, by, reason]);
}

/**
 * The material names of the item version a case was accepted under (code → name), for texts to
 * the applicant; empty when the catalog does not hold that version.
 */
export async function materialNamesOfCase(db: Queryable, caseId: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ code: string; name: string }>(
    `SELECT m->>'code' AS code, m->>'name' AS name
       FROM cases c JOIN item_versions v ON v.code = c.item_code AND v.version = c.item_version,
            jsonb_array_elements(v.definition->'materials') AS m
      WHERE c.case_id = $1`,
    [caseId],
  );
  return new Map(rows.map((r) => [r.code, r.name]));
}
