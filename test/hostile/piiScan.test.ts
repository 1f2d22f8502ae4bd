// The personal-data scanner itself (harness/piiScan.ts): planted in a scratch SQLite file, a
// scratch PostgreSQL table and a log file, a clear identity number, phone, name and address are
// each found with their location, masked in the report; what the product writes instead (keyed
// hashes, AES-GCM ciphertext, masked copies) and look-alikes (timestamps, digests, a wrong check
// character) are not flagged. And `npm run scan:pii` exits 1 on a finding, 0 on a clean file.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { sealText } from '../../crypto/aead.js';
import { lookupHash } from '../../crypto/pii.js';
import { maskIdNumber, maskName, maskPhone } from '../../domain/idNumber.js';
import { validIdNumber, wrongCheckDigit } from '../../harness/cases.js';
import { collectKnownPii, findInText, scanPostgres, scanRawFile, scanSqliteFile, scanTextFile, type KnownPii, type PiiFinding } from '../../harness/piiScan.js';

const ID = validIdNumber('11010519491231002'); // 11010519491231002X
const PHONE = '13912345678';
const NAME = '欧阳扫描';
const ADDRESS = '广州市越秀区扫描路 9 号';
const known: KnownPii = { names: [NAME], addresses: [ADDRESS] };

const keyring = { activeKeyId: 'scan-1', keys: new Map([['scan-1', randomBytes(32)]]) };
const hashKey = randomBytes(32).toString('base64url');
/** What the product writes where the clear values would be: sealed, hashed, masked; plus look-alikes. */
const harmless = [
  sealText(keyring, ID),
  sealText(keyring, `${NAME} ${PHONE} ${ADDRESS}`),
  lookupHash(hashKey, ID),
  lookupHash(hashKey, PHONE),
  maskIdNumber(ID),
  '1101**********002X',
  maskPhone(PHONE),
  maskName(NAME),
  wrongCheckDigit(ID),
  '1733059200000', // a timestamp in ms: 13 digits starting 17
  `a3f1${'0'.repeat(10)}13912345678beef`, // the digits inside a hex run
  '01391234567899', // inside a longer digit run
  '11010519491331002X'.slice(0, 17) + '0', // month 13
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-pii-scan-'));
const kinds = (findings: PiiFinding[]) => [...new Set(findings.map((f) => f.kind))].sort();

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the personal-data scanner', () => {
  it('When text holds a clear identity number, phone, name or address, then each is found, masked; sealed, hashed and masked forms and look-alikes are not', () => {
    const found = findInText(`applicant ${NAME} id=${ID} tel:${PHONE} addr ${ADDRESS}`, known, 'here');
    expect(kinds(found)).toEqual(['address', 'idNumber', 'name', 'phone']);
    expect(found.map((f) => f.masked)).toEqual(expect.arrayContaining([maskIdNumber(ID), maskName(NAME), maskPhone(PHONE)]));
    for (const f of found) for (const clear of [ID, PHONE, NAME, ADDRESS]) expect(f.masked).not.toContain(clear);
    for (const f of found) expect(f.location).toBe('here');
    // JSON-escaped CJK (a json column, a log line) is found too.
    expect(kinds(findInText(JSON.stringify({ name: NAME }).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), known, 'json'))).toEqual(['name']);
    for (const text of harmless) expect(findInText(text, known, 'harmless'), text).toEqual([]);
  });

  it('When a log file holds them, then each finding names its file and line', () => {
    const log = path.join(tmp, 'api.log');
    fs.writeFileSync(log, [JSON.stringify({ level: 30, msg: 'intake', hash: lookupHash(hashKey, ID), masked: maskIdNumber(ID) }), JSON.stringify({ level: 50, msg: `province said: ${ID}` }), `sms to ${PHONE}`, `${NAME} came to the window`].join('\n'));
    const found = scanTextFile(log, known);
    expect(found.map((f) => `${f.kind} ${f.location}`).sort()).toEqual([`idNumber ${log}:2`, `name ${log}:4`, `phone ${log}:3`]);
  });

  it('When a SQLite file holds them in a text column and a blob, then each is found by table, column and key; the WAL and raw bytes are read too', () => {
    const db = path.join(tmp, 'temporal.sqlite');
    const blob = Buffer.concat([Buffer.from([0x0a, 0x12]), Buffer.from(ID), Buffer.from([0x12, 0x0c]), Buffer.from(NAME)]).toString('hex');
    const rows = harmless.map((h, i) => `INSERT INTO history_node VALUES (${i + 10}, '${h.replace(/'/g, "''")}', NULL, 13912345678);`).join('\n');
    execFileSync('sqlite3', [db], {
      // An integer column (a duration in ns) holding 11 digits is no phone number.
      input: `CREATE TABLE history_node (node_id INTEGER PRIMARY KEY, data TEXT, payload BLOB, duration INTEGER);\nINSERT INTO history_node VALUES (1, 'tel ${PHONE}', X'${blob}', 0);\n${rows}\n`,
    });
    const found = scanSqliteFile(db, known);
    expect(found.map((f) => `${f.kind} ${f.location}`).sort()).toEqual([`idNumber ${db}#history_node.payload[1]`, `name ${db}#history_node.payload[1]`, `phone ${db}#history_node.data[1]`]);
    expect(kinds(scanRawFile(db, known))).toEqual(['idNumber', 'name', 'phone']);
    expect(found.some((f) => f.location.includes('.duration['))).toBe(false);
  });

  describe('on PostgreSQL', () => {
    let client: pg.Client;
    const table = `pii_scan_scratch_${process.pid}`;
    beforeAll(async () => {
      client = new pg.Client({ connectionString: inject('databaseUrl') });
      await client.connect();
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text, detail jsonb, sealed bytea, tags text[])`);
    });
    afterAll(async () => {
      // The run's own scan (test/setup/global.ts) must not find the planted values.
      await client?.query(`DROP TABLE IF EXISTS ${table}`);
      await client?.end();
    });

    it('When a table holds them in text, jsonb, bytea and array columns, then each is found by table, column and primary key, and the product’s forms are not', async () => {
      await client.query(`INSERT INTO ${table} VALUES (1, $1, $2, $3, $4)`, [`call ${PHONE}`, JSON.stringify({ applicant: { name: NAME } }), Buffer.from(`\u0000${ID}\u0000`), [ADDRESS]]);
      await client.query(`INSERT INTO ${table} VALUES (2, $1, $2, $3, $4)`, [harmless[0], JSON.stringify({ masked: maskIdNumber(ID), hash: harmless[2] }), Buffer.from(harmless[1]!), harmless.slice(4)]);
      const found = (await scanPostgres(inject('databaseUrl'), known)).filter((f) => f.location.includes(table));
      expect(found.map((f) => `${f.kind} ${f.location}`).sort()).toEqual([
        `address db:${table}.tags[1]`,
        `idNumber db:${table}.sealed[1]`,
        `name db:${table}.detail[1]`,
        `phone db:${table}.note[1]`,
      ]);
    });
  });

  it('collects the names and addresses the tests give applicants, minus words the product uses', () => {
    const collected = collectKnownPii();
    expect(collected.names).toEqual(expect.arrayContaining(['张三', '李四', '王驳回']));
    expect(collected.addresses).toEqual(expect.arrayContaining(['广州市天河区体育西路 1 号']));
    // Item names and labels appear in the product's own sources; finding them would prove nothing.
    expect(collected.names.every((n) => !n.includes('*'))).toBe(true);
  });

  it('When `npm run scan:pii` finds something it exits 1 naming the place, and 0 on a clean file', () => {
    const dirty = path.join(tmp, 'dirty.log');
    const clean = path.join(tmp, 'clean.log');
    fs.writeFileSync(dirty, `ok\nid ${ID}\n`);
    fs.writeFileSync(clean, harmless.join('\n'));
    const run = (file: string) => spawnSync('npx', ['tsx', 'scripts/scan-pii.ts', file], { encoding: 'utf8' });
    const bad = run(dirty);
    expect(bad.status, bad.stderr).toBe(1);
    expect(bad.stdout).toContain(`${dirty}:2`);
    expect(bad.stdout).toContain(maskIdNumber(ID));
    expect(bad.stdout).not.toContain(ID);
    const good = run(clean);
    expect(good.status, good.stdout + good.stderr).toBe(0);
  }, 60_000);
});
