// Housekeeping activities that run on the case queue (next to the database), started by Temporal
// Schedules rather than by cases (workflows/maintenance/; the schedules are created in
// worker/system.ts): the sweep of uploaded files that no case ever referenced, and the escalation
// of evaluation follow-ups left open past their due date.
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { writeAudit } from '../db/audit.js';
import { escalateOverdueFollowUps } from '../db/evaluations.js';
import { withTransaction } from '../db/transaction.js';
import { deleteUnattachedFiles, unreferencedHashes } from '../db/unattachedFiles.js';

import type { MaterialsStore } from '../materials/store.js';

export interface MaintenanceDeps {
  pool: Pool;
  store: Pick<MaterialsStore, 'removeIfOlderThan'>;
  /** Rows deleted per statement; default 500. */
  batchSize?: number;
}

export interface SweepResult {
  filesDeleted: number;
  blobsDeleted: number;
}

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const batchSize = deps.batchSize ?? 500;
  return {
    /**
     * Deletes, batch by batch, the files rows uploaded before `cutoff` that no case references,
     * then each blob that no remaining row shares (the store is content-addressed: two uploads of
     * the same bytes share one blob). The blob check comes after the row delete, so a blob is
     * never removed while a row still points to it; a row re-uploaded meanwhile rewrites the blob,
     * which makes it too new to remove. Safe to retry: what is gone stays gone.
     */
    /**
     * Escalates each open follow-up of a 差评 past its due date (before `today`) to the supervisors of
     * its province, once, with an audit entry. Safe to retry: an escalated follow-up is not again.
     */
    async escalateOverdueFollowUps(args: { today: string }): Promise<{ escalated: number }> {
      return withTransaction(deps.pool, async (client) => {
        const escalated = await escalateOverdueFollowUps(client, args.today);
        for (const e of escalated) {
          await writeAudit(client, {
            actor: 'system', role: 'system', region: e.escalatedTo, action: 'followUp.escalated', caseId: e.caseId,
            reason: `the follow-up owned by ${e.region} was due ${e.dueDate} and is still open`,
            detail: { from: e.region, to: e.escalatedTo, dueDate: e.dueDate },
          });
        }
        return { escalated: escalated.length };
      });
    },

    async sweepUnattachedFiles(args: { cutoff: string }): Promise<SweepResult> {
      const cutoff = new Date(args.cutoff);
      if (Number.isNaN(cutoff.getTime())) throw new Error(`sweepUnattachedFiles: cutoff ${args.cutoff} is not a date`);
      const result: SweepResult = { filesDeleted: 0, blobsDeleted: 0 };
      for (;;) {
        const deleted = await deleteUnattachedFiles(deps.pool, cutoff, batchSize);
        result.filesDeleted += deleted.length;
        for (const sha256 of await unreferencedHashes(deps.pool, deleted.map((d) => d.sha256))) {
          if (await deps.store.removeIfOlderThan(sha256, cutoff)) result.blobsDeleted += 1;
        }
        Context.current().heartbeat(result);
        if (deleted.length < batchSize) return result;
      }
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
