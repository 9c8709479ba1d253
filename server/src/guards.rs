//! The middleware that guards routes before a handler runs: the rate limits of the public
//! routes (`rate_limited`, 429, `Retry-After`) and the body size limit of each route
//! (`payload_too_large` in core's error shape, before the body is read).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use slotpay_core::{CheckoutToken, ErrorCode};

use crate::client_addr;
use crate::cors::{merchant_ref, MerchantRef};
use crate::error::ApiFailure;
use crate::state::AppState;

/// Largest webhook body accepted: Stripe's events (a charge with its refunds) can be larger
/// than the API's own limit.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// The client's address (see [`crate::client_addr`]).
pub(crate) fn client_ip(state: &AppState, req: &Request) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_addr::client_ip(peer, req.headers(), &state.config.trusted_proxies)
}

/// The limit a public path counts against besides its client's: its merchant's or its
/// checkout's, when the id is well formed (anything else is an unknown merchant or
/// checkout, answered 404 by the route, and must not become a key).
fn limit_key(path: &str) -> Option<String> {
    match merchant_ref(path)? {
        MerchantRef::Merchant(id) if is_merchant_id(&id) => Some(format!("merchant:{id}")),
        MerchantRef::Checkout(token) if CheckoutToken::parse(&token).is_ok() => {
            Some(format!("checkout:{token}"))
        }
        _ => None,
    }
}

/// `mer_` and 24 lowercase hex digits, as merchants' ids are made.
fn is_merchant_id(id: &str) -> bool {
    id.strip_prefix("mer_").is_some_and(|hex| {
        hex.len() == 24 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Middleware of public routes, before CORS: the per-IP and per-merchant or per-checkout
/// limits. A preflight counts against its client only (browsers cache it for ten minutes;
/// it reads the merchant's origins, so it is not free).
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&state, &req);
    let scope = if req.method() == Method::OPTIONS {
        None
    } else {
        limit_key(req.uri().path())
    };
    match state.limiter.check(&ip, scope.as_deref()) {
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
    let limit = body_limit_for(&state, req.uri().path());
    let Some(declared) = declared.filter(|n| *n > limit as u64) else {
        return next.run(req).await;
    };
    if declared <= DRAINED_BEFORE_REFUSING {
        // Read (and drop) a body that is only somewhat too large before answering: a client
        // still sending it when the connection closed would see the connection reset, not
        // the 413. Larger ones are refused at once.
        let mut chunks = req.into_body().into_data_stream();
        while let Some(Ok(_)) = chunks.next().await {}
    }
    payload_too_large(limit).into_response()
}

/// The largest body `path` accepts: Stripe's webhooks and logo uploads (the platform API's
/// and the admin form's) have their own limits, every other route the configured one.
pub(crate) fn body_limit_for(state: &AppState, path: &str) -> usize {
    if path.starts_with("/v1/webhooks/") {
        WEBHOOK_BODY_LIMIT
    } else if is_logo_upload(path) {
        crate::logo::UPLOAD_LIMIT
    } else {
        state.config.body_limit
    }
}

/// `/v1/admin/merchants/{id}/logo` and `/admin/merchants/{id}/logo`.
fn is_logo_upload(path: &str) -> bool {
    let rest = path
        .strip_prefix("/v1/admin/merchants/")
        .or_else(|| path.strip_prefix("/admin/merchants/"));
    rest.and_then(|r| r.strip_suffix("/logo"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Bodies declared at most this large are read to their end (and dropped) before
/// `payload_too_large` is answered.
const DRAINED_BEFORE_REFUSING: u64 = 256 * 1024;

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
    fn only_well_formed_ids_become_limit_keys() {
        let token = "cs_0123456789abcdef0123456789abcdef";
        assert_eq!(
            limit_key(&format!("/v1/checkouts/{token}/pay")).as_deref(),
            Some(format!("checkout:{token}").as_str())
        );
        assert_eq!(
            limit_key("/v1/merchants/mer_0123456789abcdef01234567/checkouts").as_deref(),
            Some("merchant:mer_0123456789abcdef01234567")
        );
        let junk = "x".repeat(60_000);
        assert_eq!(limit_key(&format!("/v1/checkouts/cs_{junk}/pay")), None);
        assert_eq!(
            limit_key(&format!("/v1/merchants/mer_{junk}/checkouts")),
            None
        );
        assert_eq!(
            limit_key("/v1/merchants/MER_0123456789abcdef01234567/checkouts"),
            None
        );
        assert_eq!(limit_key("/healthz"), None);
    }

    #[test]
    fn only_logo_uploads_take_the_logo_limit() {
        for path in [
            "/v1/admin/merchants/mer_0123456789abcdef01234567/logo",
            "/admin/merchants/mer_0123456789abcdef01234567/logo",
        ] {
            assert!(is_logo_upload(path), "{path}");
        }
        for path in [
            "/v1/admin/merchants/mer_1",
            "/v1/admin/merchants//logo",
            "/v1/admin/merchants/mer_1/services/logo",
            "/admin/merchants/mer_1/logo/delete",
            "/v1/checkouts/mer_1/logo",
            "/logos/mer_1/logo",
        ] {
            assert!(!is_logo_upload(path), "{path}");
        }
    }
}
