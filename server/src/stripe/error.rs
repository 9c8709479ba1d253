//! Stripe's error object (`{"error": {"type", "code", "decline_code", "message", "param",
//! "payment_intent"}}`) as a typed error, plus the failures of getting an answer at all.

use std::fmt;

use serde::Deserialize;

/// Stripe's error `type`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StripeErrorKind {
    /// The card was declined or its details are wrong.
    CardError,
    /// The request is wrong (including 401, 403, 404).
    InvalidRequestError,
    /// Something went wrong on Stripe's side.
    ApiError,
    /// An `Idempotency-Key` reused with other parameters.
    IdempotencyError,
    /// The key is invalid or expired.
    AuthenticationError,
    /// The key lacks a permission.
    PermissionError,
    /// Too many requests.
    RateLimitError,
    /// A type this client does not know (or no type at all).
    Other,
}

impl StripeErrorKind {
    /// Parses Stripe's spelling.
    pub fn parse(s: &str) -> StripeErrorKind {
        match s {
            "card_error" => StripeErrorKind::CardError,
            "invalid_request_error" => StripeErrorKind::InvalidRequestError,
            "api_error" => StripeErrorKind::ApiError,
            "idempotency_error" => StripeErrorKind::IdempotencyError,
            "authentication_error" => StripeErrorKind::AuthenticationError,
            "permission_error" => StripeErrorKind::PermissionError,
            "rate_limit_error" => StripeErrorKind::RateLimitError,
            _ => StripeErrorKind::Other,
        }
    }

    /// Stripe's spelling (`"other"` for unknown types), used as a metrics label.
    pub const fn as_str(self) -> &'static str {
        match self {
            StripeErrorKind::CardError => "card_error",
            StripeErrorKind::InvalidRequestError => "invalid_request_error",
            StripeErrorKind::ApiError => "api_error",
            StripeErrorKind::IdempotencyError => "idempotency_error",
            StripeErrorKind::AuthenticationError => "authentication_error",
            StripeErrorKind::PermissionError => "permission_error",
            StripeErrorKind::RateLimitError => "rate_limit_error",
            StripeErrorKind::Other => "other",
        }
    }
}

/// An error answer from Stripe. `message` has any API key in it masked to prefix + last 4.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StripeApiError {
    /// HTTP status.
    pub status: u16,
    /// Stripe's `type`.
    pub kind: StripeErrorKind,
    /// Stripe's `code` (`api_key_expired`, `resource_missing`, `card_declined`, ...).
    pub code: Option<String>,
    /// The issuer's reason for a decline.
    pub decline_code: Option<String>,
    /// Stripe's message.
    pub message: String,
    /// The parameter at fault.
    pub param: Option<String>,
    /// The PaymentIntent a card error is about.
    pub payment_intent: Option<String>,
}

impl StripeApiError {
    /// A 409 for an `Idempotency-Key` an earlier request is still using at Stripe
    /// (`idempotency_key_in_use`, or a `lock_timeout` on the object): not an answer to this
    /// request, which may still be applied by the one running. Stripe's SDKs retry every 409.
    pub fn is_key_in_use(&self) -> bool {
        self.status == 409
            && (matches!(
                self.code.as_deref(),
                Some("idempotency_key_in_use" | "lock_timeout")
            ) || self.kind == StripeErrorKind::IdempotencyError
                && self.message.contains("concurrent"))
    }

    /// For a restricted key refused an endpoint: the permission Stripe names in its message
    /// ("Having the 'rak_webhook_write' permission would allow this request to continue.").
    pub fn missing_permission(&self) -> Option<String> {
        if self.status != 403 {
            return None;
        }
        let (_, rest) = self.message.split_once("Having the '")?;
        let (permission, _) = rest.split_once('\'')?;
        Some(permission.to_owned())
    }
}

/// A failed Stripe call.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error object.
    #[error("Stripe {} ({}): {}", .0.status, .0.kind.as_str(), .0.message)]
    Api(StripeApiError),
    /// No answer: connection refused or reset, or the timeout passed.
    #[error("Stripe could not be reached: {message}")]
    Transport {
        /// What happened (no key, no body).
        message: String,
        /// True when the per-request timeout passed.
        timeout: bool,
    },
    /// An answer that is not what the API documents.
    #[error("unexpected answer from Stripe (HTTP {status}): {message}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// What did not parse.
        message: String,
    },
}

