//! Checkouts: created by the platform for a booking (amount decided by the platform, or a
//! service's prepayment; optionally a payment link with an expiry, optionally manual capture)
//! or by the public endpoint from the merchant's catalogue (the script-tag embed); the public
//! view the widget shows; the admin view, list, resend and the expiry rule.
//!
//! A checkout's stored status follows core's forward-only state machine. An unpaid checkout
//! whose `expires_at` has passed *is* expired ([`effective_status`]) without a write, so
//! resending a link (a new expiry) brings it back without a status ever moving backwards.

use serde::Deserialize;
use slotpay_core::{
    check_chargeable, methods, minimum_charge, ApiError, CheckoutStatus, CheckoutToken,
    CheckoutView, Currency, Email, ErrorCode, IntegrationMode, Locale, MethodType, Money, Receipt,
    SaveCardOffer,
};

use super::store::{load, modify, parse_token, Start};
use super::views::{dispute_view, email_view, event_view, fee_view, refund_view, summary_view};
pub use super::views::{
    effective_status, link_url, CardView, CheckoutAdminView, DisputeView, EmailView, ErrorView,
    EventView, FeeView, RefundView,
};
use super::{abuse, integrations, load_merchant, parse_name, Checker, DomainError};
use crate::db::{self, CheckoutFilter, CheckoutRecord, ServiceRecord};
use crate::model::{CaptureMethod, CheckoutSource};
use crate::state::AppState;

/// A payment link lives this long unless told otherwise (7 days).
pub const LINK_EXPIRY_SECS: i64 = 7 * 86_400;
/// A booking-page checkout lives this long unless told otherwise.
pub const CHECKOUT_EXPIRY_SECS: i64 = 86_400;
/// A script-tag checkout lives this long.
pub const CATALOGUE_EXPIRY_SECS: i64 = 86_400;
/// Longest expiry the platform may ask for (90 days).
pub const MAX_EXPIRY_SECS: i64 = 90 * 86_400;
const MAX_DESCRIPTION: usize = 500;
const MAX_BOOKING_REF: usize = 200;

/// An amount as the platform sends it: minor units (`2500`) or a decimal string (`"25.00"`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AmountField {
    /// API minor units.
    Minor(i64),
    /// Major units as typed.
    Decimal(String),
}

/// `POST /v1/admin/merchants/{id}/checkouts`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    /// The amount (the service's prepayment when absent and `service_id` is given).
    pub amount: Option<AmountField>,
    /// Currency code (the service's when absent).
    pub currency: Option<String>,
    /// What is paid for (the service's name when absent).
    pub description: Option<String>,
    /// The platform's booking reference.
    pub booking_ref: Option<String>,
    /// The client's email, for the receipt (prefilled in the widget).
    pub customer_email: Option<String>,
    /// Make a payment link (`url` in the answer, 7-day default expiry).
    #[serde(default)]
    pub link: bool,
    /// Seconds until it expires.
    pub expires_in: Option<i64>,
    /// Authorise now, capture later (manual capture).
    #[serde(default)]
    pub capture: bool,
    /// A service of the merchant: its prepayment, name and cancellation-fee offer.
    pub service_id: Option<String>,
}

/// `POST /v1/merchants/{merchant_id}/checkouts`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCheckoutInput {
    /// `svc_...`.
    #[schema(value_type = crate::schemas::ServiceId)]
    pub service_id: String,
}

/// `POST /v1/admin/checkouts/{token}/resend`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendInput {
    /// Seconds from now (7 days when absent).
    pub expires_in: Option<i64>,
}

/// Filters of the checkout list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// A status (`paid`, `expired`, ...).
    pub status: Option<String>,
    /// Created on or after (ISO 8601 date or date-time, or unix seconds).
    pub from: Option<String>,
    /// Created before.
    pub to: Option<String>,
    /// A booking reference.
    pub booking_ref: Option<String>,
    /// Part of the client's email or of the booking reference, any case.
    pub q: Option<String>,
    /// Payment links only (`true`), or no payment links (`false`).
    pub link: Option<bool>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

