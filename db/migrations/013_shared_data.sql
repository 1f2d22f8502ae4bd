-- 免提交 (issue 8): a material fetched from the data-sharing hub is a hand-off of its own on the
-- ledger, from the hub (party 'datahub') to the receiving window (kind 'shared_data'). The checks
-- of 006 are widened; nothing else changes.
ALTER TABLE case_handoffs DROP CONSTRAINT case_handoffs_kind_check;
ALTER TABLE case_handoffs ADD CONSTRAINT case_handoffs_kind_check CHECK (kind IN ('material', 'supplement', 'correction_notice', 'extension_notice', 'procedure_notice',
  'decision', 'result', 'result_by_post', 'original_by_post', 'liaison_attachment', 'shared_data', 'ack'));
ALTER TABLE case_handoffs DROP CONSTRAINT case_handoffs_from_side_check;
ALTER TABLE case_handoffs ADD CONSTRAINT case_handoffs_from_side_check CHECK (from_side IN ('receiving', 'handling', 'applicant', 'post', 'datahub'));
ALTER TABLE case_handoffs DROP CONSTRAINT case_handoffs_to_side_check;
ALTER TABLE case_handoffs ADD CONSTRAINT case_handoffs_to_side_check CHECK (to_side IN ('receiving', 'handling', 'applicant', 'post', 'datahub'));
