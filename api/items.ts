// The item catalog's use cases (事项目录): an item admin posts a definition as a draft, publishes it
// (the version published before is superseded) and retires versions; every staff member reads the
// catalog, a version and the difference between two versions; intake takes the one published
// version of a code and pins it into the case. A version's definition never changes once
// written: a change is a new version, so a case accepted under version 1 runs on version 1's
// materials and limits to the end, whatever is published after it. Each change is one
// transaction holding the code's lock, with its audit row.
import type pg from 'pg';
import { writeAudit } from '../db/audit.js';
import {
  findItemVersion,
  findPublishedItem,
  insertItemVersion,
  listCatalog,
  listItemVersions,
  lockItemCode,
  publishItemVersion,
  retireItemVersion,
  type ItemVersionRecord,
  type ItemVersionStatus,
  type ItemVersionSummary,
} from '../db/items.js';
import { withTransaction } from '../db/transaction.js';
import { dateInChina } from '../domain/dates.js';
import { diffItems, type ItemChange } from '../domain/itemDiff.js';
import { ITEM_VIEW_FIELDS, validateItem, type ItemDefinition, type ItemProblem } from '../domain/items.js';
import { controlCharProblem } from '../domain/text.js';
import type { StaffClaims } from './auth.js';
import { problem } from './problem.js';

