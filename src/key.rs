//! Idempotency keys for pay requests, one per attempt, and the retry schedule that reuses
//! them.
//!
//! The key is a random UUID (version 4) built from `crypto.getRandomValues` bytes rather than
//! `crypto.randomUUID()`, which browsers only offer on HTTPS pages and a merchant's page may
//! be plain HTTP. Formatting is done by hand: `format!` would pull the formatting machinery
//! into the size-budgeted wasm for one string.

/// Waits before each retry of a request that failed on the network or with a 5xx/429:
/// 4 tries in all over about 7 seconds, all with the same idempotency key.
pub const RETRY_DELAYS_MS: [u32; 3] = [1_000, 2_000, 4_000];

/// True for answers worth retrying with the same key: the server or Stripe had a problem
/// (5xx) or asked to slow down (429). Other 4xx answers will not change.
pub fn is_retryable_status(status: u16) -> bool {
    status >= 500 || status == 429
}

/// A version 4 UUID, `xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx`, from 16 random bytes.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let key = uuid_v4([0xff; 16]);
        assert_eq!(key, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let key = uuid_v4([0; 16]);
        assert_eq!(key, "00000000-0000-4000-8000-000000000000");
        let key = uuid_v4(*b"\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78\x9a\xbc\xde\xf0");
        assert_eq!(key, "12345678-9abc-4ef0-9234-56789abcdef0");
    }

    #[test]
    fn retry_schedule_is_bounded() {
        assert_eq!(RETRY_DELAYS_MS.len() + 1, 4, "four tries");
        let total: u32 = RETRY_DELAYS_MS.iter().sum();
        assert!((5_000..=9_000).contains(&total), "{total}");
        assert!(RETRY_DELAYS_MS.windows(2).all(|w| w[0] < w[1]), "backoff");
        for status in [500, 502, 503, 504, 429] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [200, 400, 402, 404, 409, 410] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }
}
