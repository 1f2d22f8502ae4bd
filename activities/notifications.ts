// Sending the SMS outbox to applicants (db/notifications.ts, domain/smsTexts.ts), run by the
// schedule `tongban-send-notifications` (workflows/maintenance/sendNotifications.ts) on the case
// queue, next to the database. Each run first queues the reminders that have come due (a supplement
// deadline approaching, a result waiting at the window), then sends what is pending. Every message
// goes to the gateway with its outbox key as the idempotency key, so a repeat of a send (this
// activity retried after the gateway accepted but before the row was marked, or a concurrent run)
// is answered by the gateway without a second message. The phone number is opened from the case's
// sealed column at the moment of sending and is never stored with the message.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { sendSmsResponseSchema } from '../contracts/sms.js';
import { openText } from '../crypto/aead.js';
import { redactIdNumbers } from '../crypto/pii.js';
import { queryCodeFor } from '../crypto/queryCode.js';
import type { Keyring } from '../config/secrets.js';
import { materialNamesOfCase } from '../db/items.js';
import { casesAwaitingSupplement, markSmsAttemptFailed, markSmsSent, pendingSms, queueSms, resultsAwaitingPickup, type PendingSms } from '../db/notifications.js';
import { CalendarRangeError, dateInChina, type WorkingCalendar } from '../domain/calendar.js';
import { smsText } from '../domain/smsTexts.js';

export interface NotificationDeps {
  pool: Pool;
  pii: { keyring: Keyring; hashKey: string };
  calendar: WorkingCalendar;
  /** The SMS gateway; null when none is configured (messages stay queued, with the reason). */
  gateway: { url: string; apiKey: string } | null;
  supplementReminderDays: number;
  pickupReminderDays: number;
  /** Messages per run; default 200. */
  batchSize?: number;
}

export interface SendResult {
  queued: number;
  sent: number;
  failed: number;
  /** Left for a retry: the gateway did not answer, or answered 5xx. */
  pending: number;
}

export function createNotificationActivities(deps: NotificationDeps) {
  /** Queues each reminder that has come due, once (its key names what it reminds of). */
  async function queueReminders(today: string): Promise<number> {
    let queued = 0;
    const workingDaysFrom = (from: string, to: string): number | null => {
      try {
        return deps.calendar.workingDaysBetween(from, to);
      } catch (e) {
        if (e instanceof CalendarRangeError) return null;
        throw e;
      }
    };
    for (const c of await casesAwaitingSupplement(deps.pool)) {
      if (!c.supplementDue || c.supplementDue < today) continue;
      const left = workingDaysFrom(today, c.supplementDue);
      if (left !== null && left <= deps.supplementReminderDays) {
        if (await queueSms(deps.pool, c.caseId, 'supplement_reminder', c.noticeId, { supplementDue: c.supplementDue, workingDaysLeft: left })) queued++;
      }
    }
    for (const r of await resultsAwaitingPickup(deps.pool)) {
      const waited = workingDaysFrom(dateInChina(r.since), today);
      const round = waited === null ? 0 : Math.floor(waited / deps.pickupReminderDays);
      if (round >= 1 && (await queueSms(deps.pool, r.caseId, 'pickup_reminder', String(round), { workingDays: waited }))) queued++;
    }
    return queued;
  }

  function textOf(m: PendingSms, materialNames: ReadonlyMap<string, string>): string {
    const text = smsText(m.template, {
      itemName: m.itemName,
      applicantName: m.applicantName,
      queryCode: queryCodeFor(deps.pii.hashKey, m.caseId),
      materialNames,
      params: m.params,
    });
    // A text must never carry an identity number (a material name or param gone wrong).
    if (redactIdNumbers(text) !== text) throw new Error(`the ${m.template} text would carry an identity number`);
    return text;
  }

  /** One send; 'retry' for an answer worth trying again (network, 5xx, 429). */
  async function send(m: PendingSms): Promise<'sent' | 'failed' | 'retry'> {
    if (!deps.gateway) {
      await markSmsAttemptFailed(deps.pool, m.messageKey, 'no SMS gateway is configured (SMS_GATEWAY_URL)', false);
      return 'retry';
    }
    // Material names as the item version the case was accepted under calls them; read outside the
    // try below, so a database error is retried with the run instead of failing the message.
    const materialNames = await materialNamesOfCase(deps.pool, m.caseId);
    let text: string;
    try {
      text = textOf(m, materialNames);
    } catch (e) {
      await markSmsAttemptFailed(deps.pool, m.messageKey, (e as Error).message, true);
      return 'failed';
    }
    let to: string;
    try {
      to = openText(deps.pii.keyring, m.phoneSealed);
    } catch {
      // Sealed under a key this keyring does not hold (retired too early, or another deployment's row).
      await markSmsAttemptFailed(deps.pool, m.messageKey, 'the phone number cannot be opened with the PII keys this worker holds', true);
      return 'failed';
    }
    const body = { idempotencyKey: m.messageKey, to, template: m.template, text, caseId: m.caseId };
    let res: Response;
    try {
      res = await fetch(`${deps.gateway.url}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${deps.gateway.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      await markSmsAttemptFailed(deps.pool, m.messageKey, `the SMS gateway did not answer: ${(e as Error).message}`, false);
      return 'retry';
    }
    const answer = await res.text();
    if (res.ok) {
      const parsed = sendSmsResponseSchema.safeParse(JSON.parse(answer || 'null'));
      if (!parsed.success) {
        await markSmsAttemptFailed(deps.pool, m.messageKey, `the SMS gateway's answer is not one it documents: ${answer.slice(0, 200)}`, false);
        return 'retry';
      }
      await markSmsSent(deps.pool, m.messageKey, text, parsed.data.messageId);
      return 'sent';
    }
    const transient = res.status >= 500 || res.status === 429 || res.status === 408;
    await markSmsAttemptFailed(deps.pool, m.messageKey, `the SMS gateway answered ${res.status}: ${answer.slice(0, 300)}`, !transient);
    return transient ? 'retry' : 'failed';
  }

  return {
    /**
     * Queues the reminders due today and sends what is pending. Fails (so Temporal retries it)
     * when a send is worth retrying; what was sent stays sent, and a retried send is a replay at
     * the gateway, never a second message.
     */
    async sendSmsOutbox(args: { today: string }): Promise<SendResult> {
      const result: SendResult = { queued: await queueReminders(args.today), sent: 0, failed: 0, pending: 0 };
      Context.current().heartbeat(result);
      for (const m of await pendingSms(deps.pool, deps.batchSize ?? 200)) {
        const outcome = await send(m);
        if (outcome === 'sent') result.sent++;
        else if (outcome === 'failed') result.failed++;
        else result.pending++;
        // Alive after every message: a worker lost mid-run is noticed within the heartbeat
        // timeout (workflows/maintenance/sendNotifications.ts), not the run's whole five minutes.
        Context.current().heartbeat(result);
      }
      if (result.pending > 0 && deps.gateway) {
        throw ApplicationFailure.retryable(`${result.pending} SMS could not be sent yet (${result.sent} sent, ${result.failed} refused)`, 'SmsPending');
      }
      return result;
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
