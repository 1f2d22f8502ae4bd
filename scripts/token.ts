// `npm run token -- --role clerk --region 440000 [--sub alice] [--ttl 8h]`: prints a development
// bearer token (and nothing else, so `TOKEN=$(npm run -s token -- …)` works). It signs with the
// same secret the api uses: JWT_SECRET, or the generated one under DATA_DIR/keys. The lifetime
// may not exceed TOKEN_MAX_AGE_SECONDS (default 12 h), which the api enforces (api/auth.ts).
import { parseArgs } from 'node:util';
import { issueToken } from '../api/auth.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { STAFF_ROLES, type StaffRole } from '../domain/case.js';
import { isRegionCode } from '../domain/regions.js';

const USAGE = `usage: npm run token -- --role <${STAFF_ROLES.join('|')}> --region <division code> [--sub <id>] [--name <name>] [--ttl <3600|30m|8h|1d>]`;

/** Seconds from `3600`, `90s`, `30m`, `8h` or `1d`; null when unreadable. */
export function parseTtl(value: string): number | null {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n : null;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(1);
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        role: { type: 'string' },
        region: { type: 'string' },
        sub: { type: 'string' },
        name: { type: 'string' },
        ttl: { type: 'string', default: '8h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
}

function load(): { jwtSecret: string; maxAgeSeconds: number } {
  try {
    const config = loadConfig();
    return { jwtSecret: loadSecrets(config).jwtSecret, maxAgeSeconds: config.TOKEN_MAX_AGE_SECONDS };
  } catch (e) {
    return fail(e instanceof ConfigError ? e.message : String(e));
  }
}

async function main(): Promise<void> {
  const { role, region, name, sub, ttl: ttlText } = parseCommandLine();
  if (!role || !(STAFF_ROLES as readonly string[]).includes(role)) fail(`--role must be one of ${STAFF_ROLES.join(', ')}`);
  if (!region || !isRegionCode(region)) fail('--region must be a six-digit division code of a known province, e.g. 440000');
  const ttl = parseTtl(ttlText);
  if (ttl === null) fail(`--ttl ${ttlText} is not a duration (3600, 30m, 8h, 1d)`);
  const { jwtSecret, maxAgeSeconds } = load();
  if (ttl > maxAgeSeconds) fail(`--ttl ${ttlText} exceeds TOKEN_MAX_AGE_SECONDS (${maxAgeSeconds} s); the api would refuse the token`);
  const token = await issueToken(jwtSecret, { sub: sub ?? `dev-${role}`, role: role as StaffRole, region, ...(name ? { name } : {}) }, ttl);
  process.stdout.write(`${token}\n`);
}

await main();
