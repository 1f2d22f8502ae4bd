// The personal-data scan (issue 10, "Hostile input"): after a test run, Temporal's persistence,
// PostgreSQL and the logs must hold no applicant's name, identity number, phone or address in
// clear. Temporal payloads are sealed by the codec, the database keeps sealed columns, keyed
// hashes and masked copies, and the logger redacts; this module looks at what was actually
// written, so a path that forgot one of those shows here.
//
// What counts as a finding:
// - an identity number: 18 characters with a valid GB 11643 check character, a known province and
//   a possible birth date (domain/idNumber.ts), not inside a longer run of letters or digits (so
//   hex digests, base64 ciphertext and timestamps do not count);
// - a mobile number 1[3-9]xxxxxxxxx, not inside a longer run of letters or digits;
// - a name or an address the tests give applicants (collected from their sources, minus words the
//   product itself uses, which would prove nothing).
// Each finding names where (file:line, file#table.column[key], db table.column[key]) and the value
// masked. No vitest import: scripts/scan-pii.ts and the tests' global teardown use it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { idNumberProblem, maskIdNumber, maskName, maskPhone } from '../domain/idNumber.js';
import { FIXTURE_ADDRESSES, FIXTURE_NAMES } from './cases.js';

export type PiiKind = 'idNumber' | 'phone' | 'name' | 'address';

export interface PiiFinding {
  kind: PiiKind;
  /** Where: `file:line`, `file#table.column[key]`, `db:table.column[key]`, or `file@offset`. */
  location: string;
  /** The value masked (never the value itself: the report may be logged). */
  masked: string;
}

export interface KnownPii {
  names: readonly string[];
  addresses: readonly string[];
}

const ID_NUMBER = /(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])/g;
const PHONE = /(?<![0-9A-Za-z])(1[3-9]\d{9})(?![0-9A-Za-z])/g;

function maskAddress(value: string): string {
  const chars = [...value];
  return `${chars.slice(0, 3).join('')}${'*'.repeat(Math.max(chars.length - 3, 1))}`;
}

/** JSON's \uXXXX escapes decoded, so an escaped name in a json column or a log line is found too. */
function unescapeUnicode(text: string): string {
  return text.includes('\\u') ? text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))) : text;
}

/** The findings in one piece of text (a log line, a column value, a blob read as text). */
export function findInText(text: string, known: KnownPii, location: string): PiiFinding[] {
  const found: PiiFinding[] = [];
  const seen = new Set<string>();
  const add = (kind: PiiKind, value: string, masked: string) => {
    const key = `${kind}\u0000${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ kind, location, masked });
  };
  const texts = [text, unescapeUnicode(text)];
  for (const t of new Set(texts)) {
    for (const m of t.matchAll(ID_NUMBER)) {
      const id = m[1]!.toUpperCase();
      if (idNumberProblem(id) === null) add('idNumber', id, maskIdNumber(id));
    }
    for (const m of t.matchAll(PHONE)) add('phone', m[1]!, maskPhone(m[1]!));
    for (const name of known.names) if (t.includes(name)) add('name', name, maskName(name));
    for (const address of known.addresses) if (t.includes(address)) add('address', address, maskAddress(address));
  }
  return found;
}

/** Bytes (a blob, a binary file) read both as UTF-8 and as Latin-1, so digits in binary framing and CJK text both show. */
export function findInBytes(bytes: Buffer, known: KnownPii, location: string): PiiFinding[] {
  const asUtf8 = findInText(bytes.toString('utf8'), known, location);
  const asLatin1 = findInText(bytes.toString('latin1'), { names: [], addresses: [] }, location);
  const seen = new Set(asUtf8.map((f) => `${f.kind}${f.masked}`));
  return [...asUtf8, ...asLatin1.filter((f) => !seen.has(`${f.kind}${f.masked}`))];
}

/** A text file (a log, a pg_dump): one location per line. */
export function scanTextFile(file: string, known: KnownPii): PiiFinding[] {
  const findings: PiiFinding[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => findings.push(...findInText(line, known, `${file}:${i + 1}`)));
  return findings;
}

/** Whether the sqlite3 shell is on this machine (Debian's sqlite3 package); without it a SQLite file is scanned as raw bytes. */
function hasSqliteShell(): boolean {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', ['-readonly', '-batch', '-noheader', '-separator', '\u001f', '-newline', '\u001e', file, sql], { maxBuffer: 1 << 30, encoding: 'utf8' });
}

/**
 * A SQLite file (Temporal's dev server persistence): every column of every table, by key, when
 * the sqlite3 shell is here; else, and for a WAL beside it, the raw bytes by offset.
 */
export function scanSqliteFile(file: string, known: KnownPii): PiiFinding[] {
  const findings: PiiFinding[] = [];
  if (hasSqliteShell()) {
    const tables = sqlite(file, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").split('\u001e').filter(Boolean);
    for (const table of tables) {
      const info = sqlite(file, `SELECT name, pk FROM pragma_table_info('${table.replace(/'/g, "''")}')`)
        .split('\u001e')
        .filter(Boolean)
        .map((row) => {
          const [name, pk] = row.split('\u001f');
          return { name: name!, pk: Number(pk) };
        });
      const q = (c: string) => `"${c.replace(/"/g, '""')}"`;
      const keys = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      const keyExpr = keys.length ? keys.map((k) => `quote(${q(k.name)})`).join(" || ',' || ") : "'row ' || rowid";
      // Text and blobs only: an integer column (a duration in ns, a timestamp) is no phone number.
      const select = `SELECT ${keyExpr}, ${info.map((c) => `CASE WHEN typeof(${q(c.name)}) IN ('text', 'blob') THEN hex(${q(c.name)}) END`).join(', ')} FROM ${q(table)}`;
      for (const row of sqlite(file, select).split('\u001e')) {
        if (!row) continue;
        const [key, ...values] = row.split('\u001f');
        values.forEach((hex, i) => {
          if (hex) findings.push(...findInBytes(Buffer.from(hex, 'hex'), known, `${file}#${table}.${info[i]!.name}[${key}]`));
        });
      }
    }
  } else {
    findings.push(...scanRawFile(file, known));
  }
  const wal = `${file}-wal`;
  if (fs.existsSync(wal) && fs.statSync(wal).size > 0) findings.push(...scanRawFile(wal, known));
  return findings;
}

