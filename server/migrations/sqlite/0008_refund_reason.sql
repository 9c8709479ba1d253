-- Why a refund was made, as Stripe records it: requested_by_customer, duplicate or
-- fraudulent (a fraudulent one also tells Stripe's fraud systems); NULL when none was given.
ALTER TABLE refunds ADD COLUMN reason TEXT;
