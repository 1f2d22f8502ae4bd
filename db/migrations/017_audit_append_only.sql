-- The audit log is append-only (docs/security.md "The audit log"): a row, once written, is never
-- changed or removed, so "who did what to this case, and who looked at this citizen's file" keeps
-- its answer. The triggers below refuse UPDATE, DELETE and TRUNCATE of audit_log whoever asks;
-- there is no maintenance path through SQL on purpose. Only the table's owner (or a superuser)
-- could switch them off (ALTER TABLE … DISABLE TRIGGER, session_replication_role), which the api
-- and the worker never do; run them under a role that does not own the schema to make that hold
-- against them too (docs/security.md). audit_log has no foreign key to cases, so deleting
-- a case (only tests do) leaves its audit rows in place: the record of what happened outlives the
-- case row. Archiving old rows, when it is needed, is a migration of its own (a partition detached
-- by the table's owner), not a DELETE.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit_log is append-only: TRUNCATE refused'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % of row % (% by %) refused', TG_OP, OLD.id, OLD.action, OLD.actor
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- A case's rows newest first, paged by id (GET /v1/cases/{id}/access-log, the applicant's
-- data-access trail in the progress lookup).
CREATE INDEX audit_log_case_id ON audit_log (case_id, id);
