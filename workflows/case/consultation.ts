// Video consultation (视频会商): when a question is easier settled face to face, either office asks
// for a meeting (the `requestConsultation` update), the case books it with the video-meeting
// service (an activity on the case queue, contracts/video.ts), and staff record its outcome (the
// `recordConsultationOutcome` update): held or not, the minutes, and what was agreed. The case then
// goes on from the agreed step:
//   - before the case went to the handling authority (视频会商收件, so it is accepted right the
//     first time) a consultation holds the transfer until its outcome (or until it is missed or its
//     booking failed); then `correction` is a one-time notice of the receiving window with the
//     agreed deficiencies (the precheck runs again after the supplement), `reject` closes the case
//     not_accepted with the minutes as the reason (see precheck.ts);
//   - after the transfer the notice and the decision are the authority's: the agreement is
//     recorded, and its `review.correction_required` (or decision) follows through the province;
//   - `continue` changes nothing; `withdraw-advised` is recorded, and the applicant may withdraw
//     through the withdraw route.
// Each consultation's booking and its watch run beside the procedure, outside its scope (a
// withdrawal does not stop them): the booking retries within the case's retry budget and, past it
// or at a refusal, is recorded as booking_failed (staff may ask again), never a failed case; a
// booked consultation whose end plus a grace period passes without an outcome is flagged missed.
// Minutes, topics and deficiencies are free text: they are scrubbed of the applicant's personal
// data before they reach the state (and so the projection), and their length is bounded.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { VideoActivities } from '../../activities/index.js';
import {
  CONSULTATION_AGREEMENTS,
  CONSULTATION_SIDES,
  isOpenStatus,
  MAX_CONSULTATION_MINUTES_CHARS,
  type CaseTiming,
  type Consultation,
  type ConsultationAgreement,
  type ConsultationEffect,
  type ConsultationRecording,
  type Deficiency,
} from '../../domain/case.js';
import { CASE_TASK_QUEUE, recordConsultationOutcomeUpdate, requestConsultationUpdate, type ConsultationOutcomeCommand, type ConsultationRequest } from '../messages.js';
import { enter, retryBudgetMs, type CaseRun } from './run.js';
import { applicantScrubber } from './scrub.js';
import { interventionOf } from './step.js';

/** Consultations entered the procedure: a case before acceptance waits for the ones asked for. */
export const CONSULTATIONS_PATCH = 'consultations';

/** The most consultations one case may have (each adds a handful of history events). */
export const MAX_CONSULTATIONS = 10;
export const MAX_PARTICIPANTS = 20;
export const MAX_PROPOSED_TIMES = 5;
export const MAX_TOPIC_CHARS = 200;
/** How long a meeting is booked for. */
export const MEETING_MINUTES = 30;
/** After the booked end, this long to record the outcome before the consultation is flagged missed. */
export const MISSED_GRACE_MS = 2 * 60 * 60 * 1000;
/** Under the seam a working day lasts workingDayMs: an office day of 8 hours, so meeting and grace shrink with it. */
const OFFICE_DAY_MS = 8 * 60 * 60 * 1000;
/** A recording's lookup when the outcome is recorded: staff wait for it, so it is short. */
const LOOKUP_TIMEOUT_MS = 10_000;

/** When a booked consultation without an outcome is flagged missed (docs/case-workflow.md). */
export function missedAfter(k: Pick<Consultation, 'startsAt' | 'endsAt'>, timing: Pick<CaseTiming, 'workingDayMs'>): number {
  const startsAt = Date.parse(k.startsAt!);
  const endsAt = Date.parse(k.endsAt!);
  if (!timing.workingDayMs) return endsAt + MISSED_GRACE_MS;
  return startsAt + Math.round(((endsAt - startsAt + MISSED_GRACE_MS) / OFFICE_DAY_MS) * timing.workingDayMs);
}

/** What an agreement does to the case, before or after the transfer to the handling authority. */
export function effectOf(agreed: ConsultationAgreement, transferred: boolean): ConsultationEffect {
  if (agreed === 'correction') return transferred ? 'authority-notice' : 'receiving-notice';
  if (agreed === 'reject') return transferred ? 'authority-decides' : 'not-accepted';
  return 'none';
}

