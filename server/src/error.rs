//! The HTTP boundary's error: [`ApiFailure`] turns into core's error body
//! (`{"error": {"code", "message", "param"}}`) with the status of its code. Internal details
//! (database, decryption, unexpected Stripe answers) are logged with an id and never sent;
//! the client gets `internal_error` with that id to quote.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use slotpay_core::{ApiError, ErrorCode};

use crate::db::DbError;
use crate::domain::DomainError;

/// An error answer.
#[derive(Debug)]
pub struct ApiFailure {
    /// What the client sees.
    pub error: ApiError,
    /// `Retry-After` seconds (rate limits, Stripe unavailable).
    pub retry_after: Option<u64>,
    /// What only the log sees.
    pub internal: Option<String>,
}

impl ApiFailure {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiFailure {
        ApiFailure::from(ApiError::new(code, message))
    }

    /// An unexpected failure: logged in full, answered as `internal_error`.
    pub fn internal(detail: impl std::fmt::Display) -> ApiFailure {
        ApiFailure {
            error: ApiError::new(ErrorCode::InternalError, "Something went wrong on our side"),
            retry_after: None,
            internal: Some(detail.to_string()),
        }
    }

    /// `not_found` for a missing resource.
    pub fn not_found(what: &str) -> ApiFailure {
        ApiFailure::new(ErrorCode::NotFound, format!("No such {what}"))
    }

    /// The same failure with a `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> ApiFailure {
        self.retry_after = Some(secs);
        self
    }
}

impl From<ApiError> for ApiFailure {
    fn from(error: ApiError) -> ApiFailure {
        ApiFailure {
            error,
            retry_after: None,
            internal: None,
        }
    }
}

impl From<DbError> for ApiFailure {
    fn from(e: DbError) -> ApiFailure {
        match e {
            DbError::Conflict(message) => ApiFailure::new(ErrorCode::Conflict, message),
            other => ApiFailure::internal(other),
        }
    }
}

impl From<DomainError> for ApiFailure {
    fn from(e: DomainError) -> ApiFailure {
        match e {
            DomainError::Invalid(errors) => ApiFailure::from(errors.into_first()),
            DomainError::Refused(error) => ApiFailure::from(error),
            DomainError::NotFound(what) => ApiFailure::not_found(what),
            DomainError::Storage(db) => ApiFailure::from(db),
            DomainError::StripeUnavailable(e) => ApiFailure {
                error: ApiError::new(
                    ErrorCode::StripeUnavailable,
                    "Stripe could not be reached; try again in a moment",
                ),
                retry_after: Some(5),
                internal: Some(e.to_string()),
            },
            DomainError::Stripe(e) => ApiFailure {
                error: ApiError::new(
                    ErrorCode::StripeError,
                    format!("Stripe refused the request: {}", e.message),
                ),
                retry_after: None,
                internal: None,
            },
            DomainError::Internal(detail) => ApiFailure::internal(detail),
        }
    }
}

impl ApiFailure {
    /// The status of the failure's code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// What the client may see: the internal detail is logged here with an id, and a
    /// server error's message quotes that id. (The JSON answer and the admin pages both
    /// show errors through this.)
    pub fn into_public(self) -> ApiError {
        let status = self.status();
        let mut error = self.error;
        if let Some(detail) = &self.internal {
            let id = crate::secrets::random_token(8);
            if status.is_server_error() {
                tracing::error!(error_id = %id, code = %error.code, detail = %detail, "request failed");
                error.message = format!("{} (error id {id})", error.message);
            } else {
                tracing::warn!(error_id = %id, code = %error.code, detail = %detail, "request refused");
            }
        }
        error
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let error = self.into_public();
        let mut response = (status, Json(error.into_body())).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
