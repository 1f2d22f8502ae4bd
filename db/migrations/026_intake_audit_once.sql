-- Intake writes its case row, the materials and the `case.submit` audit entry in one statement
-- (db/intake.ts recordIntakeCase), without the advisory lock that used to serialise retries of
-- one case around a NOT EXISTS check. "One `case.submit` entry per case" is now the database's to
-- keep: a second attempt's entry gives way (ON CONFLICT DO NOTHING) to this index. Intake always
-- wrote at most one such entry per case, under that lock, so existing rows satisfy it.
CREATE UNIQUE INDEX audit_log_case_submit_once ON audit_log (case_id) WHERE action = 'case.submit';
