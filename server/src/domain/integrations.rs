//! A merchant's Stripe integration: set (add or edit; a field left out keeps its value),
//! view (keys masked), verify with Stripe, activate (verify, then register the webhook
//! endpoint or use the pasted signing secret), deactivate, delete (removing the endpoint at
//! Stripe when slotpay registered it; the merchant and its services stay).
//!
//! Keys are parsed by core (trimming reported as a warning, every refusal with its own
//! code and field), encrypted under the master key before they reach the database, and only
//! ever shown masked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use slotpay_core::{
    ApiError, CardBrand, ErrorCode, IntegrationMode, KeyError, KeyKind, KeyMode, KeyPair,
    PublishableKey, ServerKey, WebhookSecret,
};

use super::{double_option, merchants, parse_name, Checker, DomainError, Warning};
use crate::db::{self, DbError, IntegrationRecord};
use crate::secrets::Binding;
use crate::state::AppState;
use crate::stripe::{IdempotencyKey, StripeApiError, StripeError};

/// The events slotpay's webhook endpoint subscribes to (the payments issue handles them).
pub const WEBHOOK_EVENTS: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
    "charge.captured",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
];

/// Card brands a new integration accepts.
pub const DEFAULT_CARD_BRANDS: &[CardBrand] = &[
    CardBrand::Visa,
    CardBrand::Mastercard,
    CardBrand::Amex,
    CardBrand::Discover,
];

/// The permissions a restricted key needs for payments, each with a request that has no
/// side effect: with the permission Stripe refuses it for its parameters (400) or a missing
/// object (404); without, with 403 naming the permission.
pub const REQUIRED_PERMISSIONS: &[(&str, &str, &str)] = &[
    ("rak_payment_intent_write", "POST", "/v1/payment_intents"),
    (
        "rak_payment_method_read",
        "GET",
        "/v1/payment_methods/pm_slotpay_permission_check",
    ),
    (
        "rak_customer_write",
        "POST",
        "/v1/customers/cus_slotpay_permission_check",
    ),
    ("rak_refund_write", "POST", "/v1/refunds"),
    (
        "rak_charge_read",
        "GET",
        "/v1/charges/ch_slotpay_permission_check",
    ),
];

const TABLE: &str = "integrations";
const SECRET_KEY_COLUMN: &str = "secret_key_enc";
const WEBHOOK_SECRET_COLUMN: &str = "webhook_secret_enc";
const PREVIOUS_WEBHOOK_SECRET_COLUMN: &str = "previous_webhook_secret_enc";
/// How long a replaced signing secret keeps verifying webhooks (Stripe's roll lets the old
/// secret sign for up to 24 hours).
pub const PREVIOUS_SECRET_GRACE_SECS: i64 = 24 * 3600;
const MAX_NAME: usize = 100;
const DEFAULT_NAME: &str = "Stripe";

/// An integration to add, or the fields to change. Absent fields (and empty key fields, as
/// an HTML form sends them) keep the stored value; `"webhook_secret": null` removes the
/// pasted signing secret.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// A label.
    pub name: Option<String>,
    /// `pk_test_...` / `pk_live_...`.
    pub publishable_key: Option<String>,
    /// `sk_...` or `rk_...`.
    pub secret_key: Option<SecretString>,
    /// `whsec_...`, pasted when the key cannot register endpoints.
    #[serde(default, deserialize_with = "double_option")]
    pub webhook_secret: Option<Option<SecretString>>,
    /// `off`, `sandbox` or `live`.
    pub mode: Option<String>,
    /// Accepted card brands (`visa`, `mastercard`, `amex`, `discover`, `jcb`, `diners`,
    /// `unionpay`).
    pub card_brands: Option<Vec<String>>,
}

/// Verification status.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not verified since the keys were set.
    Unverified,
    /// Stripe accepted the key.
    Active,
    /// Stripe refused the key; see the reason.
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Unverified => "unverified",
            Status::Active => "active",
            Status::Error => "error",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "active" => Status::Active,
            "error" => Status::Error,
            _ => Status::Unverified,
        }
    }
}

/// Why the last verification failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusReason {
    /// `invalid_secret_key`, `api_key_expired`, `key_missing_permission`, `stripe_error`.
    pub code: String,
    /// Stripe's reason (keys masked).
    pub message: String,
    /// For a restricted key: the permissions it lacks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
}

/// The Stripe account the key belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountView {
    /// `acct_...`.
    pub id: String,
    /// Two-letter country.
    pub country: Option<String>,
    /// Settlement currency, which decides Stripe's minimum charge.
    pub default_currency: Option<String>,
}

/// The webhook endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookView {
    /// The URL Stripe must send events to.
    pub url: String,
    /// `we_...` when slotpay registered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// `whsec_...abcd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// `api` (registered by slotpay) or `manual` (pasted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_source: Option<String>,
}

