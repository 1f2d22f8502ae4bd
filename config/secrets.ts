// Keys and shared secrets. In production every one comes from the environment; in development
// and tests they are generated once under DATA_DIR/keys (mode 0600, never committed).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { generateSm2KeyPair, type Sm2KeyPair } from '../crypto/sm.js';
import { ConfigError, type Config, type ProvinceEndpoint } from './index.js';

/** The provinces the development simulator plays when PROVINCES is not set. */
export const DEV_PROVINCES = ['440000', '510000', '430000', '330000'] as const;

export interface Keyring {
  activeKeyId: string;
  keys: Map<string, Buffer>;
}

export interface Secrets {
  jwtSecret: string;
  piiHashKey: string;
  /** Seals Temporal payloads (the codec); held by the worker, the api and the codec endpoint. */
  payloadKeys: Keyring;
  /**
   * Seals personal-data columns in PostgreSQL (db/cases.ts). A key of its own, so a holder of the
   * payload keys (e.g. a Temporal codec operator) cannot open the database's sealed columns.
   */
  piiSealKeys: Keyring;
  provinces: ProvinceEndpoint[];
}

const keyringSchema = z.object({
  activeKeyId: z.string().min(1),
  keys: z.record(z.string(), z.string().refine((k) => Buffer.from(k, 'base64').length === 32, 'each key must be 32 bytes, base64')),
}).refine((k) => k.activeKeyId in k.keys, { message: 'activeKeyId must name one of keys', path: ['activeKeyId'] });

export function parseKeyring(json: string, name = 'PAYLOAD_KEYS'): Keyring {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConfigError([`${name}: not valid JSON`]);
  }
  const parsed = keyringSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${name}.${i.path.join('.')}: ${i.message}`));
  return { activeKeyId: parsed.data.activeKeyId, keys: new Map(Object.entries(parsed.data.keys).map(([id, k]) => [id, Buffer.from(k, 'base64')])) };
}

interface DevSecretsFile {
  jwtSecret: string;
  piiHashKey: string;
  payloadKeys: { activeKeyId: string; keys: Record<string, string> };
  piiSealKeys: { activeKeyId: string; keys: Record<string, string> };
  provinceSecrets: Record<string, string>;
  /**
   * The simulated provinces' issuing authorities' SM2 key pairs (electronic licences). The
   * simulator plays the provinces, so it gets the private keys (devLicenceKeys); tongban's
   * secrets carry only the public keys, as they would from real provinces.
   */
  licenceKeys: Record<string, Sm2KeyPair>;
}

const devKeyring = (id: string) => ({ activeKeyId: id, keys: { [id]: randomBytes(32).toString('base64') } });
const devLicenceKeyPairs = () => Object.fromEntries(DEV_PROVINCES.map((c) => [c, generateSm2KeyPair()]));

function generateDevSecrets(): DevSecretsFile {
  const token = () => randomBytes(32).toString('base64url');
  return {
    jwtSecret: token(),
    piiHashKey: token(),
    payloadKeys: devKeyring('dev-1'),
    piiSealKeys: devKeyring('dev-pii-1'),
    provinceSecrets: Object.fromEntries(DEV_PROVINCES.map((c) => [c, token()])),
    licenceKeys: devLicenceKeyPairs(),
  };
}

/**
 * Writes the file whole or not at all (a temporary file renamed over it), mode 0600. Two
 * processes upgrading at once may each write; the rename makes one of them win and the other
 * read the winner's keys on its next start.
 */
function writeSecretsFile(file: string, content: DevSecretsFile): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2), { mode: 0o600, flag: 'wx' });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Reads DATA_DIR/keys/dev-secrets.json, creating it on first run (race-safe: first writer wins). */
export function devSecretsFile(dataDir: string): DevSecretsFile {
  const file = path.join(dataDir, 'keys', 'dev-secrets.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, JSON.stringify(generateDevSecrets(), null, 2), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const content = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DevSecretsFile>;
  // Files written before a key existed get that key generated and added, nothing else changed.
  const added: Partial<DevSecretsFile> = {
    ...(content.piiSealKeys ? {} : { piiSealKeys: devKeyring('dev-pii-1') }),
    ...(content.licenceKeys ? {} : { licenceKeys: devLicenceKeyPairs() }),
  };
  if (Object.keys(added).length > 0) {
    writeSecretsFile(file, { ...(content as DevSecretsFile), ...added });
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DevSecretsFile;
  }
  return content as DevSecretsFile;
}

export function loadSecrets(config: Config): Secrets {
  const needsDev = !config.JWT_SECRET || !config.PII_HASH_KEY || !config.PAYLOAD_KEYS || !config.PII_SEAL_KEYS || !config.provinces;
  const dev = needsDev ? devSecretsFile(config.DATA_DIR) : null;
  const simulatorUrl = `http://127.0.0.1:${config.SIMULATOR_PORT}`;
  return {
    jwtSecret: config.JWT_SECRET ?? dev!.jwtSecret,
    piiHashKey: config.PII_HASH_KEY ?? dev!.piiHashKey,
    payloadKeys: parseKeyring(config.PAYLOAD_KEYS ?? JSON.stringify(dev!.payloadKeys)),
    piiSealKeys: parseKeyring(config.PII_SEAL_KEYS ?? JSON.stringify(dev!.piiSealKeys), 'PII_SEAL_KEYS'),
    provinces:
      config.provinces ??
      DEV_PROVINCES.map((code) => ({
        code,
        baseUrl: `${simulatorUrl}/provinces/${code}`,
        secret: dev!.provinceSecrets[code]!,
        licencePublicKey: dev!.licenceKeys[code]!.publicKey,
      })),
  };
}

/**
 * The development simulator's issuing-authority key pairs (private keys included), for
 * `npm start` to hand to the simulator it starts when PROVINCES is not set. Never part of Secrets.
 */
export function devLicenceKeys(dataDir: string): Record<string, Sm2KeyPair> {
  return devSecretsFile(dataDir).licenceKeys;
}
