-- Defences against card testing and fees beyond consent.
--
-- checkouts.declines: declined pay attempts; a checkout refuses pays once it reaches the
-- configured cap. checkouts.fees_held: cancellation fees charged or in flight on the saved
-- card, reserved by one conditional update so their total never exceeds the offer the client
-- agreed to (fee_offer_amount); a failed fee gives its amount back.
ALTER TABLE checkouts ADD COLUMN declines INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkouts ADD COLUMN fees_held INTEGER NOT NULL DEFAULT 0;

-- Counters shared by every server instance, per key and time window: a merchant's declines
-- (card testing slows or stops its pays) and the catalogue checkouts a client address made.
CREATE TABLE abuse_counters (
    key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

CREATE INDEX abuse_counters_by_window ON abuse_counters (window_start);
