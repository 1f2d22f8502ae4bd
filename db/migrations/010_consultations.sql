-- Video consultations (视频会商) of a case as its workflow records them (workflows/case/consultation.ts,
-- db/projection.ts): each with its topic, participants, booked room and join links, status
-- (requested, booked, held, not_held, missed, failed) and outcome, for the case view. Cases from
-- before, and cases without one, have none.
ALTER TABLE cases ADD COLUMN consultations jsonb NOT NULL DEFAULT '[]';
