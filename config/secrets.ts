// Keys and shared secrets. In production every one comes from the environment; in development
// and tests they are generated once under DATA_DIR/keys (mode 0600, never committed).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
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
  payloadKeys: Keyring;
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
  provinceSecrets: Record<string, string>;
}

function generateDevSecrets(): DevSecretsFile {
  const token = () => randomBytes(32).toString('base64url');
  return {
    jwtSecret: token(),
    piiHashKey: token(),
    payloadKeys: { activeKeyId: 'dev-1', keys: { 'dev-1': randomBytes(32).toString('base64') } },
    provinceSecrets: Object.fromEntries(DEV_PROVINCES.map((c) => [c, token()])),
  };
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
  return JSON.parse(fs.readFileSync(file, 'utf8')) as DevSecretsFile;
}

export function loadSecrets(config: Config): Secrets {
  const needsDev = !config.JWT_SECRET || !config.PII_HASH_KEY || !config.PAYLOAD_KEYS || !config.provinces;
  const dev = needsDev ? devSecretsFile(config.DATA_DIR) : null;
  const simulatorUrl = `http://127.0.0.1:${config.SIMULATOR_PORT}`;
  return {
    jwtSecret: config.JWT_SECRET ?? dev!.jwtSecret,
    piiHashKey: config.PII_HASH_KEY ?? dev!.piiHashKey,
    payloadKeys: parseKeyring(config.PAYLOAD_KEYS ?? JSON.stringify(dev!.payloadKeys)),
    provinces:
      config.provinces ??
      DEV_PROVINCES.map((code) => ({ code, baseUrl: `${simulatorUrl}/provinces/${code}`, secret: dev!.provinceSecrets[code]! })),
  };
}
