-- The hand-off ledger (交接台账): every hand-off of a case between the offices, the applicant and
-- the post is one row, chained by hash, so neither side can rewrite history unnoticed
-- (domain/handoffs.ts, db/handoffs.ts, docs/case-workflow.md "Hand-off ledger"). Rows are only
-- ever appended: a later acknowledgement is a row of its own (kind 'ack'), a workflow reset
-- leaves the superseded run's rows in place, and the trigger below refuses UPDATE, and DELETE
-- except with the case itself.
CREATE TABLE case_handoffs (
  case_id          uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  -- 1, 2, 3, … within the case's ledger, in the order entries were appended.
  seq              int         NOT NULL CHECK (seq >= 1),
  -- What kind of hand-off (HANDOFF_KINDS in domain/handoffs.ts).
  kind             text        NOT NULL CHECK (kind IN ('material', 'supplement', 'correction_notice', 'extension_notice', 'procedure_notice',
                                                        'decision', 'result', 'result_by_post', 'original_by_post', 'liaison_attachment', 'ack')),
  -- What is handed over, named within the case (material:<code>, notice:<noticeId>, result:post, ack:<ref>, …).
  ref              text        NOT NULL,
  -- From which party to which: receiving (收件地), handling (办理地), applicant, post.
  from_side        text        NOT NULL CHECK (from_side IN ('receiving', 'handling', 'applicant', 'post')),
  to_side          text        NOT NULL CHECK (to_side IN ('receiving', 'handling', 'applicant', 'post')),
  -- The things handed over: a JSON array of flat objects with their content hashes
  -- ([{"materialCode", "sha256", "size"}], [{"trackingNumber"}], …).
  what             jsonb       NOT NULL,
  -- When it was sent (the recording event's instant).
  sent_at          timestamptz NOT NULL,
  -- When the receiver acknowledged it, when the receipt is part of the same hand-off (an upload the
  -- province's receipt hash-checked); NULL otherwise. A later receipt is an 'ack' row instead.
  acknowledged_at  timestamptz,
  -- For an 'ack': the seq of the entry it acknowledges (NULL when that hand-off is not on the ledger).
  acknowledges     int,
  -- The case_events seq that produced the entry, and the workflow run that recorded that event
  -- (NULL run: the legacy projection write); both NULL for hand-offs appended without an event.
  source_event_seq int,
  source_run_id    text,
  -- entry_hash = sha256(prev_hash || '\n' || canonical JSON of the entry's fields), hex; the first
  -- entry's prev_hash is 64 zeros.
  prev_hash        char(64)    NOT NULL,
  entry_hash       char(64)    NOT NULL,
  PRIMARY KEY (case_id, seq),
  FOREIGN KEY (case_id, acknowledges) REFERENCES case_handoffs (case_id, seq),
  CHECK ((kind = 'ack') OR acknowledges IS NULL),
  CHECK (source_run_id IS NULL OR source_event_seq IS NOT NULL)
);
-- A retried projection write appends nothing twice: one entry per (case, run, event, ref) …
CREATE UNIQUE INDEX case_handoffs_per_event ON case_handoffs (case_id, coalesce(source_run_id, ''), source_event_seq, ref) WHERE source_event_seq IS NOT NULL;
-- … and a hand-off appended without an event is idempotent by its ref.
CREATE UNIQUE INDEX case_handoffs_per_ref ON case_handoffs (case_id, ref) WHERE source_event_seq IS NULL;

-- Append-only: an entry is never changed, and never removed except together with its case.
CREATE FUNCTION case_handoffs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM cases WHERE case_id = OLD.case_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'case_handoffs is append-only: % of entry % of case % refused', TG_OP, OLD.seq, OLD.case_id
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER case_handoffs_append_only BEFORE UPDATE OR DELETE ON case_handoffs
  FOR EACH ROW EXECUTE FUNCTION case_handoffs_append_only();