fn new_token() -> CheckoutToken {
    use rand::RngCore;
    let mut bytes = [0_u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    CheckoutToken::from_random_bytes(bytes)
}

fn parse_text(input: &str, param: &str, max: usize) -> Result<String, ApiError> {
    parse_name(input, param, max)
}

/// A description: like a name, but line breaks are allowed (an invoice line may have two).
fn parse_description(input: &str) -> Result<String, ApiError> {
    let flat: String = input
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    parse_name(&flat, "description", MAX_DESCRIPTION)?;
    Ok(input.trim().to_owned())
}

fn parse_expiry(expires_in: Option<i64>, default: i64) -> Result<i64, ApiError> {
    match expires_in {
        None => Ok(default),
        Some(s) if (60..=MAX_EXPIRY_SECS).contains(&s) => Ok(s),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("expires_in must be 60 to {MAX_EXPIRY_SECS} seconds"),
        )
        .with_param("expires_in")),
    }
}

fn parse_amount(field: &AmountField, currency: Currency) -> Result<Money, ApiError> {
    let money = match field {
        AmountField::Minor(m) => Money::from_minor(*m, currency),
        AmountField::Decimal(text) => {
            Money::parse(text.trim(), currency).map_err(ApiError::from)?
        }
    };
    check_chargeable(money).map_err(ApiError::from)?;
    Ok(money)
}

/// The consent text a client agrees to when saving the card for a cancellation fee, the fee
/// written as the widget writes the amount beside it.
pub fn consent_text(locale: Locale, merchant: &str, fee: Money) -> String {
    let fee = slotpay_core::intl::localized(fee, locale);
    match locale {
        Locale::Fr => format!(
            "J'autorise {merchant} à enregistrer ma carte et à la débiter de frais d'annulation ou d'absence de {fee} au plus, selon ses conditions d'annulation."
        ),
        Locale::De => format!(
            "Ich erlaube {merchant}, meine Karte zu speichern und sie gemäß den Stornobedingungen mit einer Storno- oder Nichterscheinensgebühr von höchstens {fee} zu belasten."
        ),
        Locale::Es => format!(
            "Autorizo a {merchant} a guardar mi tarjeta y a cargarle una tarifa de cancelación o de no presentación de hasta {fee}, según su política de cancelación."
        ),
        Locale::En => format!(
            "I authorise {merchant} to save my card and charge it a cancellation or no-show fee of up to {fee}, under its cancellation policy."
        ),
    }
}

/// A checkout input, checked.
struct Parsed {
    amount: Money,
    description: String,
    booking_ref: Option<String>,
    email: Option<String>,
    expires_in: i64,
}

/// Checks every field of a checkout input (the service's values fill the ones left out),
/// reporting each invalid field.
fn parse_input(
    input: &CheckoutInput,
    service: Option<&ServiceRecord>,
) -> Result<Parsed, DomainError> {
    let mut c = Checker::default();
    let currency = match (&input.currency, service) {
        (Some(code), _) => c.check(
            Currency::parse(code.trim()).map_err(|e| ApiError::from(e).with_param("currency")),
        ),
        (None, Some(s)) => Some(s.price.currency()),
        (None, None) => {
            c.push(
                ApiError::new(
                    ErrorCode::InvalidCurrency,
                    "Give the currency (e.g. \"eur\")",
                )
                .with_param("currency"),
            );
            None
        }
    };
    let amount = match (currency, &input.amount, service) {
        (Some(cur), Some(a), _) => c.check(parse_amount(a, cur)),
        (Some(cur), None, Some(s)) if s.price.currency() == cur => {
            c.check(s.prepayment.prepayment(s.price).map_err(ApiError::from))
        }
        (Some(_), None, _) => {
            c.push(ApiError::new(ErrorCode::InvalidAmount, "Give the amount").with_param("amount"));
            None
        }
        (None, ..) => None,
    };
    let description = match (&input.description, service) {
        (Some(d), _) => c.check(parse_description(d)),
        (None, Some(s)) => Some(s.name.clone()),
        (None, None) => c.check(parse_text("", "description", MAX_DESCRIPTION)),
    };
    let booking_ref = match &input.booking_ref {
        Some(b) => c.check(parse_text(b, "booking_ref", MAX_BOOKING_REF)),
        None => None,
    };
    let email = match &input.customer_email {
        Some(e) if !e.trim().is_empty() => c
            .check(Email::parse(e).map_err(|e| ApiError::from(e).with_param("customer_email")))
            .map(|e| e.as_str().to_owned()),
        _ => None,
    };
    let default_expiry = if input.link {
        LINK_EXPIRY_SECS
    } else {
        CHECKOUT_EXPIRY_SECS
    };
    let expires_in = c.check(parse_expiry(input.expires_in, default_expiry));
    c.finish()?;
    match (amount, description, expires_in) {
        (Some(amount), Some(description), Some(expires_in)) => Ok(Parsed {
            amount,
            description,
            booking_ref,
            email,
            expires_in,
        }),
        _ => Err(DomainError::Internal("checked input lost a field".into())),
    }
}

