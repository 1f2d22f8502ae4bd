// tongban's client of the video-meeting service it books 视频会商 with (contracts/video.ts,
// docs/outside-services.md): a bought service with a bearer API key, not a province, so it has its
// own small client instead of the signed gateway. Every answer is parsed with its schema from the
// contract, and the failure kinds are what the case workflow acts on
// (workflows/case/consultation.ts):
//   - transient (network, timeout, 5xx, 408, 429): a plain Error, retried by Temporal within the
//     case's retry budget; past it the consultation is recorded as booking_failed;
//   - a refusal (any other 4xx): non-retryable `VideoServiceRefused`, details
//     `[{ status, reason, problemType }]`: retrying the same request cannot help;
//   - an answer that breaks the contract: non-retryable `VideoServiceResponseInvalid`;
//   - no service configured (VIDEO_SERVICE_URL unset and no simulator): `VideoServiceNotConfigured`.
// The idempotency key rides in the body (`<caseId>:video:<n>`, derived in the workflow), so every
// retry of one booking answers the same room. Runs on the case queue (worker/system.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { describeIssues, problemBodySchema } from '../contracts/province.js';
import { bookRoomRequestSchema, bookRoomResponseSchema, videoRoomSchema, type BookRoomRequest, type BookRoomResponse, type VideoRoom } from '../contracts/video.js';
import { redactIdNumbers } from '../crypto/pii.js';

/** A refusal (a 4xx other than 408/429): the same request will be refused again. */
export const VIDEO_REFUSED = 'VideoServiceRefused';
/** An answer that does not match contracts/video.ts. */
export const VIDEO_RESPONSE_INVALID = 'VideoServiceResponseInvalid';
/** tongban has no video service to call. */
export const VIDEO_NOT_CONFIGURED = 'VideoServiceNotConfigured';
/** A request that the contract's own schema refuses (never sent). */
export const VIDEO_REQUEST_INVALID = 'VideoRequestInvalid';

export interface VideoService {
  /** e.g. `https://video.example/video` (the simulator's `videoBaseUrl`). */
  baseUrl: string;
  apiKey: string;
}

export interface VideoDeps {
  service: VideoService | null;
  /** One attempt of a call may take this long. */
  callTimeoutMs: number;
}

/** The details of a `VideoServiceRefused` failure. */
export interface VideoRefusal {
  status: number;
  reason: string;
  problemType: string | null;
}

export function createVideoActivities(deps: VideoDeps) {
  async function call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, json: unknown, schema: S): Promise<z.output<S>> {
    const service = deps.service;
    if (!service) throw ApplicationFailure.nonRetryable('no video-meeting service is configured (VIDEO_SERVICE_URL)', VIDEO_NOT_CONFIGURED);
    const what = `${method} ${path}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${service.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: { authorization: `Bearer ${service.apiKey}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: json !== undefined ? JSON.stringify(json) : undefined,
        signal: AbortSignal.timeout(deps.callTimeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      throw new Error(`video service unreachable: ${what}: ${(e as Error).message}`);
    }
    const body = parseJson(text);
    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(body);
      if (parsed.success) return parsed.data;
      throw ApplicationFailure.nonRetryable(`the video service answered ${what} with an invalid body: ${body === undefined ? 'not JSON' : describeIssues(parsed.error)}`, VIDEO_RESPONSE_INVALID, { status });
    }
    const problem = problemBodySchema.safeParse(body);
    const reason = redactIdNumbers(problem.success ? (problem.data.detail ?? problem.data.title ?? '') : text).slice(0, 500);
    const message = `the video service answered ${status} to ${what}${reason ? `: ${reason}` : ''}`;
    if (status >= 500 || status === 408 || status === 429) throw new Error(message);
    const refusal: VideoRefusal = { status, reason, problemType: problem.success ? (problem.data.type ?? null) : null };
    throw ApplicationFailure.nonRetryable(message, VIDEO_REFUSED, refusal);
  }

  return {
    /** Books a room (`POST /rooms`); a repeat of the key answers the first booking again. */
    async bookConsultationRoom(request: BookRoomRequest): Promise<BookRoomResponse> {
      const checked = bookRoomRequestSchema.safeParse(request);
      if (!checked.success) throw ApplicationFailure.nonRetryable(`the booking is not one the video service takes: ${describeIssues(checked.error)}`, VIDEO_REQUEST_INVALID);
      return call('POST', '/rooms', checked.data, bookRoomResponseSchema);
    },

    /** The room now (`GET /rooms/{roomId}`): booked, held (with its recording), missed or cancelled. */
    async getConsultationRoom(args: { roomId: string }): Promise<VideoRoom> {
      return call('GET', `/rooms/${encodeURIComponent(args.roomId)}`, undefined, videoRoomSchema);
    },
  };
}

export type VideoActivities = ReturnType<typeof createVideoActivities>;

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}
