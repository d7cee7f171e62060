-- Reward administration: eligibility attributes of residents (categories such as
-- prison-leaver or in-education, and consents), outlets without a kiosk and their API
-- keys (hashes only), voucher codes (hashes only) and the scheduler's allowance record.

CREATE TABLE resident_attributes (
  resident_ref TEXT NOT NULL REFERENCES residents(ref),
  kind TEXT NOT NULL CHECK (kind IN ('category', 'consent')),
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (resident_ref, kind, value)
) WITHOUT ROWID;

-- An approved outlet (o-<name>) redeems through the outlet API as pseudo-kiosk
-- k-outlet-<name>, with its own gap-free sequence in the events table.
CREATE TABLE outlets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  categories TEXT NOT NULL,
  kiosk_id TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

CREATE TABLE outlet_keys (
  key_hash TEXT PRIMARY KEY,
  outlet_id TEXT NOT NULL REFERENCES outlets(id),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;

-- A voucher code stands in for a card at outlets: its pseudo card hash (HMAC under the
-- card-hash key) maps to the resident it was issued to.
CREATE TABLE voucher_codes (
  card_hash TEXT PRIMARY KEY,
  resident_ref TEXT NOT NULL REFERENCES residents(ref),
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One allowance event per resident, scheme grant and period: the scheduler's own record.
CREATE TABLE allowance_runs (
  scheme_id TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  period TEXT NOT NULL,
  resident_ref TEXT NOT NULL,
  event_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scheme_id, grant_id, period, resident_ref)
) WITHOUT ROWID;
