//! Integration tests of slotpay-server: the real server on port 0, a stripe-sandbox on port
//! 0, and SQLite or PostgreSQL; everything through HTTP (and the binary through its CLI).

mod contract;
mod helpers;

mod admin_pages;
mod after_payment;
mod binary;
mod concurrency;
mod dispute_races;
mod emails;
mod generated;
mod integrations;
mod key_in_use;
mod logos;
mod merchants;
mod openapi;
mod ops;
mod payment_faults;
mod payment_methods;
mod payments;
mod platform_events;
mod public;
mod receiver;
mod reports;
mod security;
mod services;
mod stored_values;
mod stripe_faults;
mod webhooks_in;
