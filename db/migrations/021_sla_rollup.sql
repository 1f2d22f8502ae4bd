-- The SLA report's roll-up (issue 9, docs/reports.md "How it stays fast"): cells of counts the
-- report sums over its period and scope instead of reading every case of the period, every open
-- case and every evaluation from the heap (about 27,000 + 25,000 + 8,000 wide rows for a province
-- over 30 days at a million cases, docs/benchmarks.md).
--
-- Three tables, each cell one combination of what the report groups and scopes by:
--   sla_rollup_settled      cases whose outcome is fixed (settled_at NOT NULL), per China day of
--                           settled_at, receiving region, handling region, item code and name;
--   sla_rollup_open         cases still running undecided (settled_at IS NULL), per receiving
--                           region, handling region, item code and name (a snapshot: no day);
--   sla_rollup_evaluations  好差评 per China day of recorded_at, the case's regions and item, the
--                           level, and the due date of a follow-up still open ('infinity' for
--                           none), so "open past its due date" is a comparison with today.
-- Each cell carries both sides' province and city as generated columns, as `cases` does
-- (migration 016), so a scope is the same equality db/scope.ts writes for cases.
--
-- Maintained by triggers, in the transaction of the row they summarise, whoever writes it (the
-- projection, intake, the report's custody, the evaluation routes, a test's UPDATE): never
-- behind, and never counted twice. A change adds the row's contribution as it is now and
-- subtracts it as it was (the sla_rollup_*_of functions below compute one contribution), so a
-- repeated write that changes nothing adds nothing, and a case whose day, limits or group change
-- after being counted moves between cells. The contribution is a function of the rows, not of
-- events, so a replayed or duplicated event cannot count twice.
--
-- Locking: a trigger on case_custody_days, case_evaluations or evaluation_follow_ups first locks
-- the cases it touches (FOR SHARE, in case_id order), so a concurrent update of the same case is
-- summed with whichever state wins, never half of each; every cell write is one statement in key
-- order (tables in the order open, settled, evaluations), so two writers never wait on each
-- other's cells in a cycle. A cell whose count falls to zero is deleted.
--
-- Deleting a case (only tests do) subtracts everything the case contributed BEFORE the row goes,
-- while its custody, evaluation and follow-up rows are still there; the cascaded deletes of
-- those rows then find no case and add nothing. Likewise a deleted evaluation subtracts its
-- follow-up with it. TRUNCATE of any of these tables rebuilds the roll-up (sla_rollup_rebuild(),
-- which the end of this migration also runs as the backfill of existing rows).

-- ---- settled cases ------------------------------------------------------------------------------

CREATE TABLE sla_rollup_settled (
  day                date    NOT NULL,
  receiving_region   char(6) NOT NULL,
  handling_region    char(6) NOT NULL,
  item_code          text    NOT NULL,
  item_name          text    NOT NULL,
  receiving_province char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 2) || '0000') STORED,
  receiving_city     char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 4) || '00') STORED,
  handling_province  char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 2) || '0000') STORED,
  handling_city      char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 4) || '00') STORED,
  cases              int     NOT NULL DEFAULT 0,
  decided            int     NOT NULL DEFAULT 0,
  approved           int     NOT NULL DEFAULT 0,
  rejected           int     NOT NULL DEFAULT 0,
  promised_measured  int     NOT NULL DEFAULT 0,
  promised_on_time   int     NOT NULL DEFAULT 0,
  statutory_measured int     NOT NULL DEFAULT 0,
  statutory_on_time  int     NOT NULL DEFAULT 0,
  rounds_0           int     NOT NULL DEFAULT 0,
  rounds_1           int     NOT NULL DEFAULT 0,
  rounds_2           int     NOT NULL DEFAULT 0,
  rounds_3_plus      int     NOT NULL DEFAULT 0,
  -- Closed cases whose custody is counted (case_custody_days), the working days each party held
  -- them in total (the report's mean is the sum over the count), and closed cases not counted yet.
  custody_cases      int     NOT NULL DEFAULT 0,
  days_receiving     bigint  NOT NULL DEFAULT 0,
  days_handling      bigint  NOT NULL DEFAULT 0,
  days_applicant     bigint  NOT NULL DEFAULT 0,
  days_post          bigint  NOT NULL DEFAULT 0,
  uncounted          int     NOT NULL DEFAULT 0,
  PRIMARY KEY (day, receiving_region, handling_region, item_code, item_name)
) WITH (fillfactor = 90);
CREATE INDEX sla_rollup_settled_receiving_province ON sla_rollup_settled (receiving_province, day);
CREATE INDEX sla_rollup_settled_handling_province ON sla_rollup_settled (handling_province, day);
CREATE INDEX sla_rollup_settled_receiving_city ON sla_rollup_settled (receiving_city, day);
CREATE INDEX sla_rollup_settled_handling_city ON sla_rollup_settled (handling_city, day);
CREATE INDEX sla_rollup_settled_receiving ON sla_rollup_settled (receiving_region, day);
CREATE INDEX sla_rollup_settled_handling ON sla_rollup_settled (handling_region, day);

