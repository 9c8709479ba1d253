//! Merchant pages: the list, add, the overview (with the uploaded logo: upload or replace
//! it, remove it after a confirmation step), edit (name, allowed origins, locale, logo URL
//! and the checkout's look) and delete after a confirmation step.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use slotpay_core::{ApiError, BrandColor, Corners, ErrorCode, Font, Locale, Scheme};

use crate::model::LogoUrl;

use super::form::{same, Fields};
use super::views::Local;
use super::{chrome, done, merchant_chrome, render, Chrome, ConfirmPage, FormData, Page};
use crate::admin::sessions::{Flash, Session};
use crate::domain::merchants::{self, MerchantInput, MerchantView};
use crate::domain::{integrations, DomainError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/merchants.html")]
struct ListPage {
    lang: &'static str,
    chrome: Chrome,
    merchants: Vec<Row>,
}

/// A merchant in the list, with its integration's state and its last 30 days.
struct Row {
    m: MerchantView,
    integration: String,
    volume: String,
}

/// The days the list's volume covers.
const VOLUME_DAYS: i64 = 30;

/// What a merchant's integration allows, in a few words ("None yet" without one).
async fn integration_summary(state: &AppState, merchant_id: &str) -> Result<String, DomainError> {
    match integrations::get(state, merchant_id).await {
        Ok(v) => {
            let (status, _) = super::views::integration_status(&v);
            let payments = if v.payments_available {
                "taking payments"
            } else if !v.active {
                "switched off, no payments"
            } else {
                "no payments"
            };
            Ok(format!("{status}: {payments}"))
        }
        Err(DomainError::NotFound(_)) => Ok("None yet".to_owned()),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin/merchant_form.html")]
struct FormPage {
    lang: &'static str,
    chrome: Chrome,
    /// `None` when adding.
    merchant_id: Option<String>,
    f: Fields,
    locales: &'static [Locale],
    /// Every IANA name, offered as the time zone is typed.
    time_zones: Vec<String>,
    /// The options of the corners' `<select>`.
    corners: Options,
    /// The options of the font's `<select>`.
    fonts: Options,
    /// The options of the light-or-dark `<select>`.
    schemes: Options,
}

/// A `<select>`'s options after its "Checkout default": each choice's value and words.
type Options = Vec<(&'static str, &'static str)>;

/// Every choice of a list with its words, in the list's order.
fn options<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    words: fn(T) -> &'static str,
) -> Options {
    all.iter().map(|&c| (value(c), words(c))).collect()
}

fn corners_words(c: Corners) -> &'static str {
    match c {
        Corners::Square => "Square",
        Corners::Small => "Small (4 px)",
        Corners::Medium => "Medium (8 px)",
        Corners::Large => "Large (16 px)",
    }
}

fn font_words(f: Font) -> &'static str {
    match f {
        Font::System => "The device's own",
        Font::Serif => "Serif",
        Font::Humanist => "Humanist",
        Font::Geometric => "Geometric",
    }
}

fn scheme_words(s: Scheme) -> &'static str {
    match s {
        Scheme::Light => "Light",
        Scheme::Dark => "Dark",
    }
}

/// The form, to add (`merchant_id` `None`) or edit a merchant.
fn form_page(chrome: Chrome, merchant_id: Option<String>, f: Fields) -> FormPage {
    FormPage {
        lang: "en",
        chrome,
        merchant_id,
        f,
        locales: Locale::ALL,
        time_zones: time_zones(),
        corners: options(Corners::ALL, Corners::as_str, corners_words),
        fonts: options(Font::ALL, Font::as_str, font_words),
        schemes: options(Scheme::ALL, Scheme::as_str, scheme_words),
    }
}

fn time_zones() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    names.sort();
    names
}

#[derive(Template)]
#[template(path = "admin/merchant.html")]
struct OverviewPage {
    lang: &'static str,
    chrome: Chrome,
    merchant: MerchantView,
    created: String,
    integration: String,
    /// The uploaded logo, as the page shows it.
    logo: Option<ShownUpload>,
    /// The logo form's errors.
    f: Fields,
}

/// The uploaded logo on the overview: its image (this server's path, so the admin pages'
/// policy of images from this origin holds whatever the public URL) and a few words on it.
struct ShownUpload {
    src: String,
    about: String,
}

/// The overview of `merchant` with the logo form's errors `f`.
async fn overview(
    state: &AppState,
    chrome: Chrome,
    merchant: MerchantView,
    f: Fields,
) -> Result<OverviewPage, super::AdminError> {
    let integration = integration_summary(state, &merchant.id).await?;
    let logo = merchant.logo_upload.as_ref().map(|u| ShownUpload {
        src: u.path(&merchant.id),
        about: format!("{}, {} KiB", u.media_type.name(), u.size.div_ceil(1024)),
    });
    Ok(OverviewPage {
        lang: "en",
        chrome,
        created: Local::of(&merchant).when(merchant.created_at),
        merchant,
        integration,
        logo,
        f,
    })
}