const noItem = (code: string) => problem(404, `no service item ${code}`);
const noVersion = (code: string, version: number) => problem(404, `service item ${code} has no version ${version}`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Strings with control characters anywhere in a posted definition (the API refuses them in every field). */
function controlCharProblems(value: unknown, path: string[] = []): ItemProblem[] {
  if (typeof value === 'string') {
    const p = controlCharProblem(value);
    return p ? [{ path: path.join('.') || '(item)', message: p }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => controlCharProblems(v, [...path, String(i)]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => controlCharProblems(v, [...path, k]));
  return [];
}

/**
 * POST /v1/items: a new draft version. Every problem of the definition comes back at once (422);
 * a version must be new and above every version of the code (409), so versions only go up and a
 * stored one is never rewritten.
 */
export async function createDraft(pool: pg.Pool, staff: StaffClaims, body: unknown): Promise<ItemVersionRecord> {
  // An item as GET /v1/items/{code} shows it may be edited and posted back: its view fields are not the definition's.
  const raw = body && typeof body === 'object' && !Array.isArray(body) ? Object.fromEntries(Object.entries(body).filter(([k]) => !(ITEM_VIEW_FIELDS as readonly string[]).includes(k))) : body;
  const checked = validateItem(raw);
  const problems = [...controlCharProblems(raw), ...(checked.ok ? [] : checked.problems)];
  if (problems.length || !checked.ok) {
    throw problem(422, `the definition has ${plural(problems.length, 'problem')}`, { errors: problems });
  }
  const item = checked.item;
  return withTransaction(pool, async (client) => {
    await lockItemCode(client, item.code);
    const versions = await listItemVersions(client, item.code);
    const same = versions.find((v) => v.version === item.version);
    const highest = versions.at(-1)?.version ?? 0;
    if (same) {
      throw problem(409, `${item.code} version ${item.version} exists (${same.status}) and never changes: post version ${highest + 1}`, { slug: 'item-version-exists' });
    }
    if (item.version < highest) {
      throw problem(409, `versions of ${item.code} only go up: the highest is ${highest} (${versions.at(-1)!.status}); post version ${highest + 1}`, { slug: 'item-version-not-newest' });
    }
    await insertItemVersion(client, { definition: item, status: 'draft', source: 'api', createdBy: staff.sub });
    await writeAudit(client, {
      actor: staff.sub, role: staff.role, region: staff.region, action: 'item.create',
      detail: { code: item.code, version: item.version, source: 'api' },
    });
    return (await findItemVersion(client, item.code, item.version))!;
  });
}

/**
 * POST …/versions/:v/publish: a draft becomes the published version, and the one published before
 * it is superseded, in one transaction. New cases take it from then on; running cases keep theirs.
 */
export async function publishVersion(pool: pg.Pool, staff: StaffClaims, code: string, version: number, reason: string): Promise<ItemVersionRecord> {
  return withTransaction(pool, async (client) => {
    await lockItemCode(client, code);
    const versions = await listItemVersions(client, code);
    if (!versions.length) throw noItem(code);
    const target = versions.find((v) => v.version === version);
    if (!target) throw noVersion(code, version);
    if (target.status !== 'draft') {
      throw problem(409, `${code} version ${version} is ${target.status}: only a draft can be published; post a new version instead`, { slug: 'item-version-not-draft' });
    }
    const newer = versions.filter((v) => v.version > version && v.status !== 'draft').at(-1);
    if (newer) {
      throw problem(409, `${code} version ${newer.version} (${newer.status}) is newer than version ${version}: publishing it would go back; post version ${versions.at(-1)!.version + 1}`, {
        slug: 'item-version-outdated',
      });
    }
    const superseded = await publishItemVersion(client, code, version, staff.sub);
    await writeAudit(client, {
      actor: staff.sub, role: staff.role, region: staff.region, action: 'item.publish', reason,
      detail: { code, version, superseded },
    });
    return (await findItemVersion(client, code, version))!;
  });
}

/**
 * POST …/versions/:v/retire: a published or superseded version is retired. Retiring the published
 * one leaves the code with none: intake refuses new cases with the date it was retired, and the
 * cases already running on it finish on it.
 */
export async function retireVersion(pool: pg.Pool, staff: StaffClaims, code: string, version: number, reason: string): Promise<ItemVersionRecord> {
  return withTransaction(pool, async (client) => {
    await lockItemCode(client, code);
    const target = await findItemVersion(client, code, version);
    if (!target) throw (await listItemVersions(client, code)).length ? noVersion(code, version) : noItem(code);
    if (target.status === 'draft') {
      throw problem(409, `${code} version ${version} is a draft: it was never published, so there is nothing to retire`, { slug: 'item-version-not-published' });
    }
    if (target.status === 'retired') {
      throw problem(409, `${code} version ${version} was already retired on ${target.retiredAt} by ${target.retiredBy}`, { slug: 'item-version-retired' });
    }
    await retireItemVersion(client, code, version, staff.sub, reason);
    await writeAudit(client, {
      actor: staff.sub, role: staff.role, region: staff.region, action: 'item.retire', reason,
      detail: { code, version, was: target.status },
    });
    return (await findItemVersion(client, code, version))!;
  });
}

// ---------------------------------------------------------------------------------------------
// Reads

export interface CatalogEntry {
  code: string;
  name: string;
  type: string;
  handlingType: string;
  publishedVersion: number | null;
  latestVersion: number;
  statuses: Record<ItemVersionStatus, number>;
}

/** GET /v1/items: one entry per code; name and type from the published version, else the latest. */
export async function listItems(pool: pg.Pool): Promise<{ items: CatalogEntry[] }> {
  const rows = await listCatalog(pool);
  const byCode = new Map<string, typeof rows>();
  for (const r of rows) byCode.set(r.code, [...(byCode.get(r.code) ?? []), r]);
  const items = [...byCode.entries()].map(([code, versions]) => {
    const published = versions.find((v) => v.status === 'published');
    const latest = versions.at(-1)!;
    const shown = published ?? latest;
    const statuses = { draft: 0, published: 0, superseded: 0, retired: 0 };
    for (const v of versions) statuses[v.status] += 1;
    return { code, name: shown.name, type: shown.type, handlingType: shown.handlingType, publishedVersion: published?.version ?? null, latestVersion: latest.version, statuses };
  });
  return { items };
}

export type ItemView = ItemDefinition & { status: ItemVersionStatus; publishedAt: string | null; versions: ItemVersionSummary[] };

const summary = ({ definition: _definition, ...rest }: ItemVersionRecord): ItemVersionSummary => rest;

/**
 * GET /v1/items/:code: the published definition (else the latest draft, else the latest version),
 * its status, and every version's summary.
 */
export async function getItem(pool: pg.Pool, code: string): Promise<ItemView> {
  const versions = await listItemVersions(pool, code);
  const shown = versions.find((v) => v.status === 'published') ?? versions.filter((v) => v.status === 'draft').at(-1) ?? versions.at(-1);
  if (!shown) throw noItem(code);
  return { ...shown.definition, status: shown.status, publishedAt: shown.publishedAt, versions: versions.map(summary) };
}

export async function getVersions(pool: pg.Pool, code: string): Promise<{ code: string; versions: ItemVersionSummary[] }> {
  const versions = await listItemVersions(pool, code);
  if (!versions.length) throw noItem(code);
  return { code, versions: versions.map(summary) };
}

export async function getVersion(pool: pg.Pool, code: string, version: number): Promise<ItemVersionRecord> {
  const found = await findItemVersion(pool, code, version);
  if (found) return found;
  throw (await listItemVersions(pool, code)).length ? noVersion(code, version) : noItem(code);
}

/** GET …/diff?from=&to=: what changes from one version to another (either may be a draft). */
export async function diffVersions(pool: pg.Pool, code: string, from: number, to: number): Promise<{ code: string; from: number; to: number; changes: ItemChange[] }> {
  const versions = await listItemVersions(pool, code);
  if (!versions.length) throw noItem(code);
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  const missing = [...(a ? [] : [{ path: 'query.from', v: from }]), ...(b ? [] : [{ path: 'query.to', v: to }])];
  if (missing.length) {
    throw problem(404, `service item ${code} has no version ${missing.map((m) => m.v).join(' nor ')}`, {
      errors: missing.map((m) => ({ path: m.path, message: `${code} has no version ${m.v}; it has ${versions.map((v) => v.version).join(', ')}` })),
    });
  }
  return { code, from, to, changes: diffItems(a!.definition, b!.definition) };
}

// ---------------------------------------------------------------------------------------------
// Intake

/**
 * The definition a new case pins: the code's published version. A code without one is a 422 naming
 * `itemCode` that says why: unknown, retired (with the version and the day), or never published.
 */
/**
 * The definition an intake pins: the version its first attempt pinned when this is a retry (it
 * may have been superseded or retired since; the case's workflow may already run on it), else
 * the code's published version.
 */
export async function itemForIntake(pool: pg.Pool, code: string, pinnedVersion: number | null): Promise<ItemDefinition> {
  if (pinnedVersion !== null) {
    const pinned = await findItemVersion(pool, code, pinnedVersion);
    if (pinned) return pinned.definition;
  }
  return publishedItemForIntake(pool, code);
}

export async function publishedItemForIntake(pool: pg.Pool, code: string): Promise<ItemDefinition> {
  const published = await findPublishedItem(pool, code);
  if (published) return published.definition;
  const versions = await listItemVersions(pool, code);
  const refuse = (detail: string, message: string) => problem(422, detail, { errors: [{ path: 'itemCode', message }] });
  if (!versions.length) throw refuse(`no service item ${code}`, 'is not a known service item');
  const retired = versions.filter((v) => v.status === 'retired').sort((x, y) => (x.retiredAt! < y.retiredAt! ? -1 : 1)).at(-1);
  if (retired) {
    const on = dateInChina(retired.retiredAt!);
    throw refuse(`service item ${code} takes no new applications`, `${code} version ${retired.version} was retired on ${on}: it takes no new applications`);
  }
  throw refuse(`service item ${code} is not published`, `${code} is not published: it has only drafts, which take no applications`);
}
