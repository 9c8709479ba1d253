//! The middleware that guards routes before a handler runs: the rate limits of the public
//! routes (`rate_limited`, 429, `Retry-After`) and the body size limit (`payload_too_large`
//! in core's error shape, before the body is read).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use slotpay_core::ErrorCode;

use crate::cors::{merchant_ref, MerchantRef};
use crate::error::ApiFailure;
use crate::state::AppState;

/// Largest webhook body accepted: Stripe's events (a charge with its refunds) can be larger
/// than the API's own limit.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

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