/// Creates a checkout for a booking (the platform API).
pub async fn create(
    state: &AppState,
    merchant_id: &str,
    input: CheckoutInput,
) -> Result<CheckoutAdminView, DomainError> {
    load_merchant(state, merchant_id).await?;
    let service = match &input.service_id {
        Some(id) => Some(
            state
                .db
                .get_service(merchant_id, id)
                .await?
                .ok_or(DomainError::NotFound("service"))?,
        ),
        None => None,
    };
    let parsed = parse_input(&input, service.as_ref())?;
    let now = db::now();
    let capture = if input.capture {
        CaptureMethod::Manual
    } else {
        CaptureMethod::Automatic
    };
    let record = CheckoutRecord {
        service_id: service.as_ref().map(|s| s.id.clone()),
        booking_ref: parsed.booking_ref,
        customer_email: parsed.email,
        is_link: input.link,
        fee_offer_amount: service.as_ref().and_then(|s| s.cancellation_fee_amount),
        ..CheckoutRecord::new(
            new_token().as_str().to_owned(),
            merchant_id.to_owned(),
            CheckoutSource::Platform,
            parsed.amount,
            parsed.description,
            capture,
            now + parsed.expires_in,
            now,
        )
    };
    state.db.insert_checkout(&record).await?;
    tracing::info!(merchant_id, token = %record.token, link = input.link, "checkout created");
    admin_view(state, &record, false).await
}

/// Creates a checkout from a service of the catalogue (the script-tag embed): the price and
/// prepayment rule decide the amount; the merchant must be taking payments. Anyone can call
/// it: `client` (its address) may make only so many (see `abuse`).
pub async fn create_from_service(
    state: &AppState,
    merchant_id: &str,
    input: ServiceCheckoutInput,
    client: &str,
) -> Result<CheckoutView, DomainError> {
    let merchant = load_merchant(state, merchant_id).await?;
    let service = state
        .db
        .get_service(merchant_id, input.service_id.trim())
        .await?
        .filter(|s| s.active)
        .ok_or(DomainError::NotFound("service"))?;
    integrations::payment_credentials(state, merchant_id).await?;
    abuse::count_catalogue_checkout(state, client, db::now()).await?;
    let amount = service.prepayment.prepayment(service.price)?;
    let now = db::now();
    let record = CheckoutRecord {
        service_id: Some(service.id.clone()),
        fee_offer_amount: service.cancellation_fee_amount,
        ..CheckoutRecord::new(
            new_token().as_str().to_owned(),
            merchant.id.clone(),
            CheckoutSource::Catalogue,
            amount,
            service.name.clone(),
            CaptureMethod::Automatic,
            now + CATALOGUE_EXPIRY_SECS,
            now,
        )
    };
    state.db.insert_checkout(&record).await?;
    public_view_of(state, &record, now).await
}

