// `npm run items` (scripts/items.ts) as a backend team runs it: a child process, its output and its
// exit code (0 valid, 1 problems, 2 usage).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEMS_DIR } from '../../catalog/files.js';

const REPO = path.resolve(ITEMS_DIR, '..');

function items(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', 'scripts/items.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-items-cli-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A seed file's definition as written. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function seed(code: string): any {
  return JSON.parse(fs.readFileSync(path.join(ITEMS_DIR, `${code}.v1.json`), 'utf8'));
}

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

describe('npm run items -- validate', () => {
  it('When a valid item file is validated, then it says OK and exits 0', () => {
    const r = items('validate', 'items/pension-transfer.v1.json');
    expect(r).toMatchObject({ code: 0, stdout: 'OK: 1 item file valid\n', stderr: '' });
  });

  it('When the repo\'s folder is validated, then every file is valid and it exits 0', () => {
    const r = items('validate', 'items');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK: (1[4-9]|[2-9]\d) item files valid\n$/);
  });

  it('When a broken file is validated, then every problem is printed as <file>: <path>: <message> with a summary, and it exits 1', () => {
    const raw = seed('driving-licence-replacement');
    raw.statutoryDays = 30;
    raw.review.maxExtensionDays = 12;
    delete raw.materials[3].condition;
    raw.result.licenceType = 'pilot_licence';
    const file = write('driving-licence-replacement.v2.json', raw);

    const r = items('validate', file);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      `${file}: statutoryDays: Administrative Licensing Law art. 42: a licensing decision by one authority is due within 20 working days`,
      `${file}: review.maxExtensionDays: Administrative Licensing Law art. 42: a licensing decision by one authority may be extended by at most 10 working days`,
      `${file}: materials.3.condition: a material that is not required is conditional: say when it is needed`,
      expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: result\\.licenceType: pilot_licence is not a known e-licence type \\(one of `)),
      `${file}: (file): the file is named for driving-licence-replacement version 2 but holds driving-licence-replacement version 1: rename it driving-licence-replacement.v1.json`,
      '5 problems in 1 file of 1; 0 files valid',
      '',
    ]);
  });

  it('When files are validated together, then the rules across them apply: a version defined twice is named', () => {
    const first = write('a/medical-filing.v1.json', seed('medical-filing'));
    const second = write('b/medical-filing.v1.json', seed('medical-filing'));
    const r = items('validate', first, second, 'items/pension-transfer.v1.json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${second}: version: medical-filing version 1 is also defined in ${first}\n1 problem in 1 file of 3; 2 files valid\n`);
  });

  it('When --json is asked for, then the result is JSON with each file and every problem', () => {
    const bad = write('json/medical-filing.v1.json', { ...seed('medical-filing'), promisedDays: 9 });
    const r = items('validate', '--json', 'items/pension-transfer.v1.json', bad);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      files: [
        { file: 'items/pension-transfer.v1.json', valid: true, code: 'pension-transfer', version: 1 },
        { file: bad, valid: false },
      ],
      problems: [{ file: bad, path: 'promisedDays', message: 'the promised limit (9) cannot exceed the statutory limit (5)' }],
    });
  });

  it('When the command line is wrong, then it says why with the usage on stderr and exits 2', () => {
    for (const [args, why] of [
      [[], 'no command'],
      [['check', 'items'], 'unknown command check'],
      [['validate'], 'validate needs at least one file or folder'],
      [['validate', 'items/no-such-item.v1.json'], 'items/no-such-item.v1.json: no such file or folder'],
      [['validate', '--yaml', 'items'], "Unknown option '--yaml'"],
    ] as const) {
      const r = items(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('usage: npm run items -- validate <file-or-folder>…');
    }
  });
});

describe('npm run items -- list', () => {
  it('When the folder is listed, then each item shows its version, type, handling and limits', () => {
    const r = items('list');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^code\s+v\s+type\s+handling\s+limits/);
    expect(lines.find((l) => l.startsWith('driving-licence-replacement '))).toMatch(/ 1 +administrative_licensing +committed +1\/20\+10 working days +机动车驾驶证补领、换领$/);
    expect(lines.find((l) => l.startsWith('household-move '))).toMatch(/committed, joint ×2 +20\/45\+15 working days/);
    expect(lines.at(-1)).toMatch(/^\d+ item versions$/);
  });
});
