-- The pull's change feed keeps only the latest change per key. A pull materialises each
-- key at its current state, so older rows for the same key only made kiosks page through
-- duplicates (100,000 offline events for 2,000 residents meant 100,000 balance rows).
-- A kiosk behind the removed row still receives the key at its newer cursor.
DELETE FROM changes
WHERE cursor NOT IN (SELECT MAX(cursor) FROM changes GROUP BY kind, key);
CREATE INDEX changes_by_key ON changes (kind, key);
