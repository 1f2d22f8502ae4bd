// `npm run simulator`: the province simulator as a standalone process.
//   PROVINCE_SECRETS            JSON object {"<code>": "<secret>"} (required)
//   SIMULATOR_PORT              default 4100
//   SIMULATOR_HOST              default 127.0.0.1
//   SIMULATOR_PROVINCES         comma list, default 440000,510000,430000,330000
//   SIMULATOR_REVIEW_DELAY_MS   time from submit to decision, default 1500
//   SIMULATOR_CORRECTION_DELAY_MS  scenarios correction, correction-2: time to each notice, default 1000
//   SIMULATOR_PROCEDURE_DELAY_MS   scenario procedure: time to its start and again to its end, default 1000
//   SIMULATOR_STATE_FILE        keep the provinces' state in this file across restarts (default: memory only)
//   SIMULATOR_CALLBACK_LOSS_RATE       fault injection: share (0–1) of callbacks never sent (a status poll
//                                      must find the event), default 0
//   SIMULATOR_CALLBACK_DUPLICATE_RATE  fault injection: share (0–1) of callbacks sent twice, default 0
//   SIMULATOR_CALLBACK_FAULT_SEED      seed of the draws above (an integer), default 1: the same seed, the same draws
//   SIMULATOR_LICENCE_KEYS      JSON object {"<code>": "<SM2 private key, 64 hex>"}: the issuing authorities'
//                               keys for electronic licences (default: new keys each start); the public keys,
//                               which tongban registers as PROVINCES[].licencePublicKey, are printed at start
// The outside services (video meetings under /video, SMS under /sms; memory only):
//   SIMULATOR_SERVICE_API_KEY   their bearer API key, 16–256 printable ASCII (default: random, printed at start)
//   SIMULATOR_DATAHUB_SECRET    the data-sharing hub's request-signing secret (default: random, printed at start)
//   SIMULATOR_SMS_DELIVERY_DELAY_MS  time from an SMS's acceptance to its delivery report, default 1000
import { Sm2Error, sm2PublicKeyFromPrivate, type Sm2KeyPair } from '../crypto/sm.js';
import { seededRandom, type CallbackFaults } from './callbacks.js';
import { startSimulator } from './server.js';
import { isServiceApiKey } from './serviceHttp.js';

const DEFAULT_PROVINCES = '440000,510000,430000,330000';

function fail(message: string): never {
  console.error(`simulator: ${message}`);
  process.exit(1);
}

function readSecrets(): Record<string, string> {
  const raw = process.env.PROVINCE_SECRETS;
  if (!raw) fail('PROVINCE_SECRETS is not set; give the province secrets as JSON, e.g. PROVINCE_SECRETS=\'{"510000":"…"}\'');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('PROVINCE_SECRETS is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string' && v.length > 0)) {
    fail('PROVINCE_SECRETS must be a JSON object of non-empty strings, {"<code>": "<secret>"}');
  }
  return parsed as Record<string, string>;
}

function readLicenceKeys(): Record<string, Sm2KeyPair> | undefined {
  const raw = process.env.SIMULATOR_LICENCE_KEYS;
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('SIMULATOR_LICENCE_KEYS is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('SIMULATOR_LICENCE_KEYS must be a JSON object {"<code>": "<private key hex>"}');
  const keys: Record<string, Sm2KeyPair> = {};
  for (const [code, privateKey] of Object.entries(parsed)) {
    try {
      keys[code] = { privateKey: String(privateKey), publicKey: sm2PublicKeyFromPrivate(String(privateKey)) };
    } catch (e) {
      fail(`SIMULATOR_LICENCE_KEYS.${code}: ${e instanceof Sm2Error ? e.message : 'not an SM2 private key'}`);
    }
  }
  return keys;
}

function readNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

function readRate(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) fail(`${name} must be a number from 0 to 1, got ${raw}`);
  return value;
}

