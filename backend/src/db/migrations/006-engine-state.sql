-- The rules engine's state between events (limit counters, expiry lots, streaks, budgets,
-- ward targets), one JSON row per resident / scheme / ward, written in the same
-- transaction as the ledger lines it goes with.
CREATE TABLE engine_state (
  kind TEXT NOT NULL CHECK (kind IN ('resident', 'scheme', 'ward')),
  key TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- What the engine flagged for staff and dashboards: late events, overdrafts (beyond the
-- offline allowance or not), restrictions broken, budgets used up.
CREATE TABLE engine_flags (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  code TEXT NOT NULL,
  detail TEXT NOT NULL,
  resident_ref TEXT,
  scheme_id TEXT,
  amount INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX engine_flags_event ON engine_flags(event_id);
CREATE INDEX engine_flags_code ON engine_flags(code, created_at);
