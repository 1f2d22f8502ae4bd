// The simulator's outside services against contracts/video.ts, contracts/sms.ts and
// docs/outside-services.md: the video-meeting service under /video and the SMS gateway under
// /sms, over real HTTP against a started simulator, with the admin API a test uses to play the
// meeting (held, missed), the outages and the carrier.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../crypto/signing.js';
import { fieldErrorsProblemSchema, sendSmsResponseSchema, smsMessageSchema, type SmsMessage } from '../../contracts/sms.js';
import { bookRoomResponseSchema, recordingSchema, roomNotCancellableProblemSchema, videoRoomSchema, type BookRoomResponse, type VideoRoom } from '../../contracts/video.js';
import { startSimulator, type SmsRecord, type Simulator } from '../../simulator/server.js';

const PROBLEMS = 'https://tongban.example/problems/';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ provinces: [{ code: '510000', secret: 'sichuan-test-secret' }], port: 0, smsDeliveryDelayMs: 50 });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.reset();
});

// --- a client ----------------------------------------------------------------------------------

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
  bytes: Buffer;
}

interface CallOptions {
  json?: unknown;
  /** The Authorization header; default the simulator's bearer key, null for none. */
  authorization?: string | null;
}

type Json = Record<string, unknown>;

async function call<T = Json>(method: string, url: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  const authorization = opts.authorization === undefined ? `Bearer ${sim.serviceApiKey}` : opts.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: opts.json === undefined ? undefined : JSON.stringify(opts.json) });
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const body = (/json/.test(type) && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : bytes.toString('utf8')) as T;
  return { status: response.status, headers: response.headers, body, bytes };
}

const video = <T = Json>(method: string, path: string, opts?: CallOptions) => call<T>(method, `${sim.videoBaseUrl}${path}`, opts);
const sms = <T = Json>(method: string, path: string, opts?: CallOptions) => call<T>(method, `${sim.smsBaseUrl}${path}`, opts);
const admin = <T = Json>(method: string, path: string, json?: unknown) => call<T>(method, `${sim.url}/_admin${path}`, { json, authorization: null });

function expectProblem(reply: Reply<unknown>, status: number, slug: string): Json {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = reply.body as Json;
  expect(problem).toMatchObject({ type: `${PROBLEMS}${slug}`, status });
  return problem;
}

// --- fixtures ----------------------------------------------------------------------------------

function booking(overrides: Json = {}) {
  return {
    idempotencyKey: `${randomUUID()}:video:1`,
    caseId: randomUUID(),
    topic: '养老保险关系转移：缴费年限核对',
    startsAt: '2026-11-25T10:00:00+08:00',
    durationMinutes: 30,
    participants: [{ side: 'receiving', staffId: 'clerk-440100-01' }, { side: 'handling', staffId: 'reviewer-510000-07' }, { side: 'applicant' }],
    ...overrides,
  };
}

function message(overrides: Json = {}) {
  return {
    idempotencyKey: `${randomUUID()}:sms:accepted`,
    to: '13800138000',
    template: 'case-accepted',
    text: '【跨省通办】您的申请已受理，受理编号 510000-000001，请留意后续短信。',
    caseId: randomUUID(),
    ...overrides,
  };
}

async function book(body = booking()): Promise<BookRoomResponse> {
  const reply = await video('POST', '/rooms', { json: body });
  expect(reply.status).toBe(201);
  return bookRoomResponseSchema.parse(reply.body);
}

async function messagesOf(key: string): Promise<SmsRecord[]> {
  const reply = await admin<SmsRecord[]>('GET', '/sms/messages');
  expect(reply.status).toBe(200);
  return reply.body.filter((m) => m.idempotencyKey === key);
}

// --- the video-meeting service -----------------------------------------------------------------

