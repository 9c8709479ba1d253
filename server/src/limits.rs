//! Token-bucket rate limits per client IP and per merchant, kept in memory by the state;
//! [`crate::guards`] applies them to the public routes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

/// Buckets kept before full ones are forgotten.
const MAX_BUCKETS: usize = 50_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by client IP and by merchant.
#[derive(Debug)]
pub struct RateLimiter {
    ip: RateLimit,
    merchant: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(ip: RateLimit, merchant: RateLimit) -> RateLimiter {
        RateLimiter {
            ip,
            merchant,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from the client's bucket and, when the request is about a merchant,
    /// from the merchant's; `Err(wait)` when one is empty (nothing is taken then).
    pub fn check(&self, ip: &str, merchant: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_BUCKETS {
            let (ip_limit, merchant_limit) = (self.ip, self.merchant);
            buckets.retain(|key, b| {
                let limit = if key.starts_with("ip:") {
                    ip_limit
                } else {
                    merchant_limit
                };
                refill(b, limit, now) < f64::from(limit.burst)
            });
        }
        let mut keys = vec![(format!("ip:{ip}"), self.ip)];
        if let Some(m) = merchant {
            keys.push((format!("merchant:{m}"), self.merchant));
        }
        let mut wait = Duration::ZERO;
        for (key, limit) in &keys {
            let b = buckets.entry(key.clone()).or_insert(Bucket {
                tokens: f64::from(limit.burst),
                last: now,
            });
            let tokens = refill(b, *limit, now);
            if tokens < 1.0 {
                wait = wait.max(Duration::from_secs_f64((1.0 - tokens) / limit.per_second));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for (key, _) in &keys {
            if let Some(b) = buckets.get_mut(key) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

/// Adds the tokens earned since the last look; returns the new level.
fn refill(b: &mut Bucket, limit: RateLimit, now: Instant) -> f64 {
    let earned = now.duration_since(b.last).as_secs_f64() * limit.per_second;
    b.tokens = (b.tokens + earned).min(f64::from(limit.burst));
    b.last = now;
    b.tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_empty_and_refill() {
        let limiter = RateLimiter::new(
            RateLimit {
                burst: 2,
                per_second: 10.0,
            },
            RateLimit {
                burst: 3,
                per_second: 1.0,
            },
        );
        assert!(limiter.check("1.1.1.1", None).is_ok());
        assert!(limiter.check("1.1.1.1", None).is_ok());
        let wait = limiter.check("1.1.1.1", None).unwrap_err();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        // Another IP has its own bucket; the merchant's is shared.
        assert!(limiter.check("2.2.2.2", Some("mer_1")).is_ok());
        assert!(limiter.check("3.3.3.3", Some("mer_1")).is_ok());
        assert!(limiter.check("4.4.4.4", Some("mer_1")).is_ok());
        let wait = limiter.check("5.5.5.5", Some("mer_1")).unwrap_err();
        assert!(wait > Duration::from_millis(500), "{wait:?}");
        // A refusal takes nothing from the client's bucket.
        assert!(limiter.check("5.5.5.5", None).is_ok());
        std::thread::sleep(Duration::from_millis(120));
        assert!(limiter.check("1.1.1.1", None).is_ok());
    }
}
