// The environment, parsed once with zod. A wrong value stops the process with the variable's
// name and what is wrong with it; nothing reads process.env anywhere else.
import { z } from 'zod';
import { Sm2Error, checkSm2PublicKey } from '../crypto/sm.js';
import { STAFF_ROLES } from '../domain/case.js';
import { parseOfficeHours } from '../domain/officeHours.js';
import fs from 'node:fs';
import path from 'node:path';

const intFromEnv = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalString = z.string().trim().min(1).optional().catch(undefined);

const provinceSchema = z.object({
  code: z.string().regex(/^\d{2}0000$/, 'a province code such as 440000'),
  name: z.string().optional(),
  baseUrl: z.string().url(),
  secret: z.string().min(16, 'at least 16 characters'),
  /**
   * The public key of the province's issuing authority for electronic licences (SM2, the
   * uncompressed point 04 ‖ x ‖ y in 130 hex digits); the private key stays with the province.
   * Without it, that province's licences are answered as not verifiable (POST /v1/verify).
   */
  licencePublicKey: z
    .string()
    .transform((key, ctx) => {
      try {
        return checkSm2PublicKey(key);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Sm2Error ? e.message : 'is not an SM2 public key', input: key });
        return z.NEVER;
      }
    })
    .optional(),
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: intFromEnv(3000),
  /** Where province systems reach our callbacks; defaults to http://HOST:PORT. */
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** An empty value means unset (a shell's `DATA_DIR=` must not put runtime state in the working directory). */
  DATA_DIR: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('.data')),
  MATERIALS_DIR: z.string().optional(),
  UPLOAD_MAX_BYTES: intFromEnv(20 * 1024 * 1024, 1),

  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_PORT: intFromEnv(8233),
  TEMPORAL_PORT: intFromEnv(7233),
  /** Client certificate and key (PEM files) for mTLS; CA (PEM file) alone for server-verified TLS. */
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_TLS_CA: optionalString,
  /** Overrides the TLS server name (SNI) checked against the server's certificate. */
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  /** An API key sent as a bearer token (Temporal Cloud); implies TLS. */
  TEMPORAL_API_KEY: optionalString,
  DATABASE_URL: optionalString,
  EMBEDDED_PG_PORT: intFromEnv(54329),

  /** Secrets; generated under DATA_DIR/keys in development, required in production. */
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  PII_HASH_KEY: z.string().min(32, 'at least 32 characters').optional(),
  /** JSON {"activeKeyId": "k1", "keys": {"k1": "<base64 of 32 bytes>"}}. */
  PAYLOAD_KEYS: z.string().optional(),
  /** Keyring (same JSON shape as PAYLOAD_KEYS) sealing personal-data columns in PostgreSQL; a key of its own. */
  PII_SEAL_KEYS: z.string().optional(),
  /** The longest a staff token may live (exp − iat) and the oldest its iat may be, in seconds; also a console session's lifetime. */
  TOKEN_MAX_AGE_SECONDS: intFromEnv(12 * 3600, 60),
  /**
   * Staff sign-in with OpenID Connect (api/session.ts, docs/security.md): the identity platform's
   * issuer URL and tongban's client there. Unset: /auth/* answers 503 and only bearer tokens work;
   * `npm start` then runs the development identity provider (identity/devProvider.ts) and sets them.
   */
  OIDC_ISSUER: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  /** Space-separated scopes asked for at sign-in; the role and region claims must come with them. */
  OIDC_SCOPES: z.string().trim().default('openid profile tongban').refine((v) => v.split(/\s+/).includes('openid'), 'must include openid'),
  /** The claims carrying the staff member's role and region (a division code). */
  OIDC_ROLE_CLAIM: z.string().trim().min(1).default('tongban_role'),
  OIDC_REGION_CLAIM: z.string().trim().min(1).default('tongban_region'),
  /** JSON {"<the platform's role value>": "clerk" | "approver" | …}, for platforms whose role names differ; unset: the values are tongban's role names. */
  OIDC_ROLE_MAP: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .transform((text, ctx) => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'not valid JSON', input: text });
          return z.NEVER;
        }
        const parsed = z.record(z.string().min(1), z.enum(STAFF_ROLES)).safeParse(json);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: `must map role values to one of ${STAFF_ROLES.join(', ')}`, input: text });
          return z.NEVER;
        }
        return parsed.data;
      })
      .optional(),
  ),
  /** Port of the development identity provider `npm start` runs when OIDC_ISSUER is unset. */
  DEV_IDP_PORT: intFromEnv(3100),
  /** The session cookie's Secure flag; default: on, unless PUBLIC_URL is plain http on a loopback host. */
  SESSION_COOKIE_SECURE: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
  /** A console session unused for this long ends (its lifetime is TOKEN_MAX_AGE_SECONDS at most). */
  SESSION_IDLE_TIMEOUT_SECONDS: intFromEnv(30 * 60, 60),
  /** When set, /metrics is served only on this port (0: any free port); when unset, it needs a supervisor or manager token. */
  METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  /** When set, the worker serves its own /metrics (province calls, projection lag) on this port (0: any free port); unset: off. */
  WORKER_METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  /** When set, the Temporal SDK's worker metrics (the Core runtime's Prometheus exporter) on this port; unset: off. A fixed port: the exporter cannot report a port it picked. */
  TEMPORAL_METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(65535).optional()),
  /** When set, traces go to this OTLP/HTTP collector (its base URL; spans are posted to …/v1/traces); unset: tracing off (clients/tracing.ts). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
  /** The traces' service name; default tongban-api and tongban-worker. */
  OTEL_SERVICE_NAME: optionalString,
  /** JSON [{"code": "510000", "baseUrl": "https://…", "secret": "…", "licencePublicKey"?: "04…"}]; defaults to the simulator. */
  PROVINCES: z.string().optional(),
  /**
   * The video-meeting service tongban books 视频会商 with (contracts/video.ts): its base URL and
   * bearer API key, both or neither; unset, npm start and the tests use the simulator's. Required
   * in production.
   */
  VIDEO_SERVICE_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
  VIDEO_SERVICE_API_KEY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().regex(/^[\x21-\x7E]{16,256}$/, 'must be 16–256 printable ASCII characters without spaces').optional(),
  ),

  /** Browser origins allowed to call the payload codec (the Temporal Web UI). */
  CODEC_CORS_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),

  SIMULATOR_PORT: intFromEnv(4100),
  SIMULATOR_REVIEW_DELAY_MS: intFromEnv(3000),
  /** Simulated provinces: time before a correction notice, and an art. 45 procedure's length. */
  SIMULATOR_CORRECTION_DELAY_MS: intFromEnv(1000),
  SIMULATOR_PROCEDURE_DELAY_MS: intFromEnv(1000),

  PROVINCE_RETRY_INITIAL_MS: intFromEnv(1000, 1),
  PROVINCE_RETRY_MAX_MS: intFromEnv(60_000, 1),
  PROVINCE_RETRY_ATTEMPTS: intFromEnv(8, 1),
  PROVINCE_CALL_TIMEOUT_MS: intFromEnv(30_000, 100),
  STATUS_POLL_AFTER_MS: intFromEnv(10 * 60_000, 100),
  STATUS_POLL_MAX_MS: intFromEnv(6 * 60 * 60_000, 100),
  /** Server-side limit of province activities per second, per province task queue. */
  PROVINCE_RATE_LIMIT: intFromEnv(20, 1),
  /** Attempts of one projection write (a local activity) before the case is flagged for intervention. */
  PROJECTION_RETRY_ATTEMPTS: intFromEnv(8, 1),
  PROJECTION_RETRY_INITIAL_MS: intFromEnv(500, 1),
  /** SLA yellow: this many working days or fewer left of a limit … */
  SLA_WARN_DAYS_LEFT: intFromEnv(2, 0),
  /** … or this share of it used (0..1). */
  SLA_WARN_USED_RATIO: z.coerce.number().min(0).max(1).default(0.8),
  /** A liaison message not acknowledged within this many office hours is overdue (a stuck-case reason). */
  LIAISON_REPLY_HOURS: intFromEnv(8, 1),
  /** Stuck cases (domain/stuck.ts): nothing heard from the handling authority for this many hours … */
  STUCK_PROVINCE_WAIT_HOURS: intFromEnv(24, 1),
  /** … or no change of the case for this many office hours on working days. */
  STUCK_IDLE_WORKING_HOURS: intFromEnv(16, 1),
  /** How often the live stuck list (GET /v1/cases/stuck/events) looks again. */
  STUCK_STREAM_INTERVAL_MS: intFromEnv(5000, 200),
  /** The offices' daily hours, China time, on working days (domain/officeHours.ts). */
  OFFICE_HOURS: z
    .string()
    .default('09:00-17:00')
    .refine((v) => {
      try {
        parseOfficeHours(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be HH:MM-HH:MM with the closing after the opening, e.g. 09:00-17:00'),
  /** Working days a supervisor has to close the follow-up (回访, 整改) of a 差评; local rules differ. */
  EVALUATION_FOLLOW_UP_DAYS: intFromEnv(5, 1),
  /** How often the sweep escalating overdue follow-ups runs. */
  FOLLOW_UP_SWEEP_INTERVAL_MINUTES: intFromEnv(60, 1),
  /** The SMS gateway (contracts/sms.ts); unset with the simulator: npm start and the tests use the simulator's. */
  SMS_GATEWAY_URL: optionalString,
  SMS_API_KEY: optionalString,
  /**
   * The data-sharing hub (数据共享交换平台, contracts/datahub.ts) 免提交 materials are fetched from:
   * its base URL and HMAC secret, both or neither; unset, npm start and the tests use the
   * simulator's. Without a hub, a case whose item names a shared-data source waits for a person.
   */
  DATAHUB_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
  DATAHUB_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional()),
  /** How often the schedule sending the SMS outbox (and queuing reminders) runs. */
  SMS_OUTBOX_INTERVAL_SECONDS: intFromEnv(30, 1),
  /** A reminder SMS when a supplement is due within this many working days. */
  SMS_SUPPLEMENT_REMINDER_DAYS: intFromEnv(2, 0),
  /** A reminder SMS each time a result has waited this many working days at the window. */
  PICKUP_REMINDER_DAYS: intFromEnv(5, 1),
  /** Requests per minute per client address on the public routes (progress lookup, verification). */
  PUBLIC_RATE_LIMIT_PER_MINUTE: intFromEnv(30, 1),
  /**
   * Test and demo seam: when set, a working day of a case's time limits lasts this many
   * milliseconds (a supplement deadline of 10 working days is a 10 × WORKING_DAY_MS timer).
   * Dates shown are still computed on the calendar. Refused in production.
   */
  WORKING_DAY_MS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).optional()),
  /** Province task queues this worker polls (comma list); default: every configured province. */
  WORKER_PROVINCES: optionalString,
  /** A workflow bundle built ahead (bundleWorkflowCode's output) for `npm run worker`; default: bundled from workflows/ at start. */
  WORKFLOW_BUNDLE_PATH: optionalString,
  /** Whether `npm run worker` runs the case workflows and the projection (needs DATABASE_URL). */
  WORKER_CASE_QUEUE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),

  /** Uploaded files that no case references are deleted this long after their upload. */
  UNATTACHED_FILE_TTL_HOURS: intFromEnv(24, 1),
  /** How often the Temporal Schedule runs that sweep. */
  FILE_SWEEP_INTERVAL_MINUTES: intFromEnv(60, 1),
});

