//! The Stripe objects slotpay reads (only the fields it uses), Stripe's form encoding with
//! its bracket syntax, and idempotency keys.

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// `GET /v1/account`.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    /// `acct_...`.
    pub id: String,
    /// Two-letter country.
    pub country: Option<String>,
    /// The settlement currency (lowercase), which decides the minimum charge.
    pub default_currency: Option<String>,
    /// Whether the account can take charges.
    #[serde(default)]
    pub charges_enabled: Option<bool>,
}

/// A webhook endpoint. `secret` is only present in the creation's answer.
#[derive(Clone, Debug, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_...`.
    pub id: String,
    /// Where Stripe sends events.
    pub url: String,
    /// The event types it receives.
    #[serde(default)]
    pub enabled_events: Vec<String>,
    /// The signing secret (`whsec_...`), on creation only.
    #[serde(default)]
    pub secret: Option<SecretString>,
}

/// A page of a list.
#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    /// The objects.
    pub data: Vec<T>,
    /// Whether more pages follow.
    #[serde(default)]
    pub has_more: bool,
}

/// The answer to a deletion.
#[derive(Clone, Debug, Deserialize)]
pub struct Deleted {
    /// The deleted object's id.
    pub id: String,
    /// True when deleted.
    #[serde(default)]
    pub deleted: bool,
}

/// Request parameters in Stripe's form encoding: `metadata[k]=v`, `enabled_events[]=a`,
/// `card[exp_month]=12`. Values are percent-encoded; order is kept.
#[derive(Clone, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be personal data.
        f.debug_list()
            .entries(self.pairs.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Form {
    /// No parameters.
    pub fn new() -> Form {
        Form::default()
    }

    /// `name=value`.
    pub fn push(mut self, name: &str, value: impl Into<String>) -> Form {
        self.pairs.push((name.to_owned(), value.into()));
        self
    }

    /// `name[]=v1&name[]=v2`.
    pub fn push_list<S: AsRef<str>>(mut self, name: &str, values: &[S]) -> Form {
        for v in values {
            self.pairs
                .push((format!("{name}[]"), v.as_ref().to_owned()));
        }
        self
    }

    /// `name[key]=value` (metadata, nested hashes).
    pub fn push_map(mut self, name: &str, key: &str, value: impl Into<String>) -> Form {
        self.pairs.push((format!("{name}[{key}]"), value.into()));
        self
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The `application/x-www-form-urlencoded` body (brackets percent-encoded, as Stripe's
    /// own libraries send them).
    pub fn encode(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            out.append_pair(k, v);
        }
        out.finish()
    }
}

/// An `Idempotency-Key`: derived from the operation, so a retry of the same operation (by
/// the client's loop, or by the caller after a crash) sends the same key and Stripe applies
/// it once.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `slotpay-<operation>-<hash of the parts>`: stable for the same parts, at most 255
    /// characters, and revealing none of them.
    pub fn derive(operation: &str, parts: &[&str]) -> IdempotencyKey {
        let mut hash = Sha256::new();
        for p in parts {
            hash.update((p.len() as u64).to_be_bytes());
            hash.update(p.as_bytes());
        }
        let digest = hex::encode(&hash.finalize()[..16]);
        IdempotencyKey(format!("slotpay-{operation}-{digest}"))
    }

    /// A fresh random key, for calls with nothing to derive from.
    pub fn random(operation: &str) -> IdempotencyKey {
        IdempotencyKey(format!(
            "slotpay-{operation}-{}",
            crate::secrets::random_token(16)
        ))
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_syntax() {
        let f = Form::new()
            .push("url", "https://pay.example/v1/webhooks/stripe/mer_1")
            .push_list(
                "enabled_events",
                &["charge.refunded", "payment_intent.succeeded"],
            )
            .push_map("metadata", "merchant_id", "mer 1&x");
        assert_eq!(
            f.encode(),
            "url=https%3A%2F%2Fpay.example%2Fv1%2Fwebhooks%2Fstripe%2Fmer_1\
             &enabled_events%5B%5D=charge.refunded&enabled_events%5B%5D=payment_intent.succeeded\
             &metadata%5Bmerchant_id%5D=mer+1%26x"
        );
        assert!(Form::new().is_empty());
    }

    #[test]
    fn idempotency_keys_are_stable_per_operation() {
        let a = IdempotencyKey::derive("webhook-endpoint", &["mer_1", "3"]);
        assert_eq!(
            a,
            IdempotencyKey::derive("webhook-endpoint", &["mer_1", "3"])
        );
        assert_ne!(
            a,
            IdempotencyKey::derive("webhook-endpoint", &["mer_1", "4"])
        );
        // Part boundaries matter.
        assert_ne!(
            IdempotencyKey::derive("x", &["ab", "c"]),
            IdempotencyKey::derive("x", &["a", "bc"])
        );
        assert!(
            a.as_str().starts_with("slotpay-webhook-endpoint-") && !a.as_str().contains("mer_1")
        );
        assert_ne!(IdempotencyKey::random("x"), IdempotencyKey::random("x"));
    }
}
