-- Events to the booking platform.
--
-- platform_events is a transactional outbox: each row is written in the same transaction as
-- the change it tells of (a checkout paid, a refund settled, ...), so a crash loses neither.
-- Each event gets one event_deliveries row per webhook endpoint that wants it, written in
-- that transaction too; a delivery is claimed by one instance at a time (claimed_until) and
-- tried until it succeeds or its schedule runs out. delivery_attempts keeps what each try met.
CREATE TABLE platform_events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    checkout_token TEXT,
    created_at INTEGER NOT NULL,
    payload TEXT NOT NULL
);

CREATE INDEX platform_events_by_time ON platform_events (created_at, id);
CREATE INDEX platform_events_by_merchant ON platform_events (merchant_id, created_at);
CREATE INDEX platform_events_by_checkout ON platform_events (checkout_token);

-- events: '' for every type, else ',type,type,' (matched with LIKE when an event is written).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT,
    merchant_id TEXT REFERENCES merchants (id) ON DELETE CASCADE,
    events TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    secret_enc TEXT NOT NULL,
    previous_secret_enc TEXT,
    previous_secret_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE event_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES platform_events (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (event_id, endpoint_id)
);

CREATE INDEX event_deliveries_due ON event_deliveries (status, next_attempt_at);
CREATE INDEX event_deliveries_by_endpoint ON event_deliveries (endpoint_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- The expiry that a checkout.expired event was written for (a resent link expires again).
ALTER TABLE checkouts ADD COLUMN expiry_announced INTEGER;
CREATE INDEX checkouts_by_expiry ON checkouts (expires_at)
    WHERE status IN ('open', 'failed', 'requires_action');