-- Correction rounds of both sides together.
CREATE FUNCTION sla_rollup_rounds(rounds jsonb) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce((rounds ->> 'receiving')::int, 0) + coalesce((rounds ->> 'handling')::int, 0)
$$;

-- What one case adds to its settled cell, times `sign`; NULL while the case is not settled. `d`
-- is its custody row (NULL when not counted).
CREATE FUNCTION sla_rollup_settled_of(sign int, c cases, d case_custody_days) RETURNS sla_rollup_settled
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN c.settled_at IS NOT NULL THEN ROW(
    (c.settled_at AT TIME ZONE 'Asia/Shanghai')::date, c.receiving_region, c.handling_region, c.item_code, c.item_name,
    NULL, NULL, NULL, NULL,
    sign,
    sign * (c.decision IS NOT NULL)::int,
    sign * (c.decision ->> 'outcome' = 'approved' IS TRUE)::int,
    sign * (c.decision ->> 'outcome' = 'rejected' IS TRUE)::int,
    sign * (c.decision IS NOT NULL AND c.sla_promised_state IS NOT NULL)::int,
    sign * (c.decision IS NOT NULL AND c.sla_promised_state IN ('green', 'yellow') IS TRUE)::int,
    sign * (c.decision IS NOT NULL AND c.sla_statutory_state IS NOT NULL)::int,
    sign * (c.decision IS NOT NULL AND c.sla_statutory_state IN ('green', 'yellow') IS TRUE)::int,
    sign * (sla_rollup_rounds(c.correction_rounds) = 0)::int,
    sign * (sla_rollup_rounds(c.correction_rounds) = 1)::int,
    sign * (sla_rollup_rounds(c.correction_rounds) = 2)::int,
    sign * (sla_rollup_rounds(c.correction_rounds) >= 3)::int,
    sign * (d.case_id IS NOT NULL)::int,
    sign * coalesce(d.receiving, 0), sign * coalesce(d.handling, 0), sign * coalesce(d.applicant, 0), sign * coalesce(d.post, 0),
    sign * (c.closed_at IS NOT NULL AND d.case_id IS NULL)::int
  )::sla_rollup_settled END
$$;