impl StripeError {
    /// Whether the same request (same idempotency key) may be sent again: connection
    /// errors, timeouts, 429, 5xx, and a key still in use by an earlier request (409, see
    /// [`StripeApiError::is_key_in_use`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            StripeError::Transport { .. } => true,
            StripeError::Api(e) => e.status == 429 || e.status >= 500 || e.is_key_in_use(),
            StripeError::Decode { status, .. } => *status >= 500,
        }
    }

    /// Stripe's answer to the request when it is a refusal that asking again would not
    /// change (a 4xx other than 429 and a key still in use); `None` when the outcome is
    /// unknown or may change.
    pub fn refusal(&self) -> Option<&StripeApiError> {
        match self {
            StripeError::Api(e) if !self.is_retryable() && e.status < 500 => Some(e),
            _ => None,
        }
    }

    /// The metrics label of the outcome.
    pub fn outcome_label(&self) -> &'static str {
        match self {
            StripeError::Api(e) => e.kind.as_str(),
            StripeError::Transport { timeout: true, .. } => "timeout",
            StripeError::Transport { .. } => "transport_error",
            StripeError::Decode { .. } => "decode_error",
        }
    }

    /// The Stripe error object, if Stripe answered with one.
    pub fn api(&self) -> Option<&StripeApiError> {
        match self {
            StripeError::Api(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
    param: Option<String>,
    payment_intent: Option<serde_json::Value>,
}

/// Parses an error answer's body; `None` when it is not Stripe's error shape.
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> Option<StripeApiError> {
    let env: Envelope = serde_json::from_slice(body).ok()?;
    let b = env.error;
    let payment_intent = match b.payment_intent {
        Some(serde_json::Value::String(id)) => Some(id),
        Some(serde_json::Value::Object(o)) => {
            o.get("id").and_then(|v| v.as_str()).map(str::to_owned)
        }
        _ => None,
    };
    Some(StripeApiError {
        status,
        kind: b
            .kind
            .as_deref()
            .map_or(StripeErrorKind::Other, StripeErrorKind::parse),
        code: b.code,
        decline_code: b.decline_code,
        message: redact_keys(b.message.as_deref().unwrap_or("")),
        param: b.param,
        payment_intent,
    })
}

/// Masks anything that looks like a Stripe API key or signing secret to prefix + last 4:
/// Stripe's messages quote keys with their last 6 characters, more than slotpay shows.
pub fn redact_keys(text: &str) -> String {
    const PREFIXES: [&str; 7] = [
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_", "whsec_",
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for prefix in PREFIXES {
            if rest.starts_with(prefix)
                && !out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                let body_len = rest[prefix.len()..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '*'))
                    .unwrap_or(rest.len() - prefix.len());
                let body = &rest[prefix.len()..prefix.len() + body_len];
                let last4: String = body
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let _ = fmt::Write::write_fmt(&mut out, format_args!("{prefix}...{last4}"));
                rest = &rest[prefix.len() + body_len..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stripes_error_object() {
        let body = br#"{"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
            "param": "payment_method", "payment_intent": {"id": "pi_123", "object": "payment_intent"}}}"#;
        let e = parse_error_body(402, body).unwrap();
        assert_eq!(e.kind, StripeErrorKind::CardError);
        assert_eq!(e.code.as_deref(), Some("card_declined"));
        assert_eq!(e.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(e.param.as_deref(), Some("payment_method"));
        assert_eq!(e.payment_intent.as_deref(), Some("pi_123"));
        assert!(parse_error_body(500, b"<html>").is_none());
        assert!(!StripeError::Api(e).is_retryable());
    }

    #[test]
    fn names_the_missing_permission_and_masks_the_key() {
        let body = br#"{"error": {"type": "invalid_request_error", "message": "The provided key 'rk_test_********abc123' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_webhook_write' permission would allow this request to continue."}}"#;
        let e = parse_error_body(403, body).unwrap();
        assert_eq!(e.missing_permission().as_deref(), Some("rak_webhook_write"));
        assert!(e.message.contains("'rk_test_...c123'"), "{}", e.message);
        assert!(!e.message.contains("abc123"));
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_keys("Invalid API Key provided: sk_test_abcdefgh1234, and whsec_zzzzzzzz9876."),
            "Invalid API Key provided: sk_test_...1234, and whsec_...9876."
        );
        assert_eq!(
            redact_keys("no keys here: task_test_x"),
            "no keys here: task_test_x"
        );
        assert_eq!(redact_keys("é sk_live_ab"), "é sk_live_...ab");
    }

    #[test]
    fn retryable() {
        let api = |status, kind| {
            StripeError::Api(StripeApiError {
                status,
                kind,
                code: None,
                decline_code: None,
                message: String::new(),
                param: None,
                payment_intent: None,
            })
        };
        assert!(api(500, StripeErrorKind::ApiError).is_retryable());
        assert!(api(429, StripeErrorKind::RateLimitError).is_retryable());
        assert!(!api(400, StripeErrorKind::InvalidRequestError).is_retryable());
        assert!(!api(401, StripeErrorKind::InvalidRequestError).is_retryable());
        assert!(StripeError::Transport {
            message: "reset".into(),
            timeout: false
        }
        .is_retryable());
        // A key another request still uses: retried, and never a refusal.
        let in_use = StripeError::Api(StripeApiError {
            status: 409,
            kind: StripeErrorKind::InvalidRequestError,
            code: Some("idempotency_key_in_use".into()),
            decline_code: None,
            message: "There is currently another in-progress request using this Idempotent Key"
                .into(),
            param: None,
            payment_intent: None,
        });
        assert!(in_use.is_retryable());
        assert!(in_use.refusal().is_none());
        assert!(api(400, StripeErrorKind::InvalidRequestError)
            .refusal()
            .is_some());
        assert!(api(409, StripeErrorKind::InvalidRequestError)
            .refusal()
            .is_some());
        assert!(api(500, StripeErrorKind::ApiError).refusal().is_none());
    }
}
