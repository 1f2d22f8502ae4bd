// The province activities (activities/province.ts over activities/gateway.ts) against the real
// simulator, and against a tiny misbehaving HTTP peer for answers the simulator never gives: every
// answer is parsed with contracts/province.ts, and each failure has the kind the workflow acts on.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROVINCE_REFUSED, PROVINCE_RESPONSE_INVALID } from '../../activities/gateway.js';
import { createProvinceActivities, type ProvinceActivities } from '../../activities/province.js';
import { findBuiltinItem } from '../../catalog/seed.js';
import { createCaseRequestOf, type CaseInput } from '../../domain/case.js';
import { createFilesystemStore, type MaterialsStore } from '../../materials/store.js';
import { startSimulator, type Simulator } from '../../simulator/server.js';

const SC = '510000';
const BAD = '430000';
const SECRET = 'sichuan-gateway-test-secret';

let sim: Simulator;
let store: MaterialsStore;
let storeDir: string;
let activities: ProvinceActivities;
/** What the misbehaving peer answers next: status and raw body. */
let nextAnswer: { status: number; body: string } = { status: 200, body: '{}' };
let badPeer: Server;

beforeAll(async () => {
  sim = await startSimulator({ provinces: [{ code: SC, secret: SECRET }], reviewDelayMs: 50, correctionDelayMs: 50, slowMs: 5000 });
  badPeer = createServer((req, res) => {
    req.resume();
    res.writeHead(nextAnswer.status, { 'content-type': 'application/json' }).end(nextAnswer.body);
  });
  await new Promise<void>((resolve) => badPeer.listen(0, '127.0.0.1', resolve));
  storeDir = mkdtempSync(path.join(tmpdir(), 'tongban-gw-'));
  store = createFilesystemStore(storeDir);
  activities = createProvinceActivities({
    store,
    callTimeoutMs: 3000,
    heartbeatIntervalMs: 50,
    provinces: [
      { code: SC, baseUrl: sim.baseUrlFor(SC), secret: SECRET },
      { code: BAD, baseUrl: `http://127.0.0.1:${(badPeer.address() as AddressInfo).port}/provinces/${BAD}`, secret: 'whatever' },
    ],
  });
});

afterAll(async () => {
  await sim?.close();
  badPeer?.closeAllConnections();
  await new Promise((resolve) => badPeer?.close(resolve));
  rmSync(storeDir, { recursive: true, force: true });
});

beforeEach(() => sim.reset());

function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const FILE = Buffer.from('%PDF-1.7 gateway test');

async function caseInput(): Promise<CaseInput> {
  const stored = await store.put(Readable.from([FILE]), { maxBytes: 1024 });
  const item = findBuiltinItem('pension-transfer')!;
  return {
    caseId: randomUUID(),
    item,
    applicant: { name: '张三', idNumber: '11010519491231002X', phone: '13800138000' },
    receivingRegion: '440100',
    handlingRegion: '510100',
    channel: 'window',
    materials: [{ materialCode: 'transfer-application', fileId: randomUUID(), sha256: stored.sha256, size: stored.size, contentType: 'application/pdf' }],
    delivery: { method: 'electronic' },
    submittedAt: new Date().toISOString(),
    submittedBy: { id: 'clerk-1', role: 'clerk', region: '440100' },
    callbackUrl: 'http://127.0.0.1:9/v1/province-callbacks/510000',
    timing: { retryInitialIntervalMs: 100, retryMaximumIntervalMs: 200, retryMaximumAttempts: 3, callTimeoutMs: 3000, statusPollAfterMs: 1000 },
  };
}

async function createdCase() {
  const input = await caseInput();
  const call = { caseId: input.caseId, provinceCode: SC };
  const { provinceCaseId } = await run(activities.createProvinceCase, { ...call, idempotencyKey: `${input.caseId}:create`, request: createCaseRequestOf(input) });
  return { input, call, provinceCaseId };
}

async function submittedCase() {
  const c = await createdCase();
  const m = c.input.materials[0]!;
  await run(activities.uploadMaterial, { ...c.call, idempotencyKey: `${c.input.caseId}:material:${m.materialCode}`, provinceCaseId: c.provinceCaseId, materialCode: m.materialCode, sha256: m.sha256, contentType: m.contentType });
  await run(activities.submitProvinceCase, { ...c.call, idempotencyKey: `${c.input.caseId}:submit`, provinceCaseId: c.provinceCaseId });
  return c;
}

