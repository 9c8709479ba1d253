//! A minimal typed Stripe client on reqwest: the calls slotpay makes, Stripe's form encoding
//! and error object, retries that keep the idempotency key. The payments issue adds its calls
//! to [`client::StripeClient`].

pub mod client;
pub mod error;
pub mod types;

pub use client::{ClientConfig, StripeClient, STRIPE_VERSION};
pub use error::{redact_keys, StripeApiError, StripeError, StripeErrorKind};
pub use types::{Account, Form, IdempotencyKey, WebhookEndpoint};