/// An integration as the API shows it: keys masked.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrationView {
    /// The merchant.
    pub merchant_id: String,
    /// Always `stripe`.
    pub provider: &'static str,
    /// Label.
    pub name: String,
    /// Off, Sandbox or Live.
    pub mode: IntegrationMode,
    /// Switched on by activation.
    pub active: bool,
    /// Last verification.
    pub status: Status,
    /// Why it is in error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    /// Unix seconds of the last verification.
    pub last_verified_at: Option<i64>,
    /// The account, once verified.
    pub account: Option<AccountView>,
    /// `pk_test_...abcd`.
    pub publishable_key: String,
    /// `sk_live_...4242` or `rk_...`.
    pub secret_key: String,
    /// `secret` or `restricted`.
    pub key_kind: KeyKind,
    /// `test` or `live`.
    pub key_mode: KeyMode,
    /// The webhook endpoint.
    pub webhook: WebhookView,
    /// Accepted brands.
    pub card_brands: Vec<CardBrand>,
    /// Whether clients can pay now: active, verified, mode not Off, a signing secret.
    pub payments_available: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// What the caller should know (`key_trimmed`, `verification_required`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// The answer to a deletion.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrationDeleted {
    /// The merchant (kept, with its services).
    pub merchant_id: String,
    /// Always true.
    pub deleted: bool,
    /// Whether the webhook endpoint slotpay registered was removed at Stripe (absent when
    /// there was none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_endpoint_deleted: Option<bool>,
    /// What could not be done.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// What the payments code needs of an integration that can take payments.
#[derive(Clone, Debug)]
pub struct PaymentCredentials {
    /// Sandbox or Live.
    pub mode: IntegrationMode,
    /// The keys (same mode, matching `mode`).
    pub keys: KeyPair,
    /// Signing secret of the webhook endpoint.
    pub webhook_secret: WebhookSecret,
    /// Accepted brands.
    pub card_brands: Vec<CardBrand>,
    /// Settlement currency of the account.
    pub account_default_currency: Option<String>,
}

fn binding<'a>(merchant_id: &'a str, column: &'a str) -> Binding<'a> {
    Binding {
        table: TABLE,
        row: merchant_id,
        column,
    }
}

/// The URL slotpay's webhook endpoint for a merchant has.
pub fn webhook_url(state: &AppState, merchant_id: &str) -> String {
    format!(
        "{}/v1/webhooks/stripe/{merchant_id}",
        state.public_url.as_str().trim_end_matches('/')
    )
}

fn secret_key(state: &AppState, r: &IntegrationRecord) -> Result<ServerKey, DomainError> {
    let plain = state.cipher.decrypt(
        &r.secret_key_enc,
        binding(&r.merchant_id, SECRET_KEY_COLUMN),
    )?;
    ServerKey::parse(plain.expose_secret())
        .map(|p| p.key)
        .map_err(|e| DomainError::Internal(format!("stored secret key does not parse: {e}")))
}

fn webhook_secret(
    state: &AppState,
    r: &IntegrationRecord,
) -> Result<Option<WebhookSecret>, DomainError> {
    let Some(enc) = &r.webhook_secret_enc else {
        return Ok(None);
    };
    let plain = state
        .cipher
        .decrypt(enc, binding(&r.merchant_id, WEBHOOK_SECRET_COLUMN))?;
    WebhookSecret::parse(plain.expose_secret())
        .map(|p| Some(p.key))
        .map_err(|e| DomainError::Internal(format!("stored webhook secret does not parse: {e}")))
}

fn parse_mode(input: &str) -> Result<IntegrationMode, ApiError> {
    IntegrationMode::parse(input.trim()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "The mode must be off, sandbox or live",
        )
        .with_param("mode")
    })
}

fn parse_brands(input: &[String]) -> Result<Vec<CardBrand>, ApiError> {
    let mut brands = Vec::new();
    for (i, b) in input.iter().enumerate() {
        let brand = CardBrand::from_stripe(b.trim());
        if brand == CardBrand::Unknown {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "Card brands are visa, mastercard, amex, discover, jcb, diners and unionpay",
            )
            .with_param(format!("card_brands[{i}]")));
        }
        if !brands.contains(&brand) {
            brands.push(brand);
        }
    }
    if brands.is_empty() {
        return Err(
            ApiError::new(ErrorCode::InvalidRequest, "Accept at least one card brand")
                .with_param("card_brands"),
        );
    }
    Ok(brands)
}

fn trimmed_warning(field: &'static str, what: &str) -> Warning {
    Warning {
        code: "key_trimmed",
        field: Some(field),
        message: format!("Surrounding spaces were removed from the {what}"),
    }
}

fn key_mode_mismatch(mode: IntegrationMode, keys: KeyMode) -> ApiError {
    let (want, prefixes) = match mode.required_key_mode() {
        Some(KeyMode::Live) => ("live", "pk_live_ and sk_live_ or rk_live_"),
        _ => ("test", "pk_test_ and sk_test_ or rk_test_"),
    };
    let mode_name = match mode {
        IntegrationMode::Live => "Live",
        _ => "Sandbox",
    };
    ApiError::new(
        ErrorCode::KeyModeMismatch,
        format!("{mode_name} mode needs {want} keys ({prefixes}); these are {keys} keys"),
    )
    .with_param("mode")
}

