//! The platform API under `/v1/admin`, behind the admin bearer token (compared in constant
//! time): merchants, their integration, their services. Each handler calls the domain.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use slotpay_core::ErrorCode;
use subtle::ConstantTimeEq;

use super::ApiJson;
use crate::domain::catalogue::{self, ServiceDeleted, ServiceInput, ServiceView};
use crate::domain::integrations::{self, IntegrationDeleted, IntegrationInput, IntegrationView};
use crate::domain::merchants::{self, MerchantDeleted, MerchantInput, MerchantView};
use crate::error::ApiFailure;
use crate::state::AppState;

type Answer<T> = Result<Json<T>, ApiFailure>;

/// The routes, with the bearer-token check.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/v1/admin/merchants",
            post(create_merchant).get(list_merchants),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}",
            get(get_merchant)
                .patch(update_merchant)
                .delete(delete_merchant),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration",
            get(get_integration)
                .put(set_integration)
                .delete(delete_integration),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration/verify",
            post(verify),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration/activate",
            post(activate),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration/deactivate",
            post(deactivate),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/services",
            post(create_service).get(list_services),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/services/{service_id}",
            get(get_service)
                .patch(update_service)
                .delete(delete_service),
        )
        .route_layer(from_fn_with_state(state, require_admin))
}

/// Refuses requests without `Authorization: Bearer <admin token>`.
async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Hashes first, so the comparison takes the same time whatever the lengths.
    let ok = given.is_some_and(|token| {
        let want = Sha256::digest(state.admin_token.expose_secret().as_bytes());
        let got = Sha256::digest(token.as_bytes());
        bool::from(want.ct_eq(&got))
    });
    if ok {
        return next.run(req).await;
    }
    let mut response = ApiFailure::new(
        ErrorCode::Unauthorized,
        "Send the admin token as Authorization: Bearer <token>",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

async fn create_merchant(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<MerchantInput>,
) -> Result<(StatusCode, Json<MerchantView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(merchants::create(&s, input).await?),
    ))
}

async fn list_merchants(State(s): State<AppState>) -> Answer<serde_json::Value> {
    let data = merchants::list(&s).await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

async fn get_merchant(State(s): State<AppState>, Path(id): Path<String>) -> Answer<MerchantView> {
    Ok(Json(merchants::get(&s, &id).await?))
}

async fn update_merchant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MerchantInput>,
) -> Answer<MerchantView> {
    Ok(Json(merchants::update(&s, &id, input).await?))
}

async fn delete_merchant(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<MerchantDeleted> {
    Ok(Json(merchants::delete(&s, &id).await?))
}

async fn get_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<IntegrationView> {
    Ok(Json(integrations::get(&s, &id).await?))
}

async fn set_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Answer<IntegrationView> {
    Ok(Json(integrations::set(&s, &id, input).await?))
}

async fn delete_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<IntegrationDeleted> {
    Ok(Json(integrations::delete(&s, &id).await?))
}

async fn verify(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::verify(&s, &id).await?))
}

async fn activate(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::activate(&s, &id).await?))
}

async fn deactivate(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::deactivate(&s, &id).await?))
}

async fn create_service(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<(StatusCode, Json<ServiceView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(catalogue::create(&s, &id, input).await?),
    ))
}

async fn list_services(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<serde_json::Value> {
    let data = catalogue::list(&s, &id).await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

async fn get_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
) -> Answer<ServiceView> {
    Ok(Json(catalogue::get(&s, &id, &service).await?))
}

async fn update_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Answer<ServiceView> {
    Ok(Json(catalogue::update(&s, &id, &service, input).await?))
}

async fn delete_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
) -> Answer<ServiceDeleted> {
    Ok(Json(catalogue::delete(&s, &id, &service).await?))
}