-- Adds contributions to their cells: summed per cell, in key order, zero sums skipped; a cell
-- left with no case is deleted.
CREATE FUNCTION sla_rollup_settled_add(deltas sla_rollup_settled[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sla_rollup_settled AS s (day, receiving_region, handling_region, item_code, item_name, cases, decided, approved, rejected,
         promised_measured, promised_on_time, statutory_measured, statutory_on_time, rounds_0, rounds_1, rounds_2, rounds_3_plus,
         custody_cases, days_receiving, days_handling, days_applicant, days_post, uncounted)
  SELECT day, receiving_region, handling_region, item_code, item_name, sum(cases), sum(decided), sum(approved), sum(rejected),
         sum(promised_measured), sum(promised_on_time), sum(statutory_measured), sum(statutory_on_time), sum(rounds_0), sum(rounds_1), sum(rounds_2), sum(rounds_3_plus),
         sum(custody_cases), sum(days_receiving), sum(days_handling), sum(days_applicant), sum(days_post), sum(uncounted)
    FROM unnest(deltas) x
   WHERE day IS NOT NULL
   GROUP BY day, receiving_region, handling_region, item_code, item_name
  HAVING NOT (sum(cases) = 0 AND sum(decided) = 0 AND sum(approved) = 0 AND sum(rejected) = 0 AND sum(promised_measured) = 0
              AND sum(promised_on_time) = 0 AND sum(statutory_measured) = 0 AND sum(statutory_on_time) = 0 AND sum(rounds_0) = 0
              AND sum(rounds_1) = 0 AND sum(rounds_2) = 0 AND sum(rounds_3_plus) = 0 AND sum(custody_cases) = 0 AND sum(days_receiving) = 0
              AND sum(days_handling) = 0 AND sum(days_applicant) = 0 AND sum(days_post) = 0 AND sum(uncounted) = 0)
   ORDER BY day, receiving_region, handling_region, item_code, item_name
  ON CONFLICT (day, receiving_region, handling_region, item_code, item_name) DO UPDATE SET
    cases = s.cases + EXCLUDED.cases, decided = s.decided + EXCLUDED.decided, approved = s.approved + EXCLUDED.approved,
    rejected = s.rejected + EXCLUDED.rejected, promised_measured = s.promised_measured + EXCLUDED.promised_measured,
    promised_on_time = s.promised_on_time + EXCLUDED.promised_on_time, statutory_measured = s.statutory_measured + EXCLUDED.statutory_measured,
    statutory_on_time = s.statutory_on_time + EXCLUDED.statutory_on_time, rounds_0 = s.rounds_0 + EXCLUDED.rounds_0,
    rounds_1 = s.rounds_1 + EXCLUDED.rounds_1, rounds_2 = s.rounds_2 + EXCLUDED.rounds_2, rounds_3_plus = s.rounds_3_plus + EXCLUDED.rounds_3_plus,
    custody_cases = s.custody_cases + EXCLUDED.custody_cases, days_receiving = s.days_receiving + EXCLUDED.days_receiving,
    days_handling = s.days_handling + EXCLUDED.days_handling, days_applicant = s.days_applicant + EXCLUDED.days_applicant,
    days_post = s.days_post + EXCLUDED.days_post, uncounted = s.uncounted + EXCLUDED.uncounted;
  IF EXISTS (SELECT 1 FROM unnest(deltas) x WHERE x.cases < 0) THEN
    DELETE FROM sla_rollup_settled s USING unnest(deltas) x
     WHERE x.cases < 0 AND s.cases = 0 AND (s.day, s.receiving_region, s.handling_region, s.item_code, s.item_name) = (x.day, x.receiving_region, x.handling_region, x.item_code, x.item_name);
  END IF;
END;
$$;

-- ---- open cases ---------------------------------------------------------------------------------

CREATE TABLE sla_rollup_open (
  receiving_region   char(6) NOT NULL,
  handling_region    char(6) NOT NULL,
  item_code          text    NOT NULL,
  item_name          text    NOT NULL,
  receiving_province char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 2) || '0000') STORED,
  receiving_city     char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 4) || '00') STORED,
  handling_province  char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 2) || '0000') STORED,
  handling_city      char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 4) || '00') STORED,
  open               int     NOT NULL DEFAULT 0,
  -- Of those, yellow and red by the worse of the two limits as the workflow last read it (sla_state).
  at_risk            int     NOT NULL DEFAULT 0,
  overdue            int     NOT NULL DEFAULT 0,
  PRIMARY KEY (receiving_region, handling_region, item_code, item_name)
) WITH (fillfactor = 70);
CREATE INDEX sla_rollup_open_receiving_province ON sla_rollup_open (receiving_province);
CREATE INDEX sla_rollup_open_handling_province ON sla_rollup_open (handling_province);
CREATE INDEX sla_rollup_open_receiving_city ON sla_rollup_open (receiving_city);
CREATE INDEX sla_rollup_open_handling_city ON sla_rollup_open (handling_city);
CREATE INDEX sla_rollup_open_handling ON sla_rollup_open (handling_region);

-- What one case adds to its open cell, times `sign`; NULL once the case is settled.
CREATE FUNCTION sla_rollup_open_of(sign int, c cases) RETURNS sla_rollup_open LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN c.case_id IS NOT NULL AND c.settled_at IS NULL THEN ROW(
    c.receiving_region, c.handling_region, c.item_code, c.item_name, NULL, NULL, NULL, NULL,
    sign, sign * (c.sla_state = 'yellow' IS TRUE)::int, sign * (c.sla_state = 'red' IS TRUE)::int
  )::sla_rollup_open END
$$;

