-- Emails to clients (payment links, slotpay's own receipts), sent through the configured SMTP
-- server by a background task: each is written first, then sent, so a payment never waits
-- for a mail server and a failed send is kept with its error and tried again.
--
-- status: pending (not sent yet; next_attempt_at says when it is due, and claims it while
-- one instance sends), sent, or failed (given up after its attempts; staff may send it again).
-- One receipt per checkout.
CREATE TABLE emails (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    checkout_token TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('link', 'receipt')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);

CREATE INDEX emails_due ON emails (status, next_attempt_at);
CREATE INDEX emails_by_checkout ON emails (checkout_token, created_at);
CREATE UNIQUE INDEX emails_one_receipt ON emails (checkout_token) WHERE kind = 'receipt';
