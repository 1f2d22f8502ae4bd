// Item definitions as files: the repo's `items/` folder holds one JSON file per item version,
// named `<code>.v<version>.json`, each checked with the same rules as `POST /v1/items`
// (domain/items.ts: validateItem for one definition, validateCatalog across them). The API
// publishes the folder at start (catalog/sync.ts), `npm run items -- validate` checks files
// offline (scripts/items.ts), and the seed catalog the tests use is read from it (catalog/seed.ts).
//
// Loading never stops at the first problem: a backend team sees every problem of every file at
// once, each with the file, the path inside the definition and what to do, like the one-time
// notice the law asks of reviewers. Synchronous: read once at start, and by the command line.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateCatalog, validateItem, type ItemDefinition } from '../domain/items.js';

/** The repo's folder of item files. */
export const ITEMS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'items');

/** A file's name says what it holds: `<code>.v<version>.json`. */
export const ITEM_FILE_NAME = /^([a-z0-9][a-z0-9-]*)\.v([1-9]\d*)\.json$/;

export interface LoadedItem {
  /** As given to loadItemFile, or the file's name inside the folder for loadItemFolder. */
  file: string;
  item: ItemDefinition;
  /** The JSON as written, before defaults are filled in. */
  raw: unknown;
}

export interface FileProblem {
  file: string;
  /** Where in the definition, dot-separated (`materials.2.condition`); `(file)` for the file as a whole. */
  path: string;
  message: string;
}

export interface ItemFileResult {
  file: string;
  /** Present when the file is valid on its own (parsed, the schema's rules, the name). */
  item?: LoadedItem;
  /** The definition when it passes the schema's rules, even if the file's name is wrong. */
  definition?: ItemDefinition;
  problems: FileProblem[];
}

export interface ItemFolder {
  /** The valid files, in code and version order. A file with any problem is not here. */
  items: LoadedItem[];
  problems: FileProblem[];
}

/** The expected file name of a definition. */
export function itemFileName(item: Pick<ItemDefinition, 'code' | 'version'>): string {
  return `${item.code}.v${item.version}.json`;
}

/**
 * Reads, parses and validates one item file; `file` is read as given and reported as given (or
 * as `label` says). Its name must match the code and version it holds.
 */
export function loadItemFile(file: string, label: string = file): ItemFileResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { file: label, problems: [{ file: label, path: '(file)', message: `cannot be read: ${readError(e)}` }] };
  }
  return parseItemText(text, path.basename(file), label);
}

/** Parses and validates a definition's text; `name` is the file name checked against it. */
export function parseItemText(text: string, name: string, label: string = name): ItemFileResult {
  const json = text.replace(/^\uFEFF/, '');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { file: label, problems: [{ file: label, path: '(file)', message: jsonSyntaxMessage(json, e) }] };
  }
  const problems: FileProblem[] = [];
  const named = ITEM_FILE_NAME.exec(name);
  const result = validateItem(raw);
  if (!result.ok) problems.push(...result.problems.map((p) => ({ file: label, ...p })));
  // The name is checked against what the file says even when the definition has other problems,
  // so a renamed or copied file is caught in the same pass.
  const said = saidCodeAndVersion(raw);
  if (!named) {
    const expected = said ? ` (this one: ${itemFileName(said)})` : '';
    problems.push({ file: label, path: '(file)', message: `name item files <code>.v<version>.json${expected}` });
  } else if (said && (named[1] !== said.code || Number(named[2]) !== said.version)) {
    problems.push({ file: label, path: '(file)', message: `the file is named for ${named[1]} version ${named[2]} but holds ${said.code} version ${said.version}: rename it ${itemFileName(said)}` });
  }
  if (!result.ok) return { file: label, problems };
  if (problems.length > 0) return { file: label, definition: result.item, problems };
  return { file: label, item: { file: label, item: result.item, raw }, definition: result.item, problems };
}

/**
 * Every `*.json` file of `dir` (not its sub-folders), as loadItemFiles checks them; files are
 * named by their name inside the folder.
 */
export function loadItemFolder(dir: string = ITEMS_DIR): ItemFolder {
  let names: string[];
  try {
    names = itemFilesIn(dir);
  } catch (e) {
    return { items: [], problems: [{ file: dir, path: '(folder)', message: `cannot be read: ${readError(e)}` }] };
  }
  return loadItemFiles(names.map((name) => ({ file: path.join(dir, name), label: name })));
}

/** The names of the item files (`*.json`) directly in `dir`, sorted; throws when it cannot be read. */
export function itemFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.json'))
    .map((d) => d.name)
    .sort();
}

/**
 * Each file validated on its own (loadItemFile), then the rules across them (validateCatalog:
 * each code and version once, an implementation code not shared by two items). A file with any
 * problem is left out of `items`; its problems are all in `problems`, in file order.
 */
export function loadItemFiles(files: readonly { file: string; label?: string }[]): ItemFolder {
  const problems: FileProblem[] = [];
  const valid: LoadedItem[] = [];
  // A definition whose only problem is its file name still takes part in the cross-file rules,
  // after the valid ones: a misnamed copy is named as the duplicate, not the file it copies.
  const misnamed: { file: string; item: ItemDefinition }[] = [];
  for (const { file, label = file } of files) {
    const r = loadItemFile(file, label);
    problems.push(...r.problems);
    if (r.item) valid.push(r.item);
    else if (r.definition) misnamed.push({ file: label, item: r.definition });
  }
  const labels = files.map((f) => f.label ?? f.file);
  problems.push(...validateCatalog([...valid, ...misnamed]).map((p) => splitCatalogProblem(p, labels)));
  const bad = new Set(problems.map((p) => p.file));
  const items = valid.filter((i) => !bad.has(i.file)).sort((a, b) => a.item.code.localeCompare(b.item.code) || a.item.version - b.item.version);
  return { items, problems };
}

// ---------------------------------------------------------------------------------------------

function readError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file or folder';
  if (err.code === 'EISDIR') return 'it is a folder';
  return err.message ?? String(e);
}

function saidCodeAndVersion(raw: unknown): { code: string; version: number } | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { code, version } = raw as { code?: unknown; version?: unknown };
  return typeof code === 'string' && typeof version === 'number' ? { code, version } : undefined;
}

/** validateCatalog names the file at the start of the path (`<file>: version`). */
function splitCatalogProblem(p: { path: string; message: string }, files: readonly string[]): FileProblem {
  // The longest match first: one label may be a prefix of another.
  const file = [...files].sort((a, b) => b.length - a.length).find((f) => p.path.startsWith(`${f}: `));
  return file ? { file, path: p.path.slice(file.length + 2), message: p.message } : { file: '(folder)', path: p.path, message: p.message };
}

/** A JSON syntax error with the line and column it is at, when the position can be found. */
function jsonSyntaxMessage(text: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const given = /at position (\d+)/.exec(message);
  const offset = given ? Number(given[1]) : syntaxErrorOffset(text);
  const what = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/^Unexpected end of JSON input$/, 'Unexpected end of the file');
  if (offset === undefined) return `is not valid JSON: ${what}`;
  const before = text.slice(0, offset).split('\n');
  return `is not valid JSON at line ${before.length}, column ${before.at(-1)!.length + 1}: ${what}`;
}

/**
 * Where JSON.parse gave up, for the messages that do not say (V8's "Unexpected token 'x', "…" is
 * not valid JSON"): a small scanner of the JSON grammar that returns the offset of the first
 * character it cannot accept. Only called on text JSON.parse already refused.
 */
function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail();
          }
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      } else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}
