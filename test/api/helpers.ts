// Builds the api against the run's real Temporal dev server and PostgreSQL database (provided by
// vitest's global setup), with secrets of its own, so tests can sign tokens and callbacks.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import { inject } from 'vitest';
import { buildApp } from '../../api/app.js';
import { issueToken } from '../../api/auth.js';
import { createPool } from '../../clients/postgres.js';
import { connectTemporalClient } from '../../clients/temporal.js';
import { loadConfig, type Config } from '../../config/index.js';
import type { Secrets } from '../../config/secrets.js';
import { signRequest } from '../../crypto/signing.js';
import { generateSm2KeyPair, type Sm2KeyPair } from '../../crypto/sm.js';
import { insertCase } from '../../db/cases.js';
import type { CaseInput, StaffRole } from '../../domain/case.js';
import { itemDefinitionSchema, type ItemDefinition } from '../../domain/items.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { validIdNumber as idNumberFrom, wrongCheckDigit } from '../../harness/cases.js';
import { randomSecrets } from '../../harness/stack.js';

export { wrongCheckDigit };

export const PROVINCE_SECRETS = { '440000': 'gd-test-secret-0123456789', '510000': 'sc-test-secret-0123456789', '330000': 'zj-test-secret-0123456789' } as const;

/** The test provinces' issuing authorities (electronic licences); testSecrets registers only the public keys. */
export const PROVINCE_LICENCE_KEYS = Object.fromEntries(Object.keys(PROVINCE_SECRETS).map((code) => [code, generateSm2KeyPair()])) as Record<keyof typeof PROVINCE_SECRETS, Sm2KeyPair>;

export function testSecrets(): Secrets {
  return {
    ...randomSecrets(
      Object.entries(PROVINCE_SECRETS).map(([code, secret]) => ({
        code,
        baseUrl: `http://127.0.0.1:1/provinces/${code}`,
        secret,
        licencePublicKey: PROVINCE_LICENCE_KEYS[code as keyof typeof PROVINCE_SECRETS].publicKey,
      })),
    ),
    piiSealKeys: { activeKeyId: 'test-pii-1', keys: new Map([['test-pii-1', randomBytes(32)]]) },
  };
}

export interface ApiHarness {
  app: FastifyInstance;
  pool: pg.Pool;
  temporal: Client;
  config: Config;
  secrets: Secrets;
  /** `{authorization: 'Bearer …'}` for a staff member. */
  auth(role: StaffRole, region: string, sub?: string): Promise<{ authorization: string }>;
  /** Cases whose workflows this file started; terminated by close(). */
  startedCases: string[];
  close(): Promise<void>;
}

export async function createApiHarness(opts: { env?: Record<string, string>; updateTimeoutMs?: number; pool?: pg.Pool } = {}): Promise<ApiHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-api-test-'));
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, PUBLIC_URL: 'http://127.0.0.1:3999', ...opts.env });
  const secrets = testSecrets();
  const pool = opts.pool ?? createPool(inject('databaseUrl'));
  const temporal = await connectTemporalClient({ address: inject('temporalAddress'), namespace: config.TEMPORAL_NAMESPACE, keyring: secrets.payloadKeys });
  const app = await buildApp({ config, secrets, pool, temporal, logger: false, updateTimeoutMs: opts.updateTimeoutMs ?? 1_500 });
  await app.ready();
  const startedCases: string[] = [];
  return {
    app,
    pool,
    temporal,
    config,
    secrets,
    startedCases,
    async auth(role, region, sub = `test-${role}-${region}`) {
      return { authorization: `Bearer ${await issueToken(secrets.jwtSecret, { sub, role, region }, 600)}` };
    },
    async close() {
      await Promise.all(
        startedCases.map((id) =>
          temporal.workflow
            .getHandle(caseWorkflowId(id))
            .terminate('api test finished')
            .catch((e: unknown) => {
              if (!(e instanceof WorkflowNotFoundError)) throw e;
            }),
        ),
      );
      await app.close();
      await temporal.connection.close();
      if (!opts.pool) await pool.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---- request bodies ------------------------------------------------------------------------

/** A valid identity number from its first 17 characters (birth date 1990-01-01 by default). */
export function validIdNumber(first17 = '44010619900101123'): string {
  return idNumberFrom(first17);
}

/** A ZIP of stored (uncompressed) entries, built by hand: local headers, central directory, end record. */
export function zipOf(entries: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The smallest OFD package (GB/T 33190): OFD.xml at the root pointing at one document. */
export function minimalOfd(label: string = randomUUID()): Buffer {
  return zipOf({
    'OFD.xml': `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>${label}</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`,
    'Doc_0/Document.xml': '<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:MaxUnitID>1</ofd:MaxUnitID></ofd:CommonData></ofd:Document>',
  });
}

export const SAMPLE_BYTES = {
  'application/pdf': Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n', 'latin1'),
  'image/png': Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64)]),
  'image/jpeg': Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64)]),
  'application/ofd': minimalOfd(),
} as const;

