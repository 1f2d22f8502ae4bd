// `npm run items -- validate <file-or-folder>…`: checks item definitions offline with the rules
// the API applies (domain/items.ts through catalog/files.ts): each file on its own (JSON, the
// schema, the cross-field rules, its name `<code>.v<version>.json`), then across all the files
// given (each code and version once, implementation codes not shared). Prints every problem as
// `<file>: <path>: <message>` and a summary. Exit code 0 when all are valid, 1 when any problem
// is found, 2 for a wrong command line (unknown command, a path that does not exist).
//
// `npm run items -- list [folder]`: the items of a folder (the repo's items/ by default) with
// their version, type, handling type and time limits. `--json` prints either as JSON.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ITEMS_DIR, itemFilesIn, loadItemFiles, loadItemFolder, type FileProblem, type ItemFolder } from '../catalog/files.js';

const USAGE = [
  'usage: npm run items -- validate <file-or-folder>… [--json]',
  '       npm run items -- list [folder] [--json]',
  '',
  'validate  checks item files (<code>.v<version>.json) with the rules of POST /v1/items;',
  '          a folder means every *.json file in it. Exit 0 valid, 1 problems, 2 usage.',
  `list      the items of a folder (default ${path.relative(process.cwd(), ITEMS_DIR) || '.'}/).`,
].join('\n');

class UsageError extends Error {}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The files an argument names: itself, or the item files of a folder. */
function expand(arg: string): { file: string; label: string }[] {
  let stat;
  try {
    stat = fs.statSync(arg);
  } catch {
    throw new UsageError(`${arg}: no such file or folder`);
  }
  if (!stat.isDirectory()) return [{ file: arg, label: arg }];
  const names = itemFilesIn(arg);
  if (names.length === 0) throw new UsageError(`${arg}: holds no item files (*.json)`);
  return names.map((name) => ({ file: path.join(arg, name), label: path.join(arg, name) }));
}

function validate(args: string[], json: boolean): number {
  if (args.length === 0) throw new UsageError('validate needs at least one file or folder');
  const files = args.flatMap(expand);
  // A file named twice (`items/ items/x.v1.json`) is checked once, not reported as its own duplicate.
  const byPath = new Map(files.map((f) => [path.resolve(f.file), f] as const));
  const unique = [...byPath.values()];
  const result = loadItemFiles(unique);
  const badFiles = new Set(result.problems.map((p) => p.file));
  if (json) {
    out(
      JSON.stringify(
        {
          ok: result.problems.length === 0,
          files: unique.map(({ label }) => {
            const loaded = result.items.find((i) => i.file === label);
            return { file: label, valid: !badFiles.has(label), ...(loaded ? { code: loaded.item.code, version: loaded.item.version } : {}) };
          }),
          problems: result.problems,
        },
        null,
        2,
      ),
    );
    return result.problems.length === 0 ? 0 : 1;
  }
  for (const p of result.problems) out(formatProblem(p));
  if (result.problems.length === 0) {
    out(`OK: ${plural(unique.length, 'item file')} valid`);
    return 0;
  }
  out(`${plural(result.problems.length, 'problem')} in ${plural(badFiles.size, 'file')} of ${unique.length}; ${plural(result.items.length, 'file')} valid`);
  return 1;
}

function formatProblem(p: FileProblem): string {
  return `${p.file}: ${p.path}: ${p.message}`;
}

function list(args: string[], json: boolean): number {
  if (args.length > 1) throw new UsageError(`list takes one folder, not ${args.length}`);
  const dir = args[0] ?? ITEMS_DIR;
  if (args[0] !== undefined && !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${dir}: not a folder`);
  const folder: ItemFolder = loadItemFolder(dir);
  for (const p of folder.problems) process.stderr.write(`${formatProblem(p)}\n`);
  const rows = folder.items.map(({ file, item }) => ({
    file,
    code: item.code,
    version: item.version,
    name: item.name,
    type: item.type,
    handlingType: item.handlingType,
    handlingModes: item.handlingModes,
    promisedDays: item.promisedDays,
    statutoryDays: item.statutoryDays,
    maxExtensionDays: item.review.maxExtensionDays,
    participants: item.joint?.participants.length ?? 0,
  }));
  if (json) {
    out(JSON.stringify({ items: rows, problems: folder.problems }, null, 2));
  } else {
    const header = ['code', 'v', 'type', 'handling', 'limits (promised/statutory+ext)', 'name'];
    const cells = rows.map((r) => [
      r.code,
      String(r.version),
      r.type,
      r.handlingType + (r.participants > 0 ? `, joint ×${r.participants}` : ''),
      `${r.promisedDays}/${r.statutoryDays}+${r.maxExtensionDays} working days`,
      r.name,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    for (const line of [header, ...cells]) out(line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
    out(`${plural(rows.length, 'item version')}${folder.problems.length > 0 ? `; ${plural(folder.problems.length, 'problem')} (above)` : ''}`);
  }
  return folder.problems.length === 0 ? 0 : 1;
}

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({ options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  const [command, ...rest] = parsed.positionals;
  if (command === 'validate') return validate(rest, parsed.values.json);
  if (command === 'list') return list(rest, parsed.values.json);
  throw new UsageError(command ? `unknown command ${command}` : 'no command');
}

try {
  process.exitCode = main();
} catch (e) {
  // 1 means "the definitions have problems"; anything else that stops the command is not that.
  process.stderr.write(e instanceof UsageError ? `${e.message}\n${USAGE}\n` : `items: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
}
