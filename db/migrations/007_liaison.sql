-- Work liaison (工作联络): one message thread per case between the receiving window and the handling
-- authority (api/liaison.ts). A message is written by staff through the api or arrives from the
-- province's own system by signed callback; a message to the handling side is also forwarded to the
-- province's system (workflows/liaison.ts). The other side acknowledges it; one left unanswered past
-- LIAISON_REPLY_HOURS office hours is overdue.
CREATE TABLE case_messages (
  message_id       uuid        PRIMARY KEY,
  case_id          uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  from_side        text        NOT NULL CHECK (from_side IN ('receiving', 'handling')),
  to_side          text        NOT NULL CHECK (to_side IN ('receiving', 'handling') AND to_side <> from_side),
  -- A staff member's token subject, or province:<code> for a message from the province's system.
  author           text        NOT NULL,
  author_role      text,
  author_region    text,
  body             text        NOT NULL,
  in_reply_to      uuid        REFERENCES case_messages (message_id),
  sent_at          timestamptz NOT NULL,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  -- Messages to the handling side: when the province's system confirmed it received the message.
  forwarded_at     timestamptz,
  -- Why forwarding stopped (a final refusal by the province's system), until it succeeds.
  forward_error    text,
  -- Idempotency: a staff member's Idempotency-Key, or the province's event id.
  idempotency_key  text        NOT NULL,
  UNIQUE (author, idempotency_key)
);
CREATE INDEX case_messages_case ON case_messages (case_id, sent_at);
CREATE INDEX case_messages_unacknowledged ON case_messages (sent_at) WHERE acknowledged_at IS NULL;

-- A message's attachments: uploaded files, kept with the case (never swept as unattached).
CREATE TABLE case_message_files (
  message_id   uuid   NOT NULL REFERENCES case_messages (message_id) ON DELETE CASCADE,
  position     int    NOT NULL,
  file_id      uuid   NOT NULL REFERENCES files (file_id),
  sha256       char(64) NOT NULL,
  size         bigint NOT NULL,
  content_type text   NOT NULL,
  -- When the province's system confirmed the bytes (messages to the handling side).
  forwarded_at timestamptz,
  PRIMARY KEY (message_id, position)
);
CREATE INDEX case_message_files_file ON case_message_files (file_id);
