// The simulator's data-sharing hub against contracts/datahub.ts and docs/outside-services.md:
// signed queries for an applicant's shared-data record under /datahub and the record's bytes,
// over real HTTP against a started simulator, with the admin API a test uses to play outages,
// missing records and records of its choosing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { datahubQueryResponseSchema, datahubRecordSchema, fieldErrorsProblemSchema, type DatahubRecord } from '../../contracts/datahub.js';
import { sha256Hex, signRequest } from '../../crypto/signing.js';
import { idCheckCharacter } from '../../domain/idNumber.js';
import { startSimulator, type DatahubQueryLog, type Simulator } from '../../simulator/server.js';

const PROBLEMS = 'https://tongban.example/problems/';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ provinces: [{ code: '510000', secret: 'sichuan-test-secret' }], port: 0 });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.reset();
});

// --- a signing client --------------------------------------------------------------------------

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
  bytes: Buffer;
}

type Json = Record<string, unknown>;

interface CallOptions {
  json?: unknown;
  /** Sign with this secret (default the hub's), or send no signature (null). */
  secret?: string | null;
  /** The signing clock, default now. */
  now?: number;
  /** Sign these bytes instead of the body sent. */
  signedBody?: string;
}

/** `path` is the absolute path on the simulator's origin (what is signed), e.g. `/datahub/records/query`. */
async function call<T = Json>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const body = opts.json === undefined ? '' : typeof opts.json === 'string' ? opts.json : JSON.stringify(opts.json);
  const headers: Record<string, string> = {};
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const secret = opts.secret === undefined ? sim.datahubSecret : opts.secret;
  if (secret !== null) Object.assign(headers, signRequest(secret, method, path, opts.signedBody ?? body, opts.now));
  const response = await fetch(`${sim.url}${path}`, { method, headers, body: body === '' ? undefined : body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const parsed = (/json/.test(type) && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : bytes.toString('utf8')) as T;
  return { status: response.status, headers: response.headers, body: parsed, bytes };
}

const query = <T = Json>(json: unknown, opts?: Omit<CallOptions, 'json'>) => call<T>('POST', '/datahub/records/query', { ...opts, json });
const admin = <T = Json>(method: string, path: string, json?: unknown) => call<T>(method, `/_admin${path}`, { json, secret: null });

function expectProblem(reply: Reply<unknown>, status: number, slug: string): Json {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = reply.body as Json;
  expect(problem).toMatchObject({ type: `${PROBLEMS}${slug}`, status });
  return problem;
}

// --- fixtures ----------------------------------------------------------------------------------

/** A valid GB 11643 number born in Chengdu on the given date, with the given sequence. */
function idNumber(birth = '19900307', sequence = '123'): string {
  const first17 = `510107${birth}${sequence}`;
  return `${first17}${idCheckCharacter(first17)}`;
}

function queryBody(overrides: Json = {}) {
  return {
    requestId: `${randomUUID()}:datahub:social-insurance`,
    source: 'social-insurance-contributions',
    idNumber: idNumber(),
    purpose: '跨省通办 养老保险关系转移 预审',
    caseId: randomUUID(),
    ...overrides,
  };
}

async function found(body: Json): Promise<DatahubRecord> {
  const reply = await query(body);
  expect(reply.status).toBe(200);
  const answer = datahubQueryResponseSchema.parse(reply.body);
  if (!answer.found) throw new Error(`expected a record, got ${answer.reason}`);
  return answer.record;
}

async function queries(): Promise<DatahubQueryLog[]> {
  const reply = await admin<DatahubQueryLog[]>('GET', '/datahub/queries');
  expect(reply.status).toBe(200);
  return reply.body;
}

// --- the hub -----------------------------------------------------------------------------------

describe('data-sharing hub', () => {
  it('When a record is queried, then it is found, and its signed download has the stated hash, size and type', async () => {
    const body = queryBody();
    const record = await found(body);
    expect(record).toMatchObject({ source: 'social-insurance-contributions', issuer: '四川省人力资源和社会保障厅', contentType: 'application/pdf' });
    expect(record.downloadPath).toBe(`/datahub/records/${record.recordId}/content`);

    const download = await call('GET', record.downloadPath);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(download.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(sha256Hex(download.bytes)).toBe(record.sha256);
    expect(download.bytes.length).toBe(record.size);
    expectProblem(await call('GET', record.downloadPath, { secret: null }), 401, 'invalid-signature');

    // JSON sources too; and the same applicant always gets the same record (another request id, same answer).
    const household = await found(queryBody({ source: 'household-registration' }));
    const content = await call<Json>('GET', household.downloadPath);
    expect(content.headers.get('content-type')).toMatch(/^application\/json/);
    expect(sha256Hex(content.bytes)).toBe(household.sha256);
    expect(content.body).toMatchObject({ householdRegion: '510107' });
    expect(await found(queryBody())).toEqual(record);
    expect(await found(queryBody({ idNumber: idNumber('19851120', '456') }))).not.toEqual(record);

    expect((await queries()).map(({ requestId, found: f, replayed }) => ({ requestId, found: f, replayed }))[0]).toEqual({ requestId: body.requestId, found: true, replayed: false });
    expect(sim.datahubQueries()[0]).toMatchObject({ idNumber: body.idNumber, caseId: body.caseId, recordId: record.recordId });
    expectProblem(await call('GET', '/datahub/records/dh-unknown/content'), 404, 'unknown-record');
  });

  it('When the hub has no record, then found is false with a reason; a test may take away or put one identity’s record', async () => {
    expect((await admin('POST', '/datahub/scenario', { scenario: 'no-record' })).body).toEqual({ scenario: 'no-record' });
    const none = await query(queryBody({ source: 'marriage-status' }));
    expect(none.status).toBe(200);
    expect(datahubQueryResponseSchema.parse(none.body)).toEqual({ found: false, reason: expect.stringContaining('婚姻登记信息') });
    expect((await queries()).map((q) => q.found)).toEqual([false]);

    // Per identity: none for one applicant, a chosen record for another, the rest as seeded.
    sim.setDatahubScenario('ok');
    const nobody = idNumber('19700101', '001');
    expect((await admin('POST', '/datahub/records', { idNumber: nobody, source: 'marriage-status', record: null })).status).toBe(201);
    expect(datahubQueryResponseSchema.parse((await query(queryBody({ source: 'marriage-status', idNumber: nobody }))).body).found).toBe(false);

    const someone = idNumber('19800202', '002');
    const put = await admin<{ record: DatahubRecord }>('POST', '/datahub/records', {
      idNumber: someone,
      source: 'marriage-status',
      record: { contentType: 'application/json', content: { maritalStatus: 'married', registeredAt: '2015-05-20' }, issuer: '成都市武侯区民政局' },
    });
    expect(put.status).toBe(201);
    const chosen = await found(queryBody({ source: 'marriage-status', idNumber: someone }));
    expect(chosen).toEqual(datahubRecordSchema.parse(put.body.record));
    expect(chosen.issuer).toBe('成都市武侯区民政局');
    expect((await call<Json>('GET', chosen.downloadPath)).body).toEqual({ maritalStatus: 'married', registeredAt: '2015-05-20' });

    expect((await found(queryBody({ source: 'marriage-status' }))).issuer).toBe('四川省民政厅');
  });

  it('When the hub is down, then every call answers 503 problem+json, and once it is back the same query is answered afresh', async () => {
    const record = await found(queryBody());
    sim.setDatahubScenario('down');

    const body = queryBody();
    expectProblem(await query(body), 503, 'unavailable');
    expectProblem(await query(body, { secret: null }), 503, 'unavailable');
    expectProblem(await call('GET', record.downloadPath), 503, 'unavailable');
    expect(await queries()).toHaveLength(1);

    await admin('POST', '/datahub/scenario', { scenario: 'ok' });
    const retry = await query(body);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('When a call is unsigned, signed with another secret, stale, or its body was changed, then 401 problem+json and nothing is answered', async () => {
    const body = queryBody();
    const missing = expectProblem(await query(body, { secret: null }), 401, 'invalid-signature');
    expect(missing.detail).toMatch(/^missing/);
    expect(expectProblem(await query(body, { secret: 'not-the-hub-secret' }), 401, 'invalid-signature').detail).toMatch(/^mismatch/);
    expect(expectProblem(await query(body, { now: Date.now() - 400_000 }), 401, 'invalid-signature').detail).toMatch(/^stale/);
    expect(expectProblem(await query(body, { signedBody: JSON.stringify({ ...body, idNumber: idNumber('19851120', '456') }) }), 401, 'invalid-signature').detail).toMatch(/^mismatch/);
    // The province's secret is not the hub's.
    expectProblem(await query(body, { secret: 'sichuan-test-secret' }), 401, 'invalid-signature');
    expect(sim.datahubQueries()).toEqual([]);
  });

  it('When a requestId is repeated, then the same answer comes back, marked as a replay; with another body it is 409', async () => {
    const body = queryBody();
    const first = await query(body);
    // The stored answer stands even when the hub would now answer otherwise.
    sim.setDatahubScenario('no-record');
    const again = await query({ ...body });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    expectProblem(await query({ ...body, source: 'household-registration' }), 409, 'idempotency-key-reused');
    expect((await queries()).map((q) => ({ requestId: q.requestId, replayed: q.replayed }))).toEqual([
      { requestId: body.requestId, replayed: false },
      { requestId: body.requestId, replayed: true },
    ]);
  });

  it('When the body is not valid, then 400 malformed-body names every bad field and nothing is answered', async () => {
    const problem = fieldErrorsProblemSchema.parse(
      expectProblem(await query({ requestId: '', source: 'passport', idNumber: '51010719900307123', purpose: '字'.repeat(201), caseId: 'case-1' }), 400, 'malformed-body'),
    );
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['caseId', 'idNumber', 'purpose', 'requestId', 'source']);
    expect(problem.errors.find((e) => e.path === 'purpose')!.message).toBe('must have at most 200 characters');

    const wrongCheck = idNumber().slice(0, 17) + (idNumber().endsWith('0') ? '1' : '0');
    const badCheck = fieldErrorsProblemSchema.parse(expectProblem(await query(queryBody({ idNumber: wrongCheck })), 400, 'malformed-body'));
    expect(badCheck.errors).toEqual([{ path: 'idNumber', message: 'has a wrong check digit (GB 11643)' }]);

    const notJson = fieldErrorsProblemSchema.parse(expectProblem(await query('{"requestId":'), 400, 'malformed-body'));
    expect(notJson.errors).toEqual([{ path: '(body)', message: 'is not valid JSON' }]);
    expect(sim.datahubQueries()).toEqual([]);
  });

  it('When started with a datahubSecret, then that is the secret the hub verifies', async () => {
    const datahubSecret = 'dev-datahub-secret-0123456789';
    const other = await startSimulator({ provinces: [{ code: '510000', secret: 's' }], datahubSecret });
    try {
      expect(other.datahubSecret).toBe(datahubSecret);
      expect(other.datahubBaseUrl).toBe(`${other.url}/datahub`);
      const body = JSON.stringify(queryBody());
      const path = '/datahub/records/query';
      const ok = await fetch(`${other.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(datahubSecret, 'POST', path, body) }, body });
      expect(ok.status).toBe(200);
      const wrong = await fetch(`${other.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(sim.datahubSecret, 'POST', path, body) }, body });
      expect(wrong.status).toBe(401);
    } finally {
      await other.close();
    }
  });
});
