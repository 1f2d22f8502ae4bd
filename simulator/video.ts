// The video-meeting service tongban books 视频会商 with (contracts/video.ts,
// docs/outside-services.md), simulated under /video: rooms with a personal join link per
// participant, cancellation, and, set by tests through /_admin because no one really meets here,
// what the meeting turned into: held (with a downloadable recording whose hash the room states)
// or missed. The `down` scenario answers 503 to every call, for tongban's outage handling.
//
// Memory only: unlike the provinces' cases, rooms do not survive a restart of the simulator.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  IDEMPOTENCY_KEY_REUSED_SLUG,
  ROOM_NOT_CANCELLABLE_SLUG,
  UNAUTHORIZED_SLUG,
  UNAVAILABLE_SLUG,
  UNKNOWN_ROOM_SLUG,
  bookRoomRequestSchema,
  cancelRoomRequestSchema,
  type BookRoomRequest,
  type BookRoomResponse,
  type JoinLink,
  type VideoParticipant,
  type VideoRoom,
  type VideoRoomStatus,
} from '../contracts/video.js';
import { sha256Hex } from '../crypto/signing.js';
import { ProblemError } from './problem.js';
import { IdempotencyStore, fingerprintOf, parseServiceBody, rawBodyOf, requireApiKey, sendAnswer, type Answer } from './serviceHttp.js';

export const VIDEO_SCENARIOS = ['ok', 'down'] as const;
export type VideoScenario = (typeof VIDEO_SCENARIOS)[number];

const RECORDING_CONTENT_TYPE = 'video/mp4';

interface StoredLink extends VideoParticipant {
  token: string;
}

interface StoredRecording {
  recordingId: string;
  durationSeconds: number;
  bytes: Buffer;
  sha256: string;
}

interface StoredRoom {
  roomId: string;
  caseId: string;
  topic: string;
  startsAt: string;
  endsAt: string;
  durationMinutes: number;
  links: StoredLink[];
  status: VideoRoomStatus;
  recording: StoredRecording | null;
  cancelledAt: string | null;
  cancelReason: string | null;
}

export class VideoMeetings {
  scenario: VideoScenario = 'ok';
  private readonly rooms = new Map<string, StoredRoom>();
  private readonly joinTokens = new Map<string, { room: StoredRoom; link: StoredLink }>();
  private readonly recordings = new Map<string, StoredRecording>();
  private readonly bookings = new IdempotencyStore<BookRoomResponse>(
    (key) => new ProblemError(409, IDEMPOTENCY_KEY_REUSED_SLUG, 'Idempotency key reused', `idempotencyKey ${key} was first used with a different booking`),
  );

  /** `publicUrl()`: the simulator's base URL, read when a link is made (it is known once listening). */
  constructor(private readonly publicUrl: () => string) {}

  /** Throws the 503 of the `down` scenario. */
  admit(): void {
    if (this.scenario === 'down') throw new ProblemError(503, UNAVAILABLE_SLUG, 'Service unavailable', 'the video-meeting service is down');
  }

  setScenario(scenario: VideoScenario): void {
    this.scenario = scenario;
  }

  /** `POST /video/rooms`: a new room, or the first answer again for a repeated key. */
  book(request: BookRoomRequest): Answer<BookRoomResponse> {
    return this.bookings.answer(request.idempotencyKey, fingerprintOf(request), () => {
      const startsAtMs = Date.parse(request.startsAt);
      const room: StoredRoom = {
        roomId: `vr-${randomBytes(8).toString('hex')}`,
        caseId: request.caseId,
        topic: request.topic,
        startsAt: new Date(startsAtMs).toISOString(),
        endsAt: new Date(startsAtMs + request.durationMinutes * 60_000).toISOString(),
        durationMinutes: request.durationMinutes,
        links: request.participants.map((p) => ({ ...p, token: randomBytes(16).toString('hex') })),
        status: 'booked',
        recording: null,
        cancelledAt: null,
        cancelReason: null,
      };
      this.rooms.set(room.roomId, room);
      for (const link of room.links) this.joinTokens.set(link.token, { room, link });
      return { status: 201, body: { ...this.roomFields(room), status: 'booked' } };
    });
  }

