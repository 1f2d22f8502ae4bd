// A whole tongban for one test file: the province simulator, the worker and the api, on a given
// Temporal server and database. Short retry and poll timings so failure paths finish in seconds;
// everything else is the production wiring. No vitest import here: harness/processes.ts and
// scripts/record-histories.ts use it too (test files go through test/support/testStack.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config/index.js';
import { DEV_PROVINCES, type Keyring, type Secrets } from '../config/secrets.js';
import { generateSm2KeyPair } from '../crypto/sm.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/server.js';
import { startSystem, type System } from '../worker/system.js';
import { findFreePort } from '../dev/temporal-server.js';
import { issueToken } from '../api/auth.js';
import type { StaffRole } from '../domain/case.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { testCalendar } from './calendar.js';

export interface TestStack extends System {
  config: Config;
  simulator: Simulator;
  secrets: Secrets;
  token(role: StaffRole, region: string): Promise<string>;
}

/** Fresh random keys for one test app or stack; the province gateways as given. */
export function randomSecrets(provinces: Secrets['provinces'], payloadKeys?: Keyring): Secrets {
  return {
    jwtSecret: randomBytes(32).toString('base64url'),
    piiHashKey: randomBytes(32).toString('base64url'),
    payloadKeys: payloadKeys ?? { activeKeyId: 'test-1', keys: new Map([['test-1', randomBytes(32)]]) },
    piiSealKeys: { activeKeyId: 'test-pii-1', keys: new Map([['test-pii-1', randomBytes(32)]]) },
    provinces,
  };
}

export const TEST_TIMINGS = {
  PROVINCE_RETRY_INITIAL_MS: '100',
  PROVINCE_RETRY_MAX_MS: '200',
  PROVINCE_RETRY_ATTEMPTS: '3',
  PROVINCE_CALL_TIMEOUT_MS: '3000',
  STATUS_POLL_AFTER_MS: '1500',
  // Working days of one minute (the WORKING_DAY_MS seam, docs/case-workflow.md): a 10-day
  // supplement deadline is 10 minutes, and no test depends on today's date being covered by the
  // calendar data. Tests of the calendar path set WORKING_DAY_MS to '' (unset).
  WORKING_DAY_MS: '60000',
  // The SMS outbox schedule hourly: tests that send run its workflow themselves.
  SMS_OUTBOX_INTERVAL_SECONDS: '3600',
};

export interface StackOptions {
  temporalAddress: string;
  databaseUrl: string;
  workflowBundle?: { codePath: string };
  /** Payload keys; random per stack unless given (recorded histories use the fixture key). */
  payloadKeys?: Keyring;
  simulator?: Partial<SimulatorOptions>;
  env?: Record<string, string>;
  /** The working-day calendar of the worker's activities and the api; default: testCalendar() (harness/calendar.ts). */
  calendar?: WorkingCalendar;
}

export async function startStack(opts: StackOptions): Promise<TestStack> {
  const provinceSecrets = Object.fromEntries(DEV_PROVINCES.map((code) => [code, randomBytes(24).toString('base64url')]));
  // The provinces' issuing authorities: the simulator signs licences with the private keys, tongban holds the public ones.
  const licenceKeys = Object.fromEntries(DEV_PROVINCES.map((code) => [code, generateSm2KeyPair()]));
  const simulator = await startSimulator({
    provinces: DEV_PROVINCES.map((code) => ({ code, secret: provinceSecrets[code]! })),
    licenceKeys,
    port: 0,
    reviewDelayMs: 200,
    deliveryDelayMs: 200,
    slowMs: 500,
    ...opts.simulator,
  });
  fs.mkdirSync(path.resolve('.data/test'), { recursive: true });
  const dataDir = fs.mkdtempSync(path.resolve('.data/test/stack-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(await findFreePort()),
    DATA_DIR: dataDir,
    // Activity failures are expected in these tests (down, flaky provinces); errors still show.
    LOG_LEVEL: 'error',
    ...TEST_TIMINGS,
    // The simulator plays the video-meeting service (视频会商).
    VIDEO_SERVICE_URL: simulator.videoBaseUrl,
    VIDEO_SERVICE_API_KEY: simulator.serviceApiKey,
    // The simulator plays the SMS gateway.
    SMS_GATEWAY_URL: simulator.smsBaseUrl,
    SMS_API_KEY: simulator.serviceApiKey,
    // The simulator plays the data-sharing hub (免提交).
    DATAHUB_URL: simulator.datahubBaseUrl,
    DATAHUB_SECRET: simulator.datahubSecret,
    ...opts.env,
  });
  const secrets = randomSecrets(
    DEV_PROVINCES.map((code) => ({ code, baseUrl: simulator.baseUrlFor(code), secret: provinceSecrets[code]!, licencePublicKey: licenceKeys[code]!.publicKey })),
    opts.payloadKeys,
  );
  const system = await startSystem({
    config,
    secrets,
    temporalAddress: opts.temporalAddress,
    databaseUrl: opts.databaseUrl,
    workflowBundle: opts.workflowBundle,
    apiLogger: false,
    calendar: opts.calendar ?? testCalendar(),
  });
  return {
    ...system,
    config,
    simulator,
    secrets,
    token: (role, region) => issueToken(secrets.jwtSecret, { sub: `test-${role}-${region}`, role, region }, 3600),
    async stop() {
      await system.stop();
      await simulator.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds for its value; fails with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
