// The video-meeting service (视频会商 between the receiving window and the handling authority,
// the applicant optionally joining) as one contract: every request, response and problem type
// tongban and the service exchange is a zod schema or constant here, so the client tongban's
// activities will use and the simulator's service (simulator/video.ts) cannot drift apart.
// docs/outside-services.md describes the API in prose. Pure: no I/O, so workflow code may
// `import type` from it.
//
// Authentication is a bearer API key (`Authorization: Bearer <key>`), not the province
// protocol's HMAC signatures: this is a bought service with its own, simpler scheme.
import { z } from 'zod';
import { isoInstantSchema, problemBodySchema, sha256Schema, text } from './province.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

export const VIDEO_SIDES = ['receiving', 'handling', 'applicant'] as const;
export type VideoSide = (typeof VIDEO_SIDES)[number];

/**
 * `booked` until the meeting time; then `held` (it took place, with a recording) or `missed`
 * (nobody came); `cancelled` when called off before. Only a booked room can change.
 */
export const VIDEO_ROOM_STATUSES = ['booked', 'held', 'cancelled', 'missed'] as const;
export type VideoRoomStatus = (typeof VIDEO_ROOM_STATUSES)[number];

export const MAX_MEETING_MINUTES = 480;
export const MAX_PARTICIPANTS = 20;

/** A client's idempotency key: 1–128 printable ASCII characters, e.g. `<caseId>:video:<round>`. */
export const videoIdempotencyKeySchema = z.string().regex(/^[\x21-\x7E]{1,128}$/, 'must be 1–128 printable ASCII characters');

/** The service's ids (rooms, recordings): printable ASCII, so they can sit in a URL path. */
export const roomIdSchema = z.string().regex(/^[\x21-\x7E]{1,64}$/, 'must be 1–64 printable ASCII characters');
export const recordingIdSchema = roomIdSchema;

/** A staff member's id as tongban knows it (the token's `sub`). */
export const videoStaffIdSchema = text(128);

export const videoParticipantSchema = z.object({
  side: z.enum(VIDEO_SIDES),
  /** Whose link it is on the receiving or handling side; an applicant has none. */
  staffId: videoStaffIdSchema.optional(),
});
export type VideoParticipant = z.infer<typeof videoParticipantSchema>;

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * `POST /video/rooms`: book a room. One join link per participant; the same participant (side
 * and staffId) may not be listed twice, and an applicant carries no staffId.
 * The same `idempotencyKey` with the same body answers the first booking again
 * (`Idempotent-Replayed: true`); with another body it is `409` (`IDEMPOTENCY_KEY_REUSED_SLUG`).
 */
export const bookRoomRequestSchema = z
  .object({
    idempotencyKey: videoIdempotencyKeySchema,
    caseId: z.uuid(),
    topic: text(200),
    startsAt: isoInstantSchema,
    durationMinutes: z.number().int().min(1, 'must be at least 1').max(MAX_MEETING_MINUTES, `must be at most ${MAX_MEETING_MINUTES}`),
    participants: z.array(videoParticipantSchema).min(1, 'must list at least one participant').max(MAX_PARTICIPANTS, `must list at most ${MAX_PARTICIPANTS} participants`),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.participants.forEach((p, i) => {
      if (p.side === 'applicant' && p.staffId !== undefined) ctx.addIssue({ code: 'custom', path: ['participants', i, 'staffId'], message: 'an applicant has no staffId' });
      const who = `${p.side}\u0000${p.staffId ?? ''}`;
      if (seen.has(who)) ctx.addIssue({ code: 'custom', path: ['participants', i], message: `${p.side}${p.staffId ? ` ${p.staffId}` : ''} is listed twice` });
      seen.add(who);
    });
  });
export type BookRoomRequest = z.infer<typeof bookRoomRequestSchema>;

/** `POST /video/rooms/{roomId}/cancel`: the body may be empty. */
export const cancelRoomRequestSchema = z.object({ reason: text(500).optional() });
export type CancelRoomRequest = z.infer<typeof cancelRoomRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Responses

/** A participant's personal link; whoever holds it can join, so it is handed to that person only. */
export const joinLinkSchema = videoParticipantSchema.extend({ url: z.url({ protocol: /^https?$/ }) });
export type JoinLink = z.infer<typeof joinLinkSchema>;

/**
 * The recording of a held meeting: `GET {url}` with the same bearer key answers its bytes, which
 * hash to `sha256`, so tongban can file it in the materials store and verify what it stored.
 */
export const recordingSchema = z.object({
  recordingId: recordingIdSchema,
  url: z.url({ protocol: /^https?$/ }),
  sha256: sha256Schema,
  durationSeconds: z.number().int().min(0),
});
export type Recording = z.infer<typeof recordingSchema>;

const roomFields = {
  roomId: roomIdSchema,
  caseId: z.uuid(),
  topic: text(200),
  startsAt: isoInstantSchema,
  endsAt: isoInstantSchema,
  joinLinks: z.array(joinLinkSchema).min(1).max(MAX_PARTICIPANTS),
};

/**
 * `GET /video/rooms/{roomId}`, and the answer to cancel: the room as it is now. `recording`
 * comes with `held` and only then; `cancelledAt` (and the reason given, if any) with `cancelled`.
 */
export const videoRoomSchema = z.discriminatedUnion('status', [
  z.object({ ...roomFields, status: z.literal('booked') }),
  z.object({ ...roomFields, status: z.literal('held'), recording: recordingSchema }),
  z.object({ ...roomFields, status: z.literal('cancelled'), cancelledAt: isoInstantSchema, cancelReason: text(500).optional() }),
  z.object({ ...roomFields, status: z.literal('missed') }),
]);
export type VideoRoom = z.infer<typeof videoRoomSchema>;

/** `201` to `POST /video/rooms` (and its replays): the room as booked. */
export const bookRoomResponseSchema = z.object({ ...roomFields, status: z.literal('booked') });
export type BookRoomResponse = z.infer<typeof bookRoomResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457 problem+json, `type` = `https://tongban.example/problems/<slug>`)

/** `401`: no `Authorization: Bearer <key>`, or not the right key. */
export const UNAUTHORIZED_SLUG = 'unauthorized';
/** `400`: a body that is not JSON or not valid; `errors` names every bad field. */
export const MALFORMED_BODY_SLUG = 'malformed-body';
export const fieldErrorsProblemSchema = problemBodySchema.extend({
  errors: z.array(z.object({ path: z.string().max(500), message: z.string().max(2000) })).max(100),
});
export type FieldErrorsProblem = z.infer<typeof fieldErrorsProblemSchema>;
/** `503`: the service is down; retry later. */
export const UNAVAILABLE_SLUG = 'unavailable';
/** `409`: an idempotency key first used with a different body. */
export const IDEMPOTENCY_KEY_REUSED_SLUG = 'idempotency-key-reused';
/** `404`: no such room (or recording, or join link). */
export const UNKNOWN_ROOM_SLUG = 'unknown-room';
/** `409` to a cancel of a room that is held or missed; `roomStatus` says which. */
export const ROOM_NOT_CANCELLABLE_SLUG = 'room-not-cancellable';
export const roomNotCancellableProblemSchema = problemBodySchema.extend({ roomStatus: z.enum(VIDEO_ROOM_STATUSES) });
export type RoomNotCancellableProblem = z.infer<typeof roomNotCancellableProblemSchema>;
