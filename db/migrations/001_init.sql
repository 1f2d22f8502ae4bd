-- The read side of tongban. Temporal is the source of truth for a case's orchestration; these
-- tables are its projection (rule 6 of ARCHITECTURE.md), written by idempotent activities keyed
-- by (case_id, seq), plus the API's own records (files, intake idempotency, callbacks, audit).

CREATE TABLE files (
  file_id          uuid PRIMARY KEY,
  sha256           char(64)    NOT NULL,
  size             bigint      NOT NULL CHECK (size > 0),
  content_type     text        NOT NULL,
  file_name        text,
  uploaded_by      text        NOT NULL,
  uploaded_region  char(6)     NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_sha256 ON files (sha256);

CREATE TABLE cases (
  case_id               uuid PRIMARY KEY,
  item_code             text        NOT NULL,
  item_version          int         NOT NULL,
  item_name             text        NOT NULL,
  receiving_region      char(6)     NOT NULL,
  handling_region       char(6)     NOT NULL,
  channel               text        NOT NULL,
  stage                 text        NOT NULL,
  status                text        NOT NULL,
  needs_intervention    boolean     NOT NULL DEFAULT false,
  intervention          jsonb,
  applicant_name_masked text        NOT NULL,
  applicant_name_sealed text        NOT NULL,
  id_number_hash        char(64)    NOT NULL,
  id_number_masked      text        NOT NULL,
  id_number_sealed      text        NOT NULL,
  phone_masked          text        NOT NULL,
  phone_sealed          text        NOT NULL,
  delivery_method       text        NOT NULL,
  delivery_address_sealed text,
  delivery              jsonb       NOT NULL,
  decision              jsonb,
  province_case_id      text,
  promised_days         int         NOT NULL,
  statutory_days        int         NOT NULL,
  submitted_by          text        NOT NULL,
  submitted_at          timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  closed_at             timestamptz,
  last_seq              int         NOT NULL DEFAULT 0
);
-- Paged lists are ordered by (submitted_at, case_id) descending; the filters below use it.
CREATE INDEX cases_submitted ON cases (submitted_at DESC, case_id DESC);
CREATE INDEX cases_stage ON cases (stage, submitted_at DESC);
CREATE INDEX cases_status ON cases (status, submitted_at DESC);
CREATE INDEX cases_item ON cases (item_code, submitted_at DESC);
CREATE INDEX cases_handling ON cases (handling_region, submitted_at DESC);
CREATE INDEX cases_receiving ON cases (receiving_region, submitted_at DESC);
CREATE INDEX cases_id_number ON cases (id_number_hash);
CREATE INDEX cases_stuck ON cases (updated_at) WHERE needs_intervention;

CREATE TABLE case_materials (
  case_id        uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  material_code  text        NOT NULL,
  file_id        uuid        NOT NULL REFERENCES files (file_id),
  sha256         char(64)    NOT NULL,
  size           bigint      NOT NULL,
  content_type   text        NOT NULL,
  transferred_at timestamptz,
  PRIMARY KEY (case_id, material_code)
);

CREATE TABLE case_events (
  case_id  uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  seq      int         NOT NULL,
  type     text        NOT NULL,
  stage    text        NOT NULL,
  status   text        NOT NULL,
  actor    text        NOT NULL,
  at       timestamptz NOT NULL,
  data     jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_at ON case_events (at);
CREATE INDEX case_events_type ON case_events (type, at);

-- POST /v1/cases idempotency: the same key and body return the same case.
CREATE TABLE intake_requests (
  idempotency_key text        PRIMARY KEY,
  request_hash    char(64)    NOT NULL,
  case_id         uuid        NOT NULL,
  actor           text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Inbound province callbacks, deduplicated by (region, event id).
CREATE TABLE province_callbacks (
  region_code char(6)     NOT NULL,
  event_id    text        NOT NULL,
  case_id     uuid        NOT NULL,
  type        text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (region_code, event_id)
);

-- Every staff action: who, in which role and region, why.
CREATE TABLE audit_log (
  id       bigserial   PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text        NOT NULL,
  role     text        NOT NULL,
  region   text        NOT NULL,
  action   text        NOT NULL,
  case_id  uuid,
  reason   text,
  detail   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_case ON audit_log (case_id, at);
