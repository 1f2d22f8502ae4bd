// The projection activities: they write the case's read model in PostgreSQL and run on the case
// queue, next to the database. A province queue never sees them.
import type { Pool } from 'pg';
import type { CaseEvent, CaseInput, CaseState } from '../domain/case.js';
import { insertCase, type PiiKeys } from '../db/cases.js';
import { applyCaseEvent } from '../db/projection.js';
import { withTransaction } from '../db/transaction.js';

/** What the projection activities need: they run on the case queue, next to the database. */
export interface ProjectionDeps {
  pool: Pool;
  pii: PiiKeys;
}

export function createProjectionActivities(deps: ProjectionDeps) {
  return {
    /** Projection: the case row (created from the input on the first event) and one event row. */
    async recordCaseEvent(args: { event: CaseEvent; state: CaseState; input?: CaseInput }): Promise<void> {
      await withTransaction(deps.pool, async (client) => {
        if (args.input) await insertCase(client, args.input, deps.pii);
        await applyCaseEvent(client, args.event, args.state);
      });
    },
  };
}

export type ProjectionActivities = ReturnType<typeof createProjectionActivities>;
