-- The ways to pay a merchant offers (a JSON array of Stripe's PaymentMethod types, card
-- always among them) and whether card payments may come from wallets (Apple Pay, Google Pay).
ALTER TABLE integrations ADD COLUMN payment_methods TEXT NOT NULL DEFAULT '["card"]';
ALTER TABLE integrations ADD COLUMN wallets INTEGER NOT NULL DEFAULT 1;
-- The web domains registered with the merchant's Stripe account for the wallets (a JSON
-- array of what Stripe said of each when last checked).
ALTER TABLE integrations ADD COLUMN wallet_domains TEXT NOT NULL DEFAULT '[]';
