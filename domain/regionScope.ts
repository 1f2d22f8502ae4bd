// A staff member's region scope as an equality (regionCovers read through the province and city of
// a region), so a query over `cases` answers it with an index (db/scope.ts, migration 016). Kept
// apart from domain/regions.ts, which the workflow code imports: a change here changes no
// workflow history.
import { provinceOf } from './regions.js';

/** The level of a staff scope, and which of a case's region columns answers it by equality. */
export type ScopeLevel = 'province' | 'city' | 'county';

export interface RegionScope {
  level: ScopeLevel;
  /** The scope itself: compared with the region's province (xx0000), city (xxyy00) or whole code. */
  code: string;
}

/** The city-level code of a division code: 440106 → 440100 (a province code maps to itself). */
export function cityOf(code: string): string {
  return `${code.slice(0, 4)}00`;
}

/**
 * regionCovers as an equality: a province scope (xx0000) covers a region whose provinceOf is the
 * scope, a city scope (xxyy00) one whose cityOf is the scope, a county only itself. The database
 * keeps provinceOf and cityOf of both sides as generated columns (migration 016) with indexes, so
 * the scope is an index lookup; `LIKE 'xx%'` is not one under the database's collation.
 * Scopes come from verified tokens and are division codes; anything else is refused.
 */
export function regionScope(scope: string): RegionScope {
  if (!/^\d{6}$/.test(scope)) throw new Error(`not a division code: ${JSON.stringify(scope)}`);
  if (scope.endsWith('0000')) return { level: 'province', code: scope };
  if (scope.endsWith('00')) return { level: 'city', code: scope };
  return { level: 'county', code: scope };
}

/** Whether a region falls under a scope, read through regionScope (what the SQL predicate does). */
export function regionScopeCovers(s: RegionScope, region: string): boolean {
  switch (s.level) {
    case 'province':
      return provinceOf(region) === s.code;
    case 'city':
      return cityOf(region) === s.code;
    case 'county':
      return region === s.code;
  }
}
