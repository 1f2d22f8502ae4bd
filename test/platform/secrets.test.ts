// Keys: the personal-data seal keys are their own keyring, generated in development, required in
// production; an old development secrets file without them still loads and gains them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/index.js';
import { loadSecrets } from '../../config/secrets.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-secrets-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('PII_SEAL_KEYS', () => {
  it('When development secrets are generated, then the seal keys differ from the payload keys', () => {
    const secrets = loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir() }));
    expect(secrets.piiSealKeys.keys.size).toBe(1);
    const seal = [...secrets.piiSealKeys.keys.values()][0]!;
    const payload = [...secrets.payloadKeys.keys.values()][0]!;
    expect(seal).toHaveLength(32);
    expect(seal.equals(payload)).toBe(false);
  });

  it('When an old development secrets file lacks the seal keys, then it loads, gains them (mode 0600) and keeps every other key', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'keys', 'dev-secrets.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = {
      jwtSecret: 'j'.repeat(43),
      piiHashKey: 'h'.repeat(43),
      payloadKeys: { activeKeyId: 'dev-1', keys: { 'dev-1': Buffer.alloc(32, 7).toString('base64') } },
      provinceSecrets: { '440000': 'a'.repeat(32), '510000': 'b'.repeat(32), '430000': 'c'.repeat(32), '330000': 'd'.repeat(32) },
    };
    fs.writeFileSync(file, JSON.stringify(old), { mode: 0o644 });
    const secrets = loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    expect(secrets.jwtSecret).toBe(old.jwtSecret);
    expect(secrets.payloadKeys.keys.get('dev-1')).toEqual(Buffer.alloc(32, 7));
    expect(secrets.piiSealKeys.keys.get(secrets.piiSealKeys.activeKeyId)).toHaveLength(32);
    const rewritten = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof old & { piiSealKeys: unknown };
    expect(rewritten).toMatchObject(old);
    expect(rewritten.piiSealKeys).toBeDefined();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // The next start reads the same keys.
    const again = loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    expect(again.piiSealKeys.keys.get(again.piiSealKeys.activeKeyId)).toEqual(secrets.piiSealKeys.keys.get(secrets.piiSealKeys.activeKeyId));
  });

  it('When PII_SEAL_KEYS is given, then it is used; when malformed, the error names it', () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const secrets = loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir(), PII_SEAL_KEYS: JSON.stringify({ activeKeyId: 'p1', keys: { p1: key } }) }));
    expect(secrets.piiSealKeys.activeKeyId).toBe('p1');
    expect(() => loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir(), PII_SEAL_KEYS: '{"activeKeyId":"x","keys":{}}' }))).toThrow(/PII_SEAL_KEYS/);
  });

  it('When NODE_ENV is production without PII_SEAL_KEYS, then the configuration names it', () => {
    try {
      loadConfig({ NODE_ENV: 'production' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toContain('PII_SEAL_KEYS: required when NODE_ENV=production');
    }
  });
});
