//! Merchants: create, list, get, update, delete; a name, the origins allowed to call the
//! public API for them (validated and normalised to `scheme://host[:port]`), a default locale,
//! a time zone for the times pages and emails show, a logo for receipts and payment-link pages
//! (an https URL, or an image uploaded to slotpay and served by it, which is shown before the
//! URL: [`shown_logo`]), and the checkout's look: a brand colour, and corners, a font and light
//! or dark from short lists.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use slotpay_core::{ApiError, BrandColor, Corners, ErrorCode, Font, Locale, Scheme};
use url::Url;

use super::{integrations, load_merchant, new_id, parse_name, Checker, DomainError, Warning};
use crate::db::{self, MerchantRecord};
use crate::logo::{LogoHash, LogoImage, LogoRef, LogoType};
use crate::model::{LogoUrl, TimeZoneName};
use crate::state::AppState;

/// Longest merchant name.
const MAX_NAME: usize = 200;
/// Most allowed origins per merchant.
const MAX_ORIGINS: usize = 20;

/// A merchant to create, or the fields to change (absent fields are kept).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantInput {
    /// Shown to clients.
    pub name: Option<String>,
    /// `https://salon.example` origins allowed to embed the widget.
    pub allowed_origins: Option<Vec<String>>,
    /// `en`, `fr`, `de`, `es` (or a tag such as `fr-FR`).
    pub locale: Option<String>,
    /// An IANA time zone name (`Europe/Paris`).
    pub time_zone: Option<String>,
    /// An `https` URL of the logo receipts and payment-link pages carry (unless a logo was
    /// uploaded, which they show instead); `""` removes it.
    pub logo_url: Option<String>,
    /// The checkout's primary colour, `#rrggbb`, unless the page sets its own; `""` removes it.
    pub brand_color: Option<String>,
    /// How round the checkout's corners are (and the payment-link page's): `square` (0 px),
    /// `small` (4 px), `medium` (8 px, the default) or `large` (16 px); `""` removes the choice.
    #[schema(example = "large")]
    pub corners: Option<String>,
    /// The checkout's font (and the payment-link page's), from fonts devices already have:
    /// `system` (the default), `serif`, `humanist` or `geometric`; `""` removes the choice.
    #[schema(example = "serif")]
    pub font: Option<String>,
    /// `light` (the default) or `dark`, for the checkout and the payment-link page; `""`
    /// removes the choice.
    #[schema(example = "dark")]
    pub color_scheme: Option<String>,
}

/// A merchant as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantView {
    /// `mer_...`.
    #[schema(value_type = crate::schemas::MerchantId)]
    pub id: String,
    /// Name.
    pub name: String,
    /// Normalised origins.
    pub allowed_origins: Vec<String>,
    /// Default locale.
    pub locale: Locale,
    /// IANA time zone name.
    pub time_zone: TimeZoneName,
    /// The logo URL as it was set (an uploaded logo is shown before it).
    pub logo_url: Option<LogoUrl>,
    /// The logo uploaded to slotpay (`PUT .../logo`), as slotpay serves it.
    pub logo_upload: Option<LogoUploadView>,
    /// The logo receipts and payment-link pages show: the uploaded logo's URL when there is
    /// one, else `logo_url` (`null`: none).
    #[schema(
        example = "https://pay.example.com/logos/mer_5c1e8a3f0b7d2e9a4c6f1b08/9f2c1e4b7a0d3c5e8f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e.png"
    )]
    pub logo: Option<String>,
    /// The checkout's primary colour (`null`: the checkout's own).
    pub brand_color: Option<BrandColor>,
    /// How round the checkout's corners are (`null`: the checkout's default, `medium`).
    pub corners: Option<Corners>,
    /// The checkout's font (`null`: the checkout's default, `system`).
    pub font: Option<Font>,
    /// Light or dark (`null`: the checkout's default, `light`).
    pub color_scheme: Option<Scheme>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A logo uploaded to slotpay.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LogoUploadView {
    /// Where slotpay serves it: `/logos/{merchant_id}/{sha256}.{ext}` under the server's
    /// public URL, cached for a year (a new upload has a new URL).
    pub url: String,
    /// Its type, as its first bytes say.
    pub media_type: LogoType,
    /// The SHA-256 of its bytes.
    pub sha256: LogoHash,
    /// Its size in bytes.
    pub size: u64,
}

