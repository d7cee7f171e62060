-- Venue staff who use kiosk staff mode (staff card + PIN). Created by council admins
-- through the CLI and admin API, synced to kiosks for offline PIN checks. Minimum
-- personal data: a first name. PINs are stored as PBKDF2 hashes only; staff cards as
-- card hashes (HMAC of the UID under the council key), never raw UIDs.
CREATE TABLE staff (
  ref TEXT PRIMARY KEY,
  first_name TEXT NOT NULL,
  pin_hash TEXT NOT NULL,
  -- JSON array of venue ids, or ["*"] for every venue.
  venues TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE staff_cards (
  card_hash TEXT PRIMARY KEY,
  staff_ref TEXT NOT NULL REFERENCES staff(ref),
  status TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_cards_staff ON staff_cards(staff_ref);