CREATE FUNCTION sla_rollup_open_add(deltas sla_rollup_open[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sla_rollup_open AS s (receiving_region, handling_region, item_code, item_name, open, at_risk, overdue)
  SELECT receiving_region, handling_region, item_code, item_name, sum(open), sum(at_risk), sum(overdue)
    FROM unnest(deltas) x
   WHERE receiving_region IS NOT NULL
   GROUP BY receiving_region, handling_region, item_code, item_name
  HAVING NOT (sum(open) = 0 AND sum(at_risk) = 0 AND sum(overdue) = 0)
   ORDER BY receiving_region, handling_region, item_code, item_name
  ON CONFLICT (receiving_region, handling_region, item_code, item_name) DO UPDATE SET
    open = s.open + EXCLUDED.open, at_risk = s.at_risk + EXCLUDED.at_risk, overdue = s.overdue + EXCLUDED.overdue;
  IF EXISTS (SELECT 1 FROM unnest(deltas) x WHERE x.open < 0) THEN
    DELETE FROM sla_rollup_open s USING unnest(deltas) x
     WHERE x.open < 0 AND s.open = 0 AND (s.receiving_region, s.handling_region, s.item_code, s.item_name) = (x.receiving_region, x.handling_region, x.item_code, x.item_name);
  END IF;
END;
$$;

-- ---- evaluations ------------------------------------------------------------------------------

CREATE TABLE sla_rollup_evaluations (
  day                date    NOT NULL,
  receiving_region   char(6) NOT NULL,
  handling_region    char(6) NOT NULL,
  item_code          text    NOT NULL,
  level              text    NOT NULL,
  -- The due date of the follow-ups counted in open_follow_ups; 'infinity' for the cell of
  -- evaluations without an open follow-up.
  open_due           date    NOT NULL,
  receiving_province char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 2) || '0000') STORED,
  receiving_city     char(6) GENERATED ALWAYS AS (substr(receiving_region, 1, 4) || '00') STORED,
  handling_province  char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 2) || '0000') STORED,
  handling_city      char(6) GENERATED ALWAYS AS (substr(handling_region, 1, 4) || '00') STORED,
  evaluations        int     NOT NULL DEFAULT 0,
  open_follow_ups    int     NOT NULL DEFAULT 0,
  escalated          int     NOT NULL DEFAULT 0,
  resolved           int     NOT NULL DEFAULT 0,
  unresolved         int     NOT NULL DEFAULT 0,
  PRIMARY KEY (day, receiving_region, handling_region, item_code, level, open_due)
) WITH (fillfactor = 90);
CREATE INDEX sla_rollup_evaluations_receiving_province ON sla_rollup_evaluations (receiving_province, day);
CREATE INDEX sla_rollup_evaluations_handling_province ON sla_rollup_evaluations (handling_province, day);
CREATE INDEX sla_rollup_evaluations_receiving_city ON sla_rollup_evaluations (receiving_city, day);
CREATE INDEX sla_rollup_evaluations_handling_city ON sla_rollup_evaluations (handling_city, day);
CREATE INDEX sla_rollup_evaluations_receiving ON sla_rollup_evaluations (receiving_region, day);
CREATE INDEX sla_rollup_evaluations_handling ON sla_rollup_evaluations (handling_region, day);

-- What one evaluation adds to its cell, times `sign`: `c` its case, `e` the evaluation (NULL: none),
-- `f` its follow-up (NULL: none).
CREATE FUNCTION sla_rollup_evaluation_of(sign int, c cases, e case_evaluations, f evaluation_follow_ups) RETURNS sla_rollup_evaluations
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN c.case_id IS NOT NULL AND e.case_id IS NOT NULL THEN ROW(
    (e.recorded_at AT TIME ZONE 'Asia/Shanghai')::date, c.receiving_region, c.handling_region, c.item_code, e.level,
    CASE WHEN f.case_id IS NOT NULL AND f.closed_at IS NULL THEN f.due_date ELSE 'infinity'::date END,
    NULL, NULL, NULL, NULL,
    sign,
    sign * (f.case_id IS NOT NULL AND f.closed_at IS NULL)::int,
    sign * (f.escalated_at IS NOT NULL)::int,
    sign * (f.outcome = 'resolved' IS TRUE)::int,
    sign * (f.outcome = 'unresolved' IS TRUE)::int
  )::sla_rollup_evaluations END
$$;

