//! API keys as Stripe treats them: how a request carries one (Bearer, basic auth with the key as
//! user, or Stripe.js's `key` parameter), masking in messages, the kinds (publishable, secret,
//! restricted) and restricted keys' permissions (`rak_payment_intent_write`, ...).

use std::collections::BTreeSet;
use std::fmt;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;

use crate::errors::{ApiError, ErrorType};

/// The kind of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// `pk_test_`: only the calls Stripe.js makes.
    Publishable,
    /// `sk_test_`: everything.
    Secret,
    /// `rk_test_`: what its permissions allow.
    Restricted,
}

impl KeyKind {
    /// The key prefix for test mode.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Publishable => "pk_test_",
            KeyKind::Secret => "sk_test_",
            KeyKind::Restricted => "rk_test_",
        }
    }
}

/// One API key of a sandbox account.
#[derive(Clone)]
pub struct ApiKey {
    /// The key itself.
    pub secret: String,
    /// The account it belongs to.
    pub account: String,
    /// Its kind.
    pub kind: KeyKind,
    /// For restricted keys: the `rak_*_read|write` permissions granted.
    pub permissions: BTreeSet<String>,
    /// Revoked keys answer `api_key_expired`.
    pub revoked: bool,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("secret", &mask_last4(&self.secret))
            .field("account", &self.account)
            .field("kind", &self.kind)
            .field("permissions", &self.permissions)
            .field("revoked", &self.revoked)
            .finish()
    }
}

/// The resources a restricted key's permissions are about, with Stripe's permission stem.
pub const RESOURCES: &[(&str, &str)] = &[
    ("charges", "charge"),
    ("customers", "customer"),
    ("payment_intents", "payment_intent"),
    ("payment_methods", "payment_method"),
    ("setup_intents", "setup_intent"),
    ("webhook_endpoints", "webhook"),
    ("refunds", "refund"),
    ("events", "event"),
    ("disputes", "dispute"),
    ("balance_transactions", "balance"),
    ("tokens", "token"),
    ("payment_method_domains", "payment_method_domain"),
];

/// The permissions the binary's restricted key has: what slotpay needs.
pub fn slotpay_permissions() -> BTreeSet<String> {
    [
        "charges",
        "customers",
        "payment_intents",
        "payment_methods",
        "setup_intents",
        "webhook_endpoints",
        "refunds",
        "events",
        "payment_method_domains",
    ]
    .iter()
    .map(|r| format!("rak_{}_write", stem(r).unwrap_or(r)))
    .collect()
}

fn stem(resource: &str) -> Option<&'static str> {
    RESOURCES
        .iter()
        .find(|(r, s)| *r == resource || *s == resource)
        .map(|(_, s)| *s)
}

/// Normalises a permission given to the control API: Stripe's own name
/// (`rak_payment_intent_write`) or the short form `payment_intents:write` / `payment_intents_read`.
pub fn parse_permission(p: &str) -> Result<String, String> {
    let p = p.trim();
    if let Some(rest) = p.strip_prefix("rak_") {
        for suffix in ["_read", "_write"] {
            if let Some(s) = rest.strip_suffix(suffix) {
                if RESOURCES.iter().any(|(_, st)| *st == s) {
                    return Ok(p.to_string());
                }
            }
        }
        return Err(format!("unknown permission '{p}'"));
    }
    let (res, level) = p
        .split_once(':')
        .or_else(|| p.rsplit_once('_'))
        .ok_or_else(|| format!("unknown permission '{p}' (use e.g. payment_intents:write)"))?;
    let s = stem(res).ok_or_else(|| format!("unknown resource '{res}'"))?;
    match level {
        "read" | "write" => Ok(format!("rak_{s}_{level}")),
        _ => Err(format!("unknown access level '{level}' (read or write)")),
    }
}

/// Whether `granted` covers `needed` (write implies read).
pub fn allows(granted: &BTreeSet<String>, needed: &str) -> bool {
    granted.contains(needed)
        || needed
            .strip_suffix("_read")
            .is_some_and(|stem| granted.contains(&format!("{stem}_write")))
}

fn visible_prefix(key: &str) -> &str {
    for p in [
        "sk_test_", "sk_live_", "pk_test_", "pk_live_", "rk_test_", "rk_live_",
    ] {
        if key.starts_with(p) {
            return &key[..p.len()];
        }
    }
    ""
}

fn mask(key: &str, visible: usize) -> String {
    let prefix = visible_prefix(key);
    let rest = &key[prefix.len()..];
    let chars: Vec<char> = rest.chars().collect();
    if chars.len() <= visible {
        return format!("{prefix}{}", "*".repeat(chars.len()));
    }
    let tail: String = chars[chars.len() - visible..].iter().collect();
    format!("{prefix}{}{tail}", "*".repeat(chars.len() - visible))
}

