// The projection activities: they write the case's read model in PostgreSQL and run on the case
// queue, next to the database. A province queue never sees them.
import type { Pool } from 'pg';
import type { Histogram } from 'prom-client';
import type { CaseEvent, CaseInput, CaseState, Intervention } from '../domain/case.js';
import type { CaseRowChanges, ProjectionWriteResult } from '../domain/projection.js';
import { insertCase, type PiiKeys } from '../db/cases.js';
import { applyCaseEvent, applyCaseEventChanges, flagProjectionFailure } from '../db/projection.js';
import { withTransaction } from '../db/transaction.js';

/** What the projection activities need: they run on the case queue, next to the database. */
export interface ProjectionDeps {
  pool: Pool;
  pii: PiiKeys;
  metrics?: ProjectionMetrics;
}

/**
 * The projection's lag (worker/metrics.ts): from the event's time in its workflow to its row
 * committed. Observed at write time because the cheap proxies read at scrape time are wrong: the
 * newest event's age is idleness, not lag, and "the workflow has moved past its projected state"
 * would need Temporal asked about every open case. A write that keeps failing shows here as the
 * retries' waits, and once past its budget as an intervention of kind `projection`.
 */
export interface ProjectionMetrics {
  lag: Histogram<never>;
}

export function createProjectionActivities(deps: ProjectionDeps) {
  return {
    /**
     * The current write, run as a local activity: one event row and the case-row fields that
     * changed; the case row is created from the input with the first event if intake's write
     * did not land.
     */
    async projectCaseEvent(args: { caseId: string; runId: string; event: CaseEvent; changes: CaseRowChanges; input?: CaseInput }): Promise<ProjectionWriteResult> {
      const result = await withTransaction(deps.pool, async (client) => {
        if (args.input) await insertCase(client, args.input, deps.pii);
        return applyCaseEventChanges(client, { caseId: args.caseId, runId: args.runId, event: args.event, changes: args.changes });
      });
      if (result === 'written') observeLag(deps.metrics, args.event);
      return result;
    },

    /** Flags a case whose events keep failing to write, so staff find it among the stuck ones. */
    async flagProjectionFailure(args: { caseId: string; intervention: Intervention }): Promise<void> {
      await flagProjectionFailure(deps.pool, args.caseId, args.intervention);
    },

    /** The write of cases started before the projection carried only changes: the whole state each time. */
    async recordCaseEvent(args: { event: CaseEvent; state: CaseState; input?: CaseInput }): Promise<void> {
      await withTransaction(deps.pool, async (client) => {
        if (args.input) await insertCase(client, args.input, deps.pii);
        await applyCaseEvent(client, args.event, args.state);
      });
      observeLag(deps.metrics, args.event);
    },
  };
}

function observeLag(metrics: ProjectionMetrics | undefined, event: CaseEvent): void {
  const at = Date.parse(event.at);
  if (metrics && !Number.isNaN(at)) metrics.lag.observe(Math.max(0, (Date.now() - at) / 1000));
}

export type ProjectionActivities = ReturnType<typeof createProjectionActivities>;
