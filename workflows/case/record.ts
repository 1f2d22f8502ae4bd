// The recorder: every state change of a case becomes one numbered event, written to the
// PostgreSQL projection and mirrored in the search attributes Temporal indexes.
//
// Since PROJECTION_PATCH the write is a local activity (no task-queue round trip, two history
// events instead of three) carrying only the event and the case-row fields that changed; writes
// are queued so they reach the database in seq order. Cases started before the patch keep the
// remote `recordCaseEvent` activity with the whole state, so their histories replay unchanged.
//
// A write is never cancelled by a withdrawal (it runs non-cancellable), and a write that keeps
// failing is not retried silently forever: past a bounded number of attempts the case is flagged
// for intervention (kind `projection`) and waits for a staff retry.
import {
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ProjectionActivities } from '../../activities/index.js';
import type { CaseEventData, CaseEventType } from '../../domain/caseEvents.js';
import type { CaseState } from '../../domain/case.js';
import { CLOCK_EVENT_TYPES } from '../../domain/clock.js';
import type { CaseRowChanges } from '../../domain/projection.js';
import { CASE_STAGE_KEY, CASE_STATUS_KEY, CASE_TASK_QUEUE, DUE_DATE_KEY, NEEDS_INTERVENTION_KEY, SLA_STATE_KEY } from '../messages.js';
import { applicantScrubber } from './scrub.js';
import type { CaseRun } from './run.js';

/** The projection write became a local activity carrying only what changed. */
export const PROJECTION_PATCH = 'projection-local-delta';

/** Defaults for cases whose input predates the projection timing (about a minute in all). */
const DEFAULT_PROJECTION_ATTEMPTS = 8;
const DEFAULT_PROJECTION_INITIAL_MS = 500;

export interface Recorder {
  record<T extends CaseEventType>(type: T, data: CaseEventData[T], actor?: string): Promise<void>;
}

type RowFields = Required<CaseRowChanges>;

function rowFieldsOf(state: CaseState): RowFields {
  return {
    needsIntervention: state.needsIntervention,
    decision: state.decision,
    delivery: state.delivery,
    provinceCaseId: state.provinceCaseId,
    correction: state.correction ?? null,
    correctionRounds: state.correctionRounds ?? { receiving: 0, handling: 0 },
    sla: state.sla ?? null,
    consultations: state.consultations ?? [],
    participants: state.participants ?? null,
  };
}

