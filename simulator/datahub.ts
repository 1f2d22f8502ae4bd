// The data-sharing hub (数据共享交换平台) tongban fetches shared-data materials from
// (contracts/datahub.ts, docs/outside-services.md), simulated under /datahub: a signed API (the
// province protocol's HMAC signatures, with the hub's own secret) answering an applicant's record
// of a source, and the record's bytes.
//
// Every valid identity number has a record of every source, derived from the number and the
// source alone (same number, same record, same bytes, same hash, even across restarts), unless a
// test put another record, or none, for that identity through `POST /_admin/datahub/records`.
// Scenarios say how the hub answers: `ok`; `down`: 503 to every call; `no-record`: every query
// answers `found: false`. `GET /_admin/datahub/queries` lists the queries answered, so tests can
// count them. Memory only: queries, put records and request ids do not survive a restart.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  IDEMPOTENCY_KEY_REUSED_SLUG,
  INVALID_SIGNATURE_SLUG,
  UNAVAILABLE_SLUG,
  UNKNOWN_RECORD_SLUG,
  datahubIdNumberSchema,
  datahubQueryRequestSchema,
  datahubSourceSchema,
  type DatahubContentType,
  type DatahubQueryRequest,
  type DatahubQueryResponse,
  type DatahubRecord,
  type DatahubSource,
} from '../contracts/datahub.js';
import { isoInstantSchema, text } from '../contracts/province.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, sha256Hex, verifyRequest, type SignatureProblem } from '../crypto/signing.js';
import { maskIdNumber } from '../domain/idNumber.js';
import { PROVINCES } from '../domain/regions.js';
import { ProblemError } from './problem.js';
import { IdempotencyStore, fingerprintOf, parseServiceBody, rawBodyOf, sendAnswer, type Answer } from './serviceHttp.js';

/** Where simulator/server.ts mounts the hub; records' `downloadPath`s start with it. */
export const DATAHUB_PREFIX = '/datahub';

export const DATAHUB_SCENARIOS = ['ok', 'down', 'no-record'] as const;
export type DatahubScenario = (typeof DATAHUB_SCENARIOS)[number];

const SOURCE_NAMES: Record<DatahubSource, string> = {
  'social-insurance-contributions': '社会保险缴费记录',
  'household-registration': '户籍登记信息',
  'marriage-status': '婚姻登记信息',
  'housing-fund-deposits': '住房公积金缴存信息',
};

const SIGNATURE_DETAILS: Record<SignatureProblem, string> = {
  missing: `missing: ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} are required`,
  stale: 'stale: the timestamp is more than 300 s away from the hub clock',
  mismatch: 'mismatch: the signature does not match the request',
};

interface StoredRecord {
  record: DatahubRecord;
  bytes: Buffer;
}

/** A query as the hub received it: what `GET /_admin/datahub/queries` lists, for tests. */
export interface DatahubQueryLog {
  requestId: string;
  source: DatahubSource;
  /** In full: this is the simulator's admin view, not the public API. */
  idNumber: string;
  purpose: string;
  caseId?: string;
  receivedAt: string;
  found: boolean;
  recordId?: string;
  /** Answered from the store: a repeat of an earlier `requestId`. */
  replayed: boolean;
}

/** What a test puts for an identity: a record of its choosing, or `null` for none. */
export type PutDatahubRecord =
  | { contentType: 'application/json'; content: unknown; issuer?: string; issuedAt?: string }
  | { contentType: 'application/pdf'; contentBase64: string; issuer?: string; issuedAt?: string }
  | null;

export class DataHub {
  scenario: DatahubScenario = 'ok';
  /** Records put by tests, by `source\nidNumber`; `null`: that identity has none of that source. */
  private readonly put = new Map<string, StoredRecord | null>();
  /** Every record the hub has answered or been given, by recordId: what a download reads. */
  private readonly records = new Map<string, StoredRecord>();
  private readonly queries: DatahubQueryLog[] = [];
  private readonly answers = new IdempotencyStore<DatahubQueryResponse>(
    (key) => new ProblemError(409, IDEMPOTENCY_KEY_REUSED_SLUG, 'Idempotency key reused', `requestId ${key} was first used with a different query`),
  );
  private putCount = 0;

  /** Throws the 503 of the `down` scenario. */
  admit(): void {
    if (this.scenario === 'down') throw new ProblemError(503, UNAVAILABLE_SLUG, 'Service unavailable', 'the data-sharing hub is down');
  }

  setScenario(scenario: DatahubScenario): void {
    this.scenario = scenario;
  }

