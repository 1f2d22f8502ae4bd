// The difference between two item definitions, as a backend team reads a change before publishing
// it: one entry per field added, removed or changed, with a path a person can follow. Lists whose
// elements carry a `code` (materials) or a `key` (participants, application fields) are matched by
// it, so `materials[contribution-certificate].required` names the same material in both versions
// and moving a material up the list is no change; other lists (legal basis, delivery methods) are
// values compared whole. Pure.
import { canonicalJson } from './canonicalJson.js';

export interface ItemChange {
  /** `promisedDays`, `review.supplementDays`, `materials[resident-id-card].required`, `materials[deposit-proof]`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** The identifying field of a list's elements: `code` or `key` when every element of both lists has a distinct one. */
function identityOf(a: unknown[], b: unknown[]): 'code' | 'key' | null {
  for (const field of ['code', 'key'] as const) {
    const ids = (list: unknown[]) => list.map((e) => (isObject(e) && typeof e[field] === 'string' ? e[field] : null));
    const ia = ids(a);
    const ib = ids(b);
    const distinct = (ids: (string | null)[]) => !ids.includes(null) && new Set(ids).size === ids.length;
    if (a.length + b.length > 0 && distinct(ia) && distinct(ib)) return field;
  }
  return null;
}

function diffValues(from: unknown, to: unknown, path: string, out: ItemChange[]): void {
  if (from === undefined && to === undefined) return;
  if (from === undefined) {
    out.push({ path, kind: 'added', to });
    return;
  }
  if (to === undefined) {
    out.push({ path, kind: 'removed', from });
    return;
  }
  if (isObject(from) && isObject(to)) {
    const keys = [...Object.keys(from), ...Object.keys(to).filter((k) => !(k in from))];
    for (const k of keys) diffValues(from[k], to[k], join(path, k), out);
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const field = identityOf(from, to);
    if (field) {
      const byId = (list: unknown[]) => new Map(list.map((e) => [(e as Json)[field] as string, e]));
      const a = byId(from);
      const b = byId(to);
      for (const [id, e] of a) diffValues(e, b.get(id), `${path}[${id}]`, out);
      for (const [id, e] of b) if (!a.has(id)) out.push({ path: `${path}[${id}]`, kind: 'added', to: e });
      return;
    }
  }
  if (!same(from, to)) out.push({ path, kind: 'changed', from, to });
}

/** Every difference from `from` to `to`; empty when they define the same thing. */
export function diffItems(from: object, to: object): ItemChange[] {
  const out: ItemChange[] = [];
  diffValues(from, to, '', out);
  return out;
}
