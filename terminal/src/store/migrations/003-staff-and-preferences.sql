-- Kiosk app: staff accounts synced for offline PIN checks, PIN lockout that survives a
-- restart, residents' language choice, and today's GP drop-in queue. Additive only.
-- Minimum personal data: a staff first name, card hashes and PIN hashes (never PINs);
-- for residents only the pseudonymous ref. Nothing about health: the queue holds a
-- number per resident per day, purged the next day.
CREATE TABLE staff (
  staff_ref TEXT PRIMARY KEY,
  first_name TEXT NOT NULL,
  -- PBKDF2 hash with its parameters: pbkdf2-sha256$<iterations>$<salt b64>$<key b64>
  pin_hash TEXT NOT NULL,
  -- Venues this staff member may act at; '*' for every venue.
  venues TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  updated_at INTEGER NOT NULL
);

CREATE TABLE staff_cards (
  card_hash TEXT PRIMARY KEY,
  staff_ref TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'blocked'))
) WITHOUT ROWID;

CREATE TABLE staff_lockout (
  staff_ref TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked_until INTEGER
) WITHOUT ROWID;

CREATE TABLE resident_prefs (
  resident_ref TEXT PRIMARY KEY,
  language TEXT NOT NULL CHECK (language IN ('en', 'cy')),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE gp_queue (
  day TEXT NOT NULL,
  resident_ref TEXT NOT NULL,
  number INTEGER NOT NULL,
  PRIMARY KEY (day, resident_ref)
) WITHOUT ROWID;
