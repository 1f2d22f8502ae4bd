// tongban's video-meeting client (activities/video.ts) against the simulator's service: every
// answer parsed with contracts/video.ts, a repeated idempotency key answering the same room, and
// each failure the kind the case workflow acts on (transient: a plain Error Temporal retries;
// final: a non-retryable ApplicationFailure with its type).
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVideoActivities, VIDEO_NOT_CONFIGURED, VIDEO_REFUSED, VIDEO_REQUEST_INVALID, type VideoActivities } from '../../activities/video.js';
import type { BookRoomResponse } from '../../contracts/video.js';
import { startSimulator, type Simulator } from '../../simulator/server.js';

let sim: Simulator;
let video: VideoActivities;
const env = new MockActivityEnvironment();

const booking = (key: string, overrides: Record<string, unknown> = {}) => ({
  idempotencyKey: key,
  caseId: randomUUID(),
  topic: '缴费年限核对',
  startsAt: new Date(Date.now() + 3600_000).toISOString(),
  durationMinutes: 30,
  participants: [{ side: 'receiving' as const, staffId: 'clerk-01' }, { side: 'applicant' as const }],
  ...overrides,
});

beforeAll(async () => {
  sim = await startSimulator({ provinces: [{ code: '510000', secret: 'video-client-test-secret' }] });
  video = createVideoActivities({ service: { baseUrl: sim.videoBaseUrl, apiKey: sim.serviceApiKey }, callTimeoutMs: 3000 });
});
afterAll(async () => {
  await sim?.close();
});

describe('the video-meeting client', () => {
  it('When a room is booked twice with one key, then both answers are the same room, and reading it later shows it held with its recording', async () => {
    const request = booking(`${randomUUID()}:video:1`);
    const first = (await env.run(video.bookConsultationRoom, request)) as BookRoomResponse;
    const again = await env.run(video.bookConsultationRoom, request);
    expect(again).toEqual(first);
    expect(first).toMatchObject({ status: 'booked', caseId: request.caseId, joinLinks: [{ side: 'receiving', staffId: 'clerk-01' }, { side: 'applicant' }] });
    sim.holdRoom(first.roomId);
    const held = await env.run(video.getConsultationRoom, { roomId: first.roomId });
    expect(held).toMatchObject({ status: 'held', recording: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), durationSeconds: 1800 } });
  });

  it('When the service is down, then the failure is a plain (retryable) error; when it refuses, then a non-retryable VideoServiceRefused with its status', async () => {
    sim.setVideoScenario('down');
    try {
      const down = await env.run(video.bookConsultationRoom, booking(`${randomUUID()}:video:1`)).catch((e: unknown) => e);
      expect(down).toBeInstanceOf(Error);
      expect(down).not.toBeInstanceOf(ApplicationFailure);
      expect((down as Error).message).toMatch(/answered 503/);
    } finally {
      sim.setVideoScenario('ok');
    }
    const key = `${randomUUID()}:video:1`;
    await env.run(video.bookConsultationRoom, booking(key));
    const reused = await env.run(video.bookConsultationRoom, booking(key, { topic: '另一个议题' })).catch((e: unknown) => e);
    expect(reused).toMatchObject({ type: VIDEO_REFUSED, nonRetryable: true, details: [{ status: 409, problemType: 'https://tongban.example/problems/idempotency-key-reused' }] });
    const unknown = await env.run(video.getConsultationRoom, { roomId: 'vr-nosuchroom' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ type: VIDEO_REFUSED, details: [{ status: 404 }] });
    const wrongKey = createVideoActivities({ service: { baseUrl: sim.videoBaseUrl, apiKey: 'not-the-service-key-at-all' }, callTimeoutMs: 3000 });
    expect(await env.run(wrongKey.getConsultationRoom, { roomId: 'vr-x' }).catch((e: unknown) => e)).toMatchObject({ type: VIDEO_REFUSED, details: [{ status: 401 }] });
  });

  it('When no service is configured or the booking breaks the contract, then it is refused before anything is sent', async () => {
    const none = createVideoActivities({ service: null, callTimeoutMs: 3000 });
    expect(await env.run(none.bookConsultationRoom, booking('k:video:1')).catch((e: unknown) => e)).toMatchObject({ type: VIDEO_NOT_CONFIGURED, nonRetryable: true });
    const duplicate = booking(`${randomUUID()}:video:1`, { participants: [{ side: 'applicant' }, { side: 'applicant' }] });
    expect(await env.run(video.bookConsultationRoom, duplicate).catch((e: unknown) => e)).toMatchObject({ type: VIDEO_REQUEST_INVALID, message: expect.stringMatching(/listed twice/) });
  });
});
