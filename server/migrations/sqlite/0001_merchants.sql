-- Merchants, their Stripe integration (one per merchant) and their service catalogue.
-- Timestamps are unix seconds; ids are TEXT; JSON lists are TEXT; booleans are 0/1.
-- Secret columns (*_enc) hold AES-256-GCM ciphertexts `v1:<nonce>:<ciphertext>`, never plaintext.

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    locale TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE integrations (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('off', 'sandbox', 'live')),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('unverified', 'active', 'error')),
    status_code TEXT,
    status_message TEXT,
    status_permission TEXT,
    last_verified_at INTEGER,
    account_id TEXT,
    account_country TEXT,
    account_default_currency TEXT,
    publishable_key TEXT NOT NULL,
    secret_key_enc TEXT NOT NULL,
    secret_key_hint TEXT NOT NULL,
    webhook_secret_enc TEXT,
    webhook_secret_source TEXT CHECK (webhook_secret_source IN ('api', 'manual')),
    webhook_endpoint_id TEXT,
    webhook_url TEXT,
    card_brands TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE services (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    price_amount INTEGER NOT NULL CHECK (price_amount > 0),
    currency TEXT NOT NULL,
    prepayment TEXT NOT NULL,
    cancellation_fee_amount INTEGER CHECK (cancellation_fee_amount > 0),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX services_by_merchant ON services (merchant_id, created_at);