export type Env = z.infer<typeof envSchema>;
export type ProvinceEndpoint = z.infer<typeof provinceSchema>;

export interface Config extends Omit<Env, 'PROVINCES' | 'PUBLIC_URL' | 'MATERIALS_DIR' | 'SESSION_COOKIE_SECURE'> {
  PUBLIC_URL: string;
  /** SESSION_COOKIE_SECURE, or its default from PUBLIC_URL. */
  SESSION_COOKIE_SECURE: boolean;
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

/** Temporal TLS files: cert and key come together, and every named file must be readable. */
function temporalTlsProblems(env: Pick<Env, 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA'>): string[] {
  const problems: string[] = [];
  if (env.TEMPORAL_TLS_CERT && !env.TEMPORAL_TLS_KEY) problems.push('TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT (mTLS needs both the certificate and its key)');
  if (env.TEMPORAL_TLS_KEY && !env.TEMPORAL_TLS_CERT) problems.push('TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY (mTLS needs both the certificate and its key)');
  for (const name of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA'] as const) {
    const file = env[name];
    if (!file) continue;
    try {
      if (!fs.statSync(file).isFile()) problems.push(`${name}: ${file} is not a file`);
      else fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      problems.push(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return problems;
}

/** Sign-in: the client comes with the issuer; a production issuer speaks https. */
function oidcConfigProblems(env: Pick<Env, 'OIDC_ISSUER' | 'OIDC_CLIENT_ID' | 'OIDC_CLIENT_SECRET' | 'NODE_ENV'>): string[] {
  const problems: string[] = [];
  if (!env.OIDC_ISSUER) {
    if (env.OIDC_CLIENT_ID || env.OIDC_CLIENT_SECRET) problems.push('OIDC_ISSUER: required with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET');
    return problems;
  }
  if (!env.OIDC_CLIENT_ID) problems.push('OIDC_CLIENT_ID: required with OIDC_ISSUER');
  if (!env.OIDC_CLIENT_SECRET) problems.push('OIDC_CLIENT_SECRET: required with OIDC_ISSUER');
  if (env.NODE_ENV === 'production' && new URL(env.OIDC_ISSUER).protocol !== 'https:') problems.push('OIDC_ISSUER: must be https when NODE_ENV=production');
  return problems;
}

/** http://localhost, http://127.x.x.x, http://[::1]: the only places a session cookie may travel without TLS. */
export function isPlainHttpLoopback(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && (u.hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname === '[::1]');
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
  const oidcProblems = oidcConfigProblems(rest);
  if (oidcProblems.length) throw new ConfigError(oidcProblems);
  if (rest.NODE_ENV === 'production') {
    const missing: string[] = (['JWT_SECRET', 'PII_HASH_KEY', 'PAYLOAD_KEYS', 'PII_SEAL_KEYS', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'VIDEO_SERVICE_URL'] as const).filter((k) => !rest[k]);
    if (!provinces) missing.push('PROVINCES');
    const problems = missing.map((k) => `${k}: required when NODE_ENV=production`);
    if (rest.WORKING_DAY_MS) problems.push('WORKING_DAY_MS: a test and demo setting; time limits run on the calendar in production');
    if (problems.length) throw new ConfigError(problems);
  }
  // The video service's URL and key come together (the key alone would go nowhere, the URL alone is refused there).
  if (rest.VIDEO_SERVICE_URL && !rest.VIDEO_SERVICE_API_KEY) throw new ConfigError(['VIDEO_SERVICE_API_KEY: required with VIDEO_SERVICE_URL']);
  if (rest.VIDEO_SERVICE_API_KEY && !rest.VIDEO_SERVICE_URL) throw new ConfigError(['VIDEO_SERVICE_URL: required with VIDEO_SERVICE_API_KEY']);
  if (Boolean(rest.DATAHUB_URL) !== Boolean(rest.DATAHUB_SECRET)) throw new ConfigError([rest.DATAHUB_URL ? 'DATAHUB_SECRET: required with DATAHUB_URL' : 'DATAHUB_URL: required with DATAHUB_SECRET']);
  const tlsProblems = temporalTlsProblems(rest);
  if (tlsProblems.length) throw new ConfigError(tlsProblems);
  const dataDir = path.resolve(rest.DATA_DIR);
  const publicUrl = PUBLIC_URL ?? `http://${rest.HOST === '0.0.0.0' ? '127.0.0.1' : rest.HOST}:${rest.PORT}`;
  return {
    ...rest,
    DATA_DIR: dataDir,
    PUBLIC_URL: publicUrl,
    SESSION_COOKIE_SECURE: rest.SESSION_COOKIE_SECURE ?? !isPlainHttpLoopback(publicUrl),
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
    projectionRetryAttempts: config.PROJECTION_RETRY_ATTEMPTS,
    ...(config.WORKING_DAY_MS ? { workingDayMs: config.WORKING_DAY_MS } : {}),
    projectionRetryInitialMs: config.PROJECTION_RETRY_INITIAL_MS,
  };
}