  room(roomId: string): VideoRoom {
    return this.view(this.stored(roomId));
  }

  /** Cancels a booked room; a cancelled one answers as it is (a repeat changes nothing). */
  cancel(roomId: string, reason: string | undefined): VideoRoom {
    const room = this.stored(roomId);
    if (room.status === 'held' || room.status === 'missed') {
      throw new ProblemError(409, ROOM_NOT_CANCELLABLE_SLUG, 'Room not cancellable', `room ${roomId} is ${room.status}; only a booked room can be cancelled`, { roomStatus: room.status });
    }
    if (room.status === 'booked') {
      room.status = 'cancelled';
      room.cancelledAt = new Date().toISOString();
      room.cancelReason = reason ?? null;
    }
    return this.view(room);
  }

  /** Admin: the meeting took place; the room gets its recording (of the booked length unless given). */
  hold(roomId: string, durationSeconds?: number): VideoRoom {
    const room = this.stored(roomId);
    if (room.status === 'held') return this.view(room);
    requireBooked(room, 'held');
    const recordingId = `rec-${randomBytes(8).toString('hex')}`;
    const seconds = durationSeconds ?? room.durationMinutes * 60;
    const bytes = placeholderRecording(`tongban simulator: recording ${recordingId} of room ${room.roomId} (case ${room.caseId}), ${seconds} s\n`);
    room.recording = { recordingId, durationSeconds: seconds, bytes, sha256: sha256Hex(bytes) };
    room.status = 'held';
    this.recordings.set(recordingId, room.recording);
    return this.view(room);
  }

  /** Admin: nobody came. */
  miss(roomId: string): VideoRoom {
    const room = this.stored(roomId);
    if (room.status === 'missed') return this.view(room);
    requireBooked(room, 'missed');
    room.status = 'missed';
    return this.view(room);
  }

  recording(recordingId: string): { bytes: Buffer; contentType: string } {
    const recording = this.recordings.get(recordingId);
    if (!recording) throw new ProblemError(404, UNKNOWN_ROOM_SLUG, 'Unknown recording', `no recording ${recordingId}`);
    return { bytes: recording.bytes, contentType: RECORDING_CONTENT_TYPE };
  }

  /** The page behind a join link: open while the room is booked. */
  joinPage(token: string): string {
    const found = this.joinTokens.get(token);
    if (!found) throw new ProblemError(404, UNKNOWN_ROOM_SLUG, 'Unknown room', 'no room has this join link');
    const { room, link } = found;
    if (room.status !== 'booked') throw new ProblemError(410, 'room-closed', 'Room closed', `room ${room.roomId} is ${room.status}`);
    const who = `${SIDE_NAMES[link.side]}${link.staffId ? `（${link.staffId}）` : ''}`;
    return `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>视频会商</title><h1>视频会商：${escapeHtml(room.topic)}</h1><p>会商室 ${escapeHtml(room.roomId)}，${escapeHtml(room.startsAt)} 至 ${escapeHtml(room.endsAt)}</p><p>以${escapeHtml(who)}身份加入（模拟）</p></html>`;
  }

  reset(): void {
    this.scenario = 'ok';
    this.rooms.clear();
    this.joinTokens.clear();
    this.recordings.clear();
    this.bookings.clear();
  }

  private stored(roomId: string): StoredRoom {
    const room = this.rooms.get(roomId);
    if (!room) throw new ProblemError(404, UNKNOWN_ROOM_SLUG, 'Unknown room', `no room ${roomId}`);
    return room;
  }

  private roomFields(room: StoredRoom): Omit<BookRoomResponse, 'status'> {
    const base = this.publicUrl();
    const joinLinks = room.links.map(
      ({ side, staffId, token }): JoinLink => ({ side, ...(staffId !== undefined ? { staffId } : {}), url: `${base}/video/join/${token}` }),
    );
    return { roomId: room.roomId, caseId: room.caseId, topic: room.topic, startsAt: room.startsAt, endsAt: room.endsAt, joinLinks };
  }

