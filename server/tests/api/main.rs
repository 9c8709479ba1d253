//! Integration tests of slotpay-server: the real server on port 0, a stripe-sandbox on port
//! 0, and SQLite or PostgreSQL; everything through HTTP (and the binary through its CLI).

mod helpers;

mod binary;
mod integrations;
mod merchants;
mod ops;
mod concurrency;
mod payment_faults;
mod payments;
mod webhooks_in;
mod public;
mod services;
mod stripe_faults;
