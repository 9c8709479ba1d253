-- The reference server's tables, created at start (every statement is idempotent; the server
-- runs them under an advisory lock so two processes starting together do not race).
--
-- checkouts: what a client pays, and where its payment is. The columns the pay path writes are
-- the ones slotpay's pay path writes: status, PaymentIntent id, email, card brand and last 4.
-- pay_attempts: one row per (checkout, Idempotency-Key); the unique constraint is what makes a
-- repeated or concurrent request with the same key run once, across processes.

CREATE TABLE IF NOT EXISTS checkouts (
    token TEXT PRIMARY KEY,
    merchant_name TEXT NOT NULL,
    description TEXT NOT NULL,
    booking_ref TEXT,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    locale TEXT NOT NULL DEFAULT 'en',
    card_brands TEXT[] NOT NULL DEFAULT '{visa,mastercard,amex,discover,jcb,diners,unionpay}',
    save_card_consent TEXT,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'processing', 'requires_action', 'paid', 'failed', 'expired', 'canceled')),
    payment_intent_id TEXT UNIQUE,
    email TEXT,
    card_brand TEXT,
    card_last4 TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS pay_attempts (
    id BIGSERIAL PRIMARY KEY,
    checkout_token TEXT NOT NULL REFERENCES checkouts (token),
    idempotency_key TEXT NOT NULL,
    -- The request body as parsed, to refuse the same key with another body.
    request JSONB NOT NULL,
    -- running: in flight; retryable: Stripe or the database failed, the same key may run it
    -- again; done: the answer below is final and is replayed for the same key.
    state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'retryable', 'done')),
    response_status INTEGER,
    response_body JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (checkout_token, idempotency_key)
);
