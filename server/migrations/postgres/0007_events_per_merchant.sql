-- Stripe events are stored once per merchant that received them, not once in all: two
-- merchants connected to one Stripe account each receive every event of the account on their
-- own endpoint, and each applies the ones about its own payments. With event_id alone as the
-- key, the second merchant's copy was dropped as a duplicate of the first's.
ALTER TABLE stripe_events DROP CONSTRAINT stripe_events_pkey;
ALTER TABLE stripe_events ADD PRIMARY KEY (merchant_id, event_id);
