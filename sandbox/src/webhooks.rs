//! Webhooks as the store keeps them: the deliveries queued for the worker, the knobs tests set, and
//! the delivery log; and Stripe's `Stripe-Signature: t=...,v1=...` header (HMAC-SHA256 over
//! `"{t}.{body}"`, one `v1` per secret still valid during a rotation). The worker that sends them
//! is in `webhook_worker.rs`.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// One attempt to deliver one event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryJob {
    /// `evt_...`.
    pub event: String,
    /// `we_...`.
    pub endpoint: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The extra copy sent by the `duplicate` knob.
    pub duplicate: bool,
}

/// Delivery knobs (control API: `POST /_sandbox/webhooks/knobs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Knobs {
    /// Deliver every event twice.
    pub duplicate: bool,
    /// Hold first attempts until this many are waiting (or `hold_ms` passed), then deliver them
    /// in a shuffled order.
    pub out_of_order: Option<usize>,
    /// How long a partial out-of-order batch waits (default 300 ms).
    pub hold_ms: Option<u64>,
    /// Wait this long before each first attempt.
    pub delay_ms: u64,
    /// Drop (do not send) the first N attempts of each delivery; the retries recover.
    pub drop_first: u32,
    /// Drop every delivery, with no retry.
    pub drop_all: bool,
}

/// One row of the delivery log (`GET /_sandbox/webhooks/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `evt_...`.
    pub event_id: String,
    /// `payment_intent.succeeded`, ...
    pub event_type: String,
    /// `we_...`.
    pub endpoint_id: String,
    /// The endpoint's URL.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The HTTP status the endpoint answered, if it answered.
    pub status: Option<u16>,
    /// `delivered` (2xx), `failed` (other status), `error` (no answer, timeout), `dropped`.
    pub outcome: String,
    /// Transport error, if any.
    pub error: Option<String>,
    /// The extra copy of the `duplicate` knob.
    pub duplicate: bool,
    /// Sandbox time of the attempt.
    pub at: i64,
}

type HmacSha256 = Hmac<Sha256>;

/// The `Stripe-Signature` header for `body` at time `t`, one `v1` per secret.
pub fn signature_header(t: i64, body: &str, secrets: &[String]) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        let mut mac =
            HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(format!("{t}.{body}").as_bytes());
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Expected value computed independently: printf '1.{}' | openssl dgst -sha256 -hmac whsec_test
        let h = signature_header(1, "{}", &["whsec_test".into()]);
        assert_eq!(
            h,
            "t=1,v1=7500d5d4be4b3ef07af1fe56f7d522d135cdaa7530de557e67cc1049c52de094"
        );
        let two = signature_header(5, "x", &["a".into(), "b".into()]);
        assert_eq!(two.matches("v1=").count(), 2);
    }
}
