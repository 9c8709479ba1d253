//! Pages and assets: the payment-link page `GET /pay/{token}` (askama templates in
//! `server/templates/`, HTML auto-escaped; `base.html` is the layout the admin pages share),
//! merchants' uploaded logos (`GET /logos/{merchant_id}/{sha256}.{ext}`), the pages'
//! stylesheet, and the `www/` directory (`SLOTPAY_WWW_DIR`: the loader, the
//! widget's wasm, demo pages) with the widget's words per language (`GET /words/{locale}.json`),
//! served with `Cache-Control: no-cache` and `Access-Control-Allow-Origin: *` (merchants' pages
//! load them cross-origin). Every HTML answer carries the strict Content-Security-Policy: no
//! inline script or style, only this origin, Stripe's origins (from configuration) and
//! `'wasm-unsafe-eval'` (and, on a payment-link page showing a logo from a URL, that URL's origin
//! for images; an uploaded logo is this origin's).
//! A payment-link page carries the merchant's corners, font and light or dark as `data-*`
//! attributes on its body, which the stylesheet turns into its look (no inline style).

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use slotpay_core::{Appearance, ErrorCode, Locale};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::domain::checkouts::effective_status;
use crate::domain::merchants::{self, ShownLogo};
use crate::domain::store;
use crate::domain::{load_merchant, DomainError};
use crate::error::ApiFailure;
use crate::state::AppState;

/// The pages' stylesheet.
const PAGE_CSS: &str = include_str!("../../assets/page.css");

/// The routes of pages and assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pay/{token}", get(pay_page))
        .route("/logos/{merchant_id}/{file}", get(logo))
        .route("/assets/slotpay-page.css", get(page_css))
        .route("/docs", get(super::docs::docs))
}

/// The JSON `not_found` for a file `www/` does not have.
async fn not_found() -> Response {
    ApiFailure::new(ErrorCode::NotFound, "No such endpoint").into_response()
}

/// The `www/` directory (with its precompressed copies, and the loader with this server's
/// Stripe.js URL written in), with the JSON `not_found` for anything it does not have.
pub fn static_files(state: &AppState) -> Router {
    // `./dev build` writes each widget file's .br and .gz beside it: a browser that accepts
    // them gets a third of the bytes.
    let dir = ServeDir::new(&state.config.www_dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found.into_service());
    Router::new()
        .route("/slotpay.js", get(loader))
        .route("/words/{file}", get(words_json))
        // Both are built per request, so gzipped per request (a few KB, a few microseconds).
        .layer(CompressionLayer::new())
        .with_state(state.clone())
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
    policy_with_images(state, "")
}

/// The same, with `images` (origins, each after a space) allowed as images too: a payment-link
/// page shows the merchant's logo from the merchant's own site.
fn policy_with_images(state: &AppState, images: &str) -> String {
    let js = state.config.stripe_js_url.origin().ascii_serialization();
    let api = state.config.stripe_api_base.origin().ascii_serialization();
    format!(
        "default-src 'self'; script-src 'self' {js} 'wasm-unsafe-eval'; frame-src {js}; \
         connect-src 'self' {api}; style-src 'self'; img-src 'self' data:{images}; \
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

/// A served logo's policy, were it ever opened as a document: nothing loads, nothing runs.
const LOGO_CSP: &str = "default-src 'none'; sandbox";

/// `GET /logos/{merchant_id}/{sha256}.{ext}`: a merchant's uploaded logo while it is the
/// current one, as the type its first bytes said when it was uploaded. The address changes
/// with the image, so it is cached for a year; an earlier image's, another merchant's or a
/// wrong extension's is `not_found`.
async fn logo(
    State(state): State<AppState>,
    Path((merchant_id, file)): Path<(String, String)>,
) -> Response {
    match merchants::logo_file(&state, &merchant_id, &file).await {
        Ok(Some(image)) => (
            [
                (header::CONTENT_TYPE, image.kind().media_type()),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, LOGO_CSP),
            ],
            image.bytes().clone(),
        )
            .into_response(),
        Ok(None) => ApiFailure::not_found("logo").into_response(),
        Err(e) => ApiFailure::from(e).into_response(),
    }
}

/// Where the built loader leaves Stripe.js's URL for the server to write (a JS string literal
/// of this text, in either quote).
const STRIPE_JS_PLACEHOLDER: &str = "__SLOTPAY_STRIPE_JS__";

/// `GET /slotpay.js`: the built loader (`www/slotpay.js`) with this server's Stripe.js URL
/// written in, so a page starts loading Stripe.js at once rather than after the checkout's
/// view names it (on a phone over mobile data, a round trip less before Stripe's fields). Read
/// on every request, as the rest of `www/` is, and gzipped when the browser accepts it (4.5 KB
/// to 2 KB); `static_files` adds the same cache and CORS headers as to the rest.
async fn loader(State(state): State<AppState>) -> Response {
    let Ok(source) = tokio::fs::read_to_string(state.config.www_dir.join("slotpay.js")).await
    else {
        return not_found().await;
    };
    let url = serde_json::Value::from(state.config.stripe_js_url.as_str()).to_string();
    let js = source
        .replace(&format!("\"{STRIPE_JS_PLACEHOLDER}\""), &url)
        .replace(&format!("'{STRIPE_JS_PLACEHOLDER}'"), &url);
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        js,
    )
        .into_response()
}

