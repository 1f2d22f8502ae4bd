-- The case gauges of /metrics (db/metrics.ts, docs/operations.md "Metrics and alerts"): every api
-- instance counts the open cases by handling province, stage, SLA state and correction rounds at
-- each scrape (cached a few seconds). Without this index that count reads every open case's row
-- from the heap (about 60,000 scattered rows at the read benchmark's million cases); with it the
-- count is an index-only scan of the open cases' entries, and closed cases are never touched.
CREATE INDEX cases_open_metrics ON cases (handling_province, stage, sla_state) INCLUDE (correction_rounds)
  WHERE status IN ('active', 'awaiting_supplement');
