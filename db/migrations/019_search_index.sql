-- The staff search (item + stage + SLA state within the staff member's region, newest first):
-- one index with the filters' equality prefix in the list's order, so a page of rare matches is
-- read in order instead of a bitmap of three indexes sorted afterwards (docs/benchmarks.md).
CREATE INDEX cases_search ON cases (item_code, stage, sla_state, submitted_at DESC, case_id DESC);
