-- Stuck cases (issue 9): when the case last heard from an authority (a province event recorded,
-- or the materials reaching it), kept by the projection so "waiting on a province longer than the
-- threshold" is one indexed comparison; and a partial index of open cases by their last change,
-- for "no state change for N working hours".
ALTER TABLE cases ADD COLUMN last_province_at timestamptz;
CREATE INDEX cases_open_province_silence ON cases (last_province_at) WHERE status = 'active' AND stage IN ('transfer', 'review');
CREATE INDEX cases_open_idle ON cases (updated_at) WHERE status = 'active';
CREATE INDEX cases_red ON cases (updated_at) WHERE sla_state = 'red' AND status IN ('active', 'awaiting_supplement');