  private view(room: StoredRoom): VideoRoom {
    const fields = this.roomFields(room);
    switch (room.status) {
      case 'held': {
        const { recordingId, sha256, durationSeconds } = room.recording!;
        return { ...fields, status: 'held', recording: { recordingId, url: `${this.publicUrl()}/video/recordings/${recordingId}`, sha256, durationSeconds } };
      }
      case 'cancelled':
        return { ...fields, status: 'cancelled', cancelledAt: room.cancelledAt!, ...(room.cancelReason !== null ? { cancelReason: room.cancelReason } : {}) };
      default:
        return { ...fields, status: room.status };
    }
  }
}

const SIDE_NAMES: Record<VideoParticipant['side'], string> = { receiving: '收件地窗口', handling: '办理地', applicant: '申请人' };

function requireBooked(room: StoredRoom, wanted: VideoRoomStatus): void {
  if (room.status !== 'booked') throw new ProblemError(409, 'room-not-booked', 'Room not booked', `room ${room.roomId} is ${room.status}; it cannot become ${wanted}`);
}

/**
 * Stand-in bytes for a recording: an MP4 `ftyp` box (so a content sniffer sees video/mp4) and a
 * `free` box carrying a line of text. Not playable; what matters is that its hash is stable.
 */
function placeholderRecording(note: string): Buffer {
  const ftyp = Buffer.concat([u32(24), Buffer.from('ftypisom'), u32(0x200), Buffer.from('isommp42')]);
  const text = Buffer.from(note, 'utf8');
  return Buffer.concat([ftyp, u32(8 + text.length), Buffer.from('free'), text]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface VideoRoutesOptions {
  video: VideoMeetings;
  apiKey: string;
}

interface RoomParams {
  roomId: string;
}

/** The service's routes, mounted by simulator/server.ts with `prefix: '/video'`. */
export const videoRoutes: FastifyPluginAsync<VideoRoutesOptions> = async (scope, { video, apiKey }) => {
  // Down means down: every call, authenticated or not, join links and recordings too.
  scope.addHook('onRequest', async () => video.admit());

  // A join link is its own credential: the person it was made for opens it in a browser.
  scope.get<{ Params: { token: string } }>('/join/:token', async (request, reply) => {
    const page = video.joinPage(request.params.token);
    return reply.type('text/html; charset=utf-8').send(page);
  });

  await scope.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => requireApiKey(request, reply, { apiKey, realm: 'video', slug: UNAUTHORIZED_SLUG }));

    api.post('/rooms', async (request, reply) => sendAnswer(reply, video.book(parseServiceBody(rawBodyOf(request), bookRoomRequestSchema))));

    api.get<{ Params: RoomParams }>('/rooms/:roomId', async (request) => video.room(request.params.roomId));

    api.post<{ Params: RoomParams }>('/rooms/:roomId/cancel', async (request) => {
      const body = parseServiceBody(rawBodyOf(request), cancelRoomRequestSchema, { emptyIsObject: true });
      return video.cancel(request.params.roomId, body.reason);
    });

    api.get<{ Params: { recordingId: string } }>('/recordings/:recordingId', async (request, reply) => {
      const { bytes, contentType } = video.recording(request.params.recordingId);
      return reply.type(contentType).send(bytes);
    });
  });
};

const holdRequestSchema = z.object({ durationSeconds: z.number().int().min(0).max(24 * 3600).optional() });

/** The unsigned `/_admin/video/…` controls for tests (loopback only, like the provinces' admin API). */
export function registerVideoAdminRoutes(app: FastifyInstance, video: VideoMeetings): void {
  app.post('/_admin/video/scenario', async (request) => {
    const { scenario } = parseServiceBody(rawBodyOf(request), z.object({ scenario: z.enum(VIDEO_SCENARIOS) }));
    video.setScenario(scenario);
    return { scenario };
  });

  app.post<{ Params: RoomParams }>('/_admin/video/rooms/:roomId/hold', async (request) => {
    const { durationSeconds } = parseServiceBody(rawBodyOf(request), holdRequestSchema, { emptyIsObject: true });
    return video.hold(request.params.roomId, durationSeconds);
  });

  app.post<{ Params: RoomParams }>('/_admin/video/rooms/:roomId/miss', async (request) => video.miss(request.params.roomId));
}
