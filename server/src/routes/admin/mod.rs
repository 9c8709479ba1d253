//! The admin pages under `/admin`: server-rendered HTML forms (askama, auto-escaped) over the
//! same domain functions as the platform API, so no rule lives here. Merchants (and their
//! uploaded logo: a `multipart/form-data` form, the one form that is not URL-encoded); a merchant's
//! Stripe integration following the System Guide (add, save, cancel, edit, delete with a
//! confirmation, activate and deactivate, details with status Active or Error, "Verify
//! now"); services; payment links; payments (filters, details, refunds, capture and cancel,
//! cancellation fees, the CSV report); the booking platform's webhook endpoints (add, edit,
//! disable, rotate or reveal the signing secret, delete) with their recent deliveries, and on
//! each payment's page what was sent to the platform about it.
//!
//! Every page but sign-in needs a session ([`guard`]). Every POST is refused when its
//! `Origin` (or else `Referer`) is another origin than the server's, and, with a session,
//! when its `csrf_token` field is not the session's. Actions answer with a redirect and a
//! flash message on the next page (POST-redirect-GET); a refused form is shown again with
//! its errors. A webhook endpoint's signing secret, just made, rotated or revealed, is the
//! exception: the POST's own answer shows it, so it is never in a URL or a flash message.
//! Pages work without JavaScript; `slotpay-admin.js` only adds a copy button and
//! moves focus to an error summary. Nothing is inline, so the CSP allows only this origin.

mod auth;
mod form;
mod integration;
mod links;
mod merchants;
mod payments;
mod services;
mod views;
mod webhooks;

use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub use form::FormData;

use crate::admin::sessions::{self, Flash, Session};
use crate::domain::{merchants as merchant_domain, DomainError};
use crate::error::ApiFailure;
use crate::state::AppState;

/// The admin pages' stylesheet.
const ADMIN_CSS: &str = include_str!("../../../assets/admin.css");
/// The admin pages' progressive enhancement (copy buttons, focus on errors).
const ADMIN_JS: &str = include_str!("../../../assets/admin.js");

