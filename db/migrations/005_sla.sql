-- The SLA clock of a case as its workflow last read it (workflows/case/sla.ts, domain/sla.ts): the
-- whole reading for the case view, and plain columns for reports and the list's ?sla= filter, so
-- "which cases are overdue in my region" is one indexed SQL query. NULL for cases whose clock has
-- not started (the authority does not have the materials yet) and for cases from before the clock.
ALTER TABLE cases ADD COLUMN sla jsonb;
-- green | yellow | red: the worse of the promised and statutory limits.
ALTER TABLE cases ADD COLUMN sla_state text CHECK (sla_state IN ('green', 'yellow', 'red'));
-- The last day of the promised (承诺) and statutory (法定) limits, China dates; NULL while a pause stops the clock.
ALTER TABLE cases ADD COLUMN due_date date;
ALTER TABLE cases ADD COLUMN statutory_due_date date;
-- When the case was escalated to the handling side's supervisors (its first overdue limit).
ALTER TABLE cases ADD COLUMN sla_escalated_at timestamptz;
CREATE INDEX cases_sla ON cases (sla_state, due_date) WHERE sla_state IS NOT NULL;