impl LogoUploadView {
    /// Its path on this server (`/logos/...`), for slotpay's own pages.
    pub fn path(&self, merchant_id: &str) -> String {
        LogoRef {
            kind: self.media_type,
            hash: self.sha256.clone(),
            size: self.size as usize,
        }
        .path(merchant_id)
    }
}

/// The answer to a deletion.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantDeleted {
    /// The merchant.
    #[schema(value_type = crate::schemas::MerchantId)]
    pub id: String,
    /// Always true.
    pub deleted: bool,
    /// Whether its webhook endpoint was removed at Stripe (absent when there was none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_endpoint_deleted: Option<bool>,
    /// What could not be done.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// Which logo a merchant's pages and emails show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShownLogo<'a> {
    /// The image uploaded to slotpay, served by it.
    Uploaded(&'a LogoRef),
    /// The image at the merchant's logo URL.
    Linked(&'a LogoUrl),
}

/// The logo a merchant's pages and emails show: an uploaded one before the logo URL (the
/// upload is the newer, deliberate act; removing it shows the URL again).
pub fn shown_logo(m: &MerchantRecord) -> Option<ShownLogo<'_>> {
    match (&m.logo, &m.logo_url) {
        (Some(upload), _) => Some(ShownLogo::Uploaded(upload)),
        (None, Some(url)) => Some(ShownLogo::Linked(url)),
        (None, None) => None,
    }
}

/// The absolute URL of an uploaded logo, under the server's public URL (emails and the API
/// carry it to places other than slotpay's pages).
fn served_url(state: &AppState, merchant_id: &str, upload: &LogoRef) -> String {
    format!(
        "{}{}",
        state.public_url.as_str().trim_end_matches('/'),
        upload.path(merchant_id)
    )
}

/// The absolute URL of the logo the merchant's emails show, if any.
pub fn shown_logo_url(state: &AppState, m: &MerchantRecord) -> Option<String> {
    shown_logo(m).map(|logo| match logo {
        ShownLogo::Uploaded(upload) => served_url(state, &m.id, upload),
        ShownLogo::Linked(url) => url.as_str().to_owned(),
    })
}

fn view(state: &AppState, m: MerchantRecord) -> MerchantView {
    let logo = shown_logo_url(state, &m);
    let logo_upload = m.logo.as_ref().map(|upload| LogoUploadView {
        url: served_url(state, &m.id, upload),
        media_type: upload.kind,
        sha256: upload.hash.clone(),
        size: upload.size as u64,
    });
    MerchantView {
        locale: m.locale,
        time_zone: m.time_zone,
        logo_url: m.logo_url,
        logo_upload,
        logo,
        brand_color: m.brand_color,
        corners: m.corners,
        font: m.font,
        color_scheme: m.color_scheme,
        id: m.id,
        name: m.name,
        allowed_origins: m.allowed_origins,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Parses an origin (`https://salon.example`, `http://localhost:3000`) into its serialised
/// form. Paths other than `/`, queries, fragments and credentials are refused: an origin is
/// what a browser sends in its `Origin` header, nothing more.
pub fn parse_origin(input: &str, param: &str) -> Result<String, ApiError> {
    let refuse = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidOrigin,
            format!("{why}: expected an origin such as https://salon.example"),
        )
        .with_param(param)
    };
    let url = Url::parse(input.trim()).map_err(|_| refuse("Not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(refuse("Only http and https origins are allowed"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("An origin has no path, query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("An origin has no user name or password"));
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_origins(list: &[String]) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_ORIGINS {
        return Err(ApiError::new(
            ErrorCode::InvalidOrigin,
            format!("At most {MAX_ORIGINS} origins"),
        )
        .with_param("allowed_origins"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let origin = parse_origin(o, &format!("allowed_origins[{i}]"))?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

fn parse_locale(input: &str) -> Result<Locale, ApiError> {
    Locale::parse(input.trim()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "The locale must be one of en, fr, de, es",
        )
        .with_param("locale")
    })
}

fn parse_time_zone(input: &str) -> Result<TimeZoneName, ApiError> {
    TimeZoneName::parse(input.trim()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "The time zone must be an IANA name such as Europe/Paris or America/New_York",
        )
        .with_param("time_zone")
    })
}

/// A logo URL, or none for an empty one.
fn parse_logo(input: &str) -> Result<Option<LogoUrl>, ApiError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    LogoUrl::parse(input).map(Some).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "The logo must be an https URL of at most {} characters, such as \
                 https://salon.example/logo.png",
                LogoUrl::MAX
            ),
        )
        .with_param("logo_url")
    })
}

