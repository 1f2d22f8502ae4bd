// A province call that may need a person: past its retry budget (or at a final refusal) the case
// is flagged for intervention, saying which kind it is, and waits for a staff retry. With
// `obsolete`, the wait also ends when the call is no longer needed (a poll made moot by the
// callback it stood in for); the step then returns null. A step that can say what its call would
// have answered (`offlineStep`) may instead be recorded as done outside the system (线下办理, with
// evidence and a second person's approval: recordOfflineUpdate); it then returns that answer.
import { ActivityFailure, ApplicationFailure, condition, isCancellation } from '@temporalio/workflow';
import type { Intervention } from '../../domain/case.js';
import type { OfflineStepCommand } from '../messages.js';
import type { CaseRun } from './run.js';

/**
 * Failure types of the gateway (activities/gateway.ts) that mean "the province said no".
 * ProvinceRejectedRequest is the name gateways threw before ProvinceRefused; older histories hold it.
 */
const REFUSAL_TYPES = new Set(['ProvinceRefused', 'ProvinceRejectedRequest', 'ProvinceResponseInvalid', 'ProvinceNotConfigured', 'MaterialMissing']);

export function step<T>(c: CaseRun, name: string, call: () => Promise<T>): Promise<T>;
export function step<T>(c: CaseRun, name: string, call: () => Promise<T>, obsolete: () => boolean): Promise<T | null>;
export async function step<T>(c: CaseRun, name: string, call: () => Promise<T>, obsolete: () => boolean = () => false): Promise<T | null> {
  return stepOr(c, name, call, obsolete, null);
}

/** A step that staff may record as done offline: `offline` answers what the call would have. */
export async function offlineStep<T>(c: CaseRun, name: string, call: () => Promise<T>, offline: (cmd: OfflineStepCommand) => T): Promise<T> {
  return (await stepOr(c, name, call, () => false, offline))!;
}

async function stepOr<T>(c: CaseRun, name: string, call: () => Promise<T>, obsolete: () => boolean, offline: ((cmd: OfflineStepCommand) => T) | null): Promise<T | null> {
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (isCancellation(err)) throw err;
      const intervention = interventionOf(name, err);
      c.state.needsIntervention = intervention;
      c.retryRequested = false;
      await c.record('intervention.required', {
        step: name,
        kind: intervention.kind ?? 'unreachable',
        error: intervention.error,
        reason: intervention.reason ?? null,
        status: intervention.status ?? null,
      });
      c.stuckStep = { name, offline: offline !== null };
      await condition(() => c.retryRequested || obsolete() || c.offline !== null);
      c.stuckStep = null;
      if (c.offline && offline) {
        const done = c.offline;
        c.offline = null;
        return offline(done);
      }
      if (!c.retryRequested) {
        c.state.needsIntervention = null;
        await c.record('intervention.cleared', { step: name, by: 'province event' });
        return null;
      }
    }
  }
}

/** `refused` when the province answered with a final no (with its reason), `unreachable` otherwise. */
export function interventionOf(stepName: string, err: unknown): Intervention {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const error = (cause instanceof Error ? cause.message : String(cause)).slice(0, 1000);
  const since = new Date().toISOString();
  if (cause instanceof ApplicationFailure && (cause.nonRetryable || (cause.type && REFUSAL_TYPES.has(cause.type)))) {
    const detail = (cause.details?.[0] ?? {}) as { status?: unknown; reason?: unknown };
    return {
      step: stepName,
      kind: 'refused',
      error,
      ...(typeof detail.reason === 'string' && detail.reason ? { reason: detail.reason.slice(0, 500) } : {}),
      ...(typeof detail.status === 'number' ? { status: detail.status } : {}),
      since,
    };
  }
  return { step: stepName, kind: 'unreachable', error, since };
}
