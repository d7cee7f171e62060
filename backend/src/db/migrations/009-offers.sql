-- Targeted offers, residents' volunteered attributes and resident access codes.
--
-- An offer targets one published segment (an RFM segment or a behavioural cluster). The
-- residents it targets are fixed when it is created (by analytics id, never by ref), so
-- that take-up compares like with like even after segments are recomputed. Kiosks are
-- sent the offers, and for residents their venue has seen, which offer applies.
CREATE TABLE offers (
  id TEXT PRIMARY KEY,
  title_en TEXT NOT NULL,
  title_cy TEXT NOT NULL,
  detail_en TEXT,
  detail_cy TEXT,
  -- 'rfm:<segment slug>' or 'cluster:<n>', and its plain-words label when created.
  segment_id TEXT NOT NULL,
  segment_label TEXT NOT NULL,
  service_id TEXT REFERENCES services(id),
  -- London dates (YYYY-MM-DD), inclusive; no end date = open-ended.
  starts_on TEXT NOT NULL,
  ends_on TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER,
  CHECK (ends_on IS NULL OR ends_on >= starts_on),
  CHECK ((detail_en IS NULL) = (detail_cy IS NULL))
);

CREATE TABLE offer_targets (
  offer_id TEXT NOT NULL REFERENCES offers(id),
  resident_id INTEGER NOT NULL,
  PRIMARY KEY (offer_id, resident_id)
) WITHOUT ROWID;
CREATE INDEX offer_targets_resident ON offer_targets(resident_id);

-- Attributes residents chose to tell the council, from a closed set. Each attribute is
-- set or cleared on its own and the newest statement wins (kiosks may report late).
-- Counted in analytics only while the resident consents to 'analytics'.
CREATE TABLE volunteered_attributes (
  resident_ref TEXT NOT NULL REFERENCES residents(ref),
  attribute TEXT NOT NULL,
  volunteered INTEGER NOT NULL CHECK (volunteered IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (resident_ref, attribute)
) WITHOUT ROWID;
CREATE INDEX volunteered_attributes_attribute ON volunteered_attributes(attribute, volunteered);

-- A resident's access code for the resident API: a public handle and a secret, the
-- secret stored as a scrypt hash only. Failed sign-ins lock the handle for a while.
CREATE TABLE resident_access (
  handle TEXT PRIMARY KEY,
  resident_ref TEXT NOT NULL UNIQUE REFERENCES residents(ref),
  secret_hash TEXT NOT NULL,
  issued_by TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER
);

CREATE TABLE resident_tokens (
  token_hash TEXT PRIMARY KEY,
  resident_ref TEXT NOT NULL REFERENCES residents(ref),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX resident_tokens_expiry ON resident_tokens(expires_at);
