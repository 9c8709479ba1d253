//! The rules of merchants, their Stripe integrations, their service catalogues, and their
//! payments (checkouts, pay, webhooks, refunds, captures, cancellation fees, reports). Every
//! front end (the JSON APIs, the CLI, the pages) calls these functions, so no rule lives in
//! a handler. Inputs arrive as loosely typed structs (what a
//! form or JSON body can hold) and are parsed here into core's types; all fields are checked
//! before anything is saved, and every refusal carries core's stable code and the field.

pub mod catalogue;
pub mod checkouts;
pub mod fees;
pub mod integrations;
pub mod merchants;
pub mod payments;
pub mod reconcile;
pub mod refunds;
pub mod reports;
pub mod webhooks;

use serde::{Deserialize, Deserializer, Serialize};
use slotpay_core::ApiError;

use crate::db::DbError;
use crate::secrets::SecretsError;
use crate::stripe::{StripeApiError, StripeError};

/// Why a domain operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// One or more fields are invalid; nothing was saved.
    #[error("invalid input: {}", .0.first().message)]
    Invalid(FieldErrors),
    /// A rule refused the operation (a key Stripe rejects, a missing webhook secret).
    #[error("refused: {0}")]
    Refused(ApiError),
    /// No such merchant, integration or service.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Stripe answered with an error slotpay did not expect.
    #[error("Stripe error: {}", .0.message)]
    Stripe(Box<StripeApiError>),
    /// Stripe could not be reached (after retries) or answered 5xx/429.
    #[error("Stripe unavailable: {0}")]
    StripeUnavailable(Box<StripeError>),
    /// The database failed or the row changed meanwhile.
    #[error(transparent)]
    Storage(#[from] DbError),
    /// Anything else that is our fault (a secret that does not decrypt).
    #[error("internal: {0}")]
    Internal(String),
}

impl From<SecretsError> for DomainError {
    fn from(e: SecretsError) -> Self {
        DomainError::Internal(e.to_string())
    }
}

impl From<StripeError> for DomainError {
    fn from(e: StripeError) -> Self {
        // A key still in use is no answer yet: retry later, like an unreachable Stripe.
        if e.refusal().is_none() {
            return DomainError::StripeUnavailable(Box::new(e));
        }
        match e {
            StripeError::Api(api) => DomainError::Stripe(Box::new(api)),
            other => DomainError::StripeUnavailable(Box::new(other)),
        }
    }
}

/// A non-empty list of field errors, in the order of the input's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<ApiError>);

impl FieldErrors {
    /// The first error (the one a JSON answer carries).
    pub fn first(&self) -> &ApiError {
        &self.0[0]
    }

    /// The first error, by value.
    pub fn into_first(self) -> ApiError {
        self.0
            .into_iter()
            .next()
            .expect("non-empty by construction")
    }

    /// Every error (an admin form shows each next to its field).
    pub fn all(&self) -> &[ApiError] {
        &self.0
    }
}

/// Collects field errors while a whole input is checked.
#[derive(Default)]
pub(crate) struct Checker {
    errors: Vec<ApiError>,
}

impl Checker {
    /// Keeps the value or records the error.
    pub(crate) fn check<T>(&mut self, result: Result<T, ApiError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Records an error.
    pub(crate) fn push(&mut self, e: ApiError) {
        self.errors.push(e);
    }

    /// `Err(Invalid)` when anything was recorded.
    pub(crate) fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(FieldErrors(self.errors)))
        }
    }
}

/// Something the caller should know about a successful operation (`key_trimmed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
            slotpay_core::ErrorCode::InvalidRequest,
            format!("The {param} must be 1 to {max} characters"),
        )
        .with_param(param));
    }
    Ok(name.to_owned())
}