/// `""` (none) or a colour `#rrggbb`.
fn parse_brand_color(input: &str) -> Result<Option<BrandColor>, ApiError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    BrandColor::parse(input).map(Some).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "The brand colour must be written #rrggbb, such as #2f6f5e",
        )
        .with_param("brand_color")
    })
}

/// `""` (none: the checkout's default) or one of `all`, named by its wire string (case and
/// surrounding spaces aside); anything else is refused at `param`, listing the choices.
fn parse_choice<T: Copy>(
    input: &str,
    param: &str,
    what: &str,
    all: &[T],
    as_str: fn(T) -> &'static str,
) -> Result<Option<T>, ApiError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    all.iter()
        .copied()
        .find(|&c| as_str(c).eq_ignore_ascii_case(input))
        .map(Some)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&c| as_str(c)).collect();
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "{what} must be one of {}, or \"\" for the checkout's default",
                    names.join(", ")
                ),
            )
            .with_param(param)
        })
}

fn parse_corners(input: &str) -> Result<Option<Corners>, ApiError> {
    parse_choice(
        input,
        "corners",
        "The corners",
        Corners::ALL,
        Corners::as_str,
    )
}

fn parse_font(input: &str) -> Result<Option<Font>, ApiError> {
    parse_choice(input, "font", "The font", Font::ALL, Font::as_str)
}

fn parse_color_scheme(input: &str) -> Result<Option<Scheme>, ApiError> {
    parse_choice(
        input,
        "color_scheme",
        "The colour scheme",
        Scheme::ALL,
        Scheme::as_str,
    )
}

/// Creates a merchant.
pub async fn create(state: &AppState, input: MerchantInput) -> Result<MerchantView, DomainError> {
    let mut c = Checker::default();
    let name = match &input.name {
        Some(n) => c.check(parse_name(n, "name", MAX_NAME)),
        None => c.check(parse_name("", "name", MAX_NAME)),
    };
    let origins = c.check(parse_origins(
        input.allowed_origins.as_deref().unwrap_or(&[]),
    ));
    let locale = match &input.locale {
        Some(l) => c.check(parse_locale(l)),
        None => Some(Locale::default()),
    };
    let time_zone = match &input.time_zone {
        Some(z) => c.check(parse_time_zone(z)),
        None => Some(TimeZoneName::utc()),
    };
    let logo_url = c.check(parse_logo(input.logo_url.as_deref().unwrap_or("")));
    let brand_color = c.check(parse_brand_color(
        input.brand_color.as_deref().unwrap_or(""),
    ));
    let corners = c.check(parse_corners(input.corners.as_deref().unwrap_or("")));
    let font = c.check(parse_font(input.font.as_deref().unwrap_or("")));
    let color_scheme = c.check(parse_color_scheme(
        input.color_scheme.as_deref().unwrap_or(""),
    ));
    c.finish()?;
    let (
        Some(name),
        Some(allowed_origins),
        Some(locale),
        Some(time_zone),
        Some(logo_url),
        Some(brand_color),
        Some(corners),
        Some(font),
        Some(color_scheme),
    ) = (
        name,
        origins,
        locale,
        time_zone,
        logo_url,
        brand_color,
        corners,
        font,
        color_scheme,
    )
    else {
        unreachable!("checked above");
    };
    let now = db::now();
    let record = MerchantRecord {
        id: new_id("mer_"),
        name,
        allowed_origins,
        locale,
        time_zone,
        logo_url,
        brand_color,
        corners,
        font,
        color_scheme,
        logo: None,
        created_at: now,
        updated_at: now,
    };
    state.db.insert_merchant(&record).await?;
    tracing::info!(merchant_id = %record.id, "merchant created");
    Ok(view(state, record))
}