/// The admin pages' Content-Security-Policy: this origin only, no framing, forms posted
/// only here.
pub const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The routes of the admin pages and their assets.
pub fn router(state: AppState) -> Router<AppState> {
    use integration as i;
    let pages = Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/merchants") }))
        .route(
            "/admin/",
            get(|| async { Redirect::to("/admin/merchants") }),
        )
        .route("/admin/sign-in", get(auth::page).post(auth::sign_in))
        .route("/admin/sign-out", post(auth::sign_out))
        .route(
            "/admin/merchants",
            get(merchants::list).post(merchants::create),
        )
        .route("/admin/merchants/new", get(merchants::new_form))
        .route(
            "/admin/merchants/{merchant_id}",
            get(merchants::show).post(merchants::update),
        )
        .route(
            "/admin/merchants/{merchant_id}/edit",
            get(merchants::edit_form),
        )
        .route(
            "/admin/merchants/{merchant_id}/delete",
            get(merchants::confirm_delete).post(merchants::delete),
        )
        .route(
            "/admin/merchants/{merchant_id}/logo",
            post(merchants::upload_logo),
        )
        .route(
            "/admin/merchants/{merchant_id}/logo/delete",
            get(merchants::confirm_remove_logo).post(merchants::remove_logo),
        )
        .route(
            "/admin/merchants/{merchant_id}/integrations",
            get(i::list).post(i::add),
        )
        .route(
            "/admin/merchants/{merchant_id}/integrations/new",
            get(i::new_form),
        )
        .route(
            "/admin/merchants/{merchant_id}/integration",
            get(i::details).post(i::update),
        )
        .route(
            "/admin/merchants/{merchant_id}/integration/edit",
            get(i::edit_form),
        )
        .route(
            "/admin/merchants/{merchant_id}/integration/delete",
            get(i::confirm_delete).post(i::delete),
        )
        .route(
            "/admin/merchants/{merchant_id}/integration/verify",
            post(i::verify),
        )
        .route(
            "/admin/merchants/{merchant_id}/integration/activate",
            post(i::activate),
        )
        .route(
            "/admin/merchants/{merchant_id}/integration/deactivate",
            post(i::deactivate),
        )
        .route(
            "/admin/merchants/{merchant_id}/services",
            get(services::list).post(services::create),
        )
        .route(
            "/admin/merchants/{merchant_id}/services/new",
            get(services::new_form),
        )
        .route(
            "/admin/merchants/{merchant_id}/services/{service_id}",
            post(services::update),
        )
        .route(
            "/admin/merchants/{merchant_id}/services/{service_id}/edit",
            get(services::edit_form),
        )
        .route(
            "/admin/merchants/{merchant_id}/services/{service_id}/delete",
            get(services::confirm_delete).post(services::delete),
        )
        .route(
            "/admin/merchants/{merchant_id}/links",
            get(links::list).post(links::create),
        )
        .route(
            "/admin/merchants/{merchant_id}/links/new",
            get(links::new_form),
        )
        .route(
            "/admin/merchants/{merchant_id}/payments",
            get(payments::list),
        )
        .route(
            "/admin/merchants/{merchant_id}/payments.csv",
            get(payments::csv),
        )
        .route("/admin/checkouts/{token}", get(payments::details))
        .route("/admin/checkouts/{token}/refund", post(payments::refund))
        .route("/admin/checkouts/{token}/capture", post(payments::capture))
        .route("/admin/checkouts/{token}/cancel", post(payments::cancel))
        .route("/admin/checkouts/{token}/resend", post(links::resend))
        .route("/admin/checkouts/{token}/send-link", post(links::send))
        .route("/admin/emails/{email_id}/retry", post(links::retry_email))
        .route(
            "/admin/checkouts/{token}/cancellation-fee",
            post(payments::fee),
        )
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/admin/webhooks/{endpoint_id}",
            get(webhooks::show).post(webhooks::update),
        )
        .route(
            "/admin/webhooks/{endpoint_id}/edit",
            get(webhooks::edit_form),
        )
        .route(
            "/admin/webhooks/{endpoint_id}/disable",
            post(webhooks::disable),
        )
        .route(
            "/admin/webhooks/{endpoint_id}/enable",
            post(webhooks::enable),
        )
        .route(
            "/admin/webhooks/{endpoint_id}/rotate-secret",
            get(webhooks::confirm_rotate).post(webhooks::rotate),
        )
        .route(
            "/admin/webhooks/{endpoint_id}/reveal-secret",
            post(webhooks::reveal),
        )
        .route(
            "/admin/webhooks/{endpoint_id}/delete",
            get(webhooks::confirm_delete).post(webhooks::delete),
        )
        .route("/admin/events/{event_id}/resend", post(webhooks::resend))
        .route_layer(from_fn_with_state(state, guard));
    Router::new()
        .merge(pages)
        .route("/assets/slotpay-admin.css", get(css))
        .route("/assets/slotpay-admin.js", get(js))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        ADMIN_CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        ADMIN_JS,
    )
}

/// Why an admin request was refused: the boundary's error, shown as a page with a stable
/// machine code and a message.
#[derive(Debug)]
pub enum AdminError {
    /// The form's CSRF token is missing or not the session's (403 `csrf_token_invalid`).
    Csrf,
    /// A POST from another origin (403 `forbidden_origin`).
    ForeignOrigin,
    /// The body is not a form (400 `invalid_form`).
    BadForm,
    /// A domain refusal or failure (its code and status).
    Domain(DomainError),
    /// A page could not be rendered (500).
    Render(String),
}

impl From<DomainError> for AdminError {
    fn from(e: DomainError) -> AdminError {
        AdminError::Domain(e)
    }
}

impl From<crate::db::DbError> for AdminError {
    fn from(e: crate::db::DbError) -> AdminError {
        AdminError::Domain(DomainError::Storage(e))
    }
}