/// Builds the answer for a stored integration.
fn view(
    state: &AppState,
    r: &IntegrationRecord,
    warnings: Vec<Warning>,
) -> Result<IntegrationView, DomainError> {
    let corrupt = |what: &str| {
        DomainError::Storage(DbError::Corrupt {
            table: TABLE,
            detail: what.to_owned(),
        })
    };
    let mode = IntegrationMode::parse(&r.mode).ok_or_else(|| corrupt("mode"))?;
    let publishable = PublishableKey::parse(&r.publishable_key)
        .map_err(|_| corrupt("publishable_key"))?
        .key;
    let server = secret_key(state, r)?;
    let wh = webhook_secret(state, r)?;
    let card_brands: Vec<CardBrand> =
        serde_json::from_str(&r.card_brands).map_err(|_| corrupt("card_brands"))?;
    let status = Status::parse(&r.status);
    let status_reason = match (status, &r.status_code) {
        (Status::Error, Some(code)) => Some(StatusReason {
            code: code.clone(),
            message: r.status_message.clone().unwrap_or_default(),
            missing_permissions: r
                .status_permission
                .as_deref()
                .map(|p| p.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        }),
        _ => None,
    };
    let account = r.account_id.as_ref().map(|id| AccountView {
        id: id.clone(),
        country: r.account_country.clone(),
        default_currency: r.account_default_currency.clone(),
    });
    let payments_available =
        r.active && status == Status::Active && mode != IntegrationMode::Off && wh.is_some();
    Ok(IntegrationView {
        merchant_id: r.merchant_id.clone(),
        provider: "stripe",
        name: r.name.clone(),
        mode,
        active: r.active,
        status,
        status_reason,
        last_verified_at: r.last_verified_at,
        account,
        publishable_key: publishable.masked(),
        secret_key: server.masked(),
        key_kind: server.kind(),
        key_mode: server.mode(),
        webhook: WebhookView {
            url: webhook_url(state, &r.merchant_id),
            endpoint_id: r.webhook_endpoint_id.clone(),
            signing_secret: wh.map(|w| w.masked()),
            secret_source: r.webhook_secret_source.clone(),
        },
        card_brands,
        payments_available,
        created_at: r.created_at,
        updated_at: r.updated_at,
        warnings,
    })
}

async fn record(state: &AppState, merchant_id: &str) -> Result<IntegrationRecord, DomainError> {
    merchants::record(state, merchant_id).await?;
    state
        .db
        .get_integration(merchant_id)
        .await?
        .ok_or(DomainError::NotFound("integration"))
}

/// The integration, keys masked.
pub async fn get(state: &AppState, merchant_id: &str) -> Result<IntegrationView, DomainError> {
    let r = record(state, merchant_id).await?;
    view(state, &r, Vec::new())
}

/// Adds the merchant's integration or edits it. Every field is checked before anything is
/// saved; a key left out (or empty) keeps the stored one. Changing a key or the mode makes
/// the integration unverified and, if it was active, inactive until activated again.
pub async fn set(
    state: &AppState,
    merchant_id: &str,
    input: IntegrationInput,
) -> Result<IntegrationView, DomainError> {
    merchants::record(state, merchant_id).await?;
    let existing = state.db.get_integration(merchant_id).await?;
    let mut c = Checker::default();
    let mut warnings = Vec::new();
    let given = |s: &Option<String>| {
        s.as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    };

    let name = match (&input.name, &existing) {
        (Some(n), _) => c.check(parse_name(n, "name", MAX_NAME)),
        (None, Some(r)) => Some(r.name.clone()),
        (None, None) => Some(DEFAULT_NAME.to_owned()),
    };
    let mode = match (&input.mode, &existing) {
        (Some(m), _) => c.check(parse_mode(m)),
        (None, Some(r)) => IntegrationMode::parse(&r.mode),
        (None, None) => {
            c.push(
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    "Choose a mode: off, sandbox or live",
                )
                .with_param("mode"),
            );
            None
        }
    };
    let publishable = match (given(&input.publishable_key), &existing) {
        (Some(text), _) => c
            .check(PublishableKey::parse(&text).map_err(ApiError::from))
            .map(|p| {
                if p.trimmed {
                    warnings.push(trimmed_warning("publishable_key", "publishable key"));
                }
                p.key
            }),
        (None, Some(r)) => PublishableKey::parse(&r.publishable_key)
            .ok()
            .map(|p| p.key),
        (None, None) => {
            c.push(
                KeyError::Empty {
                    field: slotpay_core::KeyField::Publishable,
                }
                .into(),
            );
            None
        }
    };
    let secret_text = input
        .secret_key
        .as_ref()
        .filter(|s| !s.expose_secret().trim().is_empty());
    let server = match (secret_text, &existing) {
        (Some(text), _) => c
            .check(ServerKey::parse(text.expose_secret()).map_err(ApiError::from))
            .map(|p| {
                if p.trimmed {
                    warnings.push(trimmed_warning("secret_key", "secret key"));
                }
                p.key
            }),
        (None, Some(r)) => Some(secret_key(state, r)?),
        (None, None) => {
            c.push(
                KeyError::Empty {
                    field: slotpay_core::KeyField::Secret,
                }
                .into(),
            );
            None
        }
    };
    // Some(Some(secret)): a new pasted secret; Some(None): remove it; None: keep.
    let new_webhook_secret: Option<Option<WebhookSecret>> = match &input.webhook_secret {
        Some(Some(text)) if !text.expose_secret().trim().is_empty() => c
            .check(WebhookSecret::parse(text.expose_secret()).map_err(ApiError::from))
            .map(|p| {
                if p.trimmed {
                    warnings.push(trimmed_warning("webhook_secret", "webhook signing secret"));
                }
                Some(p.key)
            }),
        Some(Some(_)) => None,
        Some(None) => Some(None),
        None => None,
    };
    let card_brands = match (&input.card_brands, &existing) {
        (Some(list), _) => c.check(parse_brands(list)),
        (None, Some(r)) => serde_json::from_str(&r.card_brands).ok(),
        (None, None) => Some(DEFAULT_CARD_BRANDS.to_vec()),
    };
    if let (Some(pk), Some(sk)) = (&publishable, &server) {
        match KeyPair::new(pk.clone(), sk.clone()) {
            Err(e) => c.push(e.into()),
            Ok(pair) => {
                if let Some(m) = mode {
                    if m.required_key_mode()
                        .is_some_and(|want| want != pair.mode())
                    {
                        c.push(key_mode_mismatch(m, pair.mode()));
                    }
                }
            }
        }
    }
    c.finish()?;
    let (Some(name), Some(mode), Some(publishable), Some(server), Some(card_brands)) =
        (name, mode, publishable, server, card_brands)
    else {
        return Err(DomainError::Internal("checked input lost a field".into()));
    };

    let now = db::now();
    let secret_key_enc = state.cipher.encrypt(
        server.expose_secret(),
        binding(merchant_id, SECRET_KEY_COLUMN),
    );
    let brands_json = serde_json::to_string(&card_brands).expect("brands serialise");
    let Some(old) = existing else {
        let mut r = IntegrationRecord {
            merchant_id: merchant_id.to_owned(),
            name,
            mode: mode.as_str().to_owned(),
            active: false,
            status: Status::Unverified.as_str().to_owned(),
            status_code: None,
            status_message: None,
            status_permission: None,
            last_verified_at: None,
            account_id: None,
            account_country: None,
            account_default_currency: None,
            publishable_key: publishable.as_str().to_owned(),
            secret_key_enc,
            secret_key_hint: server.masked(),
            webhook_secret_enc: None,
            webhook_secret_source: None,
            webhook_endpoint_id: None,
            webhook_url: None,
            card_brands: brands_json,
            previous_webhook_secret_enc: None,
            previous_webhook_secret_expires_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if let Some(Some(wh)) = &new_webhook_secret {
            r.webhook_secret_enc = Some(state.cipher.encrypt(
                wh.expose_secret(),
                binding(merchant_id, WEBHOOK_SECRET_COLUMN),
            ));
            r.webhook_secret_source = Some("manual".into());
        }
        state.db.insert_integration(&r).await?;
        tracing::info!(merchant_id, key = %server, mode = mode.as_str(), "integration added");
        return view(state, &r, warnings);
    };

    let old_server = secret_key(state, &old)?;
    let server_changed = old_server.expose_secret() != server.expose_secret();
    let keys_changed =
        server_changed || old.publishable_key != publishable.as_str() || old.mode != mode.as_str();
    let mut r = old.clone();
    r.name = name;
    r.mode = mode.as_str().to_owned();
    r.publishable_key = publishable.as_str().to_owned();
    r.card_brands = brands_json;
    r.updated_at = now;
    if server_changed {
        r.secret_key_enc = secret_key_enc;
        r.secret_key_hint = server.masked();
    }
    if keys_changed {
        r.status = Status::Unverified.as_str().to_owned();
        r.status_code = None;
        r.status_message = None;
        r.status_permission = None;
        if server_changed {
            r.account_id = None;
            r.account_country = None;
            r.account_default_currency = None;
        }
        if r.active {
            r.active = false;
            warnings.push(Warning {
                code: "verification_required",
                field: None,
                message: "The keys or mode changed: the integration is inactive until it is activated again".into(),
            });
        }
    }
    // The endpoint slotpay registered goes when its secret is replaced by a pasted one,
    // removed, or when the key changes (it may belong to another account).
    let drop_registered = old.webhook_secret_source.as_deref() == Some("api")
        && (new_webhook_secret.is_some() || server_changed);
    let clear_endpoint = |r: &mut IntegrationRecord| {
        r.webhook_endpoint_id = None;
        r.webhook_url = None;
    };
    match &new_webhook_secret {
        Some(Some(wh)) => {
            keep_as_previous(state, &mut r, &old, wh, now)?;
            r.webhook_secret_enc = Some(state.cipher.encrypt(
                wh.expose_secret(),
                binding(merchant_id, WEBHOOK_SECRET_COLUMN),
            ));
            r.webhook_secret_source = Some("manual".into());
            clear_endpoint(&mut r);
        }
        Some(None) => {
            r.webhook_secret_enc = None;
            r.webhook_secret_source = None;
            clear_endpoint(&mut r);
        }
        None if drop_registered => {
            r.webhook_secret_enc = None;
            r.webhook_secret_source = None;
            clear_endpoint(&mut r);
        }
        None => {}
    }
    r.version = state.db.update_integration(&r).await?;
    if drop_registered {
        remove_registered_endpoint_with(state, &old, &old_server, &mut warnings).await;
    }
    tracing::info!(merchant_id, key = %server, mode = mode.as_str(), keys_changed, "integration updated");
    view(state, &r, warnings)
}

/// Adds the merchant's integration (refused when it has one: edit that instead), then asks
/// Stripe about the key at once. A key Stripe does not accept (invalid or expired) takes
/// back what was just added and answers the error at the secret key field, so nothing is
/// added; any other answer keeps it, with its status (Active or Error) recorded. With
/// `activate`, it is then switched on; an activation that fails leaves it added but
/// inactive, and says why in `warnings`. If Stripe cannot be reached, it stays added and
/// unverified, and `warnings` says so.
pub async fn add(
    state: &AppState,
    merchant_id: &str,
    input: IntegrationInput,
    activate: bool,
) -> Result<IntegrationView, DomainError> {
    merchants::record(state, merchant_id).await?;
    if state.db.get_integration(merchant_id).await?.is_some() {
        return Err(DomainError::Refused(ApiError::new(
            ErrorCode::Conflict,
            "This merchant already has a Stripe integration; edit it instead",
        )));
    }
    let added = set(state, merchant_id, input).await?;
    let mut warnings = added.warnings;
    let verified = match verify(state, merchant_id).await {
        Ok(v) => v,
        Err(DomainError::StripeUnavailable(e)) => {
            tracing::warn!(merchant_id, error = %e, "integration added; Stripe unreachable for verification");
            warnings.push(Warning {
                code: "verification_pending",
                field: None,
                message:
                    "Stripe could not be reached to verify the key; verify it again in a moment"
                        .into(),
            });
            return get(state, merchant_id).await.map(|mut v| {
                v.warnings = warnings;
                v
            });
        }
        Err(e) => return Err(e),
    };
    if let Some(reason) = verified
        .status_reason
        .as_ref()
        .filter(|r| r.code == "invalid_secret_key" || r.code == "api_key_expired")
    {
        // Nothing registered at Stripe yet, so removing the row is all there is to undo.
        state.db.delete_integration(merchant_id).await?;
        tracing::info!(merchant_id, code = %reason.code, "integration not added: Stripe refused the key");
        let code = if reason.code == "api_key_expired" {
            ErrorCode::ApiKeyExpired
        } else {
            ErrorCode::InvalidSecretKey
        };
        return Err(DomainError::Invalid(super::FieldErrors(vec![
            ApiError::new(
                code,
                format!("Stripe does not accept this secret key: {}", reason.message),
            )
            .with_param("secret_key"),
        ])));
    }
    let mut view = verified;
    if activate {
        match self::activate(state, merchant_id).await {
            Ok(v) => {
                warnings.extend(v.warnings.clone());
                view = v;
            }
            Err(e @ (DomainError::Refused(_) | DomainError::StripeUnavailable(_))) => {
                let why = match e {
                    DomainError::Refused(api) => api.message,
                    _ => "Stripe could not be reached; activate it again in a moment".into(),
                };
                warnings.push(Warning {
                    code: "not_activated",
                    field: None,
                    message: format!("Not activated: {why}"),
                });
                view = get(state, merchant_id).await?;
            }
            Err(e) => return Err(e),
        }
    }
    view.warnings = warnings;
    Ok(view)
}

/// The outcome of asking Stripe about a key.
enum Verification {
    Active(crate::stripe::Account),
    Failed(StatusReason),
}

fn reason_from_stripe(e: &StripeApiError) -> StatusReason {
    let code = match (e.status, e.code.as_deref()) {
        (401, Some("api_key_expired")) => ErrorCode::ApiKeyExpired.as_str(),
        (401, _) => ErrorCode::InvalidSecretKey.as_str(),
        (403, _) => ErrorCode::KeyMissingPermission.as_str(),
        _ => ErrorCode::StripeError.as_str(),
    };
    StatusReason {
        code: code.to_owned(),
        message: e.message.clone(),
        missing_permissions: e.missing_permission().into_iter().collect(),
    }
}

/// Asks Stripe for the key's account, then, for a restricted key, whether it has each
/// permission slotpay needs. `Err` only when Stripe could not answer.
async fn verify_key(state: &AppState, key: &ServerKey) -> Result<Verification, DomainError> {
    let account = match state.stripe.retrieve_account(key).await {
        Ok(a) => a,
        Err(err) if err.refusal().is_some() => {
            let e = err.refusal().expect("a refusal");
            return Ok(Verification::Failed(reason_from_stripe(e)));
        }
        Err(e) => return Err(e.into()),
    };
    if key.is_restricted() {
        let mut missing = Vec::new();
        let mut messages = Vec::new();
        for (permission, method, path) in REQUIRED_PERMISSIONS {
            let method = if *method == "POST" {
                Method::POST
            } else {
                Method::GET
            };
            if let Some(refusal) = state.stripe.probe_permission(key, method, path).await? {
                missing.push(
                    refusal
                        .missing_permission()
                        .unwrap_or_else(|| (*permission).to_owned()),
                );
                messages.push(refusal.message);
            }
        }
        if !missing.is_empty() {
            return Ok(Verification::Failed(StatusReason {
                code: ErrorCode::KeyMissingPermission.as_str().to_owned(),
                message: format!(
                    "This restricted key lacks the {} permission{} slotpay needs; add {} to the key in your Stripe Dashboard. Stripe said: {}",
                    missing.join(", "),
                    if missing.len() > 1 { "s" } else { "" },
                    if missing.len() > 1 { "them" } else { "it" },
                    messages[0]
                ),
                missing_permissions: missing,
            }));
        }
    }
    Ok(Verification::Active(account))
}

/// Records a verification on the record (not saved).
fn apply_verification(r: &mut IntegrationRecord, v: &Verification) {
    r.last_verified_at = Some(db::now());
    r.updated_at = db::now();
    match v {
        Verification::Active(account) => {
            r.status = Status::Active.as_str().to_owned();
            r.status_code = None;
            r.status_message = None;
            r.status_permission = None;
            r.account_id = Some(account.id.clone());
            r.account_country = account.country.clone();
            r.account_default_currency =
                account.default_currency.as_ref().map(|c| c.to_lowercase());
        }
        Verification::Failed(reason) => {
            r.status = Status::Error.as_str().to_owned();
            r.status_code = Some(reason.code.clone());
            r.status_message = Some(reason.message.clone());
            r.status_permission = (!reason.missing_permissions.is_empty())
                .then(|| reason.missing_permissions.join(","));
        }
    }
}

/// Asks Stripe whether the key works and records Active (with the account) or Error (with
/// Stripe's reason). The answer is the integration either way; only an unreachable Stripe
/// is an error.
pub async fn verify(state: &AppState, merchant_id: &str) -> Result<IntegrationView, DomainError> {
    let mut r = record(state, merchant_id).await?;
    let key = secret_key(state, &r)?;
    let verification = verify_key(state, &key).await?;
    apply_verification(&mut r, &verification);
    r.version = state.db.update_integration(&r).await?;
    tracing::info!(merchant_id, key = %key, status = %r.status, "integration verified");
    view(state, &r, Vec::new())
}

/// Verifies the key, makes sure Stripe will sign webhooks with a secret slotpay holds
/// (registering the endpoint through the API unless a signing secret was pasted), then
/// switches the integration on. Any failure leaves it inactive, with the verification's
/// error visible.
pub async fn activate(state: &AppState, merchant_id: &str) -> Result<IntegrationView, DomainError> {
    let read = record(state, merchant_id).await?;
    let key = secret_key(state, &read)?;
    let verification = verify_key(state, &key).await?;
    let mut r = read.clone();
    apply_verification(&mut r, &verification);
    if let Verification::Failed(reason) = &verification {
        r.active = false;
        state.db.update_integration(&r).await?;
        let code = match reason.code.as_str() {
            "api_key_expired" => ErrorCode::ApiKeyExpired,
            "key_missing_permission" => ErrorCode::KeyMissingPermission,
            "invalid_secret_key" => ErrorCode::InvalidSecretKey,
            _ => ErrorCode::StripeError,
        };
        return Err(DomainError::Refused(
            ApiError::new(code, format!("Stripe refused the key: {}", reason.message))
                .with_param("secret_key"),
        ));
    }

    let url = webhook_url(state, merchant_id);
    let mut warnings = Vec::new();
    let registered_here = r.webhook_secret_source.as_deref() == Some("api");
    let usable = match r.webhook_secret_source.as_deref() {
        Some("manual") => r.webhook_secret_enc.is_some(),
        Some("api") => {
            r.webhook_secret_enc.is_some() && r.webhook_url.as_deref() == Some(url.as_str())
        }
        _ => false,
    };
    let mut stale_endpoint = None;
    if !usable {
        if registered_here {
            // Registered under another public URL: replace it.
            stale_endpoint = r.webhook_endpoint_id.clone();
        }
        // Derived from the row as read: a retry after a crash between Stripe's answer and
        // our write sends the same key, and Stripe answers with the same endpoint.
        let idem = IdempotencyKey::derive(
            "webhook-endpoint",
            &[
                merchant_id,
                &url,
                &read.version.to_string(),
                &read.created_at.to_string(),
            ],
        );
        match state
            .stripe
            .create_webhook_endpoint(&key, &url, WEBHOOK_EVENTS, merchant_id, &idem)
            .await
        {
            Ok(endpoint) => {
                let Some(secret) = endpoint.secret.as_ref() else {
                    return Err(DomainError::Internal(
                        "webhook endpoint created without a secret".into(),
                    ));
                };
                let secret = WebhookSecret::parse(secret.expose_secret())
                    .map_err(|e| {
                        DomainError::Internal(format!(
                            "Stripe's signing secret does not parse: {e}"
                        ))
                    })?
                    .key;
                r.webhook_secret_enc = Some(state.cipher.encrypt(
                    secret.expose_secret(),
                    binding(merchant_id, WEBHOOK_SECRET_COLUMN),
                ));
                r.webhook_secret_source = Some("api".into());
                r.webhook_endpoint_id = Some(endpoint.id.clone());
                r.webhook_url = Some(url.clone());
                tracing::info!(merchant_id, endpoint_id = %endpoint.id, "webhook endpoint registered");
            }
            Err(StripeError::Api(e)) if e.status == 403 => {
                r.active = false;
                state.db.update_integration(&r).await?;
                let permission = e
                    .missing_permission()
                    .unwrap_or_else(|| "rak_webhook_write".into());
                return Err(DomainError::Refused(
                    ApiError::new(
                        ErrorCode::WebhookSecretRequired,
                        format!(
                            "Your key cannot register webhook endpoints (it lacks the '{permission}' permission). \
                             In your Stripe Dashboard, add a webhook endpoint for {url} with the events {}, \
                             then paste its signing secret (whsec_...) as the webhook signing secret and activate again",
                            WEBHOOK_EVENTS.join(", ")
                        ),
                    )
                    .with_param("webhook_secret"),
                ));
            }
            Err(e) => {
                r.active = false;
                state.db.update_integration(&r).await?;
                return Err(e.into());
            }
        }
    }
    r.active = true;
    r.version = state.db.update_integration(&r).await?;
    if let Some(id) = stale_endpoint {
        let mut old = read.clone();
        old.webhook_endpoint_id = Some(id);
        remove_registered_endpoint_with(state, &old, &key, &mut warnings).await;
    }
    tracing::info!(merchant_id, "integration activated");
    view(state, &r, warnings)
}

/// Switches the integration off (nothing at Stripe changes; late webhooks still arrive).
pub async fn deactivate(
    state: &AppState,
    merchant_id: &str,
) -> Result<IntegrationView, DomainError> {
    let mut r = record(state, merchant_id).await?;
    r.active = false;
    r.updated_at = db::now();
    r.version = state.db.update_integration(&r).await?;
    tracing::info!(merchant_id, "integration deactivated");
    view(state, &r, Vec::new())
}

/// Deletes the integration (the merchant and its services stay), removing the webhook
/// endpoint at Stripe when slotpay registered it, and saying when that failed.
pub async fn delete(
    state: &AppState,
    merchant_id: &str,
) -> Result<IntegrationDeleted, DomainError> {
    let r = record(state, merchant_id).await?;
    let mut warnings = Vec::new();
    let webhook_endpoint_deleted = remove_registered_endpoint(state, &r, &mut warnings).await;
    state.db.delete_integration(merchant_id).await?;
    tracing::info!(merchant_id, "integration deleted");
    Ok(IntegrationDeleted {
        merchant_id: merchant_id.to_owned(),
        deleted: true,
        webhook_endpoint_deleted,
        warnings,
    })
}

/// Removes the endpoint slotpay registered for `r`, with its stored key. `None` when there
/// is none; `Some(false)` (and a warning) when Stripe could not do it.
pub(crate) async fn remove_registered_endpoint(
    state: &AppState,
    r: &IntegrationRecord,
    warnings: &mut Vec<Warning>,
) -> Option<bool> {
    r.webhook_endpoint_id.as_ref()?;
    match secret_key(state, r) {
        Ok(key) => remove_registered_endpoint_with(state, r, &key, warnings).await,
        Err(e) => {
            tracing::error!(merchant_id = %r.merchant_id, error = %e, "cannot read the key to remove the webhook endpoint");
            warnings.push(endpoint_not_removed(r, "its key could not be read"));
            Some(false)
        }
    }
}

async fn remove_registered_endpoint_with(
    state: &AppState,
    r: &IntegrationRecord,
    key: &ServerKey,
    warnings: &mut Vec<Warning>,
) -> Option<bool> {
    let id = r.webhook_endpoint_id.as_ref()?;
    match state.stripe.delete_webhook_endpoint(key, id).await {
        Ok(_) => Some(true),
        // Already gone at Stripe: the goal is reached.
        Err(StripeError::Api(e)) if e.status == 404 => Some(true),
        Err(e) => {
            tracing::warn!(merchant_id = %r.merchant_id, endpoint_id = %id, error = %e, "webhook endpoint not removed");
            let why = match e.api() {
                Some(api) => api.message.clone(),
                None => "Stripe could not be reached".to_owned(),
            };
            warnings.push(endpoint_not_removed(r, &why));
            Some(false)
        }
    }
}

fn endpoint_not_removed(r: &IntegrationRecord, why: &str) -> Warning {
    Warning {
        code: "webhook_endpoint_not_deleted",
        field: None,
        message: format!(
            "The webhook endpoint {} could not be removed at Stripe ({why}); remove it in your Stripe Dashboard",
            r.webhook_endpoint_id.as_deref().unwrap_or("")
        ),
    }
}

/// The credentials of a merchant that can take payments now, or `payments_unavailable`.
pub async fn payment_credentials(
    state: &AppState,
    merchant_id: &str,
) -> Result<PaymentCredentials, DomainError> {
    let unavailable = || {
        DomainError::Refused(ApiError::new(
            ErrorCode::PaymentsUnavailable,
            "This merchant does not take online payments at the moment",
        ))
    };
    let r = state
        .db
        .get_integration(merchant_id)
        .await?
        .ok_or_else(unavailable)?;
    let mode = IntegrationMode::parse(&r.mode).unwrap_or(IntegrationMode::Off);
    if !r.active || Status::parse(&r.status) != Status::Active || mode == IntegrationMode::Off {
        return Err(unavailable());
    }
    let webhook_secret = webhook_secret(state, &r)?.ok_or_else(unavailable)?;
    let publishable = PublishableKey::parse(&r.publishable_key)
        .map_err(|e| DomainError::Internal(e.to_string()))?
        .key;
    let keys = KeyPair::new(publishable, secret_key(state, &r)?)
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    if mode.required_key_mode() != Some(keys.mode()) {
        return Err(unavailable());
    }
    Ok(PaymentCredentials {
        mode,
        keys,
        webhook_secret,
        card_brands: serde_json::from_str(&r.card_brands)
            .map_err(|e| DomainError::Internal(e.to_string()))?,
        account_default_currency: r.account_default_currency,
    })
}

/// When a pasted signing secret replaces another, the old one keeps verifying webhooks for
/// [`PREVIOUS_SECRET_GRACE_SECS`] (re-encrypted for its own column).
fn keep_as_previous(
    state: &AppState,
    r: &mut IntegrationRecord,
    old: &IntegrationRecord,
    new: &WebhookSecret,
    now: i64,
) -> Result<(), DomainError> {
    let Some(previous) = webhook_secret(state, old)? else {
        return Ok(());
    };
    if previous.expose_secret() == new.expose_secret() {
        return Ok(());
    }
    r.previous_webhook_secret_enc = Some(state.cipher.encrypt(
        previous.expose_secret(),
        binding(&r.merchant_id, PREVIOUS_WEBHOOK_SECRET_COLUMN),
    ));
    r.previous_webhook_secret_expires_at = Some(now + PREVIOUS_SECRET_GRACE_SECS);
    Ok(())
}

/// How long a merchant's decrypted signing secrets are reused without reading its
/// integration again. A write through this process makes them read again at once (see
/// [`crate::db::Db::integrations_generation`]); this bounds how long a change made by another
/// process (a second instance, the CLI) takes to be seen. A secret set elsewhere is seen at
/// once anyway: a signature the cached secrets refuse is checked again against the stored
/// ones. What the bound allows is a removed secret verifying for at most this long.
pub const WEBHOOK_SECRETS_TTL: Duration = Duration::from_secs(5);
/// Merchants whose secrets are kept at most (expired entries are dropped first).
const WEBHOOK_SECRETS_CACHED: usize = 4096;

/// The signing secrets of recently seen merchants, decrypted: a webhook then needs no read
/// of its integration. `Debug` shows only how many merchants it holds.
#[derive(Default)]
pub struct WebhookSecretsCache {
    entries: Mutex<HashMap<String, CachedSecrets>>,
}

struct CachedSecrets {
    current: WebhookSecret,
    /// The replaced secret and when it stops being accepted.
    previous: Option<(WebhookSecret, i64)>,
    read_at: Instant,
    generation: u64,
}

impl std::fmt::Debug for WebhookSecretsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map_or(0, |e| e.len());
        write!(f, "WebhookSecretsCache({n} merchants)")
    }
}

