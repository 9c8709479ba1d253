//! Token-bucket rate limits per client IP and per merchant, kept in memory by the state;
//! [`crate::guards`] applies them to the public routes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

/// Buckets kept at most (each holds a short key: an address, or a well-formed id).
pub const MAX_BUCKETS: usize = 50_000;

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

    /// Takes a token from the client's bucket and, when the request is about a merchant or
    /// a checkout, from that one's (`scope`: `merchant:mer_...` or `checkout:cs_...`, built by
    /// the caller from a well-formed id); `Err(wait)` when one is empty. A refused request
    /// takes nothing and makes no bucket, and at most [`MAX_BUCKETS`] are kept (the least
    /// recently used go first), so junk requests cannot grow memory.
    pub fn check(&self, ip: &str, scope: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys = vec![(format!("ip:{ip}"), self.ip)];
        if let Some(s) = scope {
            keys.push((s.to_owned(), self.merchant));
        }
        let mut wait = Duration::ZERO;
        for (key, limit) in &keys {
            let tokens = buckets
                .get(key)
                .map_or(f64::from(limit.burst), |b| level(b, *limit, now));
            if tokens < 1.0 {
                wait = wait.max(Duration::from_secs_f64((1.0 - tokens) / limit.per_second));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        if buckets.len() + keys.len() > MAX_BUCKETS {
            self.prune(&mut buckets, now);
        }
        for (key, limit) in keys {
            let b = buckets.entry(key).or_insert(Bucket {
                tokens: f64::from(limit.burst),
                last: now,
            });
            b.tokens = level(b, limit, now) - 1.0;
            b.last = now;
        }
        Ok(())
    }

    /// How many buckets are kept.
    pub fn buckets(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Forgets the buckets that refilled (a fresh one is the same), then, if still too many,
    /// the least recently used, down to nine tenths of [`MAX_BUCKETS`].
    fn prune(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        let (ip_limit, merchant_limit) = (self.ip, self.merchant);
        buckets.retain(|key, b| {
            let limit = if key.starts_with("ip:") {
                ip_limit
            } else {
                merchant_limit
            };
            level(b, limit, now) < f64::from(limit.burst)
        });
        let target = MAX_BUCKETS / 10 * 9;
        if buckets.len() > target {
            let mut lasts: Vec<Instant> = buckets.values().map(|b| b.last).collect();
            let cut = lasts.len() - target;
            let (_, cutoff, _) = lasts.select_nth_unstable(cut);
            let cutoff = *cutoff;
            buckets.retain(|_, b| b.last >= cutoff);
        }
    }
}

/// A bucket's level now: what it had plus what it earned since, at most its burst.
fn level(b: &Bucket, limit: RateLimit, now: Instant) -> f64 {
    let earned = now.duration_since(b.last).as_secs_f64() * limit.per_second;
    (b.tokens + earned).min(f64::from(limit.burst))
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

    fn tight() -> RateLimiter {
        RateLimiter::new(
            RateLimit {
                burst: 1,
                per_second: 0.001,
            },
            RateLimit {
                burst: 1,
                per_second: 0.001,
            },
        )
    }

    #[test]
    fn refused_requests_make_no_buckets() {
        let limiter = tight();
        assert!(limiter.check("1.1.1.1", Some("mer_a")).is_ok());
        for i in 0..1000 {
            let merchant = format!("checkout:cs_{i:0>30}");
            assert!(limiter.check("1.1.1.1", Some(&merchant)).is_err());
        }
        assert_eq!(limiter.buckets(), 2, "the address's and mer_a's");
    }

    #[test]
    fn buckets_are_bounded_however_many_clients() {
        let limiter = tight();
        for i in 0..(MAX_BUCKETS + 5_000) {
            let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
            assert!(limiter.check(&ip, None).is_ok());
        }
        assert!(limiter.buckets() <= MAX_BUCKETS, "{}", limiter.buckets());
        // The newest clients are remembered: a second request of the last one is refused.
        let last = MAX_BUCKETS + 4_999;
        let ip = format!("10.{}.{}.{}", last >> 16, (last >> 8) & 255, last & 255);
        assert!(limiter.check(&ip, None).is_err());
    }
}