describe('province gateway: creating the case', () => {
  it('When a task scheduled by older workflow code carries the whole case input, then the province receives the same request as from the request itself', async () => {
    const c = await createdCase();
    // The simulator answers a reused key from its store only for the same body (else 409).
    const legacy = await run(activities.createProvinceCase, { ...c.call, idempotencyKey: `${c.input.caseId}:create`, input: c.input });

    expect(legacy.provinceCaseId).toBe(c.provinceCaseId);
    const creates = sim.requests(SC).filter((r) => r.method === 'POST' && r.path.endsWith('/cases'));
    expect(creates.map((r) => [r.status, r.idempotencyKey])).toEqual([
      [201, `${c.input.caseId}:create`],
      [201, `${c.input.caseId}:create`],
    ]);
  });
});

describe('province gateway: refusals and outages', () => {
  it('When the province refuses with a 4xx, then a non-retryable ProvinceRefused carries status, reason and problem type', async () => {
    const c = await createdCase();
    const failure = await failureOf(run(activities.submitProvinceCase, { ...c.call, idempotencyKey: `${c.input.caseId}:submit`, provinceCaseId: c.provinceCaseId }));

    expect(failure.type).toBe(PROVINCE_REFUSED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ status: 409, reason: expect.stringContaining('transfer-application'), problemType: expect.stringMatching(/\/missing-materials$/) }]);
  });

  it('When the province is down, then the failure is a plain retryable error saying it answered 503', async () => {
    sim.setScenario(SC, 'down');
    const error = await run(activities.findProvinceCase, { caseId: randomUUID(), provinceCode: SC }).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).message).toMatch(/^province 510000 answered 503 to GET \/cases\?caseId=/);
  });

  it('When nothing listens, then the failure is a plain error saying the province is unreachable', async () => {
    const offline = createProvinceActivities({ store, callTimeoutMs: 1000, provinces: [{ code: SC, baseUrl: 'http://127.0.0.1:9/provinces/510000', secret: SECRET }] });
    const error = await run(offline.findProvinceCase, { caseId: randomUUID(), provinceCode: SC }).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).message).toMatch(/^province 510000 unreachable: GET \/cases/);
  });
});

describe('province gateway: answers that break the contract', () => {
  it('When a create answer lacks provinceCaseId, then ProvinceResponseInvalid names the field', async () => {
    nextAnswer = { status: 201, body: JSON.stringify({ provinceCaseId: 42, status: 'awaiting_materials' }) };
    const input = await caseInput();
    const failure = await failureOf(run(activities.createProvinceCase, { caseId: input.caseId, provinceCode: BAD, idempotencyKey: `${input.caseId}:create`, input }));

    expect(failure.type).toBe(PROVINCE_RESPONSE_INVALID);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^province 430000 answered POST \/cases with an invalid body: provinceCaseId: /);
  });

  it('When a poll event carries a NUL or a certificate without issuer, then ProvinceResponseInvalid names the event fields', async () => {
    const caseId = randomUUID();
    const events = [
      { eventId: 'e-1', caseId, type: 'case.accepted', at: new Date().toISOString(), data: { provinceCaseId: 'p-1\u0000' } },
      { eventId: 'e-2', caseId, type: 'case.approved', at: new Date().toISOString(), data: { certificate: { certificateId: 'c', sha256: 'a'.repeat(64), issuedAt: new Date().toISOString() } } },
    ];
    nextAnswer = { status: 200, body: JSON.stringify({ provinceCaseId: 'p-1', caseId, status: 'approved', events }) };
    const failure = await failureOf(run(activities.getProvinceCaseStatus, { caseId, provinceCode: BAD, provinceCaseId: 'p-1' }));

    expect(failure.type).toBe(PROVINCE_RESPONSE_INVALID);
    expect(failure.message).toContain('events.0.data.provinceCaseId');
    expect(failure.message).toContain('events.1.data.certificate.issuer');
  });

  it('When a poll answer holds an event of another case, then ProvinceResponseInvalid', async () => {
    const caseId = randomUUID();
    const events = [{ eventId: 'e-1', caseId: randomUUID(), type: 'case.accepted', at: new Date().toISOString(), data: {} }];
    nextAnswer = { status: 200, body: JSON.stringify({ provinceCaseId: 'p-1', caseId, status: 'reviewing', events }) };
    const failure = await failureOf(run(activities.getProvinceCaseStatus, { caseId, provinceCode: BAD, provinceCaseId: 'p-1' }));

    expect(failure.type).toBe(PROVINCE_RESPONSE_INVALID);
    expect(failure.message).toContain('events.0.caseId');
  });

  it('When a poll answer is valid, then unknown data fields are stripped', async () => {
    const caseId = randomUUID();
    const events = [{ eventId: 'e-1', caseId, type: 'delivery.mailed', at: new Date().toISOString(), data: { trackingNumber: '1151000000001', recipientPhone: '13800138000' } }];
    nextAnswer = { status: 200, body: JSON.stringify({ provinceCaseId: 'p-1', caseId, status: 'approved', events }) };
    const status = await run(activities.getProvinceCaseStatus, { caseId, provinceCode: BAD, provinceCaseId: 'p-1' });

    expect(status.events[0]?.data).toEqual({ trackingNumber: '1151000000001' });
  });
});

