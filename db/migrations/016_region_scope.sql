-- Region scope by equality, and what the SLA report reads (issue 9).
--
-- A staff member's scope (domain/regions.ts: a province xx0000 covers every region starting with
-- xx, a city xxyy00 every one starting with xxyy, a county only itself) was a `LIKE 'xx%'` on the
-- region columns, which never uses an index under the database's collation: a clerk whose region
-- has few cases waited for a scan of the whole table. The province (xx0000) and city (xxyy00) of
-- both sides are kept here as generated columns, so a scope is `receiving_province = $1 OR
-- handling_province = $1` (regionScope in domain/regions.ts picks the column), answered by the
-- indexes below, which end in the case list's order.
ALTER TABLE cases ADD COLUMN receiving_province char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 2) || '0000') STORED;
ALTER TABLE cases ADD COLUMN receiving_city     char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 4) || '00') STORED;
ALTER TABLE cases ADD COLUMN handling_province  char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 2) || '0000') STORED;
ALTER TABLE cases ADD COLUMN handling_city      char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 4) || '00') STORED;

CREATE INDEX cases_receiving_province ON cases (receiving_province, submitted_at DESC, case_id DESC);
CREATE INDEX cases_handling_province ON cases (handling_province, submitted_at DESC, case_id DESC);
CREATE INDEX cases_receiving_city ON cases (receiving_city, submitted_at DESC, case_id DESC);
CREATE INDEX cases_handling_city ON cases (handling_city, submitted_at DESC, case_id DESC);
-- A county scope compares the region columns themselves (cases_receiving, cases_handling of 001).

-- The instant of an ISO 8601 string that carries its offset (decision.at is always written by
-- Date.toISOString(), UTC with "Z"), so the result does not depend on the session's TimeZone and
-- the function may be declared immutable for a generated column. PL/pgSQL so that it is never
-- inlined into the (stable) cast it wraps.
CREATE FUNCTION tongban_iso_instant(text) RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  RETURN $1::timestamptz;
END;
$$;

-- When the case's outcome was fixed: its decision (decision.at), or, for a case that ended without
-- one (withdrawn, not accepted, not supplemented), its closing. NULL while a case runs undecided.
-- The report's period is over this instant (docs/reports.md).
ALTER TABLE cases ADD COLUMN settled_at timestamptz GENERATED ALWAYS AS (coalesce(tongban_iso_instant(decision ->> 'at'), closed_at)) STORED;
-- Each limit's state as the clock last read it (for a decided case: at the decision); the report
-- counts a case decided while its limit was red as late.
ALTER TABLE cases ADD COLUMN sla_promised_state text GENERATED ALWAYS AS (sla -> 'promised' ->> 'state') STORED;
ALTER TABLE cases ADD COLUMN sla_statutory_state text GENERATED ALWAYS AS (sla -> 'statutory' ->> 'state') STORED;

-- The report: the cases of a scope settled in a period, and (settled_at IS NULL) those still
-- running undecided, per scope column.
CREATE INDEX cases_receiving_province_settled ON cases (receiving_province, settled_at);
CREATE INDEX cases_handling_province_settled ON cases (handling_province, settled_at);
CREATE INDEX cases_receiving_city_settled ON cases (receiving_city, settled_at);
CREATE INDEX cases_handling_city_settled ON cases (handling_city, settled_at);
CREATE INDEX cases_receiving_settled ON cases (receiving_region, settled_at);
CREATE INDEX cases_handling_settled ON cases (handling_region, settled_at);

-- Working days each party held a closed case (domain/handoffs.ts custodyOf and workingDaysHeld,
-- from the recorded events up to the closing). Once a case has closed its custody no longer
-- changes, so the report computes it once, on the first report that needs it, and keeps it here.
-- calendar_gap: the working-day calendar did not cover some interval (those days are not counted).
CREATE TABLE case_custody_days (
  case_id      uuid        PRIMARY KEY REFERENCES cases (case_id) ON DELETE CASCADE,
  receiving    int         NOT NULL,
  handling     int         NOT NULL,
  applicant    int         NOT NULL,
  post         int         NOT NULL,
  calendar_gap boolean     NOT NULL DEFAULT false,
  computed_at  timestamptz NOT NULL DEFAULT now()
);