export function registerConsultationHandlers(c: CaseRun): void {
  const { state, input } = c;
  const consultations = () => (state.consultations ??= []);
  const scrub = applicantScrubber(input.applicant, input.delivery.address);
  const { timing } = input;
  const video = proxyActivities<VideoActivities>({
    taskQueue: CASE_TASK_QUEUE,
    startToCloseTimeout: timing.callTimeoutMs,
    scheduleToCloseTimeout: retryBudgetMs(timing),
    retry: { initialInterval: timing.retryInitialIntervalMs, maximumInterval: timing.retryMaximumIntervalMs, backoffCoefficient: 2, maximumAttempts: timing.retryMaximumAttempts },
  });
  const lookup = proxyActivities<VideoActivities>({
    taskQueue: CASE_TASK_QUEUE,
    startToCloseTimeout: Math.min(timing.callTimeoutMs, LOOKUP_TIMEOUT_MS),
    retry: { initialInterval: timing.retryInitialIntervalMs, maximumAttempts: 2 },
  });
  /** Consultations whose outcome an update is recording right now (it looks the recording up first). */
  const recording = new Set<string>();

  setHandler(
    requestConsultationUpdate,
    async (req) => {
      const n = consultations().length + 1;
      const k: Consultation = {
        consultationId: `${c.caseId}:consultation:${n}`,
        topic: scrub(req.topic.trim()),
        participants: req.participants.map(({ side, staffId }) => (staffId === undefined ? { side } : { side, staffId })),
        proposedTimes: req.proposedTimes.map((t) => new Date(Date.parse(t)).toISOString()),
        requestedBy: req.actor,
        requestedAt: new Date().toISOString(),
        beforeAcceptance: !c.transferStarted,
        status: 'requested',
        roomId: null,
        startsAt: null,
        endsAt: null,
        joinLinks: [],
        failure: null,
        missedAt: null,
        outcome: null,
      };
      consultations().push(k);
      await c.record(
        'consultation.requested',
        { consultationId: k.consultationId, topic: k.topic, participants: k.participants, proposedTimes: k.proposedTimes, beforeAcceptance: k.beforeAcceptance, role: req.role, region: req.region },
        req.actor,
      );
      // Booked beside the procedure: the update answers now, the room follows.
      c.consultationWork.push(arrange(k, n));
      return state;
    },
    {
      validator: (req: ConsultationRequest) => {
        const problem = requestProblem(req);
        if (problem) throw invalid(problem);
        if (!isOpenStatus(state.status)) throw notAllowed(`the case is already ${state.status}`);
        if (c.withdrawal) throw notAllowed('the case is being withdrawn');
        if (state.decision) throw notAllowed('the handling authority has decided the case: there is nothing left to consult on');
        const open = consultations().find((k) => k.status === 'requested' || k.status === 'booked');
        if (open) throw notAllowed(`consultation ${open.consultationId} is still ${open.status}: record its outcome first`);
        if (consultations().length >= MAX_CONSULTATIONS) throw notAllowed(`a case may have at most ${MAX_CONSULTATIONS} consultations`);
        if (!req.proposedTimes.some((t) => Date.parse(t) > Date.now())) throw invalid('every proposed time has passed');
      },
    },
  );

  setHandler(
    recordConsultationOutcomeUpdate,
    async (cmd) => {
      const k = consultations().find((x) => x.consultationId === cmd.consultationId)!;
      recording.add(k.consultationId);
      try {
        const rec = cmd.held && k.roomId ? await recordingOf(k.roomId) : null;
        const deficiencies = cmd.agreed === 'correction' ? scrub(cmd.deficiencies!.map(({ materialCode, problem, needed }) => ({ materialCode, problem: problem.trim(), needed: needed.trim() }))) : null;
        const minutes = scrub(cmd.minutes.trim());
        // Read after the lookup: what the agreement does depends on where the case is now.
        const effect = effectOf(cmd.agreed, c.transferStarted);
        k.outcome = { held: cmd.held, minutes, agreed: cmd.agreed, ...(deficiencies ? { deficiencies } : {}), effect, recording: rec, recordedBy: cmd.actor, recordedAt: new Date().toISOString() };
        k.status = cmd.held ? 'held' : 'not_held';
        const data = { consultationId: k.consultationId, minutes, agreed: cmd.agreed, deficiencies, effect, role: cmd.role, region: cmd.region };
        if (cmd.held) await c.record('consultation.held', { ...data, recording: rec }, cmd.actor);
        else await c.record('consultation.not_held', data, cmd.actor);
      } finally {
        recording.delete(k.consultationId);
      }
      return state;
    },
    {
      validator: (cmd: ConsultationOutcomeCommand) => {
        if (!cmd || !cmd.actor) throw invalid('an outcome needs an actor');
        const k = consultations().find((x) => x.consultationId === cmd.consultationId);
        if (!k) throw notOpen(`no consultation ${cmd.consultationId}`);
        if (k.outcome || recording.has(k.consultationId)) throw notOpen(`consultation ${k.consultationId} already has its outcome (${k.status})`);
        if (k.status !== 'booked' && k.status !== 'missed') throw notOpen(`consultation ${k.consultationId} is ${k.status}: only a booked or missed consultation has an outcome`);
        if (!isOpenStatus(state.status)) throw notOpen(`the case is already ${state.status}`);
        if (c.withdrawal) throw notOpen('the case is being withdrawn');
        const problem = outcomeProblem(cmd, new Set(input.item.materials.map((m) => m.code)));
        if (problem) throw invalid(problem);
      },
    },
  );

  /** Books the room, then watches for the outcome until the consultation is missed or the case ends. */
  async function arrange(k: Consultation, n: number): Promise<void> {
    const startsAt = k.proposedTimes.find((t) => Date.parse(t) > Date.now());
    if (!startsAt) return bookingFailed(k, 'refused', 'every proposed time had passed when the booking was made');
    let room;
    try {
      room = await video.bookConsultationRoom({
        // Derived from the case and the consultation, never from the attempt: a retry answers the same room.
        idempotencyKey: `${c.caseId}:video:${n}`,
        caseId: c.caseId,
        topic: k.topic,
        startsAt,
        durationMinutes: MEETING_MINUTES,
        participants: k.participants,
      });
    } catch (err) {
      const failure = interventionOf('bookConsultationRoom', err);
      return bookingFailed(k, failure.kind === 'refused' ? 'refused' : 'unreachable', failure.reason ? `${failure.error} (${failure.reason})` : failure.error);
    }
    Object.assign(k, { status: 'booked', roomId: room.roomId, startsAt: room.startsAt, endsAt: room.endsAt, joinLinks: room.joinLinks });
    await c.record('consultation.booked', { consultationId: k.consultationId, roomId: room.roomId, startsAt: room.startsAt, endsAt: room.endsAt, joinLinks: room.joinLinks });
    // A case that ended while the room was being booked has no outcome to wait for.
    if (!isOpenStatus(state.status)) return;

    const settled = () => k.outcome !== null || recording.has(k.consultationId) || !isOpenStatus(state.status);
    if (await condition(settled, Math.max(1, missedAfter(k, timing) - Date.now()))) return;
    const roomStatus = await roomStatusOf(k.roomId!);
    if (settled()) return;
    k.status = 'missed';
    k.missedAt = new Date().toISOString();
    await c.record('consultation.missed', { consultationId: k.consultationId, roomId: k.roomId!, endsAt: k.endsAt!, roomStatus });
  }

  async function bookingFailed(k: Consultation, kind: 'refused' | 'unreachable', error: string): Promise<void> {
    k.status = 'failed';
    k.failure = scrub(error).slice(0, 1000);
    await c.record('consultation.booking_failed', { consultationId: k.consultationId, kind, error: k.failure });
  }

  /** The recording reference of a held meeting, as the service has it; null when it has none or cannot be asked. */
  async function recordingOf(roomId: string): Promise<ConsultationRecording | null> {
    try {
      const room = await lookup.getConsultationRoom({ roomId });
      if (room.status !== 'held') return null;
      const { recordingId, url, sha256, durationSeconds } = room.recording;
      return { recordingId, url, sha256, durationSeconds };
    } catch {
      return null;
    }
  }

  /** What the service says became of the room (booked, held, missed, cancelled); null when it cannot be asked. */
  async function roomStatusOf(roomId: string): Promise<string | null> {
    try {
      return (await lookup.getConsultationRoom({ roomId })).status;
    } catch {
      return null;
    }
  }
}

