//! HTTP routes, grouped by audience: the platform API (`admin_api`), the admin pages
//! (`admin`), the public API the
//! widget calls (`public`), Stripe's webhooks (`webhooks`), pages and assets (`pages`), and
//! operations (`ops`). Handlers only extract, call a domain
//! function and answer; the JSON extractor here turns every body problem into core's error
//! shape.

pub mod admin;
pub mod admin_api;
pub mod docs;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod public;
pub mod webhooks;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;
use slotpay_core::ErrorCode;

use crate::error::ApiFailure;
use crate::stripe::redact_keys;

/// A JSON body whose rejections answer `invalid_json`, `payload_too_large` or
/// `invalid_request` in core's error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiFailure {
    match &rejection {
        JsonRejection::MissingJsonContentType(_) => ApiFailure::new(
            ErrorCode::InvalidRequest,
            "Send the body as JSON with Content-Type: application/json",
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiFailure::new(
            ErrorCode::PayloadTooLarge,
            "The request body is larger than this endpoint accepts",
        ),
        // serde's message can quote a value (a key pasted in the wrong field): masked.
        _ => ApiFailure::new(ErrorCode::InvalidJson, redact_keys(&rejection.body_text())),
    }
}