impl AdminError {
    /// Status, code and message.
    fn parts(self) -> (StatusCode, String, String) {
        match self {
            AdminError::Csrf => (
                StatusCode::FORBIDDEN,
                "csrf_token_invalid".into(),
                "This form has expired or did not come from this site. Go back, reload the page and try again.".into(),
            ),
            AdminError::ForeignOrigin => (
                StatusCode::FORBIDDEN,
                "forbidden_origin".into(),
                "This request came from another site and was refused.".into(),
            ),
            AdminError::BadForm => (
                StatusCode::BAD_REQUEST,
                "invalid_form".into(),
                "The form could not be read.".into(),
            ),
            AdminError::Domain(e) => {
                let failure = ApiFailure::from(e);
                let status = failure.status();
                let e = failure.into_public();
                (status, e.code.as_str().to_owned(), e.message)
            }
            AdminError::Render(detail) => {
                let e = ApiFailure::internal(format!("admin template: {detail}")).into_public();
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.code.as_str().to_owned(),
                    e.message,
                )
            }
        }
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage {
    lang: &'static str,
    status: u16,
    code: String,
    message: String,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let page = ErrorPage {
            lang: "en",
            status: status.as_u16(),
            code,
            message,
        };
        match page.render() {
            Ok(body) => with_page_headers((status, Html(body)).into_response()),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("error page: {e}"),
            )
                .into_response(),
        }
    }
}

/// What an admin handler answers.
pub type Page = Result<Response, AdminError>;

/// Headers of every admin answer: not cached, not framed, same-origin referrers (so form
/// posts carry an `Origin`), the admin CSP.
fn with_page_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ADMIN_CSP),
    );
    response
}

/// Renders a page with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Page {
    let body = page
        .render()
        .map_err(|e| AdminError::Render(e.to_string()))?;
    Ok(with_page_headers((status, Html(body)).into_response()))
}

/// Redirects (303) to `to` after leaving `flash` for the next page.
pub async fn done(state: &AppState, session: &Session, flash: Vec<Flash>, to: &str) -> Page {
    if !flash.is_empty() {
        sessions::set_flash(state, session, &flash).await?;
    }
    Ok(with_page_headers(Redirect::to(to).into_response()))
}

/// The merchant sub-navigation: which merchant, which section is current.
#[derive(Clone, Debug)]
pub struct MerchantNav {
    /// `mer_...`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `overview`, `integration`, `services`, `links`, `payments`.
    pub section: &'static str,
}

/// What every page around its content shows: who is signed in, the sign-out form's CSRF
/// A confirmation step before something is deleted or money moves (shared by every delete,
/// refund and cancel).
#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    /// Page language.
    pub lang: &'static str,
    /// Header, navigation, messages.
    pub chrome: Chrome,
    /// `Delete merchant?`.
    pub title: String,
    /// What happens.
    pub question: String,
    /// More about what happens.
    pub detail: String,
    /// Where the confirmation posts.
    pub action: String,
    /// The confirm button.
    pub confirm_label: String,
    /// Where "Cancel" goes, changing nothing.
    pub cancel_href: String,
    /// What the confirmation posts again (the form's own fields), as hidden inputs.
    pub fields: Vec<(String, String)>,
}

/// token, the messages left by the last action, the merchant navigation.
#[derive(Clone, Debug)]
pub struct Chrome {
    /// The session's CSRF token, for every form of the page.
    pub csrf: String,
    /// Who is signed in.
    pub who: String,
    /// Messages of the last action.
    pub flash: Vec<Flash>,
    /// The merchant pages' navigation.
    pub nav: Option<MerchantNav>,
    /// The main navigation's current entry: `merchants` or `webhooks`.
    pub area: &'static str,
}

impl Chrome {
    /// Whether the main navigation's current entry is `area`.
    pub fn in_area(&self, area: &str) -> bool {
        self.area == area
    }

    /// Whether the merchant navigation's current section is `section`.
    pub fn current(&self, section: &str) -> bool {
        self.nav.as_ref().is_some_and(|n| n.section == section)
    }
}

/// The chrome of a page for `session`, taking its flash messages.
pub async fn chrome(state: &AppState, session: &Session) -> Result<Chrome, AdminError> {
    Ok(Chrome {
        csrf: session.csrf_token().to_owned(),
        who: session.who(),
        flash: sessions::take_flash(state, session).await?,
        nav: None,
        area: "merchants",
    })
}

