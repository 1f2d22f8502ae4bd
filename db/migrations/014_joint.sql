-- 多地联办 (issue 8): a joint case's participants. The case row keeps their progress as the workflow
-- last recorded it (participants, like consultations); case_participants maps the case id each
-- participant's authority knows the case by to the case, so that authority's callbacks reach the
-- participant's workflow (api/callbacks.ts). A row is written when the participant starts
-- (participant.started), before its authority can call back.
ALTER TABLE cases ADD COLUMN participants jsonb;

CREATE TABLE case_participants (
  participant_case_id uuid        PRIMARY KEY,
  case_id             uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  participant_key     text        NOT NULL,
  region_code         char(6)     NOT NULL,
  started_at          timestamptz NOT NULL,
  UNIQUE (case_id, participant_key)
);
