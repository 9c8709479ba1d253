//! Pages and assets: the payment-link page `GET /pay/{token}` (askama templates in
//! `server/templates/`, HTML auto-escaped; `base.html` is the layout the admin pages share),
//! the pages' stylesheet, and the `www/` directory (`SLOTPAY_WWW_DIR`: the loader, the
//! widget's wasm, demo pages) served with `Cache-Control: no-cache` and
//! `Access-Control-Allow-Origin: *` (merchants' pages load them cross-origin). Every HTML answer
//! carries the strict Content-Security-Policy: no inline script or style, only this origin,
//! Stripe's origins (from configuration) and `'wasm-unsafe-eval'`.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use slotpay_core::ErrorCode;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::domain::checkouts::effective_status;
use crate::domain::store;
use crate::domain::{merchants, DomainError};
use crate::error::ApiFailure;
use crate::state::AppState;

/// The pages' stylesheet.
const PAGE_CSS: &str = include_str!("../../assets/page.css");

/// The routes of pages and assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pay/{token}", get(pay_page))
        .route("/assets/slotpay-page.css", get(page_css))
}

/// The `www/` directory, with the JSON `not_found` for anything it does not have.
pub fn static_files(state: &AppState) -> Router {
    let not_found =
        || async { ApiFailure::new(ErrorCode::NotFound, "No such endpoint").into_response() };
    let dir = ServeDir::new(&state.config.www_dir)
        .append_index_html_on_directories(true)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found.into_service());
    Router::new()
        .fallback_service(dir)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        // The loader runs on merchants' pages and from there imports the glue as a module
        // and fetches the wasm: both are CORS requests. These files are public and fetched
        // without credentials, so any origin may read them.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
}

/// The Content-Security-Policy of slotpay's HTML: Stripe's origins come from configuration
/// (Stripe.js's and the API's; the sandbox's in tests and demos).
pub fn content_security_policy(state: &AppState) -> String {
    let js = state.config.stripe_js_url.origin().ascii_serialization();
    let api = state.config.stripe_api_base.origin().ascii_serialization();
    format!(
        "default-src 'self'; script-src 'self' {js} 'wasm-unsafe-eval'; frame-src {js}; \
         connect-src 'self' {api}; style-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'"
    )
}

/// Browsers keep to https for a year once they saw this from an https deployment.
const HSTS: &str = "max-age=31536000";

/// Middleware: the CSP (framing refused) and `X-Frame-Options` on every HTML answer,
/// `nosniff` on everything, and HSTS on everything when the public URL is https (TLS ends at
/// the proxy in front; the header is for the browser behind it).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = response.headers_mut();
    if html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&content_security_policy(&state)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    if html {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if state.public_url.scheme() == "https" {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn page_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE_CSS,
    )
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    lang: &'static str,
    merchant: String,
    description: String,
    amount: String,
    booking_ref: Option<String>,
    token: String,
}

#[derive(Template)]
#[template(path = "pay_closed.html")]
struct ClosedPage {
    lang: &'static str,
    kind: &'static str,
    heading: String,
    message: String,
    merchant: Option<String>,
    description: Option<String>,
    amount: Option<String>,
    card: Option<String>,
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => ApiFailure::internal(format!("template: {e}")).into_response(),
    }
}

fn closed(status: StatusCode, kind: &'static str, heading: &str, message: &str) -> ClosedPage {
    let _ = status;
    ClosedPage {
        lang: "en",
        kind,
        heading: heading.to_owned(),
        message: message.to_owned(),
        merchant: None,
        description: None,
        amount: None,
        card: None,
    }
}

async fn pay_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match pay_page_inner(&state, &token).await {
        Ok(r) => r,
        Err(DomainError::Refused(e)) if e.code == ErrorCode::CheckoutNotFound => render(
            StatusCode::NOT_FOUND,
            &closed(
                StatusCode::NOT_FOUND,
                "not-found",
                "Payment link not found",
                "Check the link you received, or ask the merchant for a new one.",
            ),
        ),
        Err(e) => ApiFailure::from(e).into_response(),
    }
}

async fn pay_page_inner(state: &AppState, token: &str) -> Result<Response, DomainError> {
    let r = store::load(state, token).await?;
    let merchant = merchants::get(state, &r.merchant_id).await?;
    let lang = merchant.locale.as_str();
    let money = r.amount;
    let status = effective_status(&r, crate::db::now());
    let with_details = |mut page: ClosedPage| {
        page.lang = lang;
        page.merchant = Some(merchant.name.clone());
        page.description = Some(r.description.clone());
        page.amount = Some(money.to_string());
        page
    };
    let page = match status {
        s if s.is_settled() => {
            let mut page = with_details(closed(
                StatusCode::OK,
                "paid",
                "Paid, thank you",
                "This payment has been made; there is nothing more to pay.",
            ));
            if let Some(card) = &r.card {
                page.card = Some(format!("{} •••• {}", card.brand.display_name(), card.last4));
            }
            return Ok(render(StatusCode::OK, &page));
        }
        slotpay_core::CheckoutStatus::Expired => with_details(closed(
            StatusCode::GONE,
            "expired",
            "This payment link has expired",
            "Ask the merchant to send you a new payment link.",
        )),
        slotpay_core::CheckoutStatus::Canceled => with_details(closed(
            StatusCode::GONE,
            "canceled",
            "This payment was canceled",
            "The merchant canceled this payment; there is nothing to pay.",
        )),
        _ => {
            let page = PayPage {
                lang,
                merchant: merchant.name.clone(),
                description: r.description.clone(),
                amount: money.to_string(),
                booking_ref: r.booking_ref.clone(),
                token: r.token.clone(),
            };
            return Ok(render(StatusCode::OK, &page));
        }
    };
    Ok(render(StatusCode::GONE, &page))
}