export function multipartBody(file: { bytes: Buffer; contentType: string; filename?: string; field?: string }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----tongban${randomUUID()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename ?? 'material.bin'}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, file.bytes, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function upload(
  h: ApiHarness,
  auth: { authorization: string },
  file: { bytes: Buffer; contentType: string; filename?: string },
): Promise<LightMyRequestResponse> {
  const { payload, headers } = multipartBody(file);
  return h.app.inject({ method: 'POST', url: '/v1/files', payload, headers: { ...headers, ...auth } });
}

/** Uploads a fresh PDF (unique bytes) and returns its file id. */
export async function uploadPdf(h: ApiHarness, auth: { authorization: string }): Promise<string> {
  const bytes = Buffer.concat([SAMPLE_BYTES['application/pdf'], Buffer.from(randomUUID())]);
  const res = await upload(h, auth, { bytes, contentType: 'application/pdf', filename: 'material.pdf' });
  if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${res.body}`);
  return res.json<{ fileId: string }>().fileId;
}

/** A valid pension-transfer submission received in Guangzhou and handled in Sichuan. */
export async function pensionSubmission(h: ApiHarness, auth: { authorization: string }, overrides: Record<string, unknown> = {}) {
  const codes = ['transfer-application', 'resident-id-card', 'contribution-certificate'];
  const files = await Promise.all(codes.map(() => uploadPdf(h, auth)));
  return {
    itemCode: 'pension-transfer',
    applicant: { name: '张三', idNumber: validIdNumber(), phone: '13800138000' },
    receivingRegion: '440100',
    handlingRegion: '510100',
    channel: 'window',
    materials: codes.map((materialCode, i) => ({ materialCode, fileId: files[i]! })),
    delivery: { method: 'mail', address: '广州市天河区体育西路 1 号' },
    ...overrides,
  };
}

export function idempotencyKey(): string {
  return `test-${randomUUID()}`;
}

export async function submit(h: ApiHarness, auth: { authorization: string }, body: unknown, key = idempotencyKey()): Promise<LightMyRequestResponse> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/cases', payload: body as object, headers: { ...auth, 'idempotency-key': key } });
  if (res.statusCode === 201) {
    const { caseId } = res.json<{ caseId: string }>();
    if (!h.startedCases.includes(caseId)) h.startedCases.push(caseId);
  }
  return res;
}

// ---- projection rows without a workflow ----------------------------------------------------

/** An item definition of its own, so a test's rows are easy to filter from everyone else's. */
export function testItem(code: string): ItemDefinition {
  return itemDefinitionSchema.parse({
    code,
    version: 1,
    name: '测试事项',
    type: 'public_service',
    department: '测试部门',
    legalBasis: ['测试依据'],
    serviceObject: ['natural_person'],
    acceptanceConditions: ['测试条件'],
    process: ['申请', '办结'],
    handlingModes: ['fully_online'],
    materials: [{ code: 'form', name: '申请表', required: true }],
    promisedDays: 3,
    statutoryDays: 5,
    result: { name: '结果', electronic: true },
    deliveryMethods: ['window', 'electronic'],
    fee: { charged: false },
  });
}

/** Writes a case row straight into the projection (no workflow), as the projection activity would. */
export async function insertProjectedCase(
  h: ApiHarness,
  opts: { item: ItemDefinition; receivingRegion: string; handlingRegion: string; submittedAt: Date; status?: string; stage?: string; idNumber?: string },
): Promise<string> {
  const caseId = randomUUID();
  const input: CaseInput = {
    caseId,
    item: opts.item,
    applicant: { name: '李四', idNumber: opts.idNumber ?? validIdNumber('11010519491231002'), phone: '13900139000' },
    receivingRegion: opts.receivingRegion,
    handlingRegion: opts.handlingRegion,
    channel: 'window',
    materials: [],
    delivery: { method: 'window' },
    submittedAt: opts.submittedAt.toISOString(),
    submittedBy: { id: 'seed', role: 'clerk', region: opts.receivingRegion },
    callbackUrl: 'http://127.0.0.1:3999/v1/province-callbacks/510000',
    timing: { retryInitialIntervalMs: 1, retryMaximumIntervalMs: 1, retryMaximumAttempts: 1, callTimeoutMs: 100, statusPollAfterMs: 100 },
  };
  await insertCase(h.pool, input, { keyring: h.secrets.piiSealKeys, hashKey: h.secrets.piiHashKey });
  if (opts.status || opts.stage) {
    await h.pool.query(`UPDATE cases SET status = coalesce($2, status), stage = coalesce($3, stage) WHERE case_id = $1`, [caseId, opts.status ?? null, opts.stage ?? null]);
  }
  return caseId;
}

export function signedCallback(regionCode: keyof typeof PROVINCE_SECRETS, body: string, opts: { secret?: string; now?: number } = {}) {
  const url = `/v1/province-callbacks/${regionCode}`;
  const headers = signRequest(opts.secret ?? PROVINCE_SECRETS[regionCode], 'POST', url, body, opts.now);
  return { method: 'POST' as const, url, payload: body, headers: { ...headers, 'content-type': 'application/json' } };
}

export const PROBLEM_JSON = /^application\/problem\+json/;