/// `GET /admin/merchants`.
pub async fn list(State(state): State<AppState>, Extension(session): Extension<Session>) -> Page {
    let since = crate::db::now() - VOLUME_DAYS * 86_400;
    let volumes = state
        .db
        .volumes_since(since)
        .await
        .map_err(DomainError::from)?;
    let mut rows = Vec::new();
    for m in merchants::list(&state).await? {
        let volume: Vec<String> = volumes
            .iter()
            .filter(|(id, ..)| *id == m.id)
            .map(|(_, currency, payments, net)| {
                format!(
                    "{} ({payments} payment{})",
                    Local::of(&m).money(*net, *currency),
                    if *payments == 1 { "" } else { "s" }
                )
            })
            .collect();
        rows.push(Row {
            integration: integration_summary(&state, &m.id).await?,
            volume: if volume.is_empty() {
                "—".to_owned()
            } else {
                volume.join(", ")
            },
            m,
        });
    }
    let page = ListPage {
        lang: "en",
        chrome: chrome(&state, &session).await?,
        merchants: rows,
    };
    render(StatusCode::OK, &page)
}

fn fields_of(m: &MerchantView) -> Fields {
    let mut f = Fields::default();
    f.set("name", m.name.clone())
        .set("allowed_origins", m.allowed_origins.join("\n"))
        .set("locale", m.locale.as_str())
        .set("time_zone", m.time_zone.as_str())
        .set("logo_url", m.logo_url.as_ref().map_or("", LogoUrl::as_str))
        .set(
            "brand_color",
            m.brand_color.as_ref().map_or("", BrandColor::as_str),
        )
        .set("corners", m.corners.map_or("", Corners::as_str))
        .set("font", m.font.map_or("", Font::as_str))
        .set("color_scheme", m.color_scheme.map_or("", Scheme::as_str));
    f
}

/// `GET /admin/merchants/new`.
pub async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Page {
    let mut f = Fields::default();
    f.set("locale", "en").set("time_zone", "UTC");
    let page = form_page(chrome(&state, &session).await?, None, f);
    render(StatusCode::OK, &page)
}

/// The input of the form: origins one per line.
fn input_of(form: &FormData) -> MerchantInput {
    MerchantInput {
        name: Some(form.text("name")),
        allowed_origins: Some(
            form.text("allowed_origins")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        locale: Some(form.text("locale")),
        // Left empty: kept (UTC for a new merchant).
        time_zone: Some(form.text("time_zone")).filter(|z| !z.trim().is_empty()),
        logo_url: Some(form.text("logo_url")),
        brand_color: Some(form.text("brand_color")),
        // "" (the first option): the checkout's default.
        corners: Some(form.text("corners")),
        font: Some(form.text("font")),
        color_scheme: Some(form.text("color_scheme")),
    }
}

/// The form again, with the refusal next to its fields (origins name their line).
async fn refused(
    state: &AppState,
    session: &Session,
    merchant_id: Option<String>,
    form: &FormData,
    e: DomainError,
) -> Page {
    let mut f = Fields::default();
    f.keep(
        form,
        &[
            "name",
            "allowed_origins",
            "locale",
            "time_zone",
            "logo_url",
            "brand_color",
            "corners",
            "font",
            "color_scheme",
        ],
    );
    let e = match e {
        DomainError::Invalid(errors) => {
            for err in errors.all() {
                let mut err = err.clone();
                if let Some(i) = err
                    .param
                    .as_deref()
                    .and_then(|p| p.strip_prefix("allowed_origins["))
                    .and_then(|p| p.strip_suffix(']'))
                    .and_then(|i| i.parse::<usize>().ok())
                {
                    err.message = format!("Origin on line {}: {}", i + 1, err.message);
                }
                f.refuse_api(&err, &same);
            }
            None
        }
        other => Some(other),
    };
    if let Some(e) = e {
        f.refuse_domain(e, &same);
    }
    let mut c = super::chrome(state, session).await?;
    if let Some(id) = &merchant_id {
        if let Ok(m) = merchants::get(state, id).await {
            c.nav = Some(super::MerchantNav {
                id: m.id,
                name: m.name,
                section: "overview",
            });
        }
    }
    let page = form_page(c, merchant_id, f);
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// `POST /admin/merchants`: adds a merchant.
pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
) -> Page {
    match merchants::create(&state, input_of(&form)).await {
        Ok(m) => {
            done(
                &state,
                &session,
                vec![Flash::success(format!("Merchant {} added", m.name))],
                &format!("/admin/merchants/{}", m.id),
            )
            .await
        }
        Err(e) => refused(&state, &session, None, &form, e).await,
    }
}

/// `GET /admin/merchants/{id}`: the overview.
pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "overview").await?;
    let page = overview(&state, chrome, merchant, Fields::default()).await?;
    render(StatusCode::OK, &page)
}

