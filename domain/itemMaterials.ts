// What a case asks of the applicant, read from its pinned item definition: the required materials
// still missing, and the ones the data-sharing hub supplies (免提交). Pure and free of the item
// schema, so the workflow bundle (which uses it at precheck) does not carry zod, and a change of
// the schema's rules does not change the workflow code.
import type { ItemDefinition, MaterialDefinition } from './items.js';

/** Codes of required materials missing from a submission (pure; used at intake and precheck). */
export function missingRequiredMaterials(item: Pick<ItemDefinition, 'materials'>, submitted: readonly { materialCode: string }[]): string[] {
  const have = new Set(submitted.map((m) => m.materialCode));
  return item.materials.filter((m) => m.required && !m.sharedData && !have.has(m.code)).map((m) => m.code);
}

/** The materials the data-sharing hub supplies (免提交). */
export function sharedDataMaterials(item: Pick<ItemDefinition, 'materials'>): MaterialDefinition[] {
  return item.materials.filter((m) => m.sharedData !== undefined);
}
