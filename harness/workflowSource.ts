// The fingerprint of the workflow code that decides what a case does: every file the workflow
// bundle's entry (workflows/index.ts) imports as a value, transitively (workflows/, and the
// domain/ code they use), compiled to JavaScript without comments, so an edit of a comment or a
// type does not count; only what runs does.
// The recorded replay fixtures carry the fingerprint they were recorded on; the replay test fails
// when the code changed and no fixture of the new shape was recorded
// (scripts/record-histories.ts, docs/case-workflow.md).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..');
export const WORKFLOW_ENTRY = path.join(ROOT, 'workflows', 'index.ts');

/** Relative value imports and re-exports of a module (type-only ones cannot change behaviour). */
function valueImports(file: string, source: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const stmt of source.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(stmt) && !stmt.importClause?.isTypeOnly) spec = stmt.moduleSpecifier;
    if (ts.isExportDeclaration(stmt) && !stmt.isTypeOnly) spec = stmt.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    out.push(path.resolve(path.dirname(file), spec.text.replace(/\.js$/, '.ts')));
  }
  return out;
}

/** Every file of the workflow code, relative to the repository, sorted. */
export function workflowSourceFiles(entry = WORKFLOW_ENTRY): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !fs.existsSync(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const dep of valueImports(file, source)) visit(dep);
  };
  visit(entry);
  return [...seen].map((f) => path.relative(ROOT, f)).sort();
}

/** SHA-256 over the files' JavaScript: types, comments and formatting removed. */
export function workflowSourceFingerprint(entry = WORKFLOW_ENTRY): string {
  const hash = createHash('sha256');
  for (const rel of workflowSourceFiles(entry)) {
    const { outputText } = ts.transpileModule(fs.readFileSync(path.join(ROOT, rel), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: true, verbatimModuleSyntax: false },
      fileName: rel,
    });
    hash.update(`${rel}\n${outputText.replace(/\s+/g, ' ')}\n`);
  }
  return hash.digest('hex');
}

/** The patch ids workflow code passes to patched() or deprecatePatch(), through exported constants too. */
export function workflowPatchIds(entry = WORKFLOW_ENTRY): string[] {
  const ids = new Set<string>();
  for (const rel of workflowSourceFiles(entry)) {
    const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
    for (const m of text.matchAll(/export const \w+_PATCH = '([^']+)'/g)) ids.add(m[1]!);
    for (const m of text.matchAll(/\bpatched\('([^']+)'\)/g)) ids.add(m[1]!);
  }
  return [...ids].sort();
}
