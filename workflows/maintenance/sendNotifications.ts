// Sending the SMS outbox, run by the Temporal Schedule `tongban-send-notifications` (created in
// worker/system.ts) every SMS_OUTBOX_INTERVAL_SECONDS. "Today" is the workflow's own time (China
// date), so a replay asks the same question; the work, and why a retry sends nothing twice, is in
// activities/notifications.ts.
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities, SendResult } from '../../activities/notifications.js';
import { dateInChina } from '../../domain/dates.js';

const { sendSmsOutbox } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '5 minutes',
  // The activity heartbeats after every message (each send waits at most 10 s for the gateway):
  // a worker killed mid-run is retried elsewhere after 30 s instead of after the five minutes.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
});

export async function sendNotificationsWorkflow(): Promise<SendResult> {
  return sendSmsOutbox({ today: dateInChina(new Date()) });
}
