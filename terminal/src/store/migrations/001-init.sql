-- Kiosk store v1. Minimum personal data: card hashes, pseudonymous refs, age band,
-- a display first name at most. No UIDs, no addresses, no health data.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE cards (
  card_hash TEXT PRIMARY KEY,
  resident_ref TEXT NOT NULL,
  status TEXT NOT NULL,
  first_name TEXT,
  age_band TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX cards_resident ON cards(resident_ref);

-- Balances as last pulled from the backend (authoritative at pull time).
CREATE TABLE balances (
  resident_ref TEXT NOT NULL,
  wallet TEXT NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY (resident_ref, wallet)
) WITHOUT ROWID;

CREATE TABLE services (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL
);

CREATE TABLE venues (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  allow_uid_only INTEGER NOT NULL,
  services TEXT NOT NULL
);

CREATE TABLE schemes (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  PRIMARY KEY (id, version)
) WITHOUT ROWID;

-- Every event, committed before the resident sees the answer. seq is gap-free.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  resident_ref TEXT,
  occurred_at TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'duplicate', 'rejected')),
  reject_code TEXT,
  reject_reason TEXT,
  settled_at INTEGER
);
CREATE INDEX outbox_pending ON outbox(status, seq);

-- Ledger lines of this kiosk's events: provisional (from the local engine) until the
-- backend's authoritative lines replace them.
CREATE TABLE ledger_lines (
  event_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  resident_ref TEXT NOT NULL,
  wallet TEXT NOT NULL,
  from_account TEXT NOT NULL,
  to_account TEXT NOT NULL,
  amount INTEGER NOT NULL,
  authoritative INTEGER NOT NULL,
  PRIMARY KEY (event_id, idx)
) WITHOUT ROWID;
CREATE INDEX ledger_resident ON ledger_lines(resident_ref);
