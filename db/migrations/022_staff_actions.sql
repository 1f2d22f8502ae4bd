-- Staff actions on a case beyond the workflow's own (issue 9): four-eyes approvals for the actions
-- that change the legal record (record-offline, reroute), notes, who on each side is assigned the
-- case, and bulk retries with their progress. Every row names its actor; the audit log keeps the
-- history of each change.

CREATE TABLE case_approvals (
  approval_id      uuid        PRIMARY KEY,
  case_id          uuid        NOT NULL REFERENCES cases (case_id),
  action           text        NOT NULL CHECK (action IN ('record-offline', 'reroute')),
  -- The request as the workflow will get it once approved (no personal data: step, region, file id).
  params           jsonb       NOT NULL,
  -- Which side's supervisor decides: the receiving side for a reroute, the step's side for a record-offline.
  side             text        NOT NULL CHECK (side IN ('receiving', 'handling')),
  effects          jsonb       NOT NULL,
  reason           text        NOT NULL,
  requested_by     text        NOT NULL,
  requested_role   text        NOT NULL,
  requested_region char(6)     NOT NULL,
  requested_at     timestamptz NOT NULL DEFAULT now(),
  -- pending → deciding (a decider claimed it and is asking the workflow) → approved | refused | failed
  -- (the workflow refused the approved action: the case had moved on). deciding falls back to
  -- pending when the workflow did not answer, so it can be decided again.
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'deciding', 'approved', 'refused', 'failed')),
  decided_by       text,
  decided_role     text,
  decided_region   char(6),
  decision_reason  text,
  decided_at       timestamptz,
  failure          text
);
-- One open request per case and action.
CREATE UNIQUE INDEX case_approvals_open ON case_approvals (case_id, action) WHERE status IN ('pending', 'deciding');
CREATE INDEX case_approvals_case ON case_approvals (case_id, requested_at DESC);
CREATE INDEX case_approvals_pending ON case_approvals (requested_at) WHERE status = 'pending';

CREATE TABLE case_notes (
  note_id     bigserial   PRIMARY KEY,
  case_id     uuid        NOT NULL REFERENCES cases (case_id),
  author      text        NOT NULL,
  role        text        NOT NULL,
  region      char(6)     NOT NULL,
  side        text        NOT NULL CHECK (side IN ('receiving', 'handling')),
  text        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_notes_case ON case_notes (case_id, created_at);

-- Who on each side works the case now; the audit log has who it was before.
CREATE TABLE case_assignees (
  case_id      uuid        NOT NULL REFERENCES cases (case_id),
  side         text        NOT NULL CHECK (side IN ('receiving', 'handling')),
  assignee     text        NOT NULL,
  assigned_by  text        NOT NULL,
  assigned_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, side)
);
CREATE INDEX case_assignees_assignee ON case_assignees (assignee);

CREATE TABLE bulk_actions (
  bulk_id      uuid        PRIMARY KEY,
  action       text        NOT NULL CHECK (action IN ('retry')),
  reason       text        NOT NULL,
  actor        text        NOT NULL,
  role         text        NOT NULL,
  region       char(6)     NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- The instance working through the items renews this; another takes over once it lapses.
  lease_until  timestamptz
);

CREATE TABLE bulk_action_items (
  bulk_id     uuid        NOT NULL REFERENCES bulk_actions (bulk_id),
  position    int         NOT NULL,
  case_id     uuid        NOT NULL,
  status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  http_status int,
  detail      text,
  finished_at timestamptz,
  PRIMARY KEY (bulk_id, position)
);
