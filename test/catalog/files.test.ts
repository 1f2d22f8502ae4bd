// A folder of item files (catalog/files.ts), in a temporary folder per test: what loads, and every
// problem a backend team can make with files (wrong names, copies, JSON syntax, schema faults)
// named with the file it is in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ITEMS_DIR, loadItemFile, loadItemFolder } from '../../catalog/files.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-items-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A seed file's definition as written. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function seed(code: string): any {
  return JSON.parse(fs.readFileSync(path.join(ITEMS_DIR, `${code}.v1.json`), 'utf8'));
}

function write(name: string, content: unknown): void {
  fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
}

describe('loading a folder', () => {
  it('When the folder holds two versions of one item and another item, then all load in code and version order with no problem', () => {
    const v2 = { ...seed('pension-transfer'), version: 2, promisedDays: 10, implementationCode: undefined };
    write('pension-transfer.v2.json', v2);
    write('pension-transfer.v1.json', seed('pension-transfer'));
    write('medical-filing.v1.json', seed('medical-filing'));
    fs.writeFileSync(path.join(dir, 'README.md'), '# not an item');
    fs.mkdirSync(path.join(dir, 'drafts'));
    write('drafts/broken.v1.json', '{');

    const folder = loadItemFolder(dir);
    expect(folder.problems).toEqual([]);
    expect(folder.items.map((i) => [i.file, i.item.code, i.item.version])).toEqual([
      ['medical-filing.v1.json', 'medical-filing', 1],
      ['pension-transfer.v1.json', 'pension-transfer', 1],
      ['pension-transfer.v2.json', 'pension-transfer', 2],
    ]);
    expect(folder.items[2]!.item.promisedDays).toBe(10);
    // raw is the file as written, before defaults
    expect(folder.items[0]!.raw).toEqual(seed('medical-filing'));
  });

  it('When the repo\'s own folder is loaded, then it has no problem', () => {
    const folder = loadItemFolder();
    expect(folder.problems).toEqual([]);
    expect(folder.items.length).toBeGreaterThanOrEqual(14);
  });

  it('When docs/items.md\'s worked example is read, then it is the seed file as it stands', () => {
    const doc = fs.readFileSync(path.join(ITEMS_DIR, '..', 'docs', 'items.md'), 'utf8');
    const example = /## A worked example[^\n]*\n[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(JSON.parse(example ?? 'null')).toEqual(seed('driving-licence-replacement'));
  });

  it('When the folder does not exist, then that is the one problem', () => {
    const missing = path.join(dir, 'nowhere');
    expect(loadItemFolder(missing)).toEqual({ items: [], problems: [{ file: missing, path: '(folder)', message: 'cannot be read: no such file or folder' }] });
  });
});

describe('file names', () => {
  it('When a file is named for another version than it holds, then it is refused with the name to use, and the others still load', () => {
    write('pension-transfer.v2.json', seed('pension-transfer'));
    write('medical-filing.v1.json', seed('medical-filing'));
    const folder = loadItemFolder(dir);
    expect(folder.problems).toEqual([
      { file: 'pension-transfer.v2.json', path: '(file)', message: 'the file is named for pension-transfer version 2 but holds pension-transfer version 1: rename it pension-transfer.v1.json' },
    ]);
    expect(folder.items.map((i) => i.file)).toEqual(['medical-filing.v1.json']);
  });

  it('When a file does not follow <code>.v<version>.json at all, then the expected name is given', () => {
    write('pension.json', seed('pension-transfer'));
    expect(loadItemFolder(dir).problems).toEqual([
      { file: 'pension.json', path: '(file)', message: 'name item files <code>.v<version>.json (this one: pension-transfer.v1.json)' },
    ]);
  });

  it('When a copy of a version sits under another name, then the copy is named both for its name and as the duplicate, and the original loads', () => {
    write('pension-transfer.v1.json', seed('pension-transfer'));
    write('pension-copy.v1.json', seed('pension-transfer'));
    const folder = loadItemFolder(dir);
    expect(folder.problems).toEqual([
      { file: 'pension-copy.v1.json', path: '(file)', message: 'the file is named for pension-copy version 1 but holds pension-transfer version 1: rename it pension-transfer.v1.json' },
      { file: 'pension-copy.v1.json', path: 'version', message: 'pension-transfer version 1 is also defined in pension-transfer.v1.json' },
    ]);
    expect(folder.items.map((i) => i.file)).toEqual(['pension-transfer.v1.json']);
  });
});

describe('problems inside files', () => {
  it('When a file is not valid JSON, then the problem gives the line and column', () => {
    write('pension-transfer.v1.json', '{\n  "code": "pension-transfer",\n  "version": 1,\n}\n');
    write('medical-filing.v1.json', '{\n  "code": "medical-filing"\n  "version": 1\n}\n');
    write('housing-fund-transfer.v1.json', '{"code": tru}');
    expect(loadItemFolder(dir).problems).toEqual([
      { file: 'housing-fund-transfer.v1.json', path: '(file)', message: 'is not valid JSON at line 1, column 13: Unexpected token \'}\'' },
      { file: 'medical-filing.v1.json', path: '(file)', message: 'is not valid JSON at line 3, column 3: Expected \',\' or \'}\' after property value' },
      { file: 'pension-transfer.v1.json', path: '(file)', message: 'is not valid JSON at line 4, column 1: Expected double-quoted property name' },
    ]);
  });

  it('When a file breaks the schema in several places, then every problem is listed with the file, and a wrong name in the same pass', () => {
    const raw = seed('household-move');
    raw.promisedDays = 50;
    raw.joint.participants[1].region.field = 'formerRegion';
    write('household-move.v3.json', raw);
    expect(loadItemFolder(dir).problems).toEqual([
      { file: 'household-move.v3.json', path: 'promisedDays', message: 'the promised limit (50) cannot exceed the statutory limit (45)' },
      { file: 'household-move.v3.json', path: 'joint.participants.1.region.field', message: 'formerRegion is not declared in applicationFields' },
      { file: 'household-move.v3.json', path: '(file)', message: 'the file is named for household-move version 3 but holds household-move version 1: rename it household-move.v1.json' },
    ]);
  });

  it('When two items share an implementation code, then the second file is named', () => {
    const pension = seed('pension-transfer');
    write('pension-transfer.v1.json', pension);
    write('housing-fund-transfer.v1.json', { ...seed('housing-fund-transfer'), level: pension.level, basicCode: pension.basicCode, implementationCode: pension.implementationCode });
    expect(loadItemFolder(dir).problems).toEqual([
      { file: 'pension-transfer.v1.json', path: 'implementationCode', message: `${pension.implementationCode} is already the implementation code of housing-fund-transfer` },
    ]);
  });

  it('When one file is loaded on its own, then it is reported by the path given; a missing one cannot be read', () => {
    const file = path.join(dir, 'medical-filing.v1.json');
    write('medical-filing.v1.json', seed('medical-filing'));
    const r = loadItemFile(file);
    expect(r.problems).toEqual([]);
    expect(r.item).toMatchObject({ file, item: { code: 'medical-filing', version: 1 } });
    expect(loadItemFile(path.join(dir, 'x.v1.json')).problems).toEqual([{ file: path.join(dir, 'x.v1.json'), path: '(file)', message: 'cannot be read: no such file or folder' }]);
  });
});
