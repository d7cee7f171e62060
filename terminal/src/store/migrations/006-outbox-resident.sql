-- A resident's events on this kiosk, newest first: the card of their last tap (a
-- redemption is made with it) and what they redeemed since the last sync (the offline
-- allowance). Local only; not synced.
CREATE INDEX outbox_resident ON outbox(resident_ref, seq);
