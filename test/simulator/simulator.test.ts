// The province simulator against docs/province-protocol.md: a real HTTP server, real signed
// requests, and a local receiver that checks the signatures of the callbacks it gets.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { correctionAnswerResponseSchema, materialReceiptSchema, provinceEventSchema } from '../../contracts/province.js';
import { sha256Hex, signRequest, verifyRequest, type SignatureProblem } from '../../crypto/signing.js';
import { startSimulator, type CaseStatusBody, type ProvinceCallbackEvent, type Simulator } from '../../simulator/server.js';

const SC = '510000';
const GD = '440000';
const SECRETS: Record<string, string> = { [SC]: 'sichuan-test-secret', [GD]: 'guangdong-test-secret' };
const SLOW_MS = 200;

type Json = Record<string, unknown>;

interface ReceivedCallback {
  code: string;
  event: ProvinceCallbackEvent;
  signatureProblem: SignatureProblem | null;
}

/** tongban's side of the callbacks, reduced to recording them and checking their signatures. */
class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  /** The caseId of every callback attempt, accepted or not. */
  readonly attempts: string[] = [];
  /** Answer this many callbacks with 500 before accepting again. */
  failuresLeft = 0;

  private readonly server: Server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const status = this.accept(req, body);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: status === 202 }));
      },
      () => res.writeHead(400).end(),
    );
  });
  private port = 0;

  static async start(): Promise<CallbackReceiver> {
    const receiver = new CallbackReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  callbackUrl(code: string): string {
    return `${this.url}/v1/province-callbacks/${code}`;
  }

  forCase(caseId: string): ReceivedCallback[] {
    return this.received.filter((r) => r.event.caseId === caseId);
  }

  clear(): void {
    this.received.length = 0;
    this.attempts.length = 0;
    this.failuresLeft = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private accept(req: IncomingMessage, body: Buffer): number {
    const event = JSON.parse(body.toString('utf8')) as ProvinceCallbackEvent;
    this.attempts.push(event.caseId);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return 500;
    }
    const code = (req.url ?? '').split('/').pop() ?? '';
    const signatureProblem = verifyRequest(SECRETS[code] ?? '', {
      method: req.method ?? '',
      path: req.url ?? '',
      body,
      timestamp: singleHeader(req, 'x-tongban-timestamp'),
      signature: singleHeader(req, 'x-tongban-signature'),
    });
    this.received.push({ code, event, signatureProblem });
    return 202;
  }
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let sim: Simulator;
let receiver: CallbackReceiver;

beforeAll(async () => {
  receiver = await CallbackReceiver.start();
  sim = await startSimulator({
    provinces: [
      { code: SC, secret: SECRETS[SC]! },
      { code: GD, secret: SECRETS[GD]! },
    ],
    port: 0,
    reviewDelayMs: 50,
    deliveryDelayMs: 50,
    correctionDelayMs: 50,
    procedureDelayMs: 50,
    slowMs: SLOW_MS,
    callbackRetry: { initialBackoffMs: 200 },
  });
});

afterAll(async () => {
  await sim?.close();
  await receiver?.close();
});

beforeEach(() => {
  sim.reset();
  receiver.clear();
});

// --- a signed client ---------------------------------------------------------------------------

interface CallOptions {
  json?: unknown;
  bytes?: Buffer;
  contentType?: string;
  key?: string;
  headers?: Record<string, string>;
  secret?: string;
  now?: number;
  target?: Simulator;
}

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = Json>(code: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const target = opts.target ?? sim;
  const signedPath = `/provinces/${code}${path}`;
  const body = opts.bytes ?? (opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json)));
  const headers: Record<string, string> = { ...signRequest(opts.secret ?? SECRETS[code] ?? 'unknown', method, signedPath, body ?? '', opts.now) };
  if (body) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.key) headers['idempotency-key'] = opts.key;
  const response = await fetch(`${target.url}${signedPath}`, { method, headers: { ...headers, ...opts.headers }, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

async function admin(method: string, path: string, json?: unknown): Promise<Reply<unknown>> {
  const response = await fetch(`${sim.url}${path}`, { method, body: json === undefined ? undefined : JSON.stringify(json), headers: json === undefined ? {} : { 'content-type': 'application/json' } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

// --- case fixtures -----------------------------------------------------------------------------

const MATERIALS = [
  { materialCode: 'resident-id-card', bytes: Buffer.from('%PDF-1.7 居民身份证正反面扫描件'), contentType: 'application/pdf' },
  { materialCode: 'transfer-application', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]), contentType: 'image/png' },
] as const;

interface CaseOverrides {
  delivery?: { method: 'window' | 'mail' | 'electronic'; address?: string };
  applicantName?: string;
}

function caseBody(code: string, overrides: CaseOverrides = {}) {
  return {
    caseId: randomUUID(),
    itemCode: 'pension-transfer',
    itemVersion: 1,
    receivingRegion: '440100',
    handlingRegion: code,
    channel: 'window',
    applicant: { name: overrides.applicantName ?? '张三', idNumber: '11010519491231002X', phone: '13800138000' },
    materials: MATERIALS.map((m) => ({ materialCode: m.materialCode, sha256: sha256Hex(m.bytes), size: m.bytes.length, contentType: m.contentType })),
    delivery: overrides.delivery ?? { method: 'electronic' },
    callbackUrl: receiver.callbackUrl(code),
  };
}

interface OpenCase {
  code: string;
  caseId: string;
  provinceCaseId: string;
}

async function createCase(code: string, overrides: CaseOverrides = {}): Promise<OpenCase> {
  const body = caseBody(code, overrides);
  const res = await call<{ provinceCaseId: string }>(code, 'POST', '/cases', { json: body, key: `${body.caseId}:create` });
  expect(res.status).toBe(201);
  return { code, caseId: body.caseId, provinceCaseId: res.body.provinceCaseId };
}

function upload(c: OpenCase, material: (typeof MATERIALS)[number], opts: { sha256?: string; target?: Simulator } = {}): Promise<Reply<Json>> {
  return call(c.code, 'PUT', `/cases/${c.provinceCaseId}/materials/${material.materialCode}`, {
    bytes: material.bytes,
    contentType: material.contentType,
    key: `${c.caseId}:material:${material.materialCode}`,
    headers: { 'x-content-sha256': opts.sha256 ?? sha256Hex(material.bytes) },
    target: opts.target,
  });
}

async function createWithMaterials(code: string, overrides: CaseOverrides = {}): Promise<OpenCase> {
  const c = await createCase(code, overrides);
  for (const material of MATERIALS) expect((await upload(c, material)).status).toBe(201);
  return c;
}

function submit(c: OpenCase, target?: Simulator): Promise<Reply<Json>> {
  return call(c.code, 'POST', `/cases/${c.provinceCaseId}/submit`, { json: {}, key: `${c.caseId}:submit`, target });
}

async function submittedCase(code: string, overrides: CaseOverrides = {}): Promise<OpenCase> {
  const c = await createWithMaterials(code, overrides);
  expect((await submit(c)).status).toBe(202);
  return c;
}

function withdraw(c: OpenCase, target?: Simulator): Promise<Reply<Json>> {
  return call(c.code, 'POST', `/cases/${c.provinceCaseId}/withdraw`, { json: { reason: '申请人撤回申请' }, key: `${c.caseId}:withdraw`, target });
}

function caseStatus(c: OpenCase, target?: Simulator): Promise<Reply<CaseStatusBody>> {
  return call<CaseStatusBody>(c.code, 'GET', `/cases/${c.provinceCaseId}`, { target });
}

// --- polling -----------------------------------------------------------------------------------

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function callbacksOfType(c: OpenCase, type: string): ReceivedCallback[] {
  return receiver.forCase(c.caseId).filter((r) => r.event.type === type);
}

function waitForCallback(c: OpenCase, type: string): Promise<ReceivedCallback> {
  return waitFor(`${type} callback of ${c.provinceCaseId}`, () => callbacksOfType(c, type)[0]);
}

function waitForStatus(c: OpenCase, status: string, target?: Simulator): Promise<CaseStatusBody> {
  return waitFor(`${c.provinceCaseId} to be ${status}`, async () => {
    const res = await caseStatus(c, target);
    return res.body.status === status ? res.body : undefined;
  });
}

function expectProblem(res: Reply<unknown>, status: number, slug?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = res.body as Json;
  expect(body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
  if (slug) expect(body.type).toMatch(new RegExp(`/${slug}$`));
}

// --- tests -------------------------------------------------------------------------------------

describe('province simulator: idempotency', () => {
  it('When a create is repeated with the same key and body, then the same provinceCaseId comes back marked as replayed', async () => {
    const body = caseBody(SC);
    const first = await call(SC, 'POST', '/cases', { json: body, key: `${body.caseId}:create` });
    const second = await call(SC, 'POST', '/cases', { json: body, key: `${body.caseId}:create` });

    expect(first.status).toBe(201);
    expect(first.body).toEqual({ provinceCaseId: expect.stringMatching(/^510000-\d{6}$/), status: 'awaiting_materials' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('When the same key comes with a different body, then 409', async () => {
    const body = caseBody(SC);
    await call(SC, 'POST', '/cases', { json: body, key: `${body.caseId}:create` });
    const res = await call(SC, 'POST', '/cases', { json: { ...body, itemVersion: 2 }, key: `${body.caseId}:create` });

    expectProblem(res, 409, 'idempotency-key-reused');
  });

  it('When a state-changing request has no Idempotency-Key, then 400', async () => {
    expectProblem(await call(SC, 'POST', '/cases', { json: caseBody(SC) }), 400, 'missing-idempotency-key');
  });

  it('When a material upload is repeated, then 200 with the same body', async () => {
    const c = await createCase(SC);
    const first = await upload(c, MATERIALS[0]);
    const second = await upload(c, MATERIALS[0]);

    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ materialCode: 'resident-id-card', sha256: sha256Hex(MATERIALS[0].bytes), size: MATERIALS[0].bytes.length });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('province simulator: signatures and validation', () => {
  it('When the signature is made with the wrong secret, then 401 mismatch', async () => {
    const res = await call(SC, 'POST', '/cases', { json: caseBody(SC), key: 'k1', secret: 'not-the-secret' });
    expectProblem(res, 401);
    expect((res.body as Json).detail).toMatch(/mismatch/);
  });

  it('When the body differs from the signed one, then 401 mismatch', async () => {
    const signed = JSON.stringify({ licenceType: 'resident_id_card', holderIdNumber: '11010519491231002X', holderName: '张三', sha256: 'a'.repeat(64) });
    const path = `/provinces/${SC}/elicences/verify`;
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { ...signRequest(SECRETS[SC]!, 'POST', path, signed), 'content-type': 'application/json' },
      body: signed.replace('张三', '李四'),
    });
    expect(res.status).toBe(401);
  });

  it('When the timestamp is more than 300 s old, then 401 stale', async () => {
    const res = await call(SC, 'POST', '/cases', { json: caseBody(SC), key: 'k1', now: Date.now() - 301_000 });
    expectProblem(res, 401);
    expect((res.body as Json).detail).toMatch(/stale/);
  });

  it('When the signature headers are missing, then 401 missing', async () => {
    const res = await fetch(`${sim.baseUrlFor(SC)}/cases/510000-000001`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as Json).detail).toMatch(/missing/);
  });

  it('When the province is unknown, then 404', async () => {
    expectProblem(await call('999999', 'GET', '/cases/x'), 404, 'unknown-province');
  });

  it('When the material bytes do not match X-Content-SHA256, then 422 hash-mismatch', async () => {
    const c = await createCase(SC);
    expectProblem(await upload(c, MATERIALS[0], { sha256: sha256Hex('something else') }), 422, 'hash-mismatch');
  });

  it('When a material was not declared at creation, then 404', async () => {
    const c = await createCase(SC);
    const res = await call(SC, 'PUT', `/cases/${c.provinceCaseId}/materials/household-register`, {
      bytes: Buffer.from('x'),
      contentType: 'application/pdf',
      key: `${c.caseId}:material:household-register`,
      headers: { 'x-content-sha256': sha256Hex('x') },
    });
    expectProblem(res, 404, 'unknown-material');
  });

  it('When submit comes before a declared material, then 409 naming it', async () => {
    const c = await createCase(SC);
    await upload(c, MATERIALS[0]);
    const res = await submit(c);

    expectProblem(res, 409, 'missing-materials');
    expect((res.body as Json).detail).toContain('transfer-application');
    expect((await caseStatus(c)).body.status).toBe('awaiting_materials');
  });
});

describe('province simulator: decisions and callbacks', () => {
  it('When an electronic-delivery case is approved, then signed accepted and approved callbacks arrive, the approval carrying a certificate', async () => {
    const c = await submittedCase(SC, { delivery: { method: 'electronic' } });
    const approved = await waitForCallback(c, 'case.approved');
    const accepted = callbacksOfType(c, 'case.accepted')[0];

    expect(accepted?.event).toMatchObject({ caseId: c.caseId, data: { provinceCaseId: c.provinceCaseId } });
    expect(approved.event).toMatchObject({
      eventId: expect.stringMatching(/^510000-evt-\d{13}-[0-9a-f]{16}$/),
      caseId: c.caseId,
      data: { provinceCaseId: c.provinceCaseId, certificate: { certificateId: expect.any(String), issuer: expect.any(String), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), issuedAt: expect.any(String) } },
    });
    expect(receiver.forCase(c.caseId).map((r) => r.signatureProblem)).toEqual([null, null]);
    const status = (await caseStatus(c)).body;
    expect(status).toMatchObject({ provinceCaseId: c.provinceCaseId, caseId: c.caseId, status: 'approved' });
    expect(status.events.map((e) => e.type)).toEqual(['case.accepted', 'case.approved']);
  });

  it('When a mail-delivery case is approved, then delivery.mailed and delivery.received follow and the case is delivered', async () => {
    const c = await submittedCase(SC, { delivery: { method: 'mail', address: '四川省成都市武侯区人民南路四段1号' } });
    const received = await waitForCallback(c, 'delivery.received');
    const mailed = callbacksOfType(c, 'delivery.mailed')[0];

    expect(mailed?.event.data).toEqual({ trackingNumber: expect.stringMatching(/^\d{13}$/) });
    expect(received.event.data).toEqual({ trackingNumber: mailed?.event.data.trackingNumber, signedBy: '张三' });
    expect(callbacksOfType(c, 'case.approved')[0]?.event.data.certificate).toBeUndefined();
    expect(receiver.forCase(c.caseId).map((r) => r.event.type)).toEqual(['case.accepted', 'case.approved', 'delivery.mailed', 'delivery.received']);
    expect((await caseStatus(c)).body.status).toBe('delivered');
  });

  it('When the province rejects, then case.rejected carries the reasons', async () => {
    sim.setScenario(SC, 'reject');
    const c = await submittedCase(SC);
    const rejected = await waitForCallback(c, 'case.rejected');

    expect(rejected.event.data).toEqual({ provinceCaseId: c.provinceCaseId, reasons: [expect.any(String), expect.any(String)] });
    expect(rejected.signatureProblem).toBeNull();
    expect((await caseStatus(c)).body.status).toBe('rejected');
  });

  it('When a rule matches the applicant, then it wins over the province default', async () => {
    expect((await admin('POST', '/_admin/rules', { match: { applicantName: '王五' }, scenario: 'reject' })).status).toBe(201);
    const matching = await submittedCase(SC, { applicantName: '王五' });
    const other = await submittedCase(SC, { applicantName: '赵六' });

    await waitForCallback(matching, 'case.rejected');
    await waitForCallback(other, 'case.approved');
  });

  it('When callbacks are lost, then no callback arrives but the status poll shows the decision event', async () => {
    sim.addRule({ match: { applicantName: '钱七' }, scenario: 'lost-callback' });
    const lost = await submittedCase(SC, { applicantName: '钱七' });
    const status = await waitForStatus(lost, 'approved');

    expect(status.events.map((e) => e.type)).toEqual(['case.accepted', 'case.approved']);
    // A case decided after the lost one did get its callbacks, so the lost ones are not just late.
    const control = await submittedCase(SC);
    await waitForCallback(control, 'case.approved');
    expect(receiver.forCase(lost.caseId)).toEqual([]);
  });

  it('When callbacks are duplicated, then every eventId is delivered twice', async () => {
    sim.setScenario(SC, 'duplicate-callback');
    const c = await submittedCase(SC);
    await waitFor('two approvals', () => callbacksOfType(c, 'case.approved').length === 2);

    const ids = receiver.forCase(c.caseId).map((r) => r.event.eventId);
    const [acceptedId, approvedId] = (await caseStatus(c)).body.events.map((e) => e.eventId);
    expect(ids).toEqual([acceptedId, acceptedId, approvedId, approvedId]);
  });

  it('When tongban answers a callback with 500, then the province retries until it gets a 2xx', async () => {
    receiver.failuresLeft = 2;
    const c = await submittedCase(SC);
    await waitForCallback(c, 'case.approved');

    // accepted: 500, 500 (after 200 ms), 202 (after 400 ms); approved waits its turn: 202.
    expect(receiver.attempts.filter((caseId) => caseId === c.caseId)).toHaveLength(4);
    expect(receiver.forCase(c.caseId).map((r) => r.event.type)).toEqual(['case.accepted', 'case.approved']);
  });
});

describe('province simulator: transport scenarios', () => {
  it('When the province is down, then every request answers 503', async () => {
    const c = await createCase(SC);
    await admin('PUT', `/_admin/provinces/${SC}/scenario`, { scenario: 'down' });

    expectProblem(await call(SC, 'POST', '/cases', { json: caseBody(SC), key: 'k-down' }), 503);
    expectProblem(await upload(c, MATERIALS[0]), 503);
    expectProblem(await caseStatus(c), 503);
    expect((await call(GD, 'POST', '/cases', { json: caseBody(GD), key: 'k-gd' })).status).toBe(201);
  });

  it('When the province is flaky, then requests to a case alternate 503 and success, starting with 503', async () => {
    sim.setScenario(SC, 'flaky');
    const body = caseBody(SC);
    const create = () => call<{ provinceCaseId: string }>(SC, 'POST', '/cases', { json: body, key: `${body.caseId}:create` });

    expect((await create()).status).toBe(503);
    const created = await create();
    expect(created.status).toBe(201);
    expect(created.headers.get('idempotent-replayed')).toBeNull();
    const c = { code: SC, caseId: body.caseId, provinceCaseId: created.body.provinceCaseId };
    expect((await upload(c, MATERIALS[0])).status).toBe(503);
    expect((await upload(c, MATERIALS[0])).status).toBe(201);
    expect((await caseStatus(c)).status).toBe(503);
    expect((await caseStatus(c)).status).toBe(200);

    expect(sim.requests(SC).map((r) => r.status)).toEqual([503, 201, 503, 201, 503, 200]);
  });

  it('When the province is slow, then the response comes after slowMs', async () => {
    sim.setScenario(SC, 'slow');
    const started = Date.now();
    const res = await call(SC, 'POST', '/cases', { json: caseBody(SC), key: 'k-slow' });

    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_MS);
  });
});

describe('province simulator: withdrawal', () => {
  it('When a decided case is withdrawn, then 409 already-decided carrying the decision', async () => {
    const c = await submittedCase(SC);
    await waitForCallback(c, 'case.approved');

    const res = await withdraw(c);
    expectProblem(res, 409, 'already-decided');
    expect(res.body).toMatchObject({ outcome: 'approved', caseStatus: 'approved' });
  });

  it('When a rejected case is withdrawn, then the 409 says it was rejected', async () => {
    sim.setScenario(SC, 'reject');
    const c = await submittedCase(SC);
    await waitForCallback(c, 'case.rejected');

    expect((await withdraw(c)).body).toMatchObject({ outcome: 'rejected', caseStatus: 'rejected' });
  });

  it('When a case under review is withdrawn, then it is never decided', async () => {
    // A longer review gives the withdrawal time to land first.
    const slowReview = await startSimulator({ provinces: [{ code: SC, secret: SECRETS[SC]! }], reviewDelayMs: 300 });
    try {
      const withdrawn = await createCaseOn(slowReview);
      expect((await submit(withdrawn, slowReview)).status).toBe(202);
      const res = await withdraw(withdrawn, slowReview);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'withdrawn' });

      // Submitted after the withdrawal, so decided after the withdrawn case would have been.
      const control = await createCaseOn(slowReview);
      await submit(control, slowReview);
      await waitForStatus(control, 'approved', slowReview);
      const status = (await caseStatus(withdrawn, slowReview)).body;
      expect(status.status).toBe('withdrawn');
      expect(status.events.map((e) => e.type)).toEqual(['case.accepted']);
    } finally {
      await slowReview.close();
    }
  });
});

async function createCaseOn(target: Simulator): Promise<OpenCase> {
  const body = caseBody(SC);
  const res = await call<{ provinceCaseId: string }>(SC, 'POST', '/cases', { json: body, key: `${body.caseId}:create`, target });
  const c = { code: SC, caseId: body.caseId, provinceCaseId: res.body.provinceCaseId };
  for (const material of MATERIALS) await upload(c, material, { target });
  return c;
}

describe('province simulator: e-licence verification', () => {
  const verify = (holderName: string, holderIdNumber = '11010519491231002X') =>
    call<Json>(GD, 'POST', '/elicences/verify', { json: { licenceType: 'resident_id_card', holderIdNumber, holderName, sha256: sha256Hex('licence') } });

  it('When the holder is known, then the licence is valid', async () => {
    const res = await verify('张三');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: true, licenceNumber: expect.any(String), issuer: expect.any(String), checkedAt: expect.any(String) });
  });

  it('When elicence-invalid applies to the holder, then the licence is not valid', async () => {
    sim.addRule({ match: { applicantName: '孙八' }, scenario: 'elicence-invalid' });
    expect((await verify('孙八')).body).toEqual({ valid: false, reason: expect.any(String) });
    expect((await verify('张三')).body.valid).toBe(true);
  });

  it('When the holder ID number fails validation, then the licence is not valid', async () => {
    expect((await verify('张三', '110105194912310021')).body).toEqual({ valid: false, reason: expect.any(String) });
  });
});

describe('province simulator: admin API', () => {
  it('When requests were made, then the admin API lists them with their idempotency keys and statuses', async () => {
    const c = await createCase(GD);
    await caseStatus(c);

    const res = await admin('GET', `/_admin/provinces/${GD}/requests`);
    expect(res.body).toEqual([
      { method: 'POST', path: `/provinces/${GD}/cases`, idempotencyKey: `${c.caseId}:create`, status: 201, at: expect.any(String), replayed: false },
      { method: 'GET', path: `/provinces/${GD}/cases/${c.provinceCaseId}`, idempotencyKey: null, status: 200, at: expect.any(String), replayed: false },
    ]);
    expect(sim.requests(GD)).toEqual(res.body);
  });

  it('When the state is deleted, then cases, requests and scenarios are forgotten', async () => {
    const c = await createCase(GD);
    await admin('PUT', `/_admin/provinces/${GD}/scenario`, { scenario: 'down' });

    expect((await admin('DELETE', '/_admin/state')).status).toBe(204);
    expect(sim.requests(GD)).toEqual([]);
    expectProblem(await caseStatus(c), 404, 'unknown-case');
  });

  it('When a scenario is not one of the known ones, then 400', async () => {
    expectProblem(await admin('PUT', `/_admin/provinces/${GD}/scenario`, { scenario: 'explode' }), 400);
    expectProblem(await admin('PUT', '/_admin/provinces/999999/scenario', { scenario: 'down' }), 404);
  });
});

describe('province simulator: finding a case by tongban case id', () => {
  it('When the province has the case, then GET /cases?caseId= answers its provinceCaseId and status', async () => {
    const c = await createCase(SC);
    const res = await call(SC, 'GET', `/cases?caseId=${c.caseId}`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ provinceCaseId: c.provinceCaseId, caseId: c.caseId, status: 'awaiting_materials' });
  });

  it('When the province has no such case, then 404 unknown-case, and nothing is created', async () => {
    const caseId = randomUUID();
    expectProblem(await call(SC, 'GET', `/cases?caseId=${caseId}`), 404, 'unknown-case');
    expectProblem(await call(SC, 'GET', '/cases?caseId=not-a-uuid'), 400);
    expect(sim.requests(SC).map((r) => r.method)).toEqual(['GET', 'GET']);
  });
});

