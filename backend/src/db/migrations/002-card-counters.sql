-- Highest SUN read counter seen per card (anti-replay), synced both ways with kiosks.
CREATE TABLE card_counters (
  card_hash TEXT PRIMARY KEY,
  highest INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