/// Every merchant.
pub async fn list(state: &AppState) -> Result<Vec<MerchantView>, DomainError> {
    Ok(state
        .db
        .list_merchants()
        .await?
        .into_iter()
        .map(|m| view(state, m))
        .collect())
}

/// One merchant.
pub async fn get(state: &AppState, id: &str) -> Result<MerchantView, DomainError> {
    Ok(view(state, load_merchant(state, id).await?))
}

/// Changes the given fields.
pub async fn update(
    state: &AppState,
    id: &str,
    input: MerchantInput,
) -> Result<MerchantView, DomainError> {
    let mut m = load_merchant(state, id).await?;
    let before = m.allowed_origins.clone();
    let mut c = Checker::default();
    if let Some(n) = &input.name {
        if let Some(name) = c.check(parse_name(n, "name", MAX_NAME)) {
            m.name = name;
        }
    }
    if let Some(list) = &input.allowed_origins {
        if let Some(origins) = c.check(parse_origins(list)) {
            m.allowed_origins = origins;
        }
    }
    if let Some(l) = &input.locale {
        if let Some(locale) = c.check(parse_locale(l)) {
            m.locale = locale;
        }
    }
    if let Some(z) = &input.time_zone {
        if let Some(zone) = c.check(parse_time_zone(z)) {
            m.time_zone = zone;
        }
    }
    if let Some(l) = &input.logo_url {
        if let Some(logo) = c.check(parse_logo(l)) {
            m.logo_url = logo;
        }
    }
    if let Some(b) = &input.brand_color {
        if let Some(color) = c.check(parse_brand_color(b)) {
            m.brand_color = color;
        }
    }
    if let Some(v) = &input.corners {
        if let Some(corners) = c.check(parse_corners(v)) {
            m.corners = corners;
        }
    }
    if let Some(v) = &input.font {
        if let Some(font) = c.check(parse_font(v)) {
            m.font = font;
        }
    }
    if let Some(v) = &input.color_scheme {
        if let Some(scheme) = c.check(parse_color_scheme(v)) {
            m.color_scheme = scheme;
        }
    }
    c.finish()?;
    let origins_changed = input.allowed_origins.is_some() && m.allowed_origins != before;
    m.updated_at = db::now();
    if !state.db.update_merchant(&m).await? {
        return Err(DomainError::NotFound("merchant"));
    }
    if origins_changed {
        integrations::origins_changed(state, id).await;
    }
    Ok(view(state, m))
}

/// Makes `bytes` the merchant's uploaded logo, replacing any, once they are checked: a PNG,
/// JPEG, WebP or GIF image by their first bytes, of the type `declared` names when it names
/// one, at most [`LogoImage::MAX_BYTES`]. Nothing is stored when they are not.
pub async fn upload_logo(
    state: &AppState,
    id: &str,
    declared: Option<&str>,
    bytes: Bytes,
) -> Result<MerchantView, DomainError> {
    let image = LogoImage::parse(bytes, declared)?;
    if !state.db.set_merchant_logo(id, &image, db::now()).await? {
        return Err(DomainError::NotFound("merchant"));
    }
    tracing::info!(
        merchant_id = %id,
        media_type = %image.kind(),
        size = image.bytes().len(),
        "logo uploaded"
    );
    get(state, id).await
}

/// Removes the merchant's uploaded logo (its pages and emails show its logo URL again, if it
/// has one); removing none changes nothing.
pub async fn remove_logo(state: &AppState, id: &str) -> Result<MerchantView, DomainError> {
    load_merchant(state, id).await?;
    if state.db.delete_merchant_logo(id, db::now()).await? {
        tracing::info!(merchant_id = %id, "logo removed");
    }
    get(state, id).await
}

