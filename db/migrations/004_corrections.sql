-- Corrections (补正): the open one-time notice of a case and its notices counted per side, as the
-- case workflow records them (db/projection.ts), for the case view and the supervisors' lists.
ALTER TABLE cases ADD COLUMN correction jsonb;
ALTER TABLE cases ADD COLUMN correction_rounds jsonb NOT NULL DEFAULT '{"receiving": 0, "handling": 0}';
CREATE INDEX cases_awaiting_supplement ON cases (updated_at) WHERE status = 'awaiting_supplement';

-- Every supplemented file (补正材料), kept with its notice: the case's record of what the applicant
-- sent, and what keeps the unattached-files sweep from deleting it (db/unattachedFiles.ts).
CREATE TABLE case_supplements (
  case_id         uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  notice_id       text        NOT NULL,
  material_code   text        NOT NULL,
  file_id         uuid        NOT NULL REFERENCES files (file_id),
  sha256          char(64)    NOT NULL,
  size            bigint      NOT NULL,
  content_type    text        NOT NULL,
  supplemented_at timestamptz NOT NULL,
  PRIMARY KEY (case_id, notice_id, material_code)
);
CREATE INDEX case_supplements_file ON case_supplements (file_id);