  /** `POST /datahub/records/query`: the record, or `found: false`; a repeated requestId answers the first answer. */
  query(request: DatahubQueryRequest): Answer<DatahubQueryResponse> {
    const answer = this.answers.answer(request.requestId, fingerprintOf(request), () => ({ status: 200, body: this.lookup(request) }));
    this.queries.push({
      requestId: request.requestId,
      source: request.source,
      idNumber: request.idNumber,
      purpose: request.purpose,
      ...(request.caseId !== undefined ? { caseId: request.caseId } : {}),
      receivedAt: new Date().toISOString(),
      found: answer.body.found,
      ...(answer.body.found ? { recordId: answer.body.record.recordId } : {}),
      replayed: answer.replayed,
    });
    return answer;
  }

  /** `GET /datahub/records/{recordId}/content`. */
  content(recordId: string): { bytes: Buffer; contentType: DatahubContentType } {
    const stored = this.records.get(recordId);
    if (!stored) throw new ProblemError(404, UNKNOWN_RECORD_SLUG, 'Unknown record', `no record ${recordId}`);
    return { bytes: stored.bytes, contentType: stored.record.contentType };
  }

  /** Admin: from now on, the identity's record of `source` is this one (or none, for `null`). */
  putRecord(idNumber: string, source: DatahubSource, given: PutDatahubRecord): DatahubRecord | null {
    if (given === null) {
      this.put.set(keyOf(source, idNumber), null);
      return null;
    }
    const bytes = given.contentType === 'application/json' ? Buffer.from(JSON.stringify(given.content), 'utf8') : Buffer.from(given.contentBase64, 'base64');
    const recordId = `dh-${sha256Hex(`put\n${++this.putCount}\n${source}\n${idNumber}\n${Date.now()}`).slice(0, 16)}`;
    const stored = storedRecord(recordId, source, given.issuer ?? defaultIssuer(source, idNumber), given.issuedAt ?? new Date().toISOString(), given.contentType, bytes);
    this.put.set(keyOf(source, idNumber), stored);
    this.records.set(recordId, stored);
    return stored.record;
  }

  /** Every query answered, in order (copies). */
  all(): DatahubQueryLog[] {
    return this.queries.map((q) => ({ ...q }));
  }

  reset(): void {
    this.scenario = 'ok';
    this.put.clear();
    this.records.clear();
    this.queries.length = 0;
    this.answers.clear();
  }

  private lookup(request: DatahubQueryRequest): DatahubQueryResponse {
    const none: DatahubQueryResponse = { found: false, reason: `数据共享交换平台未查到该申请人的${SOURCE_NAMES[request.source]}，请申请人提交纸质材料` };
    if (this.scenario === 'no-record') return none;
    const key = keyOf(request.source, request.idNumber);
    const stored = this.put.has(key) ? this.put.get(key)! : seededRecord(request.source, request.idNumber);
    if (!stored) return none;
    this.records.set(stored.record.recordId, stored);
    return { found: true, record: stored.record };
  }
}

function keyOf(source: DatahubSource, idNumber: string): string {
  return `${source}\n${idNumber}`;
}

function storedRecord(recordId: string, source: DatahubSource, issuer: string, issuedAt: string, contentType: DatahubContentType, bytes: Buffer): StoredRecord {
  return {
    record: { recordId, source, issuer, issuedAt, contentType, sha256: sha256Hex(bytes), size: bytes.length, downloadPath: `${DATAHUB_PREFIX}/records/${recordId}/content` },
    bytes,
  };
}

function provinceName(idNumber: string): string {
  return PROVINCES[`${idNumber.slice(0, 2)}0000`] ?? '';
}

function defaultIssuer(source: DatahubSource, idNumber: string): string {
  const province = provinceName(idNumber);
  if (source === 'social-insurance-contributions') return `${province}人力资源和社会保障厅`;
  if (source === 'household-registration') return `${province}公安厅`;
  if (source === 'housing-fund-deposits') return `${province}住房公积金管理中心`;
  return `${province}民政厅`;
}

/**
 * The identity's record of `source` when no test put one: everything derived from the number
 * and the source, so the same applicant always gets the same record, bytes and hash.
 */