/// The chrome of a merchant's page (the merchant must exist).
pub async fn merchant_chrome(
    state: &AppState,
    session: &Session,
    merchant_id: &str,
    section: &'static str,
) -> Result<(Chrome, merchant_domain::MerchantView), AdminError> {
    let merchant = merchant_domain::get(state, merchant_id).await?;
    let mut c = chrome(state, session).await?;
    c.nav = Some(MerchantNav {
        id: merchant.id.clone(),
        name: merchant.name.clone(),
        section,
    });
    Ok((c, merchant))
}

/// Whether a POST comes from this server's own pages: its `Origin`, or when there is none
/// its `Referer`, must be the public URL's origin (neither present: allowed, as old clients
/// send neither; the CSRF token still has to match).
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let ours = state.public_url.origin().ascii_serialization();
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().ok() == Some(ours.as_str());
    }
    if let Some(referer) = headers.get(header::REFERER) {
        return referer
            .to_str()
            .ok()
            .and_then(|r| url::Url::parse(r).ok())
            .is_some_and(|u| u.origin().ascii_serialization() == ours);
    }
    true
}

/// Where to go after signing in: a path of the admin pages, nothing else (no open
/// redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n == "/admin" || n.starts_with("/admin/"))
                && !n.contains("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => "/admin/merchants".to_owned(),
    }
}

fn to_sign_in(uri: &Uri, method: &Method) -> Response {
    let target = if method == Method::GET {
        let next = uri.path_and_query().map_or("/admin", |p| p.as_str());
        format!(
            "/admin/sign-in?next={}",
            url::form_urlencoded::byte_serialize(safe_next(Some(next)).as_bytes())
                .collect::<String>()
        )
    } else {
        "/admin/sign-in".to_owned()
    };
    with_page_headers(Redirect::to(&target).into_response())
}

/// Middleware of every admin page: the origin check on POSTs; a live session (else a
/// redirect to sign-in); on POSTs with a session, the CSRF token (a field of URL-encoded and
/// multipart forms alike). The session and the parsed form go to the handler as extensions.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_post = req.method() == Method::POST;
    if is_post && !same_origin(&state, req.headers()) {
        tracing::warn!(path = %req.uri().path(), "admin POST from another origin refused");
        return AdminError::ForeignOrigin.into_response();
    }
    let (mut parts, body) = req.into_parts();
    let mut form = FormData::default();
    let mut bytes = axum::body::Bytes::new();
    if is_post {
        let limit = crate::guards::body_limit_for(&state, parts.uri.path());
        bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => return AdminError::BadForm.into_response(),
        };
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|t| {
                t.get(.."multipart/form-data".len())
                    .is_some_and(|m| m.eq_ignore_ascii_case("multipart/form-data"))
            });
        let parsed = match multipart {
            Some(content_type) => FormData::parse_multipart(content_type, bytes.clone()).await,
            None => FormData::parse(&bytes),
        };
        form = match parsed {
            Some(f) => f,
            None => return AdminError::BadForm.into_response(),
        };
    }
    if parts.uri.path() != "/admin/sign-in" {
        let session = match sessions::from_headers(&state, &parts.headers).await {
            Ok(Some(s)) => s,
            Ok(None) => return to_sign_in(&parts.uri, &parts.method),
            Err(e) => return AdminError::from(e).into_response(),
        };
        if is_post && !session.csrf_matches(form.get("csrf_token")) {
            tracing::warn!(path = %parts.uri.path(), "admin POST with a missing or wrong CSRF token refused");
            return AdminError::Csrf.into_response();
        }
        parts.extensions.insert(session);
    }
    parts.extensions.insert(form);
    let req = Request::from_parts(parts, Body::from(bytes));
    with_page_headers(next.run(req).await)
}

/// A fresh nonce for a form whose action must happen once however often it is sent (a
/// refund, a fee): the domain's idempotency key.
pub fn form_nonce() -> String {
    crate::secrets::random_token(18)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_admin_pages() {
        assert_eq!(
            safe_next(Some("/admin/merchants/mer_1")),
            "/admin/merchants/mer_1"
        );
        assert_eq!(safe_next(Some("/admin")), "/admin");
        for bad in [
            "https://evil.example/admin",
            "//evil.example/admin",
            "/admin//evil.example",
            "/administrator",
            "/admin/\\evil",
            "/pay/x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/admin/merchants", "{bad}");
        }
        assert_eq!(safe_next(None), "/admin/merchants");
    }
}
