-- Venue type and ward, so rules that filter on them give the right provisional answer
-- offline. Additive only.
ALTER TABLE venues ADD COLUMN type TEXT;
ALTER TABLE venues ADD COLUMN ward TEXT;
