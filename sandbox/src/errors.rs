//! Stripe's error object (`{"error": {"type", "code", "decline_code", "message", "param", ...}}`)
//! and the HTTP status each kind of error is answered with.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// The `type` of a Stripe error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// `api_error`: something went wrong on Stripe's side (the sandbox's injected 5xx).
    Api,
    /// `card_error`: the card was declined or its details are wrong (HTTP 402).
    Card,
    /// `idempotency_error`: an `Idempotency-Key` reused with other parameters.
    Idempotency,
    /// `invalid_request_error`: the request itself is wrong (HTTP 400, 401, 403, 404, 409).
    InvalidRequest,
}

impl ErrorType {
    /// Stripe's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Api => "api_error",
            ErrorType::Card => "card_error",
            ErrorType::Idempotency => "idempotency_error",
            ErrorType::InvalidRequest => "invalid_request_error",
        }
    }
}

/// One error answer of the REST API, built with Stripe's wording.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {kind:?}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stripe's `type`.
    pub kind: ErrorType,
    /// Human message, copied from Stripe's wording where known.
    pub message: String,
    /// Extra members of the error object (`code`, `param`, `decline_code`, `payment_intent`, ...).
    pub fields: Map<String, Value>,
    /// Whether the idempotency layer may save this answer. Stripe saves results only once the
    /// endpoint has started executing: parameter validation failures are not saved.
    pub saved: bool,
}

impl ApiError {
    /// A new error of `kind` with `status`.
    pub fn new(status: StatusCode, kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            fields: Map::new(),
            saved: true,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorType::InvalidRequest, message)
    }

    /// 400 `invalid_request_error` from parameter validation (not saved for idempotent replay).
    pub fn validation(message: impl Into<String>, code: &str, param: &str) -> Self {
        let mut e = Self::invalid(message).code(code).param(param);
        e.saved = false;
        e
    }

    /// 404 `resource_missing`: "No such payment_intent: 'pi_123'".
    pub fn missing(noun: &str, id: &str, param: Option<&str>) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequest,
            format!("No such {noun}: '{id}'"),
        )
        .code("resource_missing");
        if let Some(p) = param {
            e = e.param(p);
        }
        e
    }

    /// 402 `card_error`.
    pub fn card(message: impl Into<String>, code: &str) -> Self {
        Self::new(StatusCode::PAYMENT_REQUIRED, ErrorType::Card, message).code(code)
    }

    /// 400 `payment_intent_unexpected_state` (and friends: the code is given).
    pub fn state(message: impl Into<String>, code: &str) -> Self {
        Self::invalid(message).code(code)
    }

    /// Sets `code`.
    pub fn code(self, code: &str) -> Self {
        self.with("code", json!(code))
    }

    /// Sets `param`.
    pub fn param(self, param: &str) -> Self {
        self.with("param", json!(param))
    }

    /// Sets `decline_code`.
    pub fn decline_code(self, code: &str) -> Self {
        self.with("decline_code", json!(code))
    }

    /// Sets any member of the error object.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.fields.insert(name.to_string(), value);
        self
    }

    /// The `code`, if any.
    pub fn code_str(&self) -> Option<&str> {
        self.fields.get("code").and_then(Value::as_str)
    }

    /// The answer's body, as Stripe shapes it: `doc_url` follows the code and
    /// `request_log_url` points at the request.
    pub fn body(&self, request_id: &str) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), json!(self.kind.as_str()));
        error.insert("message".into(), json!(self.message));
        for (k, v) in &self.fields {
            error.insert(k.clone(), v.clone());
        }
        if let Some(code) = self.code_str() {
            let doc = format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            );
            error.entry("doc_url").or_insert(json!(doc));
        }
        error.insert(
            "request_log_url".into(),
            json!(format!(
                "https://dashboard.stripe.com/test/logs/{request_id}"
            )),
        );
        json!({ "error": Value::Object(error) })
    }
}

/// The sandbox's result type for API operations.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_doc_url_and_type() {
        let e = ApiError::card("Your card was declined.", "card_declined")
            .decline_code("generic_decline");
        let b = e.body("req_1");
        assert_eq!(b["error"]["type"], "card_error");
        assert_eq!(b["error"]["decline_code"], "generic_decline");
        assert_eq!(
            b["error"]["doc_url"],
            "https://stripe.com/docs/error-codes/card-declined"
        );
        assert_eq!(e.status, StatusCode::PAYMENT_REQUIRED);
    }
}
