-- Kiosk: targeted offers pulled from the backend, and which of them target residents
-- this venue has seen (only pseudonymous refs). A newer page replaces what it names;
-- offers that are retired or past their end date are removed. Additive only.
CREATE TABLE offers (
  id TEXT PRIMARY KEY,
  title_en TEXT NOT NULL,
  title_cy TEXT NOT NULL,
  detail_en TEXT,
  detail_cy TEXT,
  service_id TEXT,
  -- London dates (YYYY-MM-DD), inclusive.
  starts_on TEXT NOT NULL,
  ends_on TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  updated_at INTEGER NOT NULL
);

CREATE TABLE offer_residents (
  resident_ref TEXT NOT NULL,
  offer_id TEXT NOT NULL,
  PRIMARY KEY (resident_ref, offer_id)
) WITHOUT ROWID;
CREATE INDEX offer_residents_offer ON offer_residents(offer_id);