/** What the consultations before acceptance agreed: go on to the transfer, issue a notice, or the case has closed. */
export type AgreedBeforeAcceptance = { step: 'transfer' } | { step: 'notice'; deficiencies: Deficiency[] } | { step: 'closed' };

/**
 * 视频会商收件: while a consultation asked for before acceptance is requested or booked, the case
 * waits here (after the precheck passed, before the transfer); then it acts on each outcome it has
 * not acted on yet, in the order asked: `continue` and `withdraw-advised` go on, `correction` is a
 * notice of the receiving window, `reject` closes the case not_accepted with the minutes as reason.
 */
export async function consultBeforeAcceptance(c: CaseRun): Promise<AgreedBeforeAcceptance> {
  const all = () => c.state.consultations ?? [];
  // Taken in with consultBeforeAcceptance: the case waits at the precheck until one is requested.
  if (c.input.consultBeforeAcceptance && all().length === 0) {
    await c.record('precheck.awaiting_consultation', {});
    await condition(() => all().length > 0);
  }
  for (;;) {
    await condition(() => !all().some((k) => k.status === 'requested' || k.status === 'booked'));
    const k = all().find((x) => x.outcome && !c.consultationsTaken.includes(x.consultationId));
    if (!k) return { step: 'transfer' };
    c.consultationsTaken.push(k.consultationId);
    const outcome = k.outcome!;
    if (outcome.agreed === 'correction' && outcome.deficiencies?.length) return { step: 'notice', deficiencies: outcome.deficiencies };
    if (outcome.agreed === 'reject') {
      enter(c, 'closed', 'not_accepted');
      await c.record('case.closed', { outcome: 'not_accepted', reason: outcome.minutes, consultationId: k.consultationId });
      return { step: 'closed' };
    }
  }
}

