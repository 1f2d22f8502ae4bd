// The escalation of overdue evaluation follow-ups, run by the Temporal Schedule
// `tongban-escalate-follow-ups` (created in worker/system.ts): a 差评's follow-up still open after
// its due date goes to the supervisors of its province (api/evaluation.ts). "Today" is the
// workflow's own time, China date, so a replay asks the same question; the work is in
// activities/maintenance.ts.
import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../../activities/maintenance.js';
import { dateInChina } from '../../domain/dates.js';

const { escalateOverdueFollowUps } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export async function escalateFollowUpsWorkflow(): Promise<{ escalated: number }> {
  return escalateOverdueFollowUps({ today: dateInChina(new Date()) });
}
