//! A minimal typed Stripe client on reqwest: the calls slotpay makes, Stripe's form encoding
//! and error object, retries that keep the idempotency key: accounts and webhook endpoints
//! (integrations), PaymentMethods, Customers, PaymentIntents, refunds, charges and balance
//! transactions (payments).

pub mod client;
pub mod error;
pub mod types;

pub use client::{ClientConfig, StripeClient, STRIPE_VERSION};
pub use error::{redact_keys, StripeApiError, StripeError, StripeErrorKind};
pub use types::{
    Account, BalanceTransaction, CancellationReason, CardDetails, Charge, Customer, Dispute,
    DisputeStatus, DomainMethod, DomainMethodStatus, Event, Expandable, Form, IdempotencyKey,
    LastPaymentError, PaymentIntent, PaymentIntentStatus, PaymentMethod, PaymentMethodDomain,
    PaymentMethodKind, Refund, RefundStatus, SetupFutureUsage, WebhookEndpoint,
};