/// `GET /words/{locale}.json` (`fr.json`, ...): the widget's words in one language, core's
/// table as `{"locale": "fr", "texts": [...]}`. The widget carries none; the loader fetches the
/// checkout's language beside its view.
async fn words_json(Path(file): Path<String>) -> Response {
    let locale = file
        .strip_suffix(".json")
        .and_then(|code| Locale::ALL.iter().find(|l| l.as_str() == code));
    match locale {
        Some(&locale) => axum::Json(slotpay_core::words::language(locale)).into_response(),
        None => not_found().await,
    }
}

/// The link page's own words in the merchant's language (the checkout on it has its own).
struct Words {
    paid: [&'static str; 2],
    expired: [&'static str; 2],
    canceled: [&'static str; 2],
    not_found: [&'static str; 2],
    booking_ref: &'static str,
    needs_script: &'static str,
}

const fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::En => &Words {
            paid: ["Paid, thank you", "This payment has been made; there is nothing more to pay."],
            expired: ["This payment link has expired", "Ask the merchant to send you a new payment link."],
            canceled: ["This payment was canceled", "The merchant canceled this payment; there is nothing to pay."],
            not_found: ["Payment link not found", "Check the link you received, or ask the merchant for a new one."],
            booking_ref: "Booking reference:",
            needs_script: "Paying on this page needs JavaScript: turn it on, or open the link in another browser.",
        },
        Locale::Fr => &Words {
            paid: ["Payé, merci", "Ce paiement a été effectué ; il n'y a plus rien à payer."],
            expired: ["Ce lien de paiement a expiré", "Demandez au commerçant de vous envoyer un nouveau lien de paiement."],
            canceled: ["Ce paiement a été annulé", "Le commerçant a annulé ce paiement ; il n'y a rien à payer."],
            not_found: ["Lien de paiement introuvable", "Vérifiez le lien reçu, ou demandez-en un nouveau au commerçant."],
            booking_ref: "Référence de réservation :",
            needs_script: "Pour payer sur cette page, JavaScript est nécessaire : activez-le, ou ouvrez le lien dans un autre navigateur.",
        },
        Locale::De => &Words {
            paid: ["Bezahlt, vielen Dank", "Diese Zahlung ist erfolgt; es ist nichts mehr zu bezahlen."],
            expired: ["Dieser Zahlungslink ist abgelaufen", "Bitten Sie den Händler, Ihnen einen neuen Zahlungslink zu senden."],
            canceled: ["Diese Zahlung wurde storniert", "Der Händler hat diese Zahlung storniert; es ist nichts zu bezahlen."],
            not_found: ["Zahlungslink nicht gefunden", "Prüfen Sie den erhaltenen Link oder bitten Sie den Händler um einen neuen."],
            booking_ref: "Buchungsreferenz:",
            needs_script: "Zum Bezahlen auf dieser Seite wird JavaScript benötigt: Schalten Sie es ein oder öffnen Sie den Link in einem anderen Browser.",
        },
        Locale::Es => &Words {
            paid: ["Pagado, gracias", "Este pago ya se ha realizado; no hay nada más que pagar."],
            expired: ["Este enlace de pago ha caducado", "Pide al comercio que te envíe un nuevo enlace de pago."],
            canceled: ["Este pago se ha cancelado", "El comercio ha cancelado este pago; no hay nada que pagar."],
            not_found: ["Enlace de pago no encontrado", "Comprueba el enlace que recibiste o pide uno nuevo al comercio."],
            booking_ref: "Referencia de la reserva:",
            needs_script: "Para pagar en esta página se necesita JavaScript: actívalo o abre el enlace en otro navegador.",
        },
    }
}

/// The first language of `Accept-Language` that the pages speak (English otherwise): a link
/// that is not found has no merchant to take the language from.
fn browser_locale(headers: &HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','))
        .find_map(|tag| Locale::parse(tag.split(';').next().unwrap_or_default().trim()))
        .unwrap_or_default()
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
    words: &'static Words,
    /// Stripe.js's URL, preloaded beside the widget's files.
    stripe_js: String,
    /// The merchant's logo, above the checkout.
    logo: Option<String>,
    /// The merchant's look, as the body's `data-*` attributes.
    look: Vec<(&'static str, &'static str)>,
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
    logo: Option<String>,
    /// The merchant's look, as the body's `data-*` attributes.
    look: Vec<(&'static str, &'static str)>,
}

/// The `data-*` attributes of the choices a merchant made (none for the defaults), which
/// `page.css` reads.
fn look(appearance: Appearance) -> Vec<(&'static str, &'static str)> {
    appearance
        .attributes()
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => ApiFailure::internal(format!("template: {e}")).into_response(),
    }
}

