-- Stripe events are stored once per merchant that received them, not once in all: two
-- merchants connected to one Stripe account each receive every event of the account on their
-- own endpoint, and each applies the ones about its own payments. With event_id alone as the
-- key, the second merchant's copy was dropped as a duplicate of the first's.
--
-- SQLite cannot change a primary key in place: the table is copied into a new one.
CREATE TABLE stripe_events_new (
    event_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    object_id TEXT,
    checkout_token TEXT,
    created INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (merchant_id, event_id)
);

INSERT INTO stripe_events_new (event_id, merchant_id, event_type, object_id, checkout_token,
    created, payload, received_at, processed_at, attempts, last_error)
SELECT event_id, merchant_id, event_type, object_id, checkout_token, created, payload,
    received_at, processed_at, attempts, last_error
FROM stripe_events;

DROP TABLE stripe_events;
ALTER TABLE stripe_events_new RENAME TO stripe_events;

CREATE INDEX stripe_events_pending ON stripe_events (processed_at, received_at);
CREATE INDEX stripe_events_by_checkout ON stripe_events (checkout_token, created);
