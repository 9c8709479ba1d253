//! The Standard Webhooks signature (standardwebhooks.com), which slotpay's webhooks to a
//! booking platform carry, so platforms verify them with the specification's ready-made
//! libraries.
//!
//! A signing secret is `whsec_` followed by the base64 of the key bytes. A message is sent
//! with three headers: `webhook-id` (the event id, the same on every retry),
//! `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`, one or more
//! space-separated `v1,<base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}">`, one per
//! secret while a secret is being rotated.
//!
//! Written here rather than taken from the `standardwebhooks` crate: the signing is ten
//! lines over the HMAC core already uses for Stripe, and core stays free of `http` and
//! `time` (it runs as wasm with no clock). The crate checks these signatures in the
//! server's tests, and the specification's Node package in the browser tests.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A signing secret, parsed: the key bytes behind `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// Why a signing secret does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// It does not start with `whsec_`.
    #[error("a signing secret starts with whsec_")]
    Prefix,
    /// What follows the prefix is not base64 of 24 to 64 bytes.
    #[error("a signing secret is whsec_ and the base64 of 24 to 64 bytes")]
    Key,
}

impl SigningKey {
    /// Parses `whsec_<base64>`.
    pub fn parse(secret: &str) -> Result<SigningKey, SecretError> {
        let b64 = secret
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::Prefix)?;
        let key = STANDARD.decode(b64).map_err(|_| SecretError::Key)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::Key);
        }
        Ok(SigningKey(key))
    }

    /// The secret of key bytes (`whsec_<base64>`), as shown to the platform once.
    pub fn secret_of(key: &[u8]) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
    }

    fn tag(&self, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// One signature: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.tag(id, timestamp, body)))
    }
}

/// The `webhook-signature` header: one `v1,` signature per key, space separated, in order.
pub fn signature_header(keys: &[&SigningKey], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| k.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a message's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `v1` signature matches under the key.
    #[error("no signature matches")]
    Mismatch,
    /// Signed further from `now` than the tolerance.
    #[error("timestamp outside the tolerance")]
    Timestamp,
}

/// Checks a message as a receiver would: any `v1` of `header` matches (constant time) and
/// `timestamp` is within `tolerance_secs` of `now`.
pub fn verify(
    key: &SigningKey,
    id: &str,
    timestamp: i64,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let expected = key.tag(id, timestamp, body);
    let mut matched = subtle::Choice::from(0);
    for candidate in header.split(' ') {
        let Some(("v1", b64)) = candidate.split_once(',') else {
            continue;
        };
        if let Ok(sig) = STANDARD.decode(b64) {
            if sig.len() == 32 {
                matched |= expected.ct_eq(sig.as_slice());
            }
        }
    }
    if !bool::from(matched) {
        return Err(VerifyError::Mismatch);
    }
    if (now - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Timestamp);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the specification's reference libraries (standard-webhooks,
    // libraries/rust and libraries/javascript: "test_sign").
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const T: i64 = 1_649_367_553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const EXPECTED: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    #[test]
    fn signs_the_specification_example() {
        let key = SigningKey::parse(SECRET).unwrap();
        assert_eq!(key.sign(ID, T, BODY), EXPECTED);
        assert_eq!(signature_header(&[&key], ID, T, BODY), EXPECTED);
    }

    #[test]
    fn verifies_any_signature_of_a_rotation() {
        let old = SigningKey::parse(SECRET).unwrap();
        let new = SigningKey::parse(&SigningKey::secret_of(&[7; 32])).unwrap();
        let header = signature_header(&[&old, &new], ID, T, BODY);
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(verify(&old, ID, T, &header, BODY, T, 300), Ok(()));
        assert_eq!(verify(&new, ID, T, &header, BODY, T + 299, 300), Ok(()));
        let other = SigningKey::parse(&SigningKey::secret_of(&[8; 32])).unwrap();
        assert_eq!(
            verify(&other, ID, T, &header, BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&new, ID, T, &header, b"{}", T, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&new, "msg_other", T, &header, BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&new, ID, T, &header, BODY, T + 301, 300),
            Err(VerifyError::Timestamp)
        );
        assert_eq!(
            verify(&new, ID, T, "v2,abc v1,!!", BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let secret = SigningKey::secret_of(&[1; 32]);
        assert!(secret.starts_with("whsec_"));
        assert_eq!(SigningKey::parse(&secret).unwrap().0, vec![1; 32]);
        assert_eq!(
            SigningKey::parse("C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
            Err(SecretError::Prefix)
        );
        assert_eq!(SigningKey::parse("whsec_***"), Err(SecretError::Key));
        assert_eq!(SigningKey::parse("whsec_AAAA"), Err(SecretError::Key));
        assert_eq!(
            format!("{:?}", SigningKey::parse(SECRET).unwrap()),
            "SigningKey(..)"
        );
    }
}