describe('province gateway: the calls a withdrawal makes', () => {
  it('When the province has no case for the tongban case, then findProvinceCase is null and creates nothing', async () => {
    expect(await run(activities.findProvinceCase, { caseId: randomUUID(), provinceCode: SC })).toBeNull();
    expect(sim.requests(SC).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 404']);
  });

  it('When the province has the case, then findProvinceCase answers its id and status', async () => {
    const c = await createdCase();
    expect(await run(activities.findProvinceCase, c.call)).toEqual({ provinceCaseId: c.provinceCaseId, status: 'awaiting_materials' });
  });

  it('When a 404 is not the protocol\u2019s unknown-case, then it is not taken for "no case"', async () => {
    nextAnswer = { status: 404, body: JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }) };
    const failure = await failureOf(run(activities.findProvinceCase, { caseId: randomUUID(), provinceCode: BAD }));
    expect(failure.type).toBe(PROVINCE_REFUSED);
  });

  it('When the case is undecided, then the withdrawal answers withdrawn', async () => {
    const c = await createdCase();
    expect(await run(activities.withdrawProvinceCase, { ...c.call, idempotencyKey: `${c.input.caseId}:withdraw`, provinceCaseId: c.provinceCaseId, reason: '申请人撤回' })).toEqual({ status: 'withdrawn' });
  });

  it('When the province has decided, then the withdrawal answers the decision instead of failing', async () => {
    const c = await submittedCase();
    for (let i = 0; i < 100 && (await run(activities.getProvinceCaseStatus, { ...c.call, provinceCaseId: c.provinceCaseId })).status !== 'approved'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await run(activities.withdrawProvinceCase, { ...c.call, idempotencyKey: `${c.input.caseId}:withdraw`, provinceCaseId: c.provinceCaseId, reason: '申请人撤回' });
    expect(result).toEqual({ status: 'decided', outcome: 'approved' });
  });

  it('When a slow call is cancelled, then it stops at once with a cancellation, having heartbeaten meanwhile', async () => {
    sim.setScenario(SC, 'slow');
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const started = Date.now();
    const pending = env.run(activities.findProvinceCase, { caseId: randomUUID(), provinceCode: SC }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 300));
    env.cancel();
    const error = await pending;

    expect(error).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(beats).toBeGreaterThanOrEqual(3);
  });
});

