-- Backend schema v1. Anything synced to kiosks changes additively only.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE services (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL
);

CREATE TABLE venues (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  ward TEXT NOT NULL,
  allow_uid_only INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE venue_services (
  venue_id TEXT NOT NULL REFERENCES venues(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  PRIMARY KEY (venue_id, service_id)
) WITHOUT ROWID;

-- Pseudonymous: a ref, a display first name at most, an age band and a ward.
CREATE TABLE residents (
  ref TEXT PRIMARY KEY,
  first_name TEXT,
  age_band TEXT NOT NULL,
  ward TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Cards by HMAC of their UID, never the raw UID.
CREATE TABLE cards (
  card_hash TEXT PRIMARY KEY,
  resident_ref TEXT NOT NULL REFERENCES residents(ref),
  status TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
  technology TEXT NOT NULL,
  key_version INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX cards_resident ON cards(resident_ref);

CREATE TABLE kiosks (
  id TEXT PRIMARY KEY,
  venue_id TEXT NOT NULL REFERENCES venues(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
  code_hash TEXT,
  code_expires_at INTEGER,
  public_key TEXT,
  registered_at INTEGER,
  ack_seq INTEGER NOT NULL DEFAULT 0,
  last_push_at INTEGER,
  last_pull_at INTEGER,
  clock_offset_ms INTEGER
);

CREATE TABLE request_nonces (
  kiosk_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (kiosk_id, nonce)
) WITHOUT ROWID;
CREATE INDEX request_nonces_seen ON request_nonces(seen_at);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  resident_ref TEXT,
  venue_id TEXT,
  service_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
  reject_code TEXT,
  payload TEXT NOT NULL,
  UNIQUE (kiosk_id, seq)
);
CREATE INDEX events_resident ON events(resident_ref);

-- Double entry: each line moves `amount` from one account to another, so every line
-- sums to zero. Append-only; corrections are new lines.
CREATE TABLE ledger_lines (
  event_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  scheme_id TEXT NOT NULL,
  scheme_version INTEGER NOT NULL,
  rule_id TEXT NOT NULL,
  wallet TEXT NOT NULL,
  from_account TEXT NOT NULL,
  to_account TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, idx)
) WITHOUT ROWID;
CREATE INDEX ledger_to ON ledger_lines(to_account, wallet);
CREATE INDEX ledger_from ON ledger_lines(from_account, wallet);

CREATE TABLE schemes (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (id, version)
) WITHOUT ROWID;

-- The change feed kiosks pull by cursor.
CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
