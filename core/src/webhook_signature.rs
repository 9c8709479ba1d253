//! Stripe's `Stripe-Signature` webhook header: signing (for the sandbox and tests) and
//! verification (for the server).
//!
//! The header is `t=<unix seconds>,v1=<hex>,v1=<hex>,v0=<hex>`: each `v1` is the hex of
//! HMAC-SHA256, keyed with an endpoint's signing secret, over `"{t}.{raw body}"`. Several
//! `v1` appear while a secret is being rolled; `v0` and unknown schemes are ignored.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ErrorCode;

type HmacSha256 = Hmac<Sha256>;

/// Stripe's default tolerance between the header's `t` and now, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The HMAC-SHA256 tag over `"{timestamp}.{payload}"` with `secret` as key.
fn tag(secret: &str, timestamp: i64, payload: &[u8]) -> [u8; 32] {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

/// The `v1` signature (lowercase hex) of `payload` sent at `timestamp`, signed with the
/// whole signing secret (`whsec_...`, prefix included, as Stripe's libraries use it).
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    hex::encode(tag(secret, timestamp, payload))
}

/// A full `Stripe-Signature` header: `t=<timestamp>` then one `v1=` per secret, in order.
pub fn signature_header(timestamp: i64, secrets: &[&str], payload: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&sign(secret, timestamp, payload));
    }
    header
}

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    MissingHeader,
    /// The header cannot be read: no `t`, two `t`, a bad number, a `v1` that is not 64 hex
    /// digits, an element without `=`.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// A well-formed header without any `v1` signature (e.g. `v0` only).
    #[error("no v1 signature in Stripe-Signature header")]
    NoV1Signature,
    /// No `v1` matches the payload under any of the secrets.
    #[error("no signature matches the payload")]
    Mismatch,
    /// Authentic, but signed more than the tolerance ago (a replay, or a very late retry).
    #[error("signature timestamp is {age} seconds old")]
    TooOld {
        /// Seconds between the header's `t` and now.
        age: i64,
    },
    /// Authentic, but `t` is further in the future than the tolerance (a clock problem).
    #[error("signature timestamp is in the future")]
    FromTheFuture,
}

impl SignatureError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidSignature
    }
}

/// What the header says, before any cryptography.
struct Header {
    timestamp: i64,
    v1: Vec<[u8; 32]>,
}