/// The public view of a checkout (what the widget shows).
pub async fn public_view(state: &AppState, token: &str) -> Result<CheckoutView, DomainError> {
    let r = load(state, token).await?;
    public_view_of(state, &r, db::now()).await
}

/// The receipt of a paid checkout: how it was paid (a checkout paid before the method was
/// recorded was paid by its card), with the card when a card paid.
pub(crate) fn receipt(r: &CheckoutRecord) -> Option<Receipt> {
    let method = match (&r.card, r.method) {
        (_, Some(m)) => m,
        (Some(_), None) => MethodType::Card,
        (None, None) => return None,
    };
    Some(Receipt {
        method,
        brand: r.card.as_ref().map(|c| c.brand),
        last4: r.card.as_ref().map(|c| c.last4.clone()),
        amount: r.paid_amount(),
        reference: r.booking_ref.clone(),
    })
}

/// The ways to pay a checkout offers, of those its merchant chose (core's rules for its
/// currency, amount and capture).
pub(crate) fn offered_methods(r: &CheckoutRecord, chosen: &[MethodType]) -> Vec<MethodType> {
    methods::offered(chosen, r.amount, r.capture_method == CaptureMethod::Manual)
}

async fn public_view_of(
    state: &AppState,
    r: &CheckoutRecord,
    now: i64,
) -> Result<CheckoutView, DomainError> {
    let status = effective_status(r, now);
    match status {
        CheckoutStatus::Expired => return Err(DomainError::checkout_expired()),
        CheckoutStatus::Canceled => return Err(DomainError::checkout_canceled()),
        _ => abuse::check_checkout(state, r)?,
    }
    let merchant = load_merchant(state, &r.merchant_id).await?;
    let money = r.amount;
    let (publishable_key, mode, card_brands, chosen, wallets) =
        match integrations::payment_credentials(state, &r.merchant_id).await {
            Ok(c) => (
                c.keys.publishable().as_str().to_owned(),
                c.mode,
                c.card_brands,
                c.payment_methods,
                c.wallets,
            ),
            // A paid checkout still shows its receipt when payments were switched off since.
            Err(DomainError::Refused(e))
                if e.code == ErrorCode::PaymentsUnavailable && status.is_settled() =>
            {
                match integrations::stored(state, &r.merchant_id).await? {
                    Some(i) => (
                        i.publishable_key.as_str().to_owned(),
                        i.mode,
                        i.card_brands,
                        i.payment_methods,
                        i.wallets,
                    ),
                    None => (
                        String::new(),
                        IntegrationMode::Off,
                        Vec::new(),
                        Vec::new(),
                        false,
                    ),
                }
            }
            Err(e) => return Err(e),
        };
    let save_card = r
        .fee_offer_amount
        .filter(|_| !status.is_settled())
        .map(|fee| SaveCardOffer {
            consent_text: consent_text(
                merchant.locale,
                &merchant.name,
                Money::from_minor(fee, money.currency()),
            ),
        });
    Ok(CheckoutView {
        token: parse_token(&r.token)?,
        status,
        appearance: merchant.appearance(),
        brand_color: merchant.brand_color,
        merchant_name: merchant.name,
        description: r.description.clone(),
        booking_ref: r.booking_ref.clone(),
        amount: money,
        minimum_amount: minimum_charge(money.currency()).map(|m| m.minor()),
        publishable_key,
        stripe_js_url: state.config.stripe_js_url.to_string(),
        mode,
        card_brands,
        payment_methods: offered_methods(r, &chosen),
        wallets,
        locale: merchant.locale,
        save_card,
        email: r
            .customer_email
            .as_deref()
            .and_then(|e| Email::parse(e).ok()),
        expires_at: r.expires_at,
        receipt: if status.is_settled() {
            receipt(r)
        } else {
            None
        },
    })
}

