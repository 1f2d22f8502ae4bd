// The issuing authorities' SM2 keys (electronic licences): tongban registers each province's public
// key (PROVINCES[].licencePublicKey), checked at start; in development the key pairs are generated
// on tongban's side, the private keys go only to the simulator (devLicenceKeys), the secrets carry
// only the public keys, and an older development secrets file gains them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/index.js';
import { DEV_PROVINCES, devLicenceKeys, loadSecrets } from '../../config/secrets.js';
import { generateSm2KeyPair, sm2PublicKeyFromPrivate } from '../../crypto/sm.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-licence-keys-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const province = (extra: Record<string, unknown>) => JSON.stringify([{ code: '510000', baseUrl: 'https://gw.example.sc.gov.cn/tongban/v1', secret: 's'.repeat(32), ...extra }]);

describe('PROVINCES[].licencePublicKey', () => {
  it('When a valid key is given, then the configuration carries it in lower case; without one, none', () => {
    const { publicKey } = generateSm2KeyPair();
    expect(loadConfig({ NODE_ENV: 'test', PROVINCES: province({ licencePublicKey: publicKey.toUpperCase() }) }).provinces![0]!.licencePublicKey).toBe(publicKey);
    expect(loadConfig({ NODE_ENV: 'test', PROVINCES: province({}) }).provinces![0]!.licencePublicKey).toBeUndefined();
  });

  it('When the key is malformed or not a point of the curve, then the process refuses to start naming it', () => {
    const offCurve = `04${'1'.repeat(128)}`;
    for (const [key, message] of [
      ['04abc', /uncompressed point/],
      [offCurve, /not a point of the curve/],
    ] as const) {
      try {
        loadConfig({ NODE_ENV: 'test', PROVINCES: province({ licencePublicKey: key }) });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).problems.join('\n')).toMatch(/^PROVINCES\.0\.licencePublicKey: /);
        expect((e as ConfigError).problems.join('\n')).toMatch(message);
      }
    }
  });
});

describe('development licence keys', () => {
  it('When development secrets are generated, then each simulated province’s public key is registered and only the simulator gets the private keys', () => {
    const dataDir = tempDir();
    const secrets = loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    const pairs = devLicenceKeys(dataDir);
    for (const code of DEV_PROVINCES) {
      const pair = pairs[code]!;
      expect(sm2PublicKeyFromPrivate(pair.privateKey)).toBe(pair.publicKey);
      expect(secrets.provinces.find((p) => p.code === code)!.licencePublicKey).toBe(pair.publicKey);
    }
    const serialised = JSON.stringify(secrets, (_k, v: unknown) => (v instanceof Map ? [...v] : v));
    for (const pair of Object.values(pairs)) expect(serialised).not.toContain(pair.privateKey);
  });

  it('When an older development secrets file lacks the licence keys, then it gains them and keeps every other key', () => {
    const dataDir = tempDir();
    loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    const file = path.join(dataDir, 'keys', 'dev-secrets.json');
    const { licenceKeys: _dropped, ...old } = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify(old));
    const secrets = loadSecrets(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    const rewritten = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(rewritten).toMatchObject(old);
    expect(secrets.provinces.every((p) => /^04[0-9a-f]{128}$/.test(p.licencePublicKey ?? ''))).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(devLicenceKeys(dataDir)).toEqual(rewritten.licenceKeys);
  });
});
