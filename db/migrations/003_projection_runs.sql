-- The projection follows the run of a case's workflow that is current. After `temporal workflow
-- reset`, a new run re-records events from the reset point with the seqs the old run had used;
-- the first write of the new run takes the case over (the old run's later events are removed)
-- and the old run is remembered here, so a write of it that arrives late is ignored.
ALTER TABLE cases ADD COLUMN run_id text;

CREATE TABLE superseded_runs (
  case_id       uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  run_id        text        NOT NULL,
  superseded_by text        NOT NULL,
  at_seq        int         NOT NULL,
  superseded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, run_id)
);