describe('province simulator: events', () => {
  it('When the status is polled, then every event names the case it belongs to', async () => {
    const c = await submittedCase(SC);
    const status = await waitForStatus(c, 'approved');

    expect(status.events.map((e) => e.caseId)).toEqual([c.caseId, c.caseId]);
  });

  it('When a callback keeps failing, then the waits between attempts double up to the cap', async () => {
    const capped = await startSimulator({
      provinces: [{ code: SC, secret: SECRETS[SC]! }],
      reviewDelayMs: 10_000,
      callbackRetry: { initialBackoffMs: 50, maxBackoffMs: 200, giveUpAfterMs: 60_000 },
    });
    const times: number[] = [];
    const failing = createServer((req, res) => {
      times.push(Date.now());
      req.resume();
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const body = { ...caseBody(SC), callbackUrl: `http://127.0.0.1:${(failing.address() as AddressInfo).port}/v1/province-callbacks/${SC}` };
      const res = await call<{ provinceCaseId: string }>(SC, 'POST', '/cases', { json: body, key: `${body.caseId}:create`, target: capped });
      const c = { code: SC, caseId: body.caseId, provinceCaseId: res.body.provinceCaseId };
      for (const material of MATERIALS) await upload(c, material, { target: capped });
      await submit(c, capped);
      await waitFor('seven attempts', () => times.length >= 7, 5000);

      const gaps = times.slice(1, 7).map((t, i) => t - times[i]!);
      // 50, 100, 200, then capped at 200 (timers fire late, never early).
      expect(gaps[0]).toBeGreaterThanOrEqual(45);
      expect(gaps[1]).toBeGreaterThanOrEqual(95);
      expect(gaps[2]).toBeGreaterThanOrEqual(195);
      for (const gap of gaps.slice(3)) {
        expect(gap).toBeGreaterThanOrEqual(195);
        expect(gap).toBeLessThan(400);
      }
    } finally {
      await capped.close();
      failing.closeAllConnections();
      await new Promise((resolve) => failing.close(resolve));
    }
  });
});

describe('province simulator: state across restarts', () => {
  it('When restarted on the same state file, then a case under review is still known, its review completes and event ids do not repeat', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tongban-sim-'));
    const stateFile = path.join(dir, 'state.json');
    const start = (port = 0) => startSimulator({ provinces: [{ code: SC, secret: SECRETS[SC]! }], port, reviewDelayMs: 400, callbackRetry: { initialBackoffMs: 50 }, stateFile });
    try {
      const first = await start();
      const c = await createCaseOn(first);
      expect((await submit(c, first)).status).toBe(202);
      const acceptedId = (await caseStatus(c, first)).body.events[0]!.eventId;
      await waitForCallback(c, 'case.accepted');
      await first.close();
      // The review's due time was persisted; the new simulator rearms it.
      const second = await start();
      try {
        const polled = await caseStatus(c, second);
        expect(polled.status).toBe(200);
        expect(polled.body).toMatchObject({ provinceCaseId: c.provinceCaseId, caseId: c.caseId, status: 'reviewing' });
        const approved = await waitForCallback(c, 'case.approved');
        expect(approved.signatureProblem).toBeNull();
        const done = await waitForStatus(c, 'approved', second);
        expect(done.events.map((e) => e.eventId)).toEqual([acceptedId, approved.event.eventId]);
        expect(approved.event.eventId).not.toBe(acceptedId);

        // A new case continues the numbering instead of reusing the first one's id.
        const next = await createCaseOn(second);
        expect(next.provinceCaseId).not.toBe(c.provinceCaseId);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('When a callback was still undelivered at shutdown, then the restarted simulator delivers it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tongban-sim-'));
    const stateFile = path.join(dir, 'state.json');
    const start = () => startSimulator({ provinces: [{ code: SC, secret: SECRETS[SC]! }], reviewDelayMs: 10_000, callbackRetry: { initialBackoffMs: 100 }, stateFile });
    try {
      receiver.failuresLeft = 1_000;
      const first = await start();
      const c = await createCaseOn(first);
      await submit(c, first);
      await waitFor('a failed attempt', () => receiver.attempts.includes(c.caseId));
      await first.close();
      receiver.failuresLeft = 0;
      const second = await start();
      try {
        const accepted = await waitForCallback(c, 'case.accepted');
        expect(accepted.signatureProblem).toBeNull();
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- corrections (补正) and art. 45 procedures -------------------------------------------------

interface Deficiency {
  materialCode: string;
  problem: string;
  needed: string;
}

interface Notice {
  noticeId: string;
  deficiencies: Deficiency[];
}

/** The bytes of a material's supplement of one revision (they differ from the original's). */
function supplementBytes(materialCode: string, revision: number): Buffer {
  return Buffer.from(`%PDF-1.7 补正材料 ${materialCode} 第${revision}版`);
}

function uploadSupplement(c: OpenCase, materialCode: string, revision: number, opts: { bytes?: Buffer; sha256?: string; key?: string; target?: Simulator } = {}): Promise<Reply<Json>> {
  const bytes = opts.bytes ?? supplementBytes(materialCode, revision);
  return call(c.code, 'PUT', `/cases/${c.provinceCaseId}/materials/${materialCode}?revision=${revision}`, {
    bytes,
    contentType: 'application/pdf',
    key: opts.key ?? `${c.caseId}:material:${materialCode}:r${revision}`,
    headers: { 'x-content-sha256': opts.sha256 ?? sha256Hex(bytes) },
    target: opts.target,
  });
}

function answer(c: OpenCase, noticeId: string, items: { materialCode: string; sha256: string; revision: number }[], opts: { key?: string; target?: Simulator } = {}): Promise<Reply<Json>> {
  return call(c.code, 'POST', `/cases/${c.provinceCaseId}/corrections/${encodeURIComponent(noticeId)}/answer`, {
    json: { items },
    key: opts.key ?? `${c.caseId}:answer:${noticeId}`,
    target: opts.target,
  });
}

/** Uploads a supplement of `revision` for every deficiency and returns the answer's items. */
async function supplyAll(c: OpenCase, notice: Notice, revision: number, target?: Simulator) {
  const items = [];
  for (const d of notice.deficiencies) {
    const res = await uploadSupplement(c, d.materialCode, revision, { target });
    expect(res.status).toBe(201);
    items.push({ materialCode: d.materialCode, sha256: sha256Hex(supplementBytes(d.materialCode, revision)), revision });
  }
  return items;
}

async function waitForNotice(c: OpenCase, round = 1): Promise<Notice> {
  const received = await waitFor(`notice ${round} of ${c.provinceCaseId}`, () => callbacksOfType(c, 'review.correction_required')[round - 1]);
  return received.event.data as unknown as Notice;
}

/** Every event of the case, as a status poll shows it, parses with the protocol's schema. */
async function polledEvents(c: OpenCase, target?: Simulator) {
  const status = (await caseStatus(c, target)).body;
  return status.events.map((e) => provinceEventSchema.parse(e));
}

describe('province simulator: corrections (补正)', () => {
  it('When the correction scenario reviews a case, then one notice names declared materials, the supplements answer it and the case is approved', async () => {
    sim.setScenario(SC, 'correction');
    const c = await submittedCase(SC);
    const notice = await waitForNotice(c);

    expect(notice.noticeId).toMatch(/^[\x21-\x7E]{1,128}$/);
    expect(notice.deficiencies.map((d) => d.materialCode)).toEqual(MATERIALS.map((m) => m.materialCode));
    expect((await caseStatus(c)).body.status).toBe('awaiting_supplement');
    // An original's upload is closed (a new key, so no stored answer replays); only a supplement with a revision is taken now.
    const original = await call(SC, 'PUT', `/cases/${c.provinceCaseId}/materials/${MATERIALS[0].materialCode}`, {
      bytes: MATERIALS[0].bytes,
      contentType: MATERIALS[0].contentType,
      key: `${c.caseId}:material:${MATERIALS[0].materialCode}:again`,
      headers: { 'x-content-sha256': sha256Hex(MATERIALS[0].bytes) },
    });
    expectProblem(original, 409, 'case-not-open');

    const items = await supplyAll(c, notice, 1);
    const answered = await answer(c, notice.noticeId, items);
    expect(answered.status).toBe(202);
    expect(correctionAnswerResponseSchema.parse(answered.body)).toEqual({ noticeId: notice.noticeId, status: 'reviewing', answeredAt: expect.any(String) });

    await waitForCallback(c, 'case.approved');
    const events = await polledEvents(c);
    expect(events.map((e) => e.type)).toEqual(['case.accepted', 'review.correction_required', 'case.approved']);
    expect(events.map((e) => e.caseId)).toEqual([c.caseId, c.caseId, c.caseId]);
    expect(callbacksOfType(c, 'case.approved')).toHaveLength(1);
    expect(receiver.forCase(c.caseId).map((r) => r.signatureProblem)).toEqual([null, null, null]);
  });

  it('When a supplement is uploaded, then the receipt carries its revision; the hash is checked; each revision is kept', async () => {
    sim.setScenario(SC, 'correction');
    const c = await submittedCase(SC);
    const code = MATERIALS[0].materialCode;
    // Before the notice: nothing to supplement.
    expectProblem(await uploadSupplement(c, code, 1), 409, 'notice-not-open');
    await waitForNotice(c);

    const first = await uploadSupplement(c, code, 1);
    expect(first.status).toBe(201);
    expect(materialReceiptSchema.parse(first.body)).toEqual({ materialCode: code, sha256: sha256Hex(supplementBytes(code, 1)), size: supplementBytes(code, 1).length, receivedAt: expect.any(String), revision: 1 });
    const repeat = await uploadSupplement(c, code, 1);
    expect([repeat.status, repeat.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect((await uploadSupplement(c, code, 2)).body).toMatchObject({ revision: 2, sha256: sha256Hex(supplementBytes(code, 2)) });

    expectProblem(await uploadSupplement(c, code, 3, { sha256: sha256Hex('other bytes') }), 422, 'hash-mismatch');
    expectProblem(await uploadSupplement(c, code, 1, { bytes: Buffer.from('%PDF-1.7 another first revision'), key: 'another-key' }), 409, 'revision-conflict');
    expectProblem(await uploadSupplement(c, code, 0), 400, 'malformed-query');
    expectProblem(await uploadSupplement(c, 'household-register', 1), 404, 'unknown-material');
  });

  it('When an answer leaves a deficiency unanswered or cites a supplement never uploaded, then 422 names each, and the notice stays open', async () => {
    sim.setScenario(SC, 'correction');
    const c = await submittedCase(SC);
    const notice = await waitForNotice(c);
    const [idCard, application] = notice.deficiencies.map((d) => d.materialCode);
    const items = await supplyAll(c, notice, 1);

    const partial = await answer(c, notice.noticeId, [items[0]!], { key: 'answer-partial' });
    expectProblem(partial, 422, 'answer-incomplete');
    expect(partial.body).toMatchObject({ unanswered: [application], notReceived: [], notInNotice: [] });
    expect(partial.body.detail).toContain(application);

    const wrong = await answer(c, notice.noticeId, [{ ...items[0]!, revision: 2 }, items[1]!, { materialCode: 'household-register', sha256: 'a'.repeat(64), revision: 1 }], { key: 'answer-wrong' });
    expectProblem(wrong, 422, 'answer-incomplete');
    expect(wrong.body).toMatchObject({ unanswered: [], notReceived: [idCard], notInNotice: ['household-register'] });

    const empty = await answer(c, notice.noticeId, [], { key: 'answer-empty' });
    expectProblem(empty, 400, 'malformed-body');
    expect(empty.body.detail).toContain('items');

    expect((await caseStatus(c)).body.status).toBe('awaiting_supplement');
    expect((await answer(c, notice.noticeId, items)).status).toBe(202);
    await waitForStatus(c, 'approved');
  });

  it('When an answer names a wrong notice or one already answered, then 409 notice-not-open; a repeat of the same answer is replayed', async () => {
    sim.setScenario(SC, 'correction');
    const c = await submittedCase(SC);
    const notice = await waitForNotice(c);
    const items = await supplyAll(c, notice, 1);

    expectProblem(await answer(c, `${notice.noticeId}-x`, items, { key: 'answer-wrong-notice' }), 409, 'notice-not-open');
    const first = await answer(c, notice.noticeId, items);
    expect(first.status).toBe(202);
    const replay = await answer(c, notice.noticeId, items);
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
    expect(replay.body).toEqual(first.body);

    const again = await answer(c, notice.noticeId, items, { key: 'answer-second-key' });
    expectProblem(again, 409, 'notice-not-open');
    expect(again.body.detail).toMatch(/answered/);
    await waitForStatus(c, 'approved');
    expectProblem(await uploadSupplement(c, MATERIALS[0].materialCode, 9), 409, 'notice-not-open');
  });

  it('When the correction-2 scenario reviews a case, then two notices in turn, each answered by its own supplements, then approval', async () => {
    sim.setScenario(SC, 'correction-2');
    const c = await submittedCase(SC);
    const first = await waitForNotice(c, 1);
    const firstItems = await supplyAll(c, first, 1);
    expect((await answer(c, first.noticeId, firstItems)).status).toBe(202);

    const second = await waitForNotice(c, 2);
    expect(second.noticeId).not.toBe(first.noticeId);
    expect(second.deficiencies.map((d) => d.materialCode)).toEqual([MATERIALS[0].materialCode]);
    expect((await caseStatus(c)).body.status).toBe('awaiting_supplement');
    // The first round's supplement does not answer the second notice.
    const stale = await answer(c, second.noticeId, [firstItems[0]!], { key: 'answer-stale' });
    expectProblem(stale, 422, 'answer-incomplete');
    expect(stale.body).toMatchObject({ notReceived: [MATERIALS[0].materialCode] });
    expectProblem(await answer(c, first.noticeId, firstItems, { key: 'answer-old-notice' }), 409, 'notice-not-open');

    expect((await answer(c, second.noticeId, await supplyAll(c, second, 2))).status).toBe(202);
    await waitForCallback(c, 'case.approved');
    expect((await polledEvents(c)).map((e) => e.type)).toEqual(['case.accepted', 'review.correction_required', 'review.correction_required', 'case.approved']);
  });

  it('When a case waits for an answer, then a withdrawal is still taken and the notice can no longer be answered', async () => {
    sim.setScenario(SC, 'correction');
    const c = await submittedCase(SC);
    const notice = await waitForNotice(c);
    const items = await supplyAll(c, notice, 1);

    expect((await withdraw(c)).body).toEqual({ status: 'withdrawn' });
    expectProblem(await answer(c, notice.noticeId, items), 409, 'notice-not-open');
  });

  it('When restarted on the same state file while a notice waits for its answer, then the notice is still open and its answer leads to the decision', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tongban-sim-'));
    const stateFile = path.join(dir, 'state.json');
    const start = () =>
      startSimulator({ provinces: [{ code: SC, secret: SECRETS[SC]! }], reviewDelayMs: 50, correctionDelayMs: 50, callbackRetry: { initialBackoffMs: 50 }, stateFile });
    try {
      const first = await start();
      first.setScenario(SC, 'correction');
      const c = await createCaseOn(first);
      expect((await submit(c, first)).status).toBe(202);
      const notice = await waitForNotice(c);
      const code = notice.deficiencies[0]!.materialCode;
      expect((await uploadSupplement(c, code, 1, { target: first })).status).toBe(201);
      await first.close();

      const second = await start();
      try {
        expect((await caseStatus(c, second)).body.status).toBe('awaiting_supplement');
        // The revision received before the restart is still there; a different one of that number conflicts.
        expectProblem(await uploadSupplement(c, code, 1, { bytes: Buffer.from('%PDF-1.7 changed'), key: 'another-key', target: second }), 409, 'revision-conflict');
        const items = [];
        for (const d of notice.deficiencies) {
          if (d.materialCode !== code) expect((await uploadSupplement(c, d.materialCode, 1, { target: second })).status).toBe(201);
          items.push({ materialCode: d.materialCode, sha256: sha256Hex(supplementBytes(d.materialCode, 1)), revision: 1 });
        }
        expect((await answer(c, notice.noticeId, items, { target: second })).status).toBe(202);
        await waitForStatus(c, 'approved', second);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('province simulator: art. 45 procedures', () => {
  it('When the procedure scenario reviews a case, then procedure_started and procedure_ended come in order with one procedureId, then approval', async () => {
    sim.setScenario(SC, 'procedure');
    const c = await submittedCase(SC);
    await waitForCallback(c, 'case.approved');

    const callbacks = receiver.forCase(c.caseId).map((r) => r.event);
    expect(callbacks.map((e) => e.type)).toEqual(['case.accepted', 'review.procedure_started', 'review.procedure_ended', 'case.approved']);
    const events = await polledEvents(c);
    expect(events.map((e) => e.eventId)).toEqual(callbacks.map((e) => e.eventId));
    expect(events.map((e) => e.caseId)).toEqual([c.caseId, c.caseId, c.caseId, c.caseId]);
    const started = events[1]!;
    const ended = events[2]!;
    expect(started).toMatchObject({
      type: 'review.procedure_started',
      data: { procedureId: expect.any(String), kind: 'expert_review', reason: expect.any(String), expectedEnd: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), noticeRef: expect.any(String) },
    });
    expect(ended).toMatchObject({ type: 'review.procedure_ended', data: { procedureId: (started.data as { procedureId: string }).procedureId } });
    expect(Date.parse(started.at)).toBeLessThanOrEqual(Date.parse(ended.at));
  });

  it('When a case is withdrawn during its procedure, then the procedure never ends and nothing is decided', async () => {
    const slow = await startSimulator({ provinces: [{ code: SC, secret: SECRETS[SC]! }], reviewDelayMs: 50, procedureDelayMs: 200 });
    try {
      slow.setScenario(SC, 'procedure');
      const c = await createCaseOn(slow);
      expect((await submit(c, slow)).status).toBe(202);
      await waitFor('the procedure to start', async () => (await caseStatus(c, slow)).body.events.some((e) => e.type === 'review.procedure_started'));
      expect((await withdraw(c, slow)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await caseStatus(c, slow)).body.events.map((e) => e.type)).toEqual(['case.accepted', 'review.procedure_started']);
    } finally {
      await slow.close();
    }
  });
});
