//! Limits on what clients can send: a body size limit answering `payload_too_large` in core's
//! error shape, and token-bucket rate limits per client IP and per merchant on public routes
//! (`rate_limited`, 429, `Retry-After`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use slotpay_core::ErrorCode;

use crate::config::RateLimit;
use crate::cors::{merchant_ref, MerchantRef};
use crate::error::ApiFailure;
use crate::state::AppState;

/// Largest webhook body accepted: Stripe's events (a charge with its refunds) can be larger
/// than the API's own limit.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

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

/// The client's IP as the connection shows it.
pub(crate) fn client_ip(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Middleware of public routes: the per-IP and per-merchant limits (preflights are free).
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let ip = client_ip(&req);
    let merchant = match merchant_ref(req.uri().path()) {
        Some(MerchantRef::Merchant(id)) => Some(id),
        Some(MerchantRef::Checkout(token)) => Some(format!("checkout:{token}")),
        None => None,
    };
    match state.limiter.check(&ip, merchant.as_deref()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            ApiFailure::new(
                ErrorCode::RateLimited,
                format!("Too many requests; try again in {secs} s"),
            )
            .with_retry_after(secs)
            .into_response()
        }
    }
}

/// Middleware: refuses a body whose declared length is over the limit before reading it
/// (bodies without a length are cut by axum's `DefaultBodyLimit`, which the JSON extractor
/// turns into the same answer).
pub async fn body_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = if req.uri().path().starts_with("/v1/webhooks/") {
        WEBHOOK_BODY_LIMIT
    } else {
        state.config.body_limit
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return payload_too_large(limit).into_response();
    }
    next.run(req).await
}

/// The `payload_too_large` answer.
pub(crate) fn payload_too_large(limit: usize) -> ApiFailure {
    ApiFailure::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than {} KiB", limit / 1024),
    )
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