impl WebhookSecretsCache {
    fn get(&self, merchant_id: &str, now: i64, generation: u64) -> Option<Vec<WebhookSecret>> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(merchant_id)?;
        if e.generation != generation || e.read_at.elapsed() >= WEBHOOK_SECRETS_TTL {
            return None;
        }
        Some(secrets_at(&e.current, e.previous.as_ref(), now))
    }

    fn put(&self, merchant_id: &str, entry: CachedSecrets) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= WEBHOOK_SECRETS_CACHED && !entries.contains_key(merchant_id) {
            entries.retain(|_, e| e.read_at.elapsed() < WEBHOOK_SECRETS_TTL);
            if entries.len() >= WEBHOOK_SECRETS_CACHED {
                entries.clear();
            }
        }
        entries.insert(merchant_id.to_owned(), entry);
    }
}

fn secrets_at(
    current: &WebhookSecret,
    previous: Option<&(WebhookSecret, i64)>,
    now: i64,
) -> Vec<WebhookSecret> {
    let mut secrets = vec![current.clone()];
    if let Some((p, until)) = previous {
        if *until > now {
            secrets.push(p.clone());
        }
    }
    secrets
}

/// The signing secrets of `merchant_id` as cached (see [`WebhookSecretsCache`]), if they
/// are; [`webhook_secrets`] reads them.
pub fn cached_webhook_secrets(
    state: &AppState,
    merchant_id: &str,
    now: i64,
) -> Option<Vec<WebhookSecret>> {
    state
        .webhook_secrets
        .get(merchant_id, now, state.db.integrations_generation())
}