/// `POST /admin/merchants/{id}/logo` (`multipart/form-data`): uploads the file chosen as
/// `logo`, or shows the overview again with why it was refused (nothing stored).
pub async fn upload_logo(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    let outcome = match form.file("logo").filter(|f| !f.is_none_chosen()) {
        Some(file) => {
            merchants::upload_logo(
                &state,
                &merchant_id,
                file.content_type.as_deref(),
                file.bytes.clone(),
            )
            .await
        }
        None => Err(DomainError::Refused(
            ApiError::new(
                ErrorCode::InvalidLogo,
                "Choose an image file to upload: PNG, JPEG, WebP or GIF",
            )
            .with_param("logo"),
        )),
    };
    match outcome {
        Ok(_) => {
            done(
                &state,
                &session,
                vec![Flash::success("Logo uploaded")],
                &format!("/admin/merchants/{merchant_id}"),
            )
            .await
        }
        Err(DomainError::NotFound(what)) => Err(DomainError::NotFound(what).into()),
        Err(e) => {
            let (chrome, merchant) =
                merchant_chrome(&state, &session, &merchant_id, "overview").await?;
            let mut f = Fields::default();
            f.refuse_domain(e, &same);
            let page = overview(&state, chrome, merchant, f).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// `GET /admin/merchants/{id}/logo/delete`: the confirmation step.
pub async fn confirm_remove_logo(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "overview").await?;
    let instead = if merchant.logo_url.is_some() {
        "Payment-link pages and receipts show the logo at the logo URL instead"
    } else {
        "Payment-link pages and receipts show no logo until another is uploaded or a logo URL is set"
    };
    let page = ConfirmPage {
        lang: "en",
        chrome,
        title: "Remove logo?".into(),
        question: format!("Remove the uploaded logo of {}?", merchant.name),
        detail: format!(
            "{instead}, and its address stops answering. Receipts already sent lose their logo."
        ),
        action: format!("/admin/merchants/{}/logo/delete", merchant.id),
        confirm_label: "Remove logo".into(),
        cancel_href: format!("/admin/merchants/{}", merchant.id),
        fields: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/merchants/{id}/logo/delete`.
pub async fn remove_logo(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let had = merchants::get(&state, &merchant_id)
        .await?
        .logo_upload
        .is_some();
    merchants::remove_logo(&state, &merchant_id).await?;
    let flash = if had {
        Flash::success("Logo removed")
    } else {
        Flash::info("There was no uploaded logo to remove")
    };
    done(
        &state,
        &session,
        vec![flash],
        &format!("/admin/merchants/{merchant_id}"),
    )
    .await
}

/// `GET /admin/merchants/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "overview").await?;
    let page = form_page(chrome, Some(merchant.id.clone()), fields_of(&merchant));
    render(StatusCode::OK, &page)
}

/// `POST /admin/merchants/{id}`: saves the edit.
pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    match merchants::update(&state, &merchant_id, input_of(&form)).await {
        Ok(m) => {
            done(
                &state,
                &session,
                vec![Flash::success("Merchant updated")],
                &format!("/admin/merchants/{}", m.id),
            )
            .await
        }
        Err(DomainError::NotFound(what)) => Err(DomainError::NotFound(what).into()),
        Err(e) => refused(&state, &session, Some(merchant_id), &form, e).await,
    }
}

/// `GET /admin/merchants/{id}/delete`: the confirmation step.
pub async fn confirm_delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "overview").await?;
    let page = ConfirmPage {
        lang: "en",
        chrome,
        title: "Delete merchant?".into(),
        question: format!("Are you sure you want to delete the merchant {}?", merchant.name),
        detail: "Its Stripe integration and services are deleted with it, and the webhook endpoint slotpay registered at Stripe is removed. A merchant with checkouts cannot be deleted: its payment records are kept. This cannot be undone.".into(),
        action: format!("/admin/merchants/{}/delete", merchant.id),
        confirm_label: "Delete merchant".into(),
        cancel_href: format!("/admin/merchants/{}", merchant.id),
        fields: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/merchants/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let name = merchants::get(&state, &merchant_id).await?.name;
    let deleted = merchants::delete(&state, &merchant_id).await?;
    let mut flash = vec![Flash::success(format!("Merchant {name} deleted"))];
    flash.extend(
        deleted
            .warnings
            .into_iter()
            .map(|w| Flash::error(w.message)),
    );
    done(&state, &session, flash, "/admin/merchants").await
}
