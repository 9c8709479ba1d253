//! Why a domain operation did not happen ([`DomainError`]), the field errors of an input
//! checked as a whole ([`Checker`]), and the refusals the money path repeats, each written
//! once so a code always comes with the same message.

use slotpay_core::{ApiError, ChargeError, ErrorCode, PrepaymentError};

use crate::db::DbError;
use crate::logo::LogoError;
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

impl From<ChargeError> for DomainError {
    fn from(e: ChargeError) -> Self {
        DomainError::Refused(e.into())
    }
}

impl From<PrepaymentError> for DomainError {
    fn from(e: PrepaymentError) -> Self {
        DomainError::Refused(e.into())
    }
}

impl From<LogoError> for DomainError {
    fn from(e: LogoError) -> Self {
        DomainError::Invalid(FieldErrors(vec![e.into()]))
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

impl DomainError {
    /// A rule refused the operation: `code`, with a message for people.
    pub(crate) fn refused(code: ErrorCode, message: impl Into<String>) -> DomainError {
        DomainError::Refused(ApiError::new(code, message))
    }

    /// A refusal about one request parameter.
    pub(crate) fn refused_at(
        code: ErrorCode,
        message: impl Into<String>,
        param: &str,
    ) -> DomainError {
        DomainError::Refused(ApiError::new(code, message).with_param(param))
    }

    /// No checkout has the token (or it is not a token at all).
    pub(crate) fn checkout_not_found() -> DomainError {
        DomainError::refused(ErrorCode::CheckoutNotFound, "No checkout has this token")
    }

    /// The checkout is paid (or authorised) already.
    pub(crate) fn already_paid() -> DomainError {
        DomainError::refused(
            ErrorCode::CheckoutAlreadyPaid,
            "This checkout is already paid",
        )
    }

    /// The merchant canceled the checkout.
    pub(crate) fn checkout_canceled() -> DomainError {
        DomainError::Refused(checkout_canceled())
    }

    /// The checkout expired unpaid.
    pub(crate) fn checkout_expired() -> DomainError {
        DomainError::Refused(checkout_expired())
    }

    /// Stripe refused the merchant's key a payment had read, and the merchant replaced it
    /// meanwhile: a retryable answer (503), the next try reads the new key.
    pub(crate) fn key_replaced() -> DomainError {
        DomainError::refused(
            ErrorCode::StripeUnavailable,
            "The merchant's Stripe key changed during this payment; try again",
        )
    }

    /// Another operation holds the checkout.
    pub(crate) fn payment_in_progress() -> DomainError {
        DomainError::refused(
            ErrorCode::PaymentInProgress,
            "Another payment attempt for this checkout is in progress; wait a moment",
        )
    }

    /// A row kept changing under an optimistic write.
    pub(crate) fn changed_meanwhile() -> DomainError {
        DomainError::Storage(DbError::Conflict("the checkout kept changing; try again"))
    }

    /// A stored value that does not parse back (a bug or a manual edit).
    pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> DomainError {
        DomainError::Storage(DbError::Corrupt {
            table,
            detail: detail.into(),
        })
    }
}

/// The answer for a checkout the merchant canceled.
pub(crate) fn checkout_canceled() -> ApiError {
    ApiError::new(
        ErrorCode::CheckoutCanceled,
        "The merchant canceled this checkout",
    )
}

/// The answer for a checkout that expired unpaid.
pub(crate) fn checkout_expired() -> ApiError {
    ApiError::new(
        ErrorCode::CheckoutExpired,
        "This checkout has expired; ask the merchant for a new payment link",
    )
}

/// A non-empty list of field errors, in the order of the input's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub(crate) Vec<ApiError>);

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
