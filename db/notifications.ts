// SQL of the SMS outbox (migration 011_sms_outbox.sql): queuing (with the case event, or by the
// sender's reminder scans), what is pending, and what became of each send.
import { smsForEvent, type SmsTemplate } from '../domain/smsTexts.js';
import type { Queryable } from './cases.js';

export function smsKey(caseId: string, template: SmsTemplate, ref: string): string {
  return `${caseId}:sms:${template}:${ref}`;
}

/** Queues a message once per key; true when this call queued it. */
export async function queueSms(db: Queryable, caseId: string, template: SmsTemplate, ref: string, params: Record<string, unknown>): Promise<boolean> {
  const res = await db.query(`INSERT INTO sms_outbox (message_key, case_id, template, params) VALUES ($1,$2,$3,$4) ON CONFLICT (message_key) DO NOTHING`, [
    smsKey(caseId, template, ref), caseId, template, JSON.stringify(params),
  ]);
  return res.rowCount === 1;
}

/** The projection's part: the message a just-recorded case event gives the applicant (domain/smsTexts.ts). */
export async function queueSmsForEvent(db: Queryable, caseId: string, event: { type: string; data: Record<string, unknown> }): Promise<void> {
  const sms = smsForEvent(event);
  if (sms) await queueSms(db, caseId, sms.template, sms.ref, sms.params);
}

export interface PendingSms {
  messageKey: string;
  caseId: string;
  template: SmsTemplate;
  params: Record<string, unknown>;
  itemCode: string;
  itemName: string;
  applicantName: string;
  phoneSealed: string;
}

export async function pendingSms(db: Queryable, limit: number): Promise<PendingSms[]> {
  const { rows } = await db.query<{ message_key: string; case_id: string; template: SmsTemplate; params: Record<string, unknown>; item_code: string; item_name: string; applicant_name_masked: string; phone_sealed: string }>(
    `SELECT o.message_key, o.case_id, o.template, o.params, c.item_code, c.item_name, c.applicant_name_masked, c.phone_sealed
       FROM sms_outbox o JOIN cases c USING (case_id)
      WHERE o.sent_at IS NULL AND o.failed_at IS NULL
      ORDER BY o.queued_at, o.message_key
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ messageKey: r.message_key, caseId: r.case_id, template: r.template, params: r.params, itemCode: r.item_code, itemName: r.item_name, applicantName: r.applicant_name_masked, phoneSealed: r.phone_sealed }));
}

export async function markSmsSent(db: Queryable, messageKey: string, text: string, gatewayMessageId: string): Promise<void> {
  await db.query(`UPDATE sms_outbox SET sent_at = coalesce(sent_at, now()), text = $2, gateway_message_id = $3, attempts = attempts + 1, last_error = NULL WHERE message_key = $1`, [messageKey, text, gatewayMessageId]);
}

export async function markSmsAttemptFailed(db: Queryable, messageKey: string, error: string, final: boolean): Promise<void> {
  await db.query(`UPDATE sms_outbox SET attempts = attempts + 1, last_error = $2, failed_at = CASE WHEN $3 THEN now() ELSE failed_at END WHERE message_key = $1`, [messageKey, error.slice(0, 1000), final]);
}

/** Cases waiting for a supplement, with their open notice (for the deadline reminder). */
export async function casesAwaitingSupplement(db: Queryable): Promise<{ caseId: string; noticeId: string; supplementDue: string | null }[]> {
  const { rows } = await db.query<{ case_id: string; notice_id: string; supplement_due: string | null }>(
    `SELECT case_id, correction->>'noticeId' AS notice_id, correction->>'supplementDue' AS supplement_due FROM cases WHERE status = 'awaiting_supplement' AND correction IS NOT NULL`,
  );
  return rows.map((r) => ({ caseId: r.case_id, noticeId: r.notice_id, supplementDue: r.supplement_due }));
}

/** Results waiting at the window for collection, and since when. */
export async function resultsAwaitingPickup(db: Queryable): Promise<{ caseId: string; since: Date }[]> {
  const { rows } = await db.query<{ case_id: string; since: Date }>(
    `SELECT c.case_id, max(e.at) AS since
       FROM cases c JOIN case_events e ON e.case_id = c.case_id AND e.type = 'delivery.awaiting'
      WHERE c.stage = 'delivery' AND c.status = 'active' AND c.delivery->>'method' = 'window' AND c.delivery->>'status' <> 'confirmed'
      GROUP BY c.case_id`,
  );
  return rows.map((r) => ({ caseId: r.case_id, since: r.since }));
}
