-- The stuck list (db/stuckCases.ts) per side of the staff member's scope: open cases by scope column
-- in updated_at order, so each side's index is walked oldest first and stops at the list's limit
-- instead of sorting every open case of a province (540 → see docs/benchmarks.md at 1,000,000 cases).
CREATE INDEX cases_open_receiving_province ON cases (receiving_province, updated_at) WHERE status IN ('active', 'awaiting_supplement');
CREATE INDEX cases_open_handling_province  ON cases (handling_province, updated_at)  WHERE status IN ('active', 'awaiting_supplement');
CREATE INDEX cases_open_receiving_city     ON cases (receiving_city, updated_at)     WHERE status IN ('active', 'awaiting_supplement');
CREATE INDEX cases_open_handling_city      ON cases (handling_city, updated_at)      WHERE status IN ('active', 'awaiting_supplement');
CREATE INDEX cases_open_receiving_region   ON cases (receiving_region, updated_at)   WHERE status IN ('active', 'awaiting_supplement');
CREATE INDEX cases_open_handling_region    ON cases (handling_region, updated_at)    WHERE status IN ('active', 'awaiting_supplement');