CREATE FUNCTION sla_rollup_evaluations_add(deltas sla_rollup_evaluations[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sla_rollup_evaluations AS s (day, receiving_region, handling_region, item_code, level, open_due, evaluations, open_follow_ups, escalated, resolved, unresolved)
  SELECT day, receiving_region, handling_region, item_code, level, open_due, sum(evaluations), sum(open_follow_ups), sum(escalated), sum(resolved), sum(unresolved)
    FROM unnest(deltas) x
   WHERE day IS NOT NULL
   GROUP BY day, receiving_region, handling_region, item_code, level, open_due
  HAVING NOT (sum(evaluations) = 0 AND sum(open_follow_ups) = 0 AND sum(escalated) = 0 AND sum(resolved) = 0 AND sum(unresolved) = 0)
   ORDER BY day, receiving_region, handling_region, item_code, level, open_due
  ON CONFLICT (day, receiving_region, handling_region, item_code, level, open_due) DO UPDATE SET
    evaluations = s.evaluations + EXCLUDED.evaluations, open_follow_ups = s.open_follow_ups + EXCLUDED.open_follow_ups,
    escalated = s.escalated + EXCLUDED.escalated, resolved = s.resolved + EXCLUDED.resolved, unresolved = s.unresolved + EXCLUDED.unresolved;
  IF EXISTS (SELECT 1 FROM unnest(deltas) x WHERE x.evaluations < 0) THEN
    DELETE FROM sla_rollup_evaluations s USING unnest(deltas) x
     WHERE x.evaluations < 0 AND s.evaluations = 0
       AND (s.day, s.receiving_region, s.handling_region, s.item_code, s.level, s.open_due) = (x.day, x.receiving_region, x.handling_region, x.item_code, x.level, x.open_due);
  END IF;
END;
$$;

-- ---- triggers -----------------------------------------------------------------------------------

-- A case inserted, changed or deleted: its open, settled and evaluation contributions as it was
-- (OLD) are taken out and as it is (NEW) put in. Row-level; the UPDATE trigger fires only when a
-- column the roll-up reads changed (most projection writes change none).
CREATE FUNCTION sla_rollup_cases() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  id uuid := coalesce(NEW.case_id, OLD.case_id);
  d case_custody_days;
  e case_evaluations;
  f evaluation_follow_ups;
BEGIN
  -- Open while settled_at is NULL, settled after: only the tables the case was or is in are written.
  IF (OLD.case_id IS NOT NULL AND OLD.settled_at IS NULL) OR (NEW.case_id IS NOT NULL AND NEW.settled_at IS NULL) THEN
    PERFORM sla_rollup_open_add(ARRAY[sla_rollup_open_of(-1, OLD), sla_rollup_open_of(1, NEW)]);
  END IF;
  IF OLD.settled_at IS NOT NULL OR NEW.settled_at IS NOT NULL THEN
    SELECT * INTO d FROM case_custody_days WHERE case_id = id;
    PERFORM sla_rollup_settled_add(ARRAY[sla_rollup_settled_of(-1, OLD, d), sla_rollup_settled_of(1, NEW, d)]);
  END IF;
  -- An evaluation's cell reads the case's regions and item only.
  IF TG_OP <> 'UPDATE' OR (OLD.receiving_region, OLD.handling_region, OLD.item_code) IS DISTINCT FROM (NEW.receiving_region, NEW.handling_region, NEW.item_code) THEN
    SELECT * INTO e FROM case_evaluations WHERE case_id = id;
    IF e.case_id IS NOT NULL THEN
      SELECT * INTO f FROM evaluation_follow_ups WHERE case_id = id;
      PERFORM sla_rollup_evaluations_add(ARRAY[sla_rollup_evaluation_of(-1, OLD, e, f), sla_rollup_evaluation_of(1, NEW, e, f)]);
    END IF;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
END;
$$;
CREATE TRIGGER sla_rollup_insert AFTER INSERT ON cases FOR EACH ROW EXECUTE FUNCTION sla_rollup_cases();
CREATE TRIGGER sla_rollup_update AFTER UPDATE ON cases FOR EACH ROW
  WHEN ((OLD.settled_at, OLD.decision, OLD.closed_at, OLD.sla_state, OLD.sla_promised_state, OLD.sla_statutory_state, OLD.correction_rounds,
         OLD.item_code, OLD.item_name, OLD.receiving_region, OLD.handling_region)
        IS DISTINCT FROM
        (NEW.settled_at, NEW.decision, NEW.closed_at, NEW.sla_state, NEW.sla_promised_state, NEW.sla_statutory_state, NEW.correction_rounds,
         NEW.item_code, NEW.item_name, NEW.receiving_region, NEW.handling_region))
  EXECUTE FUNCTION sla_rollup_cases();
-- Before the row goes, while its custody, evaluation and follow-up rows are still there.
CREATE TRIGGER sla_rollup_delete BEFORE DELETE ON cases FOR EACH ROW EXECUTE FUNCTION sla_rollup_cases();

-- Custody rows: statement-level, with the rows the statement inserted, changed or deleted
-- (saveCustody inserts thousands at once). The settled cell's contribution with the new custody
-- minus the one with the old: only the custody figures move.
CREATE FUNCTION sla_rollup_custody() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM new_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_settled_add(array(
      SELECT sla_rollup_settled_of(1, c, n) FROM new_rows n JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_settled_of(-1, c, NULL) FROM new_rows n JOIN cases c USING (case_id)));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM new_rows UNION SELECT case_id FROM old_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_settled_add(array(
      SELECT sla_rollup_settled_of(1, c, n) FROM new_rows n JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_settled_of(-1, c, NULL) FROM new_rows n JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_settled_of(-1, c, o) FROM old_rows o JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_settled_of(1, c, NULL) FROM old_rows o JOIN cases c USING (case_id)));
  ELSE
    -- A case deleted with its custody has already taken its custody out: it is not found here.
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM old_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_settled_add(array(
      SELECT sla_rollup_settled_of(-1, c, o) FROM old_rows o JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_settled_of(1, c, NULL) FROM old_rows o JOIN cases c USING (case_id)));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER sla_rollup_insert AFTER INSERT ON case_custody_days REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_custody();
CREATE TRIGGER sla_rollup_update AFTER UPDATE ON case_custody_days REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_custody();
CREATE TRIGGER sla_rollup_delete AFTER DELETE ON case_custody_days REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_custody();

-- Evaluations: inserted or changed (statement-level), deleted (row-level, before the row and its
-- follow-up go).
CREATE FUNCTION sla_rollup_evaluation_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM new_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_evaluations_add(array(
      SELECT sla_rollup_evaluation_of(1, c, n, f) FROM new_rows n JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id)));
  ELSE
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM new_rows UNION SELECT case_id FROM old_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_evaluations_add(array(
      SELECT sla_rollup_evaluation_of(1, c, n, f) FROM new_rows n JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id)
      UNION ALL SELECT sla_rollup_evaluation_of(-1, c, o, f) FROM old_rows o JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id)));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER sla_rollup_insert AFTER INSERT ON case_evaluations REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_evaluation_rows();