/// The signing secrets a webhook for `merchant_id` may be signed with at `now`: the current
/// one, and the previous one until it expires. `None` for an unknown merchant or one without
/// a signing secret. Read from the database (and kept in the cache).
pub async fn webhook_secrets(
    state: &AppState,
    merchant_id: &str,
    now: i64,
) -> Result<Option<Vec<WebhookSecret>>, DomainError> {
    let generation = state.db.integrations_generation();
    let read_at = Instant::now();
    let Some(r) = state.db.get_integration(merchant_id).await? else {
        return Ok(None);
    };
    let Some(current) = webhook_secret(state, &r)? else {
        return Ok(None);
    };
    let mut previous = None;
    if let (Some(enc), Some(until)) = (
        &r.previous_webhook_secret_enc,
        r.previous_webhook_secret_expires_at,
    ) {
        if until > now {
            let plain = state
                .cipher
                .decrypt(enc, binding(merchant_id, PREVIOUS_WEBHOOK_SECRET_COLUMN))?;
            if let Ok(p) = WebhookSecret::parse(plain.expose_secret()) {
                previous = Some((p.key, until));
            }
        }
    }
    let secrets = secrets_at(&current, previous.as_ref(), now);
    state.webhook_secrets.put(
        merchant_id,
        CachedSecrets {
            current,
            previous,
            read_at,
            generation,
        },
    );
    Ok(Some(secrets))
}

/// The merchant's stored integration record, if any (the payments code reads its mode and
/// publishable key for views of checkouts paid before a change).
pub async fn stored(
    state: &AppState,
    merchant_id: &str,
) -> Result<Option<IntegrationRecord>, DomainError> {
    Ok(state.db.get_integration(merchant_id).await?)
}

/// The merchant's stored secret or restricted key, whatever the integration's state: refunds,
/// captures and webhook processing for payments already made go on after a deactivation.
pub async fn server_key(state: &AppState, merchant_id: &str) -> Result<ServerKey, DomainError> {
    let r = state
        .db
        .get_integration(merchant_id)
        .await?
        .ok_or(DomainError::NotFound("integration"))?;
    secret_key(state, &r)
}
