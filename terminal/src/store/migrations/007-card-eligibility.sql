-- A resident's eligibility categories and consents, as JSON arrays on their card rows: only
-- those some published scheme uses, never health data (the backend sends nothing else),
-- so the kiosk's provisional answer matches the backend's. NULL: not sent yet (an older
-- backend). Additive only.
ALTER TABLE cards ADD COLUMN categories TEXT;
ALTER TABLE cards ADD COLUMN consents TEXT;
