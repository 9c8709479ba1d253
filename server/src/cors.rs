//! CORS for the public routes: each answer allows only the origins the merchant registered,
//! plus the server's own public URL (its payment-link pages). The merchant comes from the
//! path (`/v1/merchants/{merchant_id}/...` directly, `/v1/checkouts/{token}/...` through the
//! checkout's merchant, see [`resolve_merchant`]). A request from any
//! other origin is refused with `forbidden_origin`, preflight included; requests without an
//! `Origin` (server to server) pass.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use slotpay_core::ErrorCode;

use crate::domain::{merchants, DomainError};
use crate::error::ApiFailure;
use crate::state::AppState;

/// Methods the public API uses.
const ALLOW_METHODS: &str = "GET, POST";
/// Headers the widget sends.
const ALLOW_HEADERS: &str = "content-type, idempotency-key";
/// How long a browser may cache a preflight answer.
const MAX_AGE_SECS: &str = "600";

/// What a public path is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MerchantRef {
    /// `/v1/merchants/{merchant_id}/...`.
    Merchant(String),
    /// `/v1/checkouts/{token}/...`.
    Checkout(String),
}

/// The merchant or checkout a public path names.
pub fn merchant_ref(path: &str) -> Option<MerchantRef> {
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("v1"), Some("merchants"), Some(id)) if !id.is_empty() => {
            Some(MerchantRef::Merchant(id.to_owned()))
        }
        (Some("v1"), Some("checkouts"), Some(token)) if !token.is_empty() => {
            Some(MerchantRef::Checkout(token.to_owned()))
        }
        _ => None,
    }
}

/// The merchant id behind a reference, if it exists.
pub async fn resolve_merchant(
    state: &AppState,
    reference: &MerchantRef,
) -> Result<Option<String>, DomainError> {
    match reference {
        MerchantRef::Merchant(id) => Ok(Some(id.clone())),
        MerchantRef::Checkout(token) => {
            if slotpay_core::CheckoutToken::parse(token).is_err() {
                return Ok(None);
            }
            Ok(state.db.get_checkout(token).await?.map(|c| c.merchant_id))
        }
    }
}

/// The origins allowed for a request to `path`.
async fn allowed_origins(state: &AppState, path: &str) -> Result<Vec<String>, DomainError> {
    let mut allowed = vec![state.public_url.origin().ascii_serialization()];
    if let Some(reference) = merchant_ref(path) {
        if let Some(id) = resolve_merchant(state, &reference).await? {
            allowed.extend(
                merchants::allowed_origins(state, &id)
                    .await?
                    .unwrap_or_default(),
            );
        }
    }
    Ok(allowed)
}

/// The middleware.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await;
    };
    let allowed = match allowed_origins(&state, req.uri().path()).await {
        Ok(a) => a,
        Err(e) => return ApiFailure::from(e).into_response(),
    };
    let ok = origin
        .to_str()
        .is_ok_and(|o| allowed.iter().any(|a| a == o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if !ok {
        let mut response = ApiFailure::new(
            ErrorCode::ForbiddenOrigin,
            "This origin is not one of the merchant's registered origins",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECS),
        );
        r
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_merchant_or_checkout() {
        assert_eq!(
            merchant_ref("/v1/merchants/mer_1/checkouts"),
            Some(MerchantRef::Merchant("mer_1".into()))
        );
        assert_eq!(
            merchant_ref("/v1/checkouts/cs_abc/pay"),
            Some(MerchantRef::Checkout("cs_abc".into()))
        );
        assert_eq!(merchant_ref("/v1/merchants/"), None);
        assert_eq!(merchant_ref("/v1/admin/merchants/mer_1"), None);
        assert_eq!(merchant_ref("/healthz"), None);
    }
}