CREATE TRIGGER sla_rollup_update AFTER UPDATE ON case_evaluations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_evaluation_rows();

CREATE FUNCTION sla_rollup_evaluation_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  c cases;
  f evaluation_follow_ups;
BEGIN
  -- Not found when the case itself is being deleted: it has already taken its evaluation out.
  SELECT * INTO c FROM cases WHERE case_id = OLD.case_id FOR SHARE;
  IF c.case_id IS NOT NULL THEN
    SELECT * INTO f FROM evaluation_follow_ups WHERE case_id = OLD.case_id;
    PERFORM sla_rollup_evaluations_add(ARRAY[sla_rollup_evaluation_of(-1, c, OLD, f)]);
  END IF;
  RETURN OLD;
END;
$$;
CREATE TRIGGER sla_rollup_delete BEFORE DELETE ON case_evaluations FOR EACH ROW EXECUTE FUNCTION sla_rollup_evaluation_deleted();

-- Follow-ups (closing, escalating many at once): the evaluation's contribution with the new
-- follow-up minus the one with the old.
CREATE FUNCTION sla_rollup_follow_ups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM new_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_evaluations_add(array(
      SELECT sla_rollup_evaluation_of(1, c, e, n) FROM new_rows n JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_evaluation_of(-1, c, e, NULL) FROM new_rows n JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM new_rows UNION SELECT case_id FROM old_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_evaluations_add(array(
      SELECT sla_rollup_evaluation_of(1, c, e, n) FROM new_rows n JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_evaluation_of(-1, c, e, NULL) FROM new_rows n JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_evaluation_of(-1, c, e, o) FROM old_rows o JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_evaluation_of(1, c, e, NULL) FROM old_rows o JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)));
  ELSE
    -- Not found when its evaluation (or case) is being deleted: that took the follow-up out.
    PERFORM 1 FROM cases WHERE case_id IN (SELECT case_id FROM old_rows) ORDER BY case_id FOR SHARE;
    PERFORM sla_rollup_evaluations_add(array(
      SELECT sla_rollup_evaluation_of(-1, c, e, o) FROM old_rows o JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)
      UNION ALL SELECT sla_rollup_evaluation_of(1, c, e, NULL) FROM old_rows o JOIN case_evaluations e USING (case_id) JOIN cases c USING (case_id)));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER sla_rollup_insert AFTER INSERT ON evaluation_follow_ups REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_follow_ups();
