//! Stripe's resources as the sandbox serves them: one module per resource, each with the
//! renderer that shapes the object like Stripe's (every top-level field of Stripe's published
//! example) and the operations of its endpoints; `card_details` for the card several of them
//! carry; and here the few helpers several of them share (the empty address, an event's
//! `previous_attributes`, the customer lookup).

pub mod account;
pub mod balance_transactions;
pub mod card_details;
pub mod charges;
pub mod customers;
pub mod disputes;
pub mod events;
pub mod intents;
pub mod payment_intents;
pub mod payment_method_domains;
pub mod payment_methods;
pub mod refunds;
pub mod setup_intents;
pub mod tokens;
pub mod webhook_endpoints;

use serde_json::{json, Map, Value};

use crate::errors::{ApiError, ApiResult};
use crate::state::{Ctx, Customer};

/// An empty address object.
pub fn empty_address() -> Value {
    json!({"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null})
}

/// The members of `before` that differ in `after` (Stripe's `data.previous_attributes`).
pub fn previous_attributes(before: &Value, after: &Value) -> Value {
    let mut prev = Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (k, v) in b {
            if a.get(k) != Some(v) {
                prev.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(prev)
}

/// The customer `id` of the caller's account (not deleted): customers, the PaymentMethods
/// attached to them and the intents that name them all look customers up here.
pub fn get_customer(ctx: &Ctx, id: &str, param: &str) -> ApiResult<Customer> {
    ctx.store
        .customers
        .get(id)
        .filter(|c| c.account == ctx.account && !c.deleted)
        .cloned()
        .ok_or_else(|| ApiError::missing("customer", id, Some(param)))
}