describe('province gateway: corrections (补正)', () => {
  /** A submitted case under the correction scenario, once its notice is open. */
  async function caseAwaitingSupplement() {
    sim.setScenario(SC, 'correction');
    const c = await submittedCase();
    const status = await pollUntil(c, 'awaiting_supplement');
    const notice = status.events.find((e) => e.type === 'review.correction_required');
    if (notice?.type !== 'review.correction_required') throw new Error('no correction notice in the poll');
    return { ...c, notice: notice.data };
  }

  async function pollUntil(c: Awaited<ReturnType<typeof submittedCase>>, status: string) {
    for (let i = 0; i < 200; i++) {
      const polled = await run(activities.getProvinceCaseStatus, { ...c.call, provinceCaseId: c.provinceCaseId });
      if (polled.status === status) return polled;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`the case never became ${status}`);
  }

  async function storedSupplement(text: string) {
    return store.put(Readable.from([Buffer.from(`%PDF-1.7 ${text}`)]), { maxBytes: 1024 });
  }

  it('When the supplements are uploaded with a revision and the notice answered, then the review resumes and approves', async () => {
    const c = await caseAwaitingSupplement();
    expect(c.notice.deficiencies.map((d) => d.materialCode)).toEqual(['transfer-application']);
    const supplement = await storedSupplement('补正 transfer-application r1');
    const upload = { ...c.call, idempotencyKey: `${c.input.caseId}:material:transfer-application:r1`, provinceCaseId: c.provinceCaseId, materialCode: 'transfer-application', sha256: supplement.sha256, contentType: 'application/pdf', revision: 1 };

    expect(await run(activities.uploadSupplement, upload)).toEqual({ sha256: supplement.sha256, size: supplement.size, revision: 1 });
    const answered = await run(activities.answerCorrection, {
      ...c.call,
      idempotencyKey: `${c.input.caseId}:answer:${c.notice.noticeId}`,
      provinceCaseId: c.provinceCaseId,
      noticeId: c.notice.noticeId,
      items: [{ materialCode: 'transfer-application', sha256: supplement.sha256, revision: 1 }],
    });
    expect(answered).toEqual({ noticeId: c.notice.noticeId, status: 'reviewing', answeredAt: expect.any(String) });

    const done = await pollUntil(c, 'approved');
    expect(done.events.map((e) => e.type)).toEqual(['case.accepted', 'review.correction_required', 'case.approved']);
    const put = sim.requests(SC).find((r) => r.method === 'PUT' && r.path.endsWith('?revision=1'));
    expect(put).toMatchObject({ idempotencyKey: `${c.input.caseId}:material:transfer-application:r1`, status: 201 });
  });

  it('When the answer leaves the deficiency unanswered or the notice is not open, then ProvinceRefused carries the status and problem type', async () => {
    const c = await caseAwaitingSupplement();
    const supplement = await storedSupplement('补正 never uploaded');
    const base = { ...c.call, provinceCaseId: c.provinceCaseId, items: [{ materialCode: 'transfer-application', sha256: supplement.sha256, revision: 1 }] };

    const incomplete = await failureOf(run(activities.answerCorrection, { ...base, idempotencyKey: 'k-incomplete', noticeId: c.notice.noticeId }));
    expect(incomplete.type).toBe(PROVINCE_REFUSED);
    expect(incomplete.details).toEqual([{ status: 422, reason: expect.stringContaining('transfer-application'), problemType: expect.stringMatching(/\/answer-incomplete$/) }]);

    const notOpen = await failureOf(run(activities.answerCorrection, { ...base, idempotencyKey: 'k-not-open', noticeId: 'no-such-notice' }));
    expect(notOpen.type).toBe(PROVINCE_REFUSED);
    expect(notOpen.details).toEqual([{ status: 409, reason: expect.stringContaining('no-such-notice'), problemType: expect.stringMatching(/\/notice-not-open$/) }]);
  });

  it('When a supplement receipt names another revision, or an answer another notice, then ProvinceResponseInvalid', async () => {
    const supplement = await storedSupplement('补正 bad peer');
    const call = { caseId: randomUUID(), provinceCode: BAD, idempotencyKey: 'k', provinceCaseId: 'p-1' };
    nextAnswer = { status: 201, body: JSON.stringify({ materialCode: 'transfer-application', sha256: supplement.sha256, size: supplement.size, receivedAt: new Date().toISOString() }) };
    const receipt = await failureOf(run(activities.uploadSupplement, { ...call, materialCode: 'transfer-application', sha256: supplement.sha256, contentType: 'application/pdf', revision: 2 }));
    expect(receipt.type).toBe(PROVINCE_RESPONSE_INVALID);
    expect(receipt.message).toContain('revision (none)');

    nextAnswer = { status: 202, body: JSON.stringify({ noticeId: 'other-notice', status: 'reviewing', answeredAt: new Date().toISOString() }) };
    const other = await failureOf(run(activities.answerCorrection, { ...call, noticeId: 'n-1', items: [{ materialCode: 'transfer-application', sha256: supplement.sha256, revision: 1 }] }));
    expect(other.type).toBe(PROVINCE_RESPONSE_INVALID);
    expect(other.message).toContain('other-notice');

    nextAnswer = { status: 202, body: JSON.stringify({ noticeId: 'n-1', status: 'thinking', answeredAt: 'now' }) };
    const invalid = await failureOf(run(activities.answerCorrection, { ...call, noticeId: 'n-1', items: [{ materialCode: 'transfer-application', sha256: supplement.sha256, revision: 1 }] }));
    expect(invalid.type).toBe(PROVINCE_RESPONSE_INVALID);
    expect(invalid.message).toMatch(/status: .*answeredAt: /);
  });
});