fn parse_header(header: &str) -> Result<Header, SignatureError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for element in header.split(',') {
        let (scheme, value) = element
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match scheme {
            "t" => {
                let all_digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
                let t = all_digits
                    .then(|| value.parse::<i64>().ok())
                    .flatten()
                    .ok_or(SignatureError::Malformed)?;
                if timestamp.replace(t).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            "v1" => {
                let mut sig = [0_u8; 32];
                hex::decode_to_slice(value, &mut sig).map_err(|_| SignatureError::Malformed)?;
                v1.push(sig);
            }
            // v0 (Stripe's legacy scheme) and schemes Stripe may add later.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    Ok(Header { timestamp, v1 })
}

/// Verifies a `Stripe-Signature` header against the raw request body.
///
/// Passes when any `v1` matches under any of `secrets` (compared in constant time), and
/// the header's `t` is within `tolerance_secs` of `now` (unix seconds) in either direction.
/// The signature is checked before the time, so `TooOld` and `FromTheFuture` are only
/// reported for authentic headers. An empty `secrets` never matches. Returns the signed
/// timestamp.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secrets: &[&str],
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, SignatureError> {
    let header = parse_header(header.ok_or(SignatureError::MissingHeader)?)?;
    if header.v1.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = tag(secret, header.timestamp, payload);
        for candidate in &header.v1 {
            matched |= expected.ct_eq(candidate);
        }
    }
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    let age = now.saturating_sub(header.timestamp);
    if age > tolerance_secs {
        return Err(SignatureError::TooOld { age });
    }
    if age.saturating_neg() > tolerance_secs {
        return Err(SignatureError::FromTheFuture);
    }
    Ok(header.timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_492_774_577;
    const BODY: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;

    #[test]
    fn matches_an_independently_computed_vector() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'whsec_test_secret',
        //   b'1492774577.'+b'{\"id\":\"evt_test_webhook\",\"object\":\"event\"}',
        //   hashlib.sha256).hexdigest())"
        let expected = "88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a";
        assert_eq!(sign(SECRET, T, BODY), expected);
        assert_eq!(
            signature_header(T, &[SECRET], BODY),
            format!("t={T},v1={expected}")
        );
    }

    #[test]
    fn verifies_stripe_shaped_headers() {
        let v1 = sign(SECRET, T, BODY);
        let header = format!(
            "t={T},v1={v1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
        );
        assert_eq!(verify(Some(&header), BODY, &[SECRET], T + 10, 300), Ok(T));
        // Whitespace after commas and unknown schemes are tolerated.
        let header = format!("t={T}, v9=zz, v1={v1}");
        assert_eq!(verify(Some(&header), BODY, &[SECRET], T, 300), Ok(T));
    }

    #[test]
    fn any_v1_under_any_secret_passes() {
        let header = signature_header(T, &["whsec_old", "whsec_new"], BODY);
        assert_eq!(verify(Some(&header), BODY, &["whsec_new"], T, 300), Ok(T));
        assert_eq!(verify(Some(&header), BODY, &["whsec_old"], T, 300), Ok(T));
        assert_eq!(
            verify(Some(&header), BODY, &["whsec_other", "whsec_new"], T, 300),
            Ok(T)
        );
        assert_eq!(
            verify(Some(&header), BODY, &["whsec_other"], T, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), BODY, &[], T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn typed_errors() {
        let good = signature_header(T, &[SECRET], BODY);
        let check = |h: Option<&str>| verify(h, BODY, &[SECRET], T, DEFAULT_TOLERANCE_SECS);
        assert_eq!(check(None), Err(SignatureError::MissingHeader));
        let v1 = sign(SECRET, T, BODY);
        for bad in [
            String::new(),
            format!("v1={v1}"),
            format!("t=,v1={v1}"),
            format!("t=-5,v1={v1}"),
            format!("t=12a,v1={v1}"),
            format!("t=99999999999999999999,v1={v1}"),
            format!("t={T},t={T},v1={v1}"),
            format!("t={T},v1={}", &v1[..62]),
            format!("t={T},v1={}zz", &v1[..62]),
            format!("t={T},v1"),
            format!("t={T};v1={v1}"),
        ] {
            assert_eq!(check(Some(&bad)), Err(SignatureError::Malformed), "{bad}");
        }
        assert_eq!(
            check(Some(&format!("t={T},v0={v1}"))),
            Err(SignatureError::NoV1Signature)
        );
        assert_eq!(
            verify(Some(&good), b"{}", &[SECRET], T, 300),
            Err(SignatureError::Mismatch)
        );
        // The signature covers the timestamp: replaying v1 with a fresh t fails.
        assert_eq!(
            check(Some(&format!("t={},v1={v1}", T + 1))),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), BODY, &[SECRET], T + 301, 300),
            Err(SignatureError::TooOld { age: 301 })
        );
        assert_eq!(verify(Some(&good), BODY, &[SECRET], T + 300, 300), Ok(T));
        assert_eq!(
            verify(Some(&good), BODY, &[SECRET], T - 301, 300),
            Err(SignatureError::FromTheFuture)
        );
        assert_eq!(verify(Some(&good), BODY, &[SECRET], T - 300, 300), Ok(T));
        // Extreme clocks do not overflow.
        assert!(matches!(
            verify(Some(&good), BODY, &[SECRET], i64::MIN, 300),
            Err(SignatureError::FromTheFuture)
        ));
        assert!(matches!(
            verify(Some(&good), BODY, &[SECRET], i64::MAX, 300),
            Err(SignatureError::TooOld { .. })
        ));
        assert_eq!(SignatureError::Mismatch.code(), ErrorCode::InvalidSignature);
    }

    proptest! {
        #[test]
        fn sign_then_verify_passes_and_any_byte_change_fails(
            payload in proptest::collection::vec(any::<u8>(), 0..256),
            secret in "[ -~]{1,40}",
            t in 0_i64..4_000_000_000,
            index in any::<proptest::sample::Index>(),
            flip in 1_u8..=255,
        ) {
            let header = signature_header(t, &[&secret], &payload);
            prop_assert_eq!(verify(Some(&header), &payload, &[&secret], t, 300), Ok(t));
            if !payload.is_empty() {
                let mut changed = payload.clone();
                changed[index.index(payload.len())] ^= flip;
                prop_assert_eq!(
                    verify(Some(&header), &changed, &[&secret], t, 300),
                    Err(SignatureError::Mismatch)
                );
            }
        }

        #[test]
        fn arbitrary_headers_never_panic(header in "\\PC{0,120}") {
            let _ = verify(Some(&header), b"x", &["whsec_a"], 0, 300);
        }
    }
}
