-- Anti-replay: how each card was issued, and the highest SUN counter seen (here or, by
-- sync, at any kiosk). Additive only.
ALTER TABLE cards ADD COLUMN technology TEXT;
CREATE TABLE card_counters (
  card_hash TEXT PRIMARY KEY,
  highest INTEGER NOT NULL
) WITHOUT ROWID;
