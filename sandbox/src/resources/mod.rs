//! Stripe's resources as the sandbox serves them: one module per resource, each with the
//! renderer that shapes the object like Stripe's (every top-level field of Stripe's published
//! example) and the operations of its endpoints.

pub mod account;
pub mod balance_transactions;
pub mod charges;
pub mod customers;
pub mod disputes;
pub mod events;
pub mod payment_intents;
pub mod payment_methods;
pub mod refunds;
pub mod setup_intents;
pub mod tokens;
pub mod webhook_endpoints;

use serde_json::{json, Value};

/// `null` or the string.
pub fn opt(v: &Option<String>) -> Value {
    match v {
        Some(s) => json!(s),
        None => Value::Null,
    }
}

/// An empty address object.
pub fn empty_address() -> Value {
    json!({"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null})
}
