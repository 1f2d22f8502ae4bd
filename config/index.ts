// The environment, parsed once with zod. A wrong value stops the process with the variable's
// name and what is wrong with it; nothing reads process.env anywhere else.
import { z } from 'zod';
import path from 'node:path';

const intFromEnv = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalString = z.string().trim().min(1).optional().catch(undefined);

const provinceSchema = z.object({
  code: z.string().regex(/^\d{2}0000$/, 'a province code such as 440000'),
  name: z.string().optional(),
  baseUrl: z.string().url(),
  secret: z.string().min(16, 'at least 16 characters'),
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: intFromEnv(3000),
  /** Where province systems reach our callbacks; defaults to http://HOST:PORT. */
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('.data'),
  MATERIALS_DIR: z.string().optional(),
  UPLOAD_MAX_BYTES: intFromEnv(20 * 1024 * 1024, 1),

  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_PORT: intFromEnv(8233),
  TEMPORAL_PORT: intFromEnv(7233),
  DATABASE_URL: optionalString,
  EMBEDDED_PG_PORT: intFromEnv(54329),

  /** Secrets; generated under DATA_DIR/keys in development, required in production. */
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  PII_HASH_KEY: z.string().min(32, 'at least 32 characters').optional(),
  /** JSON {"activeKeyId": "k1", "keys": {"k1": "<base64 of 32 bytes>"}}. */
  PAYLOAD_KEYS: z.string().optional(),
  /** JSON [{"code": "510000", "baseUrl": "https://…", "secret": "…"}]; defaults to the simulator. */
  PROVINCES: z.string().optional(),

  /** Browser origins allowed to call the payload codec (the Temporal Web UI). */
  CODEC_CORS_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),

  SIMULATOR_PORT: intFromEnv(4100),
  SIMULATOR_REVIEW_DELAY_MS: intFromEnv(3000),

  PROVINCE_RETRY_INITIAL_MS: intFromEnv(1000, 1),
  PROVINCE_RETRY_MAX_MS: intFromEnv(60_000, 1),
  PROVINCE_RETRY_ATTEMPTS: intFromEnv(8, 1),
  PROVINCE_CALL_TIMEOUT_MS: intFromEnv(30_000, 100),
  STATUS_POLL_AFTER_MS: intFromEnv(10 * 60_000, 100),
  STATUS_POLL_MAX_MS: intFromEnv(6 * 60 * 60_000, 100),
  /** Server-side limit of province activities per second, per province task queue. */
  PROVINCE_RATE_LIMIT: intFromEnv(20, 1),
  /** Province task queues this worker polls (comma list); default: every configured province. */
  WORKER_PROVINCES: optionalString,
  /** Whether `npm run worker` runs the case workflows and the projection (needs DATABASE_URL). */
  WORKER_CASE_QUEUE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});

export type Env = z.infer<typeof envSchema>;
export type ProvinceEndpoint = z.infer<typeof provinceSchema>;

export interface Config extends Omit<Env, 'PROVINCES' | 'PUBLIC_URL' | 'MATERIALS_DIR'> {
  PUBLIC_URL: string;
  MATERIALS_DIR: string;
  /** Parsed PROVINCES, or null when the simulator's defaults apply. */
  provinces: ProvinceEndpoint[] | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function problemsOf(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => `${prefix}${i.path.join('.') || '(value)'}: ${i.message}`);
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
  const { PROVINCES, PUBLIC_URL, MATERIALS_DIR, ...rest } = parsed.data;
  let provinces: ProvinceEndpoint[] | null = null;
  if (PROVINCES) {
    let json: unknown;
    try {
      json = JSON.parse(PROVINCES);
    } catch {
      throw new ConfigError(['PROVINCES: not valid JSON']);
    }
    const p = z.array(provinceSchema).min(1).safeParse(json);
    if (!p.success) throw new ConfigError(problemsOf(p.error, 'PROVINCES.'));
    provinces = p.data;
  }
  if (rest.NODE_ENV === 'production') {
    const missing: string[] = (['JWT_SECRET', 'PII_HASH_KEY', 'PAYLOAD_KEYS', 'DATABASE_URL', 'TEMPORAL_ADDRESS'] as const).filter((k) => !rest[k]);
    if (!provinces) missing.push('PROVINCES');
    if (missing.length) throw new ConfigError(missing.map((k) => `${k}: required when NODE_ENV=production`));
  }
  const dataDir = path.resolve(rest.DATA_DIR);
  return {
    ...rest,
    DATA_DIR: dataDir,
    PUBLIC_URL: PUBLIC_URL ?? `http://${rest.HOST === '0.0.0.0' ? '127.0.0.1' : rest.HOST}:${rest.PORT}`,
    MATERIALS_DIR: path.resolve(MATERIALS_DIR ?? path.join(dataDir, 'materials')),
    provinces,
  };
}

/** The timing a new case pins in its input. */
export function caseTiming(config: Config) {
  return {
    retryInitialIntervalMs: config.PROVINCE_RETRY_INITIAL_MS,
    retryMaximumIntervalMs: config.PROVINCE_RETRY_MAX_MS,
    retryMaximumAttempts: config.PROVINCE_RETRY_ATTEMPTS,
    callTimeoutMs: config.PROVINCE_CALL_TIMEOUT_MS,
    statusPollAfterMs: config.STATUS_POLL_AFTER_MS,
    statusPollMaxMs: Math.max(config.STATUS_POLL_MAX_MS, config.STATUS_POLL_AFTER_MS),
  };
}