CREATE TRIGGER sla_rollup_update AFTER UPDATE ON evaluation_follow_ups REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_follow_ups();
CREATE TRIGGER sla_rollup_delete AFTER DELETE ON evaluation_follow_ups REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_follow_ups();

-- ---- rebuild (the backfill) --------------------------------------------------------------------

-- The roll-up from scratch, from the rows as they are: the backfill below, after a TRUNCATE, and a
-- repair should the tables ever be written with triggers off (session_replication_role = replica).
-- Holds the roll-up tables (TRUNCATE's lock) until its transaction ends.
CREATE FUNCTION sla_rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sla_rollup_open, sla_rollup_settled, sla_rollup_evaluations;
  -- Each contribution computed once per row (a function in FROM), and the cells written in day
  -- order, as the triggers write them over time, so a period's cells lie together.
  INSERT INTO sla_rollup_open (receiving_region, handling_region, item_code, item_name, open, at_risk, overdue)
  SELECT x.receiving_region, x.handling_region, x.item_code, x.item_name, sum(x.open), sum(x.at_risk), sum(x.overdue)
    FROM cases c CROSS JOIN LATERAL sla_rollup_open_of(1, c) x
   WHERE c.settled_at IS NULL
   GROUP BY 1, 2, 3, 4;
  INSERT INTO sla_rollup_settled (day, receiving_region, handling_region, item_code, item_name, cases, decided, approved, rejected,
         promised_measured, promised_on_time, statutory_measured, statutory_on_time, rounds_0, rounds_1, rounds_2, rounds_3_plus,
         custody_cases, days_receiving, days_handling, days_applicant, days_post, uncounted)
  SELECT x.day, x.receiving_region, x.handling_region, x.item_code, x.item_name, sum(x.cases), sum(x.decided), sum(x.approved), sum(x.rejected),
         sum(x.promised_measured), sum(x.promised_on_time), sum(x.statutory_measured), sum(x.statutory_on_time),
         sum(x.rounds_0), sum(x.rounds_1), sum(x.rounds_2), sum(x.rounds_3_plus),
         sum(x.custody_cases), sum(x.days_receiving), sum(x.days_handling), sum(x.days_applicant), sum(x.days_post), sum(x.uncounted)
    FROM cases c LEFT JOIN case_custody_days d USING (case_id) CROSS JOIN LATERAL sla_rollup_settled_of(1, c, d) x
   WHERE c.settled_at IS NOT NULL
   GROUP BY 1, 2, 3, 4, 5
   ORDER BY 1, 2, 3, 4, 5;
  INSERT INTO sla_rollup_evaluations (day, receiving_region, handling_region, item_code, level, open_due, evaluations, open_follow_ups, escalated, resolved, unresolved)
  SELECT x.day, x.receiving_region, x.handling_region, x.item_code, x.level, x.open_due,
         sum(x.evaluations), sum(x.open_follow_ups), sum(x.escalated), sum(x.resolved), sum(x.unresolved)
    FROM case_evaluations e JOIN cases c USING (case_id) LEFT JOIN evaluation_follow_ups f USING (case_id) CROSS JOIN LATERAL sla_rollup_evaluation_of(1, c, e, f) x
   GROUP BY 1, 2, 3, 4, 5, 6
   ORDER BY 1, 2, 3, 4, 5, 6;
END;
$$;

CREATE FUNCTION sla_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sla_rollup_rebuild();
  RETURN NULL;
END;
$$;
CREATE TRIGGER sla_rollup_truncate AFTER TRUNCATE ON cases FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_truncated();
CREATE TRIGGER sla_rollup_truncate AFTER TRUNCATE ON case_custody_days FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_truncated();
CREATE TRIGGER sla_rollup_truncate AFTER TRUNCATE ON case_evaluations FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_truncated();
CREATE TRIGGER sla_rollup_truncate AFTER TRUNCATE ON evaluation_follow_ups FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_truncated();

-- The backfill: the roll-up of the rows already there.
SELECT sla_rollup_rebuild();