describe('video-meeting service', () => {
  it('When a room is booked, then 201 answers a join link per participant and the end time, and GET shows it booked', async () => {
    const body = booking();
    const room = await book(body);

    expect(room).toMatchObject({ caseId: body.caseId, topic: body.topic, status: 'booked', startsAt: '2026-11-25T02:00:00.000Z', endsAt: '2026-11-25T02:30:00.000Z' });
    expect(room.joinLinks.map(({ side, staffId }) => ({ side, staffId }))).toEqual([
      { side: 'receiving', staffId: 'clerk-440100-01' },
      { side: 'handling', staffId: 'reviewer-510000-07' },
      { side: 'applicant', staffId: undefined },
    ]);
    expect(new Set(room.joinLinks.map((l) => l.url)).size).toBe(3);

    const read = await video('GET', `/rooms/${room.roomId}`);
    expect(read.status).toBe(200);
    expect(videoRoomSchema.parse(read.body)).toEqual(room);

    // A join link opens without the API key: the link is the applicant's credential.
    const page = await call<string>('GET', room.joinLinks[2]!.url, { authorization: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('申请人');
  });

  it('When the same booking is sent again, one after another or all at once, then every answer is the first room', async () => {
    const body = booking();
    const first = await book(body);

    const again = await video('POST', '/rooms', { json: body });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first);

    // The same body with its keys in another order is the same booking.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await video<BookRoomResponse>('POST', '/rooms', { json: reordered })).body.roomId).toBe(first.roomId);

    const burst = await Promise.all(Array.from({ length: 10 }, () => video<BookRoomResponse>('POST', '/rooms', { json: body })));
    expect(burst.map((r) => [r.status, r.body.roomId])).toEqual(Array.from({ length: 10 }, () => [201, first.roomId]));

    const concurrentBody = booking();
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => video<BookRoomResponse>('POST', '/rooms', { json: concurrentBody })));
    expect(new Set(concurrent.map((r) => r.body.roomId)).size).toBe(1);
    expect(concurrent.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    expect(concurrent[0]!.body.roomId).not.toBe(first.roomId);
  });

  it('When the key comes back with another body, then 409 and the first room stays as it was', async () => {
    const body = booking();
    const first = await book(body);

    const conflict = await video('POST', '/rooms', { json: { ...body, durationMinutes: 60 } });
    expectProblem(conflict, 409, 'idempotency-key-reused');

    expect((await video('GET', `/rooms/${first.roomId}`)).body).toEqual(first);
  });

  it('When a booking is invalid, then 400 names every bad field', async () => {
    const reply = await video('POST', '/rooms', {
      json: booking({ durationMinutes: 0, startsAt: 'tomorrow', participants: [{ side: 'applicant', staffId: 'x' }, { side: 'handling' }, { side: 'handling' }] }),
    });
    const problem = fieldErrorsProblemSchema.parse(expectProblem(reply, 400, 'malformed-body'));
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['durationMinutes', 'participants.0.staffId', 'participants.2', 'startsAt']);

    expectProblem(await call('POST', `${sim.videoBaseUrl}/rooms`, {}), 400, 'malformed-body');
  });

  it('When the meeting is held, then the room carries a recording whose bytes download with the key and hash to its sha256', async () => {
    const room = await book();

    const held = await admin<VideoRoom>('POST', `/video/rooms/${room.roomId}/hold`, { durationSeconds: 1500 });
    expect(held.status).toBe(200);

    const read = videoRoomSchema.parse((await video('GET', `/rooms/${room.roomId}`)).body);
    expect(read.status).toBe('held');
    if (read.status !== 'held') throw new Error('unreachable');
    const recording = recordingSchema.parse(read.recording);
    expect(recording.durationSeconds).toBe(1500);

    const download = await call('GET', recording.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect(download.bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(sha256Hex(download.bytes)).toBe(recording.sha256);
    expectProblem(await call('GET', recording.url, { authorization: null }), 401, 'unauthorized');

    // Held is final: the links close, a cancel is refused with the room's status, holding again changes nothing.
    expectProblem(await call('GET', room.joinLinks[0]!.url, { authorization: null }), 410, 'room-closed');
    const refused = roomNotCancellableProblemSchema.parse(expectProblem(await video('POST', `/rooms/${room.roomId}/cancel`), 409, 'room-not-cancellable'));
    expect(refused.roomStatus).toBe('held');
    expect(sim.holdRoom(room.roomId)).toEqual(read);
  });

  it('When nobody came, then the room is missed, without a recording, and can no longer be held', async () => {
    const room = await book();

    expect(sim.missRoom(room.roomId)).toMatchObject({ roomId: room.roomId, status: 'missed' });
    const read = (await video('GET', `/rooms/${room.roomId}`)).body;
    expect(videoRoomSchema.parse(read)).toMatchObject({ status: 'missed' });
    expect(read).not.toHaveProperty('recording');

    expectProblem(await admin('POST', `/video/rooms/${room.roomId}/hold`), 409, 'room-not-booked');
    expectProblem(await admin('POST', '/video/rooms/vr-unknown/miss'), 404, 'unknown-room');
  });

  it('When a booked room is cancelled, then it is cancelled with the reason, and a repeat changes nothing', async () => {
    const room = await book();

    const cancelled = await video<VideoRoom>('POST', `/rooms/${room.roomId}/cancel`, { json: { reason: '申请人撤回申请' } });
    expect(cancelled.status).toBe(200);
    expect(videoRoomSchema.parse(cancelled.body)).toMatchObject({ status: 'cancelled', cancelReason: '申请人撤回申请' });

    // An empty body is a cancel without a reason; on a cancelled room it answers the room as it is.
    const again = await video('POST', `/rooms/${room.roomId}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(cancelled.body);

    expectProblem(await admin('POST', `/video/rooms/${room.roomId}/hold`), 409, 'room-not-booked');
    expectProblem(await call('GET', room.joinLinks[1]!.url, { authorization: null }), 410, 'room-closed');
  });

  it('When the service is down, then every call answers 503 problem+json, and once it is back a booking goes through', async () => {
    const room = await book();
    expect((await admin('POST', '/video/scenario', { scenario: 'down' })).body).toEqual({ scenario: 'down' });

    const body = booking();
    expectProblem(await video('POST', '/rooms', { json: body }), 503, 'unavailable');
    expectProblem(await video('GET', `/rooms/${room.roomId}`), 503, 'unavailable');
    expectProblem(await video('POST', `/rooms/${room.roomId}/cancel`), 503, 'unavailable');
    expectProblem(await video('GET', `/rooms/${room.roomId}`, { authorization: null }), 503, 'unavailable');
    expectProblem(await call('GET', room.joinLinks[0]!.url, { authorization: null }), 503, 'unavailable');

    sim.setVideoScenario('ok');
    // Nothing was booked during the outage: the retry is a first booking, not a replay.
    const retry = await video('POST', '/rooms', { json: body });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect((await video('GET', `/rooms/${room.roomId}`)).body).toMatchObject({ status: 'booked' });
  });

  it('When a call comes without the key or with another one, then 401 problem+json with WWW-Authenticate', async () => {
    const room = await book();

    for (const authorization of [null, `Basic ${Buffer.from(`u:${sim.serviceApiKey}`).toString('base64')}`, 'Bearer', `Bearer ${sim.serviceApiKey}x`]) {
      const reply = await video('GET', `/rooms/${room.roomId}`, { authorization });
      expectProblem(reply, 401, 'unauthorized');
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm="video"/);
    }
    expectProblem(await video('POST', '/rooms', { json: booking(), authorization: null }), 401, 'unauthorized');

    expectProblem(await video('GET', '/rooms/vr-0000000000000000'), 404, 'unknown-room');
  });
});

// --- the SMS gateway ---------------------------------------------------------------------------

describe('SMS gateway', () => {
  it('When a message is sent, then 202 accepted, and its status read masks the number, leaves out the text and turns delivered', async () => {
    const body = message();
    const sent = await sms('POST', '/messages', { json: body });
    expect(sent.status).toBe(202);
    const { messageId } = sendSmsResponseSchema.parse(sent.body);

    let read: SmsMessage | undefined;
    await vi.waitFor(
      async () => {
        read = smsMessageSchema.parse((await sms('GET', `/messages/${messageId}`)).body);
        expect(read.status).toBe('delivered');
      },
      { timeout: 3000, interval: 25 },
    );
    expect(read).toMatchObject({ messageId, to: '138****8000', template: 'case-accepted', caseId: body.caseId });
    expect(read).not.toHaveProperty('text');

    const [record] = await messagesOf(body.idempotencyKey);
    expect(record).toMatchObject({ messageId, to: '13800138000', text: body.text, status: 'delivered', replays: 0 });
  });

  it('When the same send is repeated, then the same messageId comes back every time and one message is sent', async () => {
    const body = message();
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await sms('POST', '/messages', { json: body }));

    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(replies.map((r) => (r.body as Json).messageId)).size).toBe(1);
    expect(replies.map((r) => r.headers.get('idempotent-replayed'))).toEqual([null, 'true', 'true', 'true', 'true']);

    const records = await messagesOf(body.idempotencyKey);
    expect(records).toHaveLength(1);
    expect(records[0]!.replays).toBe(4);
  });

  it('When the same send arrives many times at once, then still one message per key', async () => {
    const a = message();
    const b = message({ to: '13912345678' });
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => sms<Json>('POST', '/messages', { json: i % 2 === 0 ? a : b })));

    expect(replies.every((r) => r.status === 202)).toBe(true);
    expect(new Set(replies.filter((_, i) => i % 2 === 0).map((r) => r.body.messageId)).size).toBe(1);
    expect(new Set(replies.filter((_, i) => i % 2 === 1).map((r) => r.body.messageId)).size).toBe(1);
    expect(await messagesOf(a.idempotencyKey)).toHaveLength(1);
    expect(await messagesOf(b.idempotencyKey)).toHaveLength(1);
    expect(sim.smsMessages()).toHaveLength(2);
  });

  it('When the key comes back with another body, then 409 and nothing more is sent', async () => {
    const body = message();
    expect((await sms('POST', '/messages', { json: body })).status).toBe(202);

    expectProblem(await sms('POST', '/messages', { json: { ...body, text: `${body.text}（更正）` } }), 409, 'idempotency-key-reused');
    expectProblem(await sms('POST', '/messages', { json: { ...body, to: '13900000000' } }), 409, 'idempotency-key-reused');

    const records = await messagesOf(body.idempotencyKey);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ text: body.text, to: body.to });
  });

  it('When the text is too long or the number is not a mainland mobile, then 400 names the field and nothing is sent', async () => {
    const tooLong = fieldErrorsProblemSchema.parse(expectProblem(await sms('POST', '/messages', { json: message({ text: '字'.repeat(501) }) }), 400, 'malformed-body'));
    expect(tooLong.errors).toEqual([{ path: 'text', message: 'must have at most 500 characters' }]);

    for (const to of ['+8613800138000', '1380013800', '12800138000', '138-0013-8000']) {
      const problem = fieldErrorsProblemSchema.parse(expectProblem(await sms('POST', '/messages', { json: message({ to }) }), 400, 'malformed-body'));
      expect(problem.errors.map((e) => e.path)).toEqual(['to']);
    }
    expect(sim.smsMessages()).toEqual([]);

    // The limit itself is fine.
    expect((await sms('POST', '/messages', { json: message({ text: '字'.repeat(500) }) })).status).toBe(202);
  });

  it('When the gateway is flaky, then every other request about a key fails with 503 and the retry sends it once', async () => {
    expect((await admin('POST', '/sms/scenario', { scenario: 'flaky' })).body).toEqual({ scenario: 'flaky' });
    const body = message();

    expectProblem(await sms('POST', '/messages', { json: body }), 503, 'unavailable');
    expect(await messagesOf(body.idempotencyKey)).toHaveLength(0);

    const sent = await sms<Json>('POST', '/messages', { json: body });
    expect(sent.status).toBe(202);
    expectProblem(await sms('POST', '/messages', { json: body }), 503, 'unavailable');
    const replayed = await sms<Json>('POST', '/messages', { json: body });
    expect(replayed.status).toBe(202);
    expect(replayed.body.messageId).toBe(sent.body.messageId);

    // Reads alternate per message, starting with a failure too.
    expectProblem(await sms('GET', `/messages/${String(sent.body.messageId)}`), 503, 'unavailable');
    expect((await sms('GET', `/messages/${String(sent.body.messageId)}`)).status).toBe(200);

    expect(await messagesOf(body.idempotencyKey)).toHaveLength(1);
  });

  it('When the gateway is down, then every call answers 503 and nothing is sent', async () => {
    sim.setSmsScenario('down');
    const body = message();
    expectProblem(await sms('POST', '/messages', { json: body }), 503, 'unavailable');
    expectProblem(await sms('POST', '/messages', { json: body, authorization: null }), 503, 'unavailable');
    expectProblem(await sms('GET', '/messages/sms-unknown'), 503, 'unavailable');
    expect(sim.smsMessages()).toEqual([]);

    await admin('POST', '/sms/scenario', { scenario: 'ok' });
    expect((await sms('POST', '/messages', { json: body })).status).toBe(202);
  });

  it('When the carrier cannot deliver, then the status turns failed with a reason', async () => {
    expect((await admin('POST', '/sms/delivery', { outcome: 'failed' })).body).toEqual({ outcome: 'failed' });
    const sent = await sms<Json>('POST', '/messages', { json: message() });

    await vi.waitFor(
      async () => {
        const read = smsMessageSchema.parse((await sms('GET', `/messages/${String(sent.body.messageId)}`)).body);
        expect(read).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('UNDELIV') });
      },
      { timeout: 3000, interval: 25 },
    );
  });

  it('When a call comes without the key, then 401; an unknown message is 404', async () => {
    const reply = await sms('POST', '/messages', { json: message(), authorization: null });
    expectProblem(reply, 401, 'unauthorized');
    expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="sms"');
    expectProblem(await sms('GET', '/messages/sms-unknown', { authorization: 'Bearer wrong-key-0123456789' }), 401, 'unauthorized');
    expect(sim.smsMessages()).toEqual([]);

    expectProblem(await sms('GET', '/messages/sms-unknown'), 404, 'unknown-message');
  });
});

// --- both --------------------------------------------------------------------------------------

describe('simulator controls', () => {
  it('When the state is reset, then rooms, messages and scenarios are forgotten', async () => {
    const room = await book();
    await sms('POST', '/messages', { json: message() });
    sim.setSmsScenario('down');
    sim.setVideoScenario('down');

    expect((await admin('DELETE', '/state')).status).toBe(204);

    expect(sim.smsMessages()).toEqual([]);
    expectProblem(await video('GET', `/rooms/${room.roomId}`), 404, 'unknown-room');
    expect((await sms('POST', '/messages', { json: message() })).status).toBe(202);
  });

  it('When started with a serviceApiKey, then that key is the one both services take; a key unfit for a header is refused', async () => {
    const serviceApiKey = 'dev-service-key-0123456789';
    const other = await startSimulator({ provinces: [{ code: '510000', secret: 's' }], serviceApiKey });
    try {
      expect(other.serviceApiKey).toBe(serviceApiKey);
      const sent = await call('POST', `${other.smsBaseUrl}/messages`, { json: message(), authorization: `Bearer ${serviceApiKey}` });
      expect(sent.status).toBe(202);
      expectProblem(await call('GET', `${other.videoBaseUrl}/rooms/x`, { authorization: `Bearer ${sim.serviceApiKey}` }), 401, 'unauthorized');
    } finally {
      await other.close();
    }
    await expect(startSimulator({ provinces: [{ code: '510000', secret: 's' }], serviceApiKey: 'has a space in it' })).rejects.toThrow(/serviceApiKey/);
  });
});
