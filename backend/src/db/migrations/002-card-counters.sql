-- Highest SUN read counter seen per card, sent to kiosks so that a replayed message is
-- refused offline too.
CREATE TABLE card_counters (
  card_hash TEXT PRIMARY KEY,
  highest INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every secure read has its own counter value; the same (card, counter) on two events
-- means a copied SUN message, whatever order the events arrive in.
ALTER TABLE events ADD COLUMN card_hash TEXT;
ALTER TABLE events ADD COLUMN card_counter INTEGER;
CREATE UNIQUE INDEX events_card_counter ON events(card_hash, card_counter) WHERE card_counter IS NOT NULL;
