-- Which residents each venue has seen: a kiosk is sent the balances of the residents its
-- venue sees, not the whole county's.
CREATE TABLE venue_residents (
  venue_id TEXT NOT NULL,
  resident_ref TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  PRIMARY KEY (venue_id, resident_ref)
) WITHOUT ROWID;
