// The unattached-files sweep, run by the Temporal Schedule `tongban-sweep-unattached-files`
// (created in worker/system.ts): files uploaded but never attached to a case are deleted once
// they are older than the TTL. The cutoff is computed from workflow time, so a replay makes the
// same call; all I/O is in activities/maintenance.ts.
import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities, SweepResult } from '../../activities/maintenance.js';

export interface SweepUnattachedFilesInput {
  /** Files uploaded longer ago than this, and referenced by no case, are deleted. */
  ttlHours: number;
}

const { sweepUnattachedFiles } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export async function sweepUnattachedFilesWorkflow(input: SweepUnattachedFilesInput): Promise<SweepResult> {
  const cutoff = new Date(Date.now() - input.ttlHours * 3_600_000);
  return sweepUnattachedFiles({ cutoff: cutoff.toISOString() });
}
