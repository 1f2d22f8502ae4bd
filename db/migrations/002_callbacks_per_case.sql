-- Province callbacks are de-duplicated per (province, case, event id), not per (province, event
-- id): an event id is the province's to choose, and only within one case is a repeat a duplicate
-- (defect 10 of issue 5). delivered_at records that the event's signal reached the case's
-- workflow (or that the workflow had ended); a row without it belongs to a delivery that failed
-- or is in flight, and a repeat of that event is signalled again (db/callbacks.ts explains why).
ALTER TABLE province_callbacks DROP CONSTRAINT province_callbacks_pkey;
ALTER TABLE province_callbacks ADD PRIMARY KEY (region_code, case_id, event_id);
ALTER TABLE province_callbacks ADD COLUMN delivered_at timestamptz;
-- Rows written before this migration were committed only after their signal went through.
UPDATE province_callbacks SET delivered_at = received_at;
