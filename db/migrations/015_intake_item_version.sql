-- The item version an intake request was taken in under (issue 8): a retry of the request after
-- its workflow started, but before its case row was written, pins the same version even when a
-- newer one was published (or that one retired) in between. NULL for requests from before.
ALTER TABLE intake_requests ADD COLUMN item_version int;