export function createRecorder(c: CaseRun): Recorder {
  const { state, input } = c;
  // Cases from before the patch: the remote activity on the case queue, retried until it succeeds.
  const legacyStore = proxyActivities<ProjectionActivities>({
    taskQueue: CASE_TASK_QUEUE,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
  });
  const projection = proxyLocalActivities<ProjectionActivities>({
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: input.timing.projectionRetryInitialMs ?? DEFAULT_PROJECTION_INITIAL_MS,
      maximumInterval: '30 seconds',
      backoffCoefficient: 2,
      maximumAttempts: input.timing.projectionRetryAttempts ?? DEFAULT_PROJECTION_ATTEMPTS,
    },
  });
  const scrub = applicantScrubber(input.applicant, input.delivery.address);

  // Writes run in one non-cancellable scope made here, not in a scope of their own each: a scope
  // costs three promises that stay unsettled (and, under the SDK's stack-trace hook, each keeps a
  // formatted stack trace) for the life of the case. Running in it takes the same steps.
  const writes = new CancellationScope({ cancellable: false });

  let searchKey = '';
  let written: RowFields | null = null;
  let queue: Promise<void> = Promise.resolve();

  function mirrorSearchAttributes(): void {
    const sla = state.sla ?? null;
    const key = `${state.stage}|${state.status}|${state.needsIntervention !== null}|${sla?.state ?? ''}|${sla?.promised.dueAt ?? ''}`;
    if (key === searchKey) return;
    searchKey = key;
    upsertSearchAttributes([
      { key: CASE_STAGE_KEY, value: state.stage },
      { key: CASE_STATUS_KEY, value: state.status },
      { key: NEEDS_INTERVENTION_KEY, value: state.needsIntervention !== null },
      // Only cases with an SLA clock (workflows/case/sla.ts) carry these.
      ...(sla ? [{ key: SLA_STATE_KEY, value: sla.state }] : []),
      // A pause stops the clock: the due date is unknown until it ends, so it is removed meanwhile.
      ...(sla ? [{ key: DUE_DATE_KEY, value: sla.promised.dueAt ? new Date(sla.promised.dueAt) : null }] : []),
    ]);
  }

  async function writeDelta(event: Parameters<ProjectionActivities['projectCaseEvent']>[0]['event'], fields: RowFields, first: boolean): Promise<void> {
    const changes: CaseRowChanges = {};
    for (const k of Object.keys(fields) as (keyof RowFields)[]) {
      if (!written || JSON.stringify(written[k]) !== JSON.stringify(fields[k])) (changes as Record<string, unknown>)[k] = fields[k];
    }
    const runId = workflowInfo().runId;
    for (;;) {
      try {
        const result = await projection.projectCaseEvent({ caseId: c.caseId, runId, event, changes, input: first ? input : undefined });
        // The case row was last written by another run of this workflow (a reset): send it whole.
        if (result === 'snapshot-required') await projection.projectCaseEvent({ caseId: c.caseId, runId, event, changes: fields, input: first ? input : undefined });
        written = fields;
        return;
      } catch (err) {
        if (isCancellation(err)) throw err;
        await waitForProjectionRetry(err);
      }
    }
  }

  /** Past the attempts the case is flagged where staff look (search attribute, case row if it takes it). */
  async function waitForProjectionRetry(err: unknown): Promise<void> {
    const error = scrub(failureText(err)).slice(0, 1000);
    const stuck = state.needsIntervention;
    state.needsIntervention = { step: 'projection', kind: 'projection', error, since: new Date().toISOString() };
    mirrorSearchAttributes();
    try {
      await projection.flagProjectionFailure({ caseId: c.caseId, intervention: state.needsIntervention });
    } catch {
      // The database may be down altogether; the search attribute still shows the case as stuck.
    }
    c.retryRequested = false;
    await condition(() => c.retryRequested);
    state.needsIntervention = stuck;
    mirrorSearchAttributes();
  }

  async function record<T extends CaseEventType>(type: T, data: CaseEventData[T], actor = 'system'): Promise<void> {
    if (state.needsIntervention) state.needsIntervention = { ...state.needsIntervention, error: scrub(state.needsIntervention.error) };
    state.lastSeq += 1;
    const event = { seq: state.lastSeq, type, stage: state.stage, status: state.status, at: new Date().toISOString(), actor, data: scrub(data) };
    if (isClockEvent(type)) c.clockEvents.push({ type, at: event.at, data: event.data as Record<string, unknown> });
    if (type === 'decision.approved') c.approvedAt = event.at;
    mirrorSearchAttributes();
    if (!patched(PROJECTION_PATCH)) {
      await writes.run(() =>
        legacyStore.recordCaseEvent({ event, state: { ...state, transferredMaterials: [...state.transferredMaterials] }, input: event.seq === 1 ? input : undefined }),
      );
      return;
    }
    const fields = structuredCloneRow(rowFieldsOf(state));
    const first = event.seq === 1;
    // The queued write must itself run in the non-cancellable scope: a callback runs in the scope
    // where it was chained, so chaining it in the procedure's scope would let a withdrawal cancel it.
    const write = writes.run(() => queue.then(() => writeDelta(event, fields, first)));
    queue = write.catch(() => {});
    await write;
    // The SLA clock reads again after the events it counts from (workflows/case/sla.ts).
    if (c.afterRecord) await c.afterRecord(type);
  }

  return { record };
}

const CLOCK_TYPES: ReadonlySet<string> = new Set(CLOCK_EVENT_TYPES);
/** Whether the SLA clock counts from events of this type (domain/clock.ts). */
export function isClockEvent(type: string): boolean {
  return CLOCK_TYPES.has(type);
}

function structuredCloneRow(fields: RowFields): RowFields {
  return JSON.parse(JSON.stringify(fields)) as RowFields;
}

export function failureText(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