/** The callback faults asked for, or undefined when none. */
function readCallbackFaults(): CallbackFaults | undefined {
  const lossRate = readRate('SIMULATOR_CALLBACK_LOSS_RATE');
  const duplicateRate = readRate('SIMULATOR_CALLBACK_DUPLICATE_RATE');
  if (lossRate + duplicateRate > 1) fail('SIMULATOR_CALLBACK_LOSS_RATE and SIMULATOR_CALLBACK_DUPLICATE_RATE must add up to at most 1');
  if (lossRate === 0 && duplicateRate === 0) return undefined;
  return { lossRate, duplicateRate, random: seededRandom(readNumber('SIMULATOR_CALLBACK_FAULT_SEED', 1)) };
}

function readServiceApiKey(): string | undefined {
  const raw = process.env.SIMULATOR_SERVICE_API_KEY;
  if (!raw) return undefined;
  if (!isServiceApiKey(raw)) fail('SIMULATOR_SERVICE_API_KEY must be 16–256 printable ASCII characters without spaces');
  return raw;
}

async function main(): Promise<void> {
  const secrets = readSecrets();
  const serviceApiKey = readServiceApiKey();
  const callbackFaults = readCallbackFaults();
  const codes = (process.env.SIMULATOR_PROVINCES || DEFAULT_PROVINCES)
    .split(',')
    .map((code) => code.trim())
    .filter(Boolean);
  const missing = codes.filter((code) => !secrets[code]);
  if (missing.length > 0) fail(`PROVINCE_SECRETS has no secret for ${missing.join(', ')}`);

  const simulator = await startSimulator({
    provinces: codes.map((code) => ({ code, secret: secrets[code]! })),
    host: process.env.SIMULATOR_HOST || '127.0.0.1',
    port: readNumber('SIMULATOR_PORT', 4100),
    reviewDelayMs: readNumber('SIMULATOR_REVIEW_DELAY_MS', 1500),
    correctionDelayMs: readNumber('SIMULATOR_CORRECTION_DELAY_MS', 1000),
    procedureDelayMs: readNumber('SIMULATOR_PROCEDURE_DELAY_MS', 1000),
    stateFile: process.env.SIMULATOR_STATE_FILE || undefined,
    ...(callbackFaults ? { callbackRetry: { faults: callbackFaults } } : {}),
    logger: { level: process.env.LOG_LEVEL || 'info' },
    serviceApiKey,
    smsDeliveryDelayMs: readNumber('SIMULATOR_SMS_DELIVERY_DELAY_MS', 1000),
    licenceKeys: readLicenceKeys(),
    ...(process.env.SIMULATOR_DATAHUB_SECRET ? { datahubSecret: process.env.SIMULATOR_DATAHUB_SECRET } : {}),
  });
  console.log(`province simulator listening on ${simulator.url}`);
  if (callbackFaults) console.log(`  callbacks lost: ${callbackFaults.lossRate}, sent twice: ${callbackFaults.duplicateRate} (fault injection)`);
  for (const code of codes) console.log(`  ${code}: ${simulator.baseUrlFor(code)}  (licencePublicKey ${simulator.licencePublicKey(code)})`);
  console.log(`  video meetings: ${simulator.videoBaseUrl}`);
  console.log(`  SMS gateway:    ${simulator.smsBaseUrl}`);
  // A development key on a loopback simulator: printed only when it was made up here, so it can be used.
  if (!serviceApiKey) console.log(`  their API key (random; set SIMULATOR_SERVICE_API_KEY to choose): ${simulator.serviceApiKey}`);
  console.log(`  data-sharing hub: ${simulator.datahubBaseUrl}`);
  if (!process.env.SIMULATOR_DATAHUB_SECRET) console.log(`  its signing secret (random; set SIMULATOR_DATAHUB_SECRET to choose): ${simulator.datahubSecret}`);

  const stop = (): void => {
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
