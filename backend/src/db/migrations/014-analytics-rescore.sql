-- Residents whose feature rows changed since their published segment was last scored
-- (analytics ids). The ingestion listener adds them in the same transaction as it writes
-- their rows out, so the set is exactly as durable as the rows; the daily step re-scores
-- and clears them in one transaction (a step that fails leaves them here for the next).
-- Derived, like everything in analytics: a full segmentation run clears it.
CREATE TABLE analytics_rescore (
  resident_id INTEGER PRIMARY KEY
);
