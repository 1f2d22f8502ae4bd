-- The SMS outbox (notifications to applicants, api/../activities/notifications.ts): a row per message,
-- written in the same transaction as the case event it tells of (db/projection.ts) or by the sender's
-- reminder scan, keyed by an idempotency key derived from the case and what is told
-- (`<caseId>:sms:<template>:<ref>`), so a repeated write queues nothing and a repeated send (the
-- gateway dedupes on the same key) sends nothing twice. The phone number is never copied here: the
-- sender opens the case's sealed number when it sends. The text is stored once sent, as sent.
CREATE TABLE sms_outbox (
  message_key        text        PRIMARY KEY,
  case_id            uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  template           text        NOT NULL,
  params             jsonb       NOT NULL DEFAULT '{}',
  queued_at          timestamptz NOT NULL DEFAULT now(),
  sent_at            timestamptz,
  text               text,
  gateway_message_id text,
  attempts           int         NOT NULL DEFAULT 0,
  last_error         text,
  -- A final refusal by the gateway (4xx): not retried.
  failed_at          timestamptz
);
CREATE INDEX sms_outbox_pending ON sms_outbox (queued_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX sms_outbox_case ON sms_outbox (case_id);