/// The admin view of a record; `detail` adds events, refunds, disputes, fees, attempts.
pub async fn admin_view(
    state: &AppState,
    r: &CheckoutRecord,
    detail: bool,
) -> Result<CheckoutAdminView, DomainError> {
    let mut view = summary_view(state, r);
    if detail {
        let currency = r.amount.currency();
        let db = &state.db;
        view.events = Some(
            db.events_for_checkout(&r.token)
                .await?
                .iter()
                .map(event_view)
                .collect(),
        );
        view.refunds = Some(
            db.list_refunds(&r.token)
                .await?
                .iter()
                .map(|x| refund_view(x, currency))
                .collect(),
        );
        view.disputes = Some(
            db.list_disputes(&r.token)
                .await?
                .iter()
                .map(dispute_view)
                .collect(),
        );
        view.cancellation_fees = Some(db.list_fees(&r.token).await?.iter().map(fee_view).collect());
        view.attempts = Some(db.count_attempts(&r.token).await?);
        view.emails = Some(
            db.emails_for_checkout(&r.token)
                .await?
                .iter()
                .map(email_view)
                .collect(),
        );
    }
    Ok(view)
}

/// One checkout, in full.
pub async fn get(state: &AppState, token: &str) -> Result<CheckoutAdminView, DomainError> {
    let r = load(state, token).await?;
    admin_view(state, &r, true).await
}

/// Parses a time bound: unix seconds, an ISO 8601 date (`2026-11-02`, midnight UTC) or
/// date-time with offset (`2026-11-02T10:00:00Z`).
pub fn parse_time(input: &str, param: &str) -> Result<i64, ApiError> {
    let text = input.trim();
    let refuse = || {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!("{param} must be a date (2026-11-02), a date-time (2026-11-02T10:00:00Z) or unix seconds"),
        )
        .with_param(param)
    };
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    {
        return Ok(t.unix_timestamp());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| refuse())
}

/// The stored statuses a wanted (effective) status may be stored as.
pub(crate) fn status_filter(input: &str) -> Result<StatusFilter, ApiError> {
    use CheckoutStatus as S;
    let wanted: Vec<CheckoutStatus> = match input.trim() {
        "taken" => S::ALL.iter().copied().filter(|s| s.is_settled()).collect(),
        "unpaid" => S::ALL.iter().copied().filter(|s| !s.is_settled()).collect(),
        other => vec![S::parse(other).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "status must be one of open, processing, requires_action, authorized, paid, failed, partially_refunded, refunded, expired, canceled, or taken (paid, authorised or refunded) or unpaid (all others)",
            )
            .with_param("status")
        })?],
    };
    // An expired checkout may still be stored as open or failed (its expiry not yet swept).
    let mut stored = wanted.clone();
    if wanted.contains(&S::Expired) {
        stored.extend([S::Open, S::Failed]);
    }
    stored.sort_by_key(|s| s.as_str());
    stored.dedup();
    Ok(StatusFilter { wanted, stored })
}

/// The `q` of a list: text looked for in the client's email and the booking reference,
/// lower-cased (`None` when blank).
pub(crate) fn search_text(q: &str) -> Result<Option<String>, ApiError> {
    let q = q.trim();
    if q.chars().count() > 200 {
        return Err(
            ApiError::new(ErrorCode::InvalidRequest, "q is at most 200 characters").with_param("q"),
        );
    }
    Ok((!q.is_empty()).then(|| q.to_lowercase()))
}

/// A status filter: the statuses wanted, and those the rows may be stored with.
pub(crate) struct StatusFilter {
    wanted: Vec<CheckoutStatus>,
    /// What to ask the database for.
    pub(crate) stored: Vec<CheckoutStatus>,
}

impl StatusFilter {
    /// Whether a checkout whose effective status is `s` is wanted.
    pub(crate) fn admits(&self, s: CheckoutStatus) -> bool {
        self.wanted.contains(&s)
    }
}