/// Masks a key as Stripe's "Invalid API Key provided" message does: prefix, stars, last 4.
pub fn mask_last4(key: &str) -> String {
    mask(key, 4)
}

/// Masks a key as Stripe's expired-key and permission messages do: prefix, stars, last 6.
pub fn mask_last6(key: &str) -> String {
    mask(key, 6)
}

/// The key a request carries, from `Authorization: Bearer`, basic auth (key as user), or the
/// `key` parameter Stripe.js sends.
pub fn extract_key(headers: &HeaderMap, key_param: Option<&str>) -> Result<String, ApiError> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default().trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Ok(rest.to_string());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest) {
                let text = String::from_utf8_lossy(&decoded).into_owned();
                let user = text.split(':').next().unwrap_or_default().to_string();
                if !user.is_empty() {
                    return Ok(user);
                }
            }
        }
        return Err(unauthorized(
            "Invalid API Key provided. Your API key should be passed in the Authorization header \
             using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ));
    }
    match key_param {
        Some(k) if !k.is_empty() => Ok(k.to_string()),
        _ => Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or \
             we can help at https://support.stripe.com/.",
        )),
    }
}

/// A 401 `invalid_request_error`.
pub fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorType::InvalidRequest, message)
}

/// The answer to a key the sandbox does not know (including every live key: the sandbox is
/// test mode only).
pub fn invalid_key(key: &str) -> ApiError {
    unauthorized(format!("Invalid API Key provided: {}", mask_last4(key)))
}

/// The answer to a revoked key.
pub fn expired_key(key: &str) -> ApiError {
    unauthorized(format!("Expired API Key provided: {}", mask_last6(key))).code("api_key_expired")
}

/// The answer to a publishable key on a server-side endpoint.
pub fn publishable_refused() -> ApiError {
    unauthorized(
        "This API call cannot be made with a publishable API key. Please use a secret API key. \
         You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
    )
    .code("secret_key_required")
}

/// The 403 a restricted key without `permission` gets.
pub fn permission_refused(key: &str, account: &str, permission: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorType::InvalidRequest,
        format!(
            "The provided key '{}' does not have the required permissions for this endpoint on \
             account '{account}'. Having the '{permission}' permission would allow this request \
             to continue.",
            mask_last6(key)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn masks_like_stripe() {
        assert_eq!(mask_last4("sk_test_abcdefgh1234"), "sk_test_********1234");
        assert_eq!(
            mask_last6("rk_test_abcdefgh123456"),
            "rk_test_********123456"
        );
        assert_eq!(mask_last4("nonsense12345"), "*********2345");
    }

    #[test]
    fn bearer_basic_and_key_param() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk_test_x"),
        );
        assert_eq!(extract_key(&h, None).unwrap(), "sk_test_x");
        let mut h = HeaderMap::new();
        let b = base64::engine::general_purpose::STANDARD.encode("sk_test_y:");
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("Basic {b}")).unwrap(),
        );
        assert_eq!(extract_key(&h, None).unwrap(), "sk_test_y");
        assert_eq!(
            extract_key(&HeaderMap::new(), Some("pk_test_z")).unwrap(),
            "pk_test_z"
        );
        assert_eq!(
            extract_key(&HeaderMap::new(), None).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn permissions_normalise_and_write_implies_read() {
        assert_eq!(
            parse_permission("payment_intents:write").unwrap(),
            "rak_payment_intent_write"
        );
        assert_eq!(
            parse_permission("webhook_endpoints_read").unwrap(),
            "rak_webhook_read"
        );
        assert_eq!(
            parse_permission("rak_charge_read").unwrap(),
            "rak_charge_read"
        );
        assert!(parse_permission("rak_nothing_read").is_err());
        let granted: BTreeSet<String> = ["rak_charge_write".to_string()].into();
        assert!(allows(&granted, "rak_charge_read"));
        assert!(!allows(&granted, "rak_refund_read"));
        assert!(slotpay_permissions().contains("rak_payment_intent_write"));
    }

    #[test]
    fn debug_never_prints_the_key() {
        let k = ApiKey {
            secret: "sk_test_supersecretvalue9876".into(),
            account: "acct_1".into(),
            kind: KeyKind::Secret,
            permissions: BTreeSet::new(),
            revoked: false,
        };
        let d = format!("{k:?}");
        assert!(!d.contains("supersecret"));
        assert!(d.contains("9876"));
    }
}
