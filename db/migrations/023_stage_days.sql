-- Working days per stage (issue 9, the managers' dashboard; docs/reports.md "Working days per
-- stage"): how many working days each closed case spent in intake, precheck, correction, transfer,
-- review, decision and delivery (domain/stageDays.ts, from its recorded events up to its closing).
-- Like custody, the figures of a closed case no longer change: the report computes them once and
-- keeps them beside the custody in case_custody_days, and the roll-up of migration 021 sums them
-- per settled cell so the report's means stay sums over counts.
--
-- A custody row kept before this migration has no stage figures (all seven NULL): the report
-- treats such a row as not counted yet for stages, computes them from the case's events and fills
-- them in (saveCustody, db/reports.ts); its custody figures are left as they were. Nothing is
-- deleted here, so reports between the migration and that first count still show custody.

ALTER TABLE case_custody_days
  ADD COLUMN days_intake     int,
  ADD COLUMN days_precheck   int,
  ADD COLUMN days_correction int,
  ADD COLUMN days_transfer   int,
  ADD COLUMN days_review     int,
  ADD COLUMN days_decision   int,
  ADD COLUMN days_delivery   int,
  -- All seven counted, or none yet.
  ADD CONSTRAINT case_custody_days_stages_counted
    CHECK (num_nulls(days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery) IN (0, 7));

-- The settled cells: closed cases whose stage figures are counted (at most custody_cases: the
-- figures live on the custody row), the sums of their working days per stage, and closed cases
-- whose custody is counted but whose stage figures are not yet (the report counts those first,
-- as it counts `uncounted`).
ALTER TABLE sla_rollup_settled
  ADD COLUMN stage_cases     int    NOT NULL DEFAULT 0,
  ADD COLUMN days_intake     bigint NOT NULL DEFAULT 0,
  ADD COLUMN days_precheck   bigint NOT NULL DEFAULT 0,
  ADD COLUMN days_correction bigint NOT NULL DEFAULT 0,
  ADD COLUMN days_transfer   bigint NOT NULL DEFAULT 0,
  ADD COLUMN days_review     bigint NOT NULL DEFAULT 0,
  ADD COLUMN days_decision   bigint NOT NULL DEFAULT 0,
  ADD COLUMN days_delivery   bigint NOT NULL DEFAULT 0,
  ADD COLUMN stage_uncounted int    NOT NULL DEFAULT 0;

-- What one case adds to its settled cell, times `sign` (as in 021, with the stage figures after
-- `uncounted`, in the table's column order). `d` is its custody row (NULL when not counted).
CREATE OR REPLACE FUNCTION sla_rollup_settled_of(sign int, c cases, d case_custody_days) RETURNS sla_rollup_settled
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
    sign * (c.closed_at IS NOT NULL AND d.case_id IS NULL)::int,
    sign * (d.case_id IS NOT NULL AND d.days_intake IS NOT NULL)::int,
    sign * coalesce(d.days_intake, 0), sign * coalesce(d.days_precheck, 0), sign * coalesce(d.days_correction, 0),
    sign * coalesce(d.days_transfer, 0), sign * coalesce(d.days_review, 0), sign * coalesce(d.days_decision, 0),
    sign * coalesce(d.days_delivery, 0),
    sign * (c.closed_at IS NOT NULL AND d.case_id IS NOT NULL AND d.days_intake IS NULL)::int
  )::sla_rollup_settled END
$$;

-- Adds contributions to their cells (as in 021, with the stage sums).
CREATE OR REPLACE FUNCTION sla_rollup_settled_add(deltas sla_rollup_settled[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sla_rollup_settled AS s (day, receiving_region, handling_region, item_code, item_name, cases, decided, approved, rejected,
         promised_measured, promised_on_time, statutory_measured, statutory_on_time, rounds_0, rounds_1, rounds_2, rounds_3_plus,
         custody_cases, days_receiving, days_handling, days_applicant, days_post, uncounted,
         stage_cases, days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery, stage_uncounted)
  SELECT day, receiving_region, handling_region, item_code, item_name, sum(cases), sum(decided), sum(approved), sum(rejected),
         sum(promised_measured), sum(promised_on_time), sum(statutory_measured), sum(statutory_on_time), sum(rounds_0), sum(rounds_1), sum(rounds_2), sum(rounds_3_plus),
         sum(custody_cases), sum(days_receiving), sum(days_handling), sum(days_applicant), sum(days_post), sum(uncounted),
         sum(stage_cases), sum(days_intake), sum(days_precheck), sum(days_correction), sum(days_transfer), sum(days_review), sum(days_decision), sum(days_delivery),
         sum(stage_uncounted)
    FROM unnest(deltas) x
   WHERE day IS NOT NULL
   GROUP BY day, receiving_region, handling_region, item_code, item_name
  HAVING NOT (sum(cases) = 0 AND sum(decided) = 0 AND sum(approved) = 0 AND sum(rejected) = 0 AND sum(promised_measured) = 0
              AND sum(promised_on_time) = 0 AND sum(statutory_measured) = 0 AND sum(statutory_on_time) = 0 AND sum(rounds_0) = 0
              AND sum(rounds_1) = 0 AND sum(rounds_2) = 0 AND sum(rounds_3_plus) = 0 AND sum(custody_cases) = 0 AND sum(days_receiving) = 0
              AND sum(days_handling) = 0 AND sum(days_applicant) = 0 AND sum(days_post) = 0 AND sum(uncounted) = 0
              AND sum(stage_cases) = 0 AND sum(days_intake) = 0 AND sum(days_precheck) = 0 AND sum(days_correction) = 0
              AND sum(days_transfer) = 0 AND sum(days_review) = 0 AND sum(days_decision) = 0 AND sum(days_delivery) = 0
              AND sum(stage_uncounted) = 0)
   ORDER BY day, receiving_region, handling_region, item_code, item_name
  ON CONFLICT (day, receiving_region, handling_region, item_code, item_name) DO UPDATE SET
    cases = s.cases + EXCLUDED.cases, decided = s.decided + EXCLUDED.decided, approved = s.approved + EXCLUDED.approved,
    rejected = s.rejected + EXCLUDED.rejected, promised_measured = s.promised_measured + EXCLUDED.promised_measured,
    promised_on_time = s.promised_on_time + EXCLUDED.promised_on_time, statutory_measured = s.statutory_measured + EXCLUDED.statutory_measured,
    statutory_on_time = s.statutory_on_time + EXCLUDED.statutory_on_time, rounds_0 = s.rounds_0 + EXCLUDED.rounds_0,
    rounds_1 = s.rounds_1 + EXCLUDED.rounds_1, rounds_2 = s.rounds_2 + EXCLUDED.rounds_2, rounds_3_plus = s.rounds_3_plus + EXCLUDED.rounds_3_plus,
    custody_cases = s.custody_cases + EXCLUDED.custody_cases, days_receiving = s.days_receiving + EXCLUDED.days_receiving,
    days_handling = s.days_handling + EXCLUDED.days_handling, days_applicant = s.days_applicant + EXCLUDED.days_applicant,
    days_post = s.days_post + EXCLUDED.days_post, uncounted = s.uncounted + EXCLUDED.uncounted,
    stage_cases = s.stage_cases + EXCLUDED.stage_cases, days_intake = s.days_intake + EXCLUDED.days_intake,
    days_precheck = s.days_precheck + EXCLUDED.days_precheck, days_correction = s.days_correction + EXCLUDED.days_correction,
    days_transfer = s.days_transfer + EXCLUDED.days_transfer, days_review = s.days_review + EXCLUDED.days_review,
    days_decision = s.days_decision + EXCLUDED.days_decision, days_delivery = s.days_delivery + EXCLUDED.days_delivery,
    stage_uncounted = s.stage_uncounted + EXCLUDED.stage_uncounted;
  IF EXISTS (SELECT 1 FROM unnest(deltas) x WHERE x.cases < 0) THEN
    DELETE FROM sla_rollup_settled s USING unnest(deltas) x
     WHERE x.cases < 0 AND s.cases = 0 AND (s.day, s.receiving_region, s.handling_region, s.item_code, s.item_name) = (x.day, x.receiving_region, x.handling_region, x.item_code, x.item_name);
  END IF;
END;
$$;

-- The roll-up from scratch (as in 021, with the stage sums in the settled cells).
CREATE OR REPLACE FUNCTION sla_rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sla_rollup_open, sla_rollup_settled, sla_rollup_evaluations;
  INSERT INTO sla_rollup_open (receiving_region, handling_region, item_code, item_name, open, at_risk, overdue)
  SELECT x.receiving_region, x.handling_region, x.item_code, x.item_name, sum(x.open), sum(x.at_risk), sum(x.overdue)
    FROM cases c CROSS JOIN LATERAL sla_rollup_open_of(1, c) x
   WHERE c.settled_at IS NULL
   GROUP BY 1, 2, 3, 4;
  INSERT INTO sla_rollup_settled (day, receiving_region, handling_region, item_code, item_name, cases, decided, approved, rejected,
         promised_measured, promised_on_time, statutory_measured, statutory_on_time, rounds_0, rounds_1, rounds_2, rounds_3_plus,
         custody_cases, days_receiving, days_handling, days_applicant, days_post, uncounted,
         stage_cases, days_intake, days_precheck, days_correction, days_transfer, days_review, days_decision, days_delivery, stage_uncounted)
  SELECT x.day, x.receiving_region, x.handling_region, x.item_code, x.item_name, sum(x.cases), sum(x.decided), sum(x.approved), sum(x.rejected),
         sum(x.promised_measured), sum(x.promised_on_time), sum(x.statutory_measured), sum(x.statutory_on_time),
         sum(x.rounds_0), sum(x.rounds_1), sum(x.rounds_2), sum(x.rounds_3_plus),
         sum(x.custody_cases), sum(x.days_receiving), sum(x.days_handling), sum(x.days_applicant), sum(x.days_post), sum(x.uncounted),
         sum(x.stage_cases), sum(x.days_intake), sum(x.days_precheck), sum(x.days_correction), sum(x.days_transfer), sum(x.days_review),
         sum(x.days_decision), sum(x.days_delivery), sum(x.stage_uncounted)
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

-- The cells as they are now (custody rows kept before this migration count no stage yet).
SELECT sla_rollup_rebuild();