function seededRecord(source: DatahubSource, idNumber: string): StoredRecord {
  const seed = createHash('sha256').update(`tongban-simulator-datahub\n${source}\n${idNumber}`).digest();
  const recordId = `dh-${seed.subarray(0, 8).toString('hex')}`;
  const issuedAt = new Date(Date.UTC(2026, 0, 1) + (seed.readUInt16BE(8) % 300) * 86_400_000).toISOString();
  const masked = maskIdNumber(idNumber);
  let contentType: DatahubContentType;
  let bytes: Buffer;
  switch (source) {
    case 'social-insurance-contributions': {
      const months = 12 + (seed.readUInt16BE(10) % 180);
      contentType = 'application/pdf';
      bytes = placeholderPdf(`tongban simulator: social-insurance contributions of ${masked}, ${months} months paid, record ${recordId}`);
      break;
    }
    case 'household-registration':
      contentType = 'application/json';
      bytes = Buffer.from(JSON.stringify({ recordId, idNumber: masked, householdRegion: idNumber.slice(0, 6), registeredSince: `${1990 + (seed[12]! % 35)}-0${1 + (seed[13]! % 9)}-15` }), 'utf8');
      break;
    case 'housing-fund-deposits': {
      const months = 6 + (seed.readUInt16BE(15) % 120);
      contentType = 'application/pdf';
      bytes = placeholderPdf(`tongban simulator: housing-fund deposits of ${masked}, ${months} months deposited, account sealed, record ${recordId}`);
      break;
    }
    default:
      contentType = 'application/json';
      bytes = Buffer.from(JSON.stringify({ recordId, idNumber: masked, maritalStatus: (['unmarried', 'married', 'divorced'] as const)[seed[14]! % 3] }), 'utf8');
  }
  return storedRecord(recordId, source, defaultIssuer(source, idNumber), issuedAt, contentType, bytes);
}

/** Stand-in bytes for a certificate: a PDF header (so a content sniffer sees application/pdf), a comment line, the trailer. */
function placeholderPdf(note: string): Buffer {
  return Buffer.from(`%PDF-1.4\n% ${note}\n%%EOF\n`, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface DatahubRoutesOptions {
  datahub: DataHub;
  secret: string;
}

/** Throws the `401` unless the request carries a fresh, valid signature under the hub's secret. */
function requireSignature(request: FastifyRequest, secret: string): void {
  const problem = verifyRequest(secret, {
    method: request.method,
    path: request.url,
    body: rawBodyOf(request),
    timestamp: header(request, TIMESTAMP_HEADER),
    signature: header(request, SIGNATURE_HEADER),
  });
  if (problem) throw new ProblemError(401, INVALID_SIGNATURE_SLUG, 'Invalid signature', SIGNATURE_DETAILS[problem]);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The hub's routes, mounted by simulator/server.ts with `prefix: DATAHUB_PREFIX`. */
export const datahubRoutes: FastifyPluginAsync<DatahubRoutesOptions> = async (scope, { datahub, secret }) => {
  // Down means down: every call, signed or not.
  scope.addHook('onRequest', async () => datahub.admit());
  // The signature covers the body, so it is checked once the body is read.
  scope.addHook('preHandler', async (request) => requireSignature(request, secret));

  scope.post('/records/query', async (request, reply) => sendAnswer(reply, datahub.query(parseServiceBody(rawBodyOf(request), datahubQueryRequestSchema))));

  scope.get<{ Params: { recordId: string } }>('/records/:recordId/content', async (request, reply) => {
    const { bytes, contentType } = datahub.content(request.params.recordId);
    return reply.type(contentType).send(bytes);
  });
};

const recordFields = { issuer: text(200).optional(), issuedAt: isoInstantSchema.optional() };
const putRecordRequestSchema = z.object({
  idNumber: datahubIdNumberSchema,
  source: datahubSourceSchema,
  record: z
    .discriminatedUnion('contentType', [
      z.object({ ...recordFields, contentType: z.literal('application/json'), content: z.json() }),
      z.object({ ...recordFields, contentType: z.literal('application/pdf'), contentBase64: z.base64() }),
    ])
    .nullable(),
});

/** The unsigned `/_admin/datahub/…` controls for tests (loopback only, like the provinces' admin API). */
export function registerDatahubAdminRoutes(app: FastifyInstance, datahub: DataHub): void {
  app.get('/_admin/datahub/queries', async () => datahub.all());

  app.post('/_admin/datahub/scenario', async (request) => {
    const { scenario } = parseServiceBody(rawBodyOf(request), z.object({ scenario: z.enum(DATAHUB_SCENARIOS) }));
    datahub.setScenario(scenario);
    return { scenario };
  });

  app.post('/_admin/datahub/records', async (request, reply) => {
    const { idNumber, source, record } = parseServiceBody(rawBodyOf(request), putRecordRequestSchema);
    const put = datahub.putRecord(idNumber, source, stripUndefined(record));
    return reply.code(201).send({ idNumber: maskIdNumber(idNumber), source, record: put });
  });
}

/** zod's optional fields come back as `prop?: T | undefined`; the hub's types say `prop?: T`. */
function stripUndefined(record: z.infer<typeof putRecordRequestSchema>['record']): PutDatahubRecord {
  if (record === null) return null;
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as PutDatahubRecord;
}
