// The seed catalog: the items of the repo's `items/` folder (catalog/files.ts), the newest
// version of each code. Code that needs an item without the database reads it here (tests, the
// benchmark, the history recorder); the API serves the published catalog from PostgreSQL, which
// the same folder seeds at start (catalog/sync.ts).
//
// Read when this module is first imported; an invalid folder stops the process with every problem
// listed, never a catalog that silently lacks an item.
import { loadItemFolder, type FileProblem } from './files.js';
import type { ItemDefinition } from '../domain/items.js';

export class SeedCatalogError extends Error {
  constructor(readonly problems: readonly FileProblem[]) {
    super(`the item folder has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p.file}: ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'SeedCatalogError';
  }
}

function newestVersions(): ItemDefinition[] {
  const { items, problems } = loadItemFolder();
  if (problems.length > 0) throw new SeedCatalogError(problems);
  const newest = new Map<string, ItemDefinition>();
  for (const { item } of items) {
    const seen = newest.get(item.code);
    if (!seen || seen.version < item.version) newest.set(item.code, item);
  }
  return [...newest.values()];
}

/** The newest version of each item in `items/`, in code order. */
export const BUILTIN_ITEMS: readonly ItemDefinition[] = newestVersions();

export function findBuiltinItem(code: string): ItemDefinition | undefined {
  return BUILTIN_ITEMS.find((i) => i.code === code);
}
