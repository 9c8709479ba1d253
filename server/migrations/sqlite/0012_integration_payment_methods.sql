-- The ways to pay a merchant offers (a JSON array of Stripe's PaymentMethod types, card
-- always among them) and whether card payments may come from wallets (Apple Pay, Google Pay).
ALTER TABLE integrations ADD COLUMN payment_methods TEXT NOT NULL DEFAULT '["card"]';
ALTER TABLE integrations ADD COLUMN wallets INTEGER NOT NULL DEFAULT 1;