/** Waits until every consultation's booking and watch has ended (they end with the case). */
export async function settleConsultations(c: CaseRun): Promise<void> {
  let awaited = 0;
  while (awaited < c.consultationWork.length) {
    awaited = c.consultationWork.length;
    await Promise.all(c.consultationWork);
  }
}

function requestProblem(req: ConsultationRequest): string | null {
  if (!req || !req.actor) return 'a consultation needs an actor';
  if (typeof req.topic !== 'string' || req.topic.trim().length === 0 || req.topic.trim().length > MAX_TOPIC_CHARS) return `topic: 1–${MAX_TOPIC_CHARS} characters`;
  if (!Array.isArray(req.participants) || req.participants.length < 1 || req.participants.length > MAX_PARTICIPANTS) return `participants: 1–${MAX_PARTICIPANTS}`;
  const seen = new Set<string>();
  for (const p of req.participants) {
    if (!p || !(CONSULTATION_SIDES as readonly string[]).includes(p.side)) return `participants: side must be one of ${CONSULTATION_SIDES.join(', ')}`;
    if (p.side === 'applicant' && p.staffId !== undefined) return 'participants: an applicant has no staffId';
    if (p.staffId !== undefined && (typeof p.staffId !== 'string' || p.staffId.length === 0 || p.staffId.length > 128)) return 'participants: staffId is 1–128 characters';
    const who = `${p.side}\u0000${p.staffId ?? ''}`;
    if (seen.has(who)) return `participants: ${p.side}${p.staffId ? ` ${p.staffId}` : ''} is listed twice`;
    seen.add(who);
  }
  if (!Array.isArray(req.proposedTimes) || req.proposedTimes.length < 1 || req.proposedTimes.length > MAX_PROPOSED_TIMES) return `proposedTimes: 1–${MAX_PROPOSED_TIMES}`;
  if (req.proposedTimes.some((t) => typeof t !== 'string' || Number.isNaN(Date.parse(t)))) return 'proposedTimes: each must be an ISO 8601 date-time';
  return null;
}

function outcomeProblem(cmd: ConsultationOutcomeCommand, materials: ReadonlySet<string>): string | null {
  if (typeof cmd.held !== 'boolean') return 'held: true or false';
  if (typeof cmd.minutes !== 'string' || cmd.minutes.trim().length === 0 || cmd.minutes.length > MAX_CONSULTATION_MINUTES_CHARS) return `minutes: 1–${MAX_CONSULTATION_MINUTES_CHARS} characters`;
  if (!(CONSULTATION_AGREEMENTS as readonly string[]).includes(cmd.agreed)) return `agreed: one of ${CONSULTATION_AGREEMENTS.join(', ')}`;
  if (cmd.agreed !== 'correction') return cmd.deficiencies === undefined ? null : 'deficiencies: only with agreed: correction';
  if (!Array.isArray(cmd.deficiencies) || cmd.deficiencies.length === 0) return 'deficiencies: required with agreed: correction (the one-time notice lists every one)';
  const seen = new Set<string>();
  for (const d of cmd.deficiencies) {
    if (!d || typeof d.materialCode !== 'string' || !materials.has(d.materialCode)) return `deficiencies: ${String(d?.materialCode)} is not a material of the item`;
    if (seen.has(d.materialCode)) return `deficiencies: ${d.materialCode} is listed twice`;
    seen.add(d.materialCode);
    if (typeof d.problem !== 'string' || !d.problem.trim() || d.problem.length > 500 || typeof d.needed !== 'string' || !d.needed.trim() || d.needed.length > 500) {
      return `deficiencies: ${d.materialCode} needs a problem and what is needed (1–500 characters each)`;
    }
  }
  return null;
}

function notAllowed(message: string) {
  return ApplicationFailure.nonRetryable(message, 'ConsultationNotAllowed');
}

function notOpen(message: string) {
  return ApplicationFailure.nonRetryable(message, 'ConsultationNotOpen');
}

function invalid(message: string) {
  return ApplicationFailure.nonRetryable(message, 'ConsultationInvalid');
}
