-- Payments: checkouts, pay attempts (one per client Idempotency-Key), Stripe events (one row
-- per event id), refunds, disputes and cancellation fees; and the previous webhook signing
-- secret of an integration, accepted until it expires while Stripe rolls the secret.
-- The uniqueness that protects money lives here, so it holds across server instances:
-- one PaymentIntent per checkout, one attempt per (checkout, client key), one row per Stripe
-- event, one refund and one fee per (checkout, key), refunds never above the captured amount.

ALTER TABLE integrations ADD COLUMN previous_webhook_secret_enc TEXT;
ALTER TABLE integrations ADD COLUMN previous_webhook_secret_expires_at INTEGER;

CREATE TABLE checkouts (
    token TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    service_id TEXT,
    source TEXT NOT NULL CHECK (source IN ('platform', 'catalogue')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    description TEXT NOT NULL,
    booking_ref TEXT,
    customer_email TEXT,
    is_link INTEGER NOT NULL CHECK (is_link IN (0, 1)),
    capture_method TEXT NOT NULL CHECK (capture_method IN ('automatic', 'manual')),
    fee_offer_amount INTEGER CHECK (fee_offer_amount > 0),
    status TEXT NOT NULL CHECK (status IN ('open', 'processing', 'requires_action', 'authorized',
        'paid', 'failed', 'partially_refunded', 'refunded', 'expired', 'canceled')),
    expires_at INTEGER,
    payment_intent_id TEXT UNIQUE,
    lease_until INTEGER,
    lease_attempt INTEGER,
    lease_from TEXT,
    charge_id TEXT,
    card_brand TEXT,
    card_last4 TEXT,
    amount_authorized INTEGER NOT NULL DEFAULT 0,
    amount_captured INTEGER NOT NULL DEFAULT 0,
    amount_refunded INTEGER NOT NULL DEFAULT 0,
    stripe_fee INTEGER,
    stripe_fee_currency TEXT,
    customer_id TEXT,
    saved_payment_method TEXT,
    last_error_code TEXT,
    last_decline_code TEXT,
    last_error_message TEXT,
    synced_at INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    authorized_at INTEGER,
    paid_at INTEGER,
    canceled_at INTEGER,
    CHECK (amount_refunded >= 0 AND amount_refunded <= amount_captured)
);

CREATE INDEX checkouts_by_merchant ON checkouts (merchant_id, created_at);
CREATE INDEX checkouts_by_status ON checkouts (status, updated_at);

CREATE TABLE payment_attempts (
    checkout_token TEXT NOT NULL REFERENCES checkouts (token) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (checkout_token, attempt),
    UNIQUE (checkout_token, idempotency_key)
);

CREATE TABLE stripe_events (
    event_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    object_id TEXT,
    checkout_token TEXT,
    created INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);

CREATE INDEX stripe_events_pending ON stripe_events (processed_at, received_at);
CREATE INDEX stripe_events_by_checkout ON stripe_events (checkout_token, created);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    checkout_token TEXT NOT NULL REFERENCES checkouts (token) ON DELETE CASCADE,
    idempotency_key TEXT,
    amount INTEGER NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
    stripe_refund_id TEXT UNIQUE,
    failure_message TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (checkout_token, idempotency_key)
);

CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    checkout_token TEXT REFERENCES checkouts (token) ON DELETE CASCADE,
    charge_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    stripe_created INTEGER NOT NULL,
    event_created INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX disputes_by_checkout ON disputes (checkout_token);

CREATE TABLE cancellation_fees (
    id TEXT PRIMARY KEY,
    checkout_token TEXT NOT NULL REFERENCES checkouts (token) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'requires_action')),
    payment_intent_id TEXT UNIQUE,
    error_code TEXT,
    decline_code TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (checkout_token, idempotency_key)
);
