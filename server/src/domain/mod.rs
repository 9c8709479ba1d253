//! The rules of merchants, their Stripe integrations, their service catalogues, and their
//! payments (checkouts, pay, webhooks, refunds, captures, cancellation fees, reports). Every
//! front end (the JSON APIs, the CLI, the pages) calls these functions, so no rule lives in
//! a handler. Inputs arrive as loosely typed structs (what a
//! form or JSON body can hold) and are parsed here into core's types; all fields are checked
//! before anything is saved, and every refusal carries core's stable code and the field.

mod abuse;
pub mod catalogue;
pub mod checkouts;
pub mod deliveries;
pub mod endpoints;
mod error;
pub mod events;
pub mod fees;
pub mod holds;
pub mod integrations;
pub mod mail;
pub mod merchants;
mod outbox;
pub mod payments;
pub mod reconcile;
pub mod refunds;
pub mod reports;
pub mod store;
pub mod sync;
mod views;
mod wallet_domains;
pub mod webhooks;

pub(crate) use error::Checker;
pub use error::{DomainError, FieldErrors};

use serde::{Deserialize, Deserializer, Serialize};
use slotpay_core::{ApiError, ErrorCode};

use crate::db::MerchantRecord;
use crate::state::AppState;

/// Something the caller should know about a successful operation (`key_trimmed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// Stable machine code.
    pub code: &'static str,
    /// The field it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// For people.
    pub message: String,
}

/// A new id: `prefix` + 24 hex digits from the OS's CSPRNG.
pub(crate) fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0_u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// For PATCH-like inputs: `Some(None)` when the field is `null`, `Some(Some(v))` when set,
/// `None` (with `#[serde(default)]`) when absent.
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A required, trimmed, non-empty name of at most `max` characters.
pub(crate) fn parse_name(input: &str, param: &str, max: usize) -> Result<String, ApiError> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("The {param} must be 1 to {max} characters"),
        )
        .with_param(param));
    }
    Ok(name.to_owned())
}

/// The stored merchant, or `NotFound`.
pub(crate) async fn load_merchant(
    state: &AppState,
    id: &str,
) -> Result<MerchantRecord, DomainError> {
    state
        .db
        .get_merchant(id)
        .await?
        .ok_or(DomainError::NotFound("merchant"))
}
