// A staff member's region scope as SQL over `cases`: domain/regions.ts' regionScope picks the
// column (the generated province and city columns of migration 016, or the region itself for a
// county) and the scope is compared by equality, so an index answers it. One predicate for every
// query that scopes cases (the list, the detail, the reports, the evaluation report).
import { regionScope, type ScopeLevel } from '../domain/regionScope.js';

const COLUMNS: Record<ScopeLevel, { receiving: string; handling: string }> = {
  province: { receiving: 'receiving_province', handling: 'handling_province' },
  city: { receiving: 'receiving_city', handling: 'handling_city' },
  county: { receiving: 'receiving_region', handling: 'handling_region' },
};

/** The scope's columns on `cases` (column names from the table above, never from input). */
export function scopeColumns(scope: string): { receiving: string; handling: string; code: string } {
  const s = regionScope(scope);
  return { ...COLUMNS[s.level], code: s.code };
}

/**
 * `(receiving_x = $n OR handling_x = $n)`: the scope covers either side of the case. `$n` must
 * hold the returned `param` (the scope's code); `alias` qualifies the columns (`c.`).
 */
export function visibleTo(scope: string, n: number, alias = ''): { sql: string; param: string } {
  const { receiving, handling, code } = scopeColumns(scope);
  return { sql: `(${alias}${receiving} = $${n} OR ${alias}${handling} = $${n})`, param: code };
}
