-- How a checkout was paid (Stripe's PaymentMethod type: card, ideal, bancontact, sepa_debit),
-- once an attempt got that far; the card's brand and digits stay in card_brand and card_last4.
ALTER TABLE checkouts ADD COLUMN payment_method_type TEXT;