/// The merchant's uploaded logo named `file` (`{sha256}.{ext}`), while it is the current one:
/// `None` for another merchant's, an earlier one, a wrong extension or a name of no logo.
pub async fn logo_file(
    state: &AppState,
    id: &str,
    file: &str,
) -> Result<Option<LogoImage>, DomainError> {
    let Some((hash, kind)) = crate::logo::parse_file_name(file) else {
        return Ok(None);
    };
    Ok(state
        .db
        .merchant_logo(id, &hash)
        .await?
        .filter(|image| image.kind() == kind))
}

/// Deletes a merchant with its integration and services, removing its webhook endpoint at
/// Stripe first when slotpay registered one (and saying so when that failed).
pub async fn delete(state: &AppState, id: &str) -> Result<MerchantDeleted, DomainError> {
    load_merchant(state, id).await?;
    if state.db.merchant_has_checkouts(id).await? {
        return Err(has_payments());
    }
    let mut warnings = Vec::new();
    let webhook_endpoint_deleted = match state.db.get_integration(id).await? {
        Some(integration) => {
            integrations::remove_registered_endpoint(state, &integration, &mut warnings).await
        }
        None => None,
    };
    if !state.db.delete_merchant(id).await? {
        // Gone meanwhile, or a checkout was created between the check and the delete.
        load_merchant(state, id).await?;
        return Err(has_payments());
    }
    tracing::info!(merchant_id = %id, "merchant deleted");
    Ok(MerchantDeleted {
        id: id.to_owned(),
        deleted: true,
        webhook_endpoint_deleted,
        warnings,
    })
}

/// A merchant with checkouts keeps its payment records: refunds, disputes and reports need them.
fn has_payments() -> DomainError {
    DomainError::refused(
        ErrorCode::Conflict,
        "This merchant has checkouts and payment records, which deleting would lose; \
         deactivate its integration instead",
    )
}

/// The origins allowed to call the public API for a merchant (CORS); `None` for an
/// unknown merchant.
pub async fn allowed_origins(
    state: &AppState,
    id: &str,
) -> Result<Option<Vec<String>>, DomainError> {
    Ok(state.db.get_merchant(id).await?.map(|m| m.allowed_origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_or_refused() {
        assert_eq!(
            parse_origin("https://Salon.Example", "o").unwrap(),
            "https://salon.example"
        );
        assert_eq!(
            parse_origin(" https://salon.example/ ", "o").unwrap(),
            "https://salon.example"
        );
        assert_eq!(
            parse_origin("http://localhost:3000", "o").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(
            parse_origin("https://x.example:443", "o").unwrap(),
            "https://x.example"
        );
        for bad in [
            "salon.example",
            "ftp://salon.example",
            "https://salon.example/book",
            "https://salon.example/?a=1",
            "https://u:p@salon.example",
            "javascript:alert(1)",
            "",
        ] {
            let e = parse_origin(bad, "allowed_origins[0]").unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidOrigin, "{bad}");
            assert_eq!(e.param.as_deref(), Some("allowed_origins[0]"));
        }
        let list =
            parse_origins(&["https://a.example".into(), "https://A.example/".into()]).unwrap();
        assert_eq!(list, ["https://a.example"]);
    }

    #[test]
    fn appearance_choices_are_read_from_their_lists_or_refused_naming_them() {
        assert_eq!(parse_corners(" Large ").unwrap(), Some(Corners::Large));
        assert_eq!(parse_font("serif").unwrap(), Some(Font::Serif));
        assert_eq!(parse_color_scheme("DARK").unwrap(), Some(Scheme::Dark));
        assert_eq!(parse_corners("").unwrap(), None);
        assert_eq!(parse_font("  ").unwrap(), None);
        let e = parse_font("papyrus").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.param.as_deref(), Some("font"));
        assert_eq!(
            e.message,
            "The font must be one of system, serif, humanist, geometric, or \"\" for the \
             checkout's default"
        );
        let e = parse_corners("8px").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("corners"));
        assert!(
            e.message.contains("square, small, medium, large"),
            "{}",
            e.message
        );
        let e = parse_color_scheme("auto").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("color_scheme"));
        assert!(e.message.contains("light, dark"), "{}", e.message);
    }
}
