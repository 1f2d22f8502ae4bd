// Province events reach a case by callback (a signal) or by the workflow's own status poll. The
// inbox keeps each eventId once, whichever way it came, and hands the stages the next event of
// the types they wait for. With no callback, the workflow polls the province, waiting twice as
// long after each poll that found nothing new (up to statusPollMaxMs), so a review of weeks keeps
// a small history.
import { condition } from '@temporalio/workflow';
import { PROVINCE_EVENT_TYPES, type ProvinceEvent, type ProvinceEventType } from '../../domain/case.js';
import type { CaseRun } from './run.js';
import { step } from './step.js';

/** Cap of the status-poll backoff for cases whose input predates statusPollMaxMs. */
const DEFAULT_STATUS_POLL_MAX_MS = 6 * 60 * 60 * 1000;

export interface Inbox {
  /** A verified event from a callback or a poll; a repeated eventId is ignored. */
  receive(event: ProvinceEvent): void;
  /** The next event of one of `types`, or null once `alsoStop` holds. */
  next(types: readonly ProvinceEventType[], alsoStop?: () => boolean): Promise<ProvinceEvent | null>;
  /** Poll at once instead of waiting (after a withdrawal the province refused). */
  pollNow(): void;
  /** Drops the events not yet taken: they came from an authority the case has left (a reroute). */
  forget(): void;
}

/** Why an incoming event cannot be taken, or null. The API and the gateway validate first; this is the last fence. */
export function provinceEventProblem(event: unknown): string | null {
  if (!event || typeof event !== 'object') return 'not an object';
  const e = event as Partial<ProvinceEvent>;
  if (typeof e.eventId !== 'string' || e.eventId.length === 0 || e.eventId.length > 200) return 'eventId is missing or malformed';
  if (typeof e.type !== 'string' || !(PROVINCE_EVENT_TYPES as readonly string[]).includes(e.type)) return 'type is not a province event type';
  if (typeof e.at !== 'string') return 'at is missing';
  if (!e.data || typeof e.data !== 'object' || Array.isArray(e.data)) return 'data is not an object';
  if (e.via !== 'callback' && e.via !== 'poll') return 'via is missing';
  return null;
}

export function createInbox(c: CaseRun): Inbox {
  const seen = new Set<string>();
  const events: ProvinceEvent[] = [];
  let pollImmediately = false;

  const receive = (event: ProvinceEvent) => {
    if (seen.has(event.eventId)) return;
    seen.add(event.eventId);
    events.push(event);
  };
  const has = (types: readonly ProvinceEventType[]) => events.some((e) => types.includes(e.type));

  async function next(types: readonly ProvinceEventType[], alsoStop: () => boolean = () => false): Promise<ProvinceEvent | null> {
    const { timing } = c.input;
    const maxWait = timing.statusPollMaxMs ?? DEFAULT_STATUS_POLL_MAX_MS;
    let wait = timing.statusPollAfterMs;
    for (;;) {
      const i = events.findIndex((e) => types.includes(e.type));
      if (i >= 0) return events.splice(i, 1)[0]!;
      if (alsoStop()) return null;
      const arrived = pollImmediately ? false : await condition(() => alsoStop() || has(types), wait);
      pollImmediately = false;
      if (!arrived && c.state.provinceCaseId) {
        const provinceCaseId = c.state.provinceCaseId;
        const known = seen.size;
        const status = await step(c, 'pollProvinceStatus', () => c.province.getProvinceCaseStatus({ caseId: c.caseId, provinceCode: c.provinceCode, provinceCaseId }), () => alsoStop() || has(types));
        for (const e of status?.events ?? []) receive({ ...e, via: 'poll' });
        wait = seen.size > known ? timing.statusPollAfterMs : Math.min(wait * 2, maxWait);
      }
    }
  }

  return { receive, next, pollNow: () => (pollImmediately = true), forget: () => void events.splice(0) };
}