/// A merchant's checkouts, newest first, by status, creation time or booking reference.
pub async fn list(
    state: &AppState,
    merchant_id: &str,
    query: ListQuery,
) -> Result<Vec<CheckoutAdminView>, DomainError> {
    load_merchant(state, merchant_id).await?;
    let mut c = Checker::default();
    let status = match &query.status {
        Some(s) => c.check(status_filter(s)),
        None => None,
    };
    let from = query
        .from
        .as_deref()
        .and_then(|f| c.check(parse_time(f, "from")));
    let to = query
        .to
        .as_deref()
        .and_then(|t| c.check(parse_time(t, "to")));
    let search = query
        .q
        .as_deref()
        .and_then(|q| c.check(search_text(q)).flatten());
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        c.push(
            ApiError::new(ErrorCode::InvalidRequest, "limit must be 1 to 1000").with_param("limit"),
        );
    }
    c.finish()?;
    let filter = CheckoutFilter {
        statuses: status
            .as_ref()
            .map(|s| s.stored.clone())
            .unwrap_or_default(),
        from,
        to,
        booking_ref: query.booking_ref.clone(),
        search,
        link: query.link,
        limit: Some(limit),
    };
    let now = db::now();
    let mut out = Vec::new();
    for r in state.db.list_checkouts(merchant_id, &filter).await? {
        if status
            .as_ref()
            .is_some_and(|s| !s.admits(effective_status(&r, now)))
        {
            continue;
        }
        out.push(admin_view(state, &r, false).await?);
    }
    Ok(out)
}

/// Gives an unpaid checkout a new expiry (a payment link sent again).
pub async fn resend(
    state: &AppState,
    token: &str,
    input: ResendInput,
) -> Result<CheckoutAdminView, DomainError> {
    let expiry = parse_expiry(input.expires_in, LINK_EXPIRY_SECS).map_err(DomainError::Refused)?;
    let (r, ()) = modify(state, Start::Token(token), |r| {
        match r.status {
            CheckoutStatus::Open | CheckoutStatus::Failed => {}
            CheckoutStatus::Canceled => {
                return Err(DomainError::refused(
                    ErrorCode::CheckoutCanceled,
                    "This checkout was canceled; create a new one",
                ))
            }
            s if s.is_settled() => return Err(DomainError::already_paid()),
            _ => {
                return Err(DomainError::refused(
                    ErrorCode::Conflict,
                    "A payment is in progress on this checkout; try again in a moment",
                ))
            }
        }
        r.expires_at = Some(db::now() + expiry);
        Ok(())
    })
    .await?;
    tracing::info!(token = %r.token, "checkout link resent");
    admin_view(state, &r, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        assert_eq!(parse_time("2026-11-02", "from").unwrap(), 1_793_577_600);
        assert_eq!(
            parse_time("2026-11-02T10:00:00Z", "from").unwrap(),
            1_793_577_600 + 36_000
        );
        assert_eq!(parse_time("1700000000", "to").unwrap(), 1_700_000_000);
        let e = parse_time("02/11/2026", "to").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("to"));
    }

    #[test]
    fn expiry_makes_unpaid_checkouts_expired() {
        let mut r = CheckoutRecord::new(
            "cs_test".into(),
            "mer_test".into(),
            CheckoutSource::Platform,
            Money::from_minor(1000, Currency::Eur),
            "Haircut".into(),
            CaptureMethod::Automatic,
            100,
            0,
        );
        assert_eq!(effective_status(&r, 99), CheckoutStatus::Open);
        assert_eq!(effective_status(&r, 100), CheckoutStatus::Expired);
        r.status = CheckoutStatus::Paid;
        assert_eq!(effective_status(&r, 1000), CheckoutStatus::Paid);
        r.status = CheckoutStatus::Failed;
        assert_eq!(effective_status(&r, 1000), CheckoutStatus::Expired);
    }

    #[test]
    fn consent_names_the_fee() {
        let fee = Money::from_minor(1500, Currency::Eur);
        let en = consent_text(Locale::En, "Salon Léa", fee);
        assert!(
            en.contains("Salon Léa") && en.contains("of up to €15.00,"),
            "{en}"
        );
        let fr = consent_text(Locale::Fr, "X", fee);
        assert!(
            fr.starts_with("J'autorise X") && fr.contains("de 15,00\u{a0}€ au plus"),
            "{fr}"
        );
    }
}
