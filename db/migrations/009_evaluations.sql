-- Evaluation (好差评): after a case closes, the applicant rates the service once, on their own with
-- the receipt's query code or through the receiving window. 不满意 and 非常不满意 are 差评: each opens a
-- follow-up (回访 and 整改) owned by the supervisors of the side responsible, due in working days;
-- one left open past its due date is escalated to the province's supervisors (api/evaluation.ts).
CREATE TABLE case_evaluations (
  case_id      uuid        PRIMARY KEY REFERENCES cases (case_id) ON DELETE CASCADE,
  level        text        NOT NULL CHECK (level IN ('非常满意', '满意', '基本满意', '不满意', '非常不满意')),
  comment      text,
  channel      text        NOT NULL,
  -- The side the evaluation is about (the follow-up's owner): the window, or the handling authority.
  concerns     text        NOT NULL CHECK (concerns IN ('receiving', 'handling')),
  -- applicant (with the query code) or the staff member who recorded it on the applicant's behalf.
  recorded_by  text        NOT NULL,
  recorded_at  timestamptz NOT NULL
);
CREATE INDEX case_evaluations_recorded ON case_evaluations (recorded_at);

CREATE TABLE evaluation_follow_ups (
  case_id        uuid        PRIMARY KEY REFERENCES case_evaluations (case_id) ON DELETE CASCADE,
  side           text        NOT NULL CHECK (side IN ('receiving', 'handling')),
  -- The region of the side responsible: its supervisors own the follow-up.
  region         char(6)     NOT NULL,
  opened_at      timestamptz NOT NULL,
  due_date       date        NOT NULL,
  -- 回访: what the applicant said when called back; 整改: what was changed.
  revisit        text,
  rectification  text,
  outcome        text        CHECK (outcome IN ('resolved', 'unresolved')),
  closed_at      timestamptz,
  closed_by      text,
  escalated_at   timestamptz,
  -- The province whose supervisors an overdue follow-up was escalated to.
  escalated_to   char(6)
);
CREATE INDEX evaluation_follow_ups_open ON evaluation_follow_ups (due_date) WHERE closed_at IS NULL;