/** A binary file by 1 MiB windows (overlapping, so nothing straddles unseen); the location is the window's offset. */
export function scanRawFile(file: string, known: KnownPii): PiiFinding[] {
  const bytes = fs.readFileSync(file);
  const findings: PiiFinding[] = [];
  const seen = new Set<string>();
  const window = 1 << 20;
  for (let offset = 0; offset < bytes.length; offset += window) {
    for (const f of findInBytes(bytes.subarray(offset, offset + window + 256), known, `${file}@${offset}`)) {
      if (seen.has(`${f.kind}${f.masked}${offset}`)) continue;
      seen.add(`${f.kind}${f.masked}${offset}`);
      findings.push(f);
    }
  }
  return findings;
}

/** A PostgreSQL database: every text-like, json, jsonb, bytea and array column of every table in every user schema, by primary key (or ctid). */
export async function scanPostgres(connectionString: string, known: KnownPii): Promise<PiiFinding[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const findings: PiiFinding[] = [];
  try {
    const { rows: columns } = await client.query<{ schema: string; table: string; column: string; type: string }>(
      `SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column, c.udt_name AS type
         FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
        WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
          AND (c.udt_name IN ('text', 'varchar', 'bpchar', 'json', 'jsonb', 'bytea', 'xml', 'citext') OR c.data_type = 'ARRAY' OR c.data_type = 'USER-DEFINED')
        ORDER BY 1, 2, c.ordinal_position`,
    );
    const byTable = new Map<string, typeof columns>();
    for (const c of columns) byTable.set(`${c.schema}.${c.table}`, [...(byTable.get(`${c.schema}.${c.table}`) ?? []), c]);
    const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
    for (const [qualified, cols] of byTable) {
      const [schema, table] = [cols[0]!.schema, cols[0]!.table];
      const { rows: pk } = await client.query<{ name: string }>(
        `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
        [`${ident(schema)}.${ident(table)}`],
      );
      const keyExpr = pk.length ? pk.map((k) => `${ident(k.name)}::text`).join(" || ',' || ") : 'ctid::text';
      const select = cols.map((c, i) => (c.type === 'bytea' ? `${ident(c.column)} AS c${i}` : `${ident(c.column)}::text AS c${i}`)).join(', ');
      const { rows } = await client.query<Record<string, string | Buffer | null>>(`SELECT ${keyExpr} AS key, ${select} FROM ${ident(schema)}.${ident(table)}`);
      for (const row of rows) {
        cols.forEach((c, i) => {
          const value = row[`c${i}`];
          if (value === null || value === undefined) return;
          const where = `db:${qualified === `public.${table}` ? table : qualified}.${c.column}[${String(row.key)}]`;
          findings.push(...(Buffer.isBuffer(value) ? findInBytes(value, known, where) : findInText(value, known, where)));
        });
      }
    }
  } finally {
    await client.end();
  }
  return findings;
}

/** What one target is: a PostgreSQL connection string, a SQLite file (by its header), or a text file (a log, a pg_dump). */
export async function scanTarget(target: string, known: KnownPii): Promise<PiiFinding[]> {
  if (/^postgres(ql)?:\/\//.test(target)) return scanPostgres(target, known);
  const header = Buffer.alloc(16);
  const fd = fs.openSync(target, 'r');
  try {
    fs.readSync(fd, header, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (header.toString('latin1').startsWith('SQLite format 3')) return scanSqliteFile(target, known);
  // A custom-format pg_dump (PGDMP) or another binary: raw bytes.
  if (header.toString('latin1').startsWith('PGDMP') || header.includes(0)) return scanRawFile(target, known);
  return scanTextFile(target, known);
}

/** Several targets (each as scanTarget reads it), one after another: a run's persistence, databases and logs. */
export async function scanTargets(targets: readonly string[], known: KnownPii): Promise<PiiFinding[]> {
  const findings: PiiFinding[] = [];
  for (const target of targets) findings.push(...(await scanTarget(target, known)));
  return findings;
}

/** The log files under a directory (`*.log`, `*.log.N`), recursively. */
export function logFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.log(\.\d+)?$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * The names and addresses the tests give applicants: harness/cases.ts' fixtures, and every
 * `applicantName: '…'`, `applicant: { name: '…'`, `holderName: '…'` and `address: '…'` literal in
 * the test and harness sources. A word the product's own sources also use (an item's name, a
 * stage's label) is left out: finding it would prove nothing.
 */
export function collectKnownPii(root = process.cwd()): KnownPii {
  const names = new Set<string>(FIXTURE_NAMES);
  const addresses = new Set<string>(FIXTURE_ADDRESSES);
  const nameLiteral = /(?:applicantName|holderName|applicant:\s*\{\s*name)\s*:\s*'([^'\\$*]{2,20})'/g;
  const addressLiteral = /\baddress\s*:\s*'([^'\\$*]{4,80})'/g;
  for (const file of sourcesUnder(root, ['test', 'harness'])) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(nameLiteral)) names.add(m[1]!);
    for (const m of text.matchAll(addressLiteral)) addresses.add(m[1]!);
  }
  const product = sourcesUnder(root, ['activities', 'api', 'calendar', 'catalog', 'clients', 'config', 'console', 'contracts', 'crypto', 'db', 'domain', 'items', 'materials', 'simulator', 'workflows', 'worker'], /\.(ts|js|json|ya?ml|html|css|sql)$/)
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
  // harness/cases.ts' own fixtures always count (the product may well show 张三 as an example).
  const meaningful = (s: string) => FIXTURE_NAMES.includes(s) || FIXTURE_ADDRESSES.includes(s) || (/[\p{Script=Han}A-Za-z]/u.test(s) && !product.includes(s));
  // A postal address here is Chinese; `address: 'host:port'` in a test is a server's.
  const postal = (s: string) => /\p{Script=Han}/u.test(s) && meaningful(s);
  return { names: [...names].filter(meaningful).sort(), addresses: [...addresses].filter(postal).sort() };
}

function sourcesUnder(root: string, dirs: string[], ext = /\.ts$/): string[] {
  return dirs.flatMap((d) => {
    const dir = path.join(root, d);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && ext.test(e.name) && !e.parentPath.includes('node_modules') && !e.parentPath.includes(`${path.sep}fixtures`))
      .map((e) => path.join(e.parentPath, e.name));
  });
}

/** One line per finding, then a count; for a terminal or a log. */
export function formatFindings(findings: readonly PiiFinding[]): string {
  if (findings.length === 0) return 'personal-data scan: no name, identity number, phone or address in clear';
  const byKind = findings.reduce<Record<string, number>>((acc, f) => ({ ...acc, [f.kind]: (acc[f.kind] ?? 0) + 1 }), {});
  return [
    ...findings.map((f) => `  ${f.kind.padEnd(8)} ${f.masked.padEnd(20)} ${f.location}`),
    `personal-data scan: ${findings.length} finding(s) in clear (${Object.entries(byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')})`,
  ].join('\n');
}