/// `render`, on a page that shows the merchant's `logo`: a logo URL's origin joins the
/// policy's images (an uploaded logo is this origin's, which the policy allows already).
fn render_with_logo(
    state: &AppState,
    status: StatusCode,
    page: &impl Template,
    logo: Option<ShownLogo>,
) -> Response {
    let mut response = render(status, page);
    if let Some(ShownLogo::Linked(logo)) = logo {
        let policy = policy_with_images(state, &format!(" {}", logo.origin()));
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

fn closed(locale: Locale, kind: &'static str, [heading, message]: [&str; 2]) -> ClosedPage {
    ClosedPage {
        lang: locale.as_str(),
        kind,
        heading: heading.to_owned(),
        message: message.to_owned(),
        merchant: None,
        description: None,
        amount: None,
        card: None,
        logo: None,
        look: Vec::new(),
    }
}

async fn pay_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match pay_page_inner(&state, &token).await {
        Ok(r) => r,
        Err(DomainError::Refused(e)) if e.code == ErrorCode::CheckoutNotFound => {
            let locale = browser_locale(&headers);
            let page = closed(locale, "not-found", words(locale).not_found);
            render(StatusCode::NOT_FOUND, &page)
        }
        Err(e) => ApiFailure::from(e).into_response(),
    }
}

async fn pay_page_inner(state: &AppState, token: &str) -> Result<Response, DomainError> {
    let r = store::load(state, token).await?;
    let merchant = load_merchant(state, &r.merchant_id).await?;
    let appearance = merchant.appearance();
    let locale = merchant.locale;
    let said = words(locale);
    // As the widget writes it (the browser's Intl), in the merchant's language.
    let money = slotpay_core::intl::localized(r.amount, locale);
    let status = effective_status(&r, crate::db::now());
    // An uploaded logo before the logo URL; the page names the upload by its path here.
    let logo = merchants::shown_logo(&merchant);
    let logo_src = logo.map(|l| match l {
        ShownLogo::Uploaded(upload) => upload.path(&merchant.id),
        ShownLogo::Linked(url) => url.as_str().to_owned(),
    });
    let with_details = |mut page: ClosedPage| {
        page.merchant = Some(merchant.name.clone());
        page.description = Some(r.description.clone());
        page.amount = Some(money.clone());
        page.logo = logo_src.clone();
        page.look = look(appearance);
        page
    };
    let page = match status {
        s if s.is_settled() => {
            let mut page = with_details(closed(locale, "paid", said.paid));
            if let Some(card) = &r.card {
                page.card = Some(card.to_string());
            }
            return Ok(render_with_logo(state, StatusCode::OK, &page, logo));
        }
        slotpay_core::CheckoutStatus::Expired => {
            with_details(closed(locale, "expired", said.expired))
        }
        slotpay_core::CheckoutStatus::Canceled => {
            with_details(closed(locale, "canceled", said.canceled))
        }
        _ => {
            let page = PayPage {
                lang: locale.as_str(),
                words: said,
                merchant: merchant.name.clone(),
                description: r.description.clone(),
                amount: money,
                booking_ref: r.booking_ref.clone(),
                token: r.token.clone(),
                stripe_js: state.config.stripe_js_url.to_string(),
                logo: logo_src.clone(),
                look: look(appearance),
            };
            return Ok(render_with_logo(state, StatusCode::OK, &page, logo));
        }
    };
    Ok(render_with_logo(state, StatusCode::GONE, &page, logo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotpay_core::{Corners, Font, Scheme};

    #[test]
    fn the_stylesheet_has_every_choice_as_core_defines_it() {
        for &f in Font::ALL {
            let rule = format!(
                "[data-font=\"{}\"] {{ font-family: {}; }}",
                f.as_str(),
                f.stack()
            );
            assert!(PAGE_CSS.contains(&rule), "page.css lacks {rule}");
        }
        for &c in Corners::ALL {
            let rule = format!(
                "[data-corners=\"{}\"] {{ --sp-page-radius: {}px; }}",
                c.as_str(),
                c.px()
            );
            assert!(PAGE_CSS.contains(&rule), "page.css lacks {rule}");
        }
        for &s in Scheme::ALL {
            let rule = format!("[data-scheme=\"{0}\"] {{ color-scheme: {0};", s.as_str());
            assert!(PAGE_CSS.contains(&rule), "page.css lacks {rule}");
        }
        assert!(PAGE_CSS.contains("border-radius: var(--sp-page-radius, 8px)"));
    }

    #[test]
    fn a_page_carries_only_the_choices_made() {
        assert!(look(Appearance::default()).is_empty());
        let chosen = Appearance {
            corners: Some(Corners::Large),
            font: None,
            scheme: Some(Scheme::Dark),
        };
        assert_eq!(
            look(chosen),
            [("data-corners", "large"), ("data-scheme", "dark")]
        );
    }
}
