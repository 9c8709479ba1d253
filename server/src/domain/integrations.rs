//! A merchant's Stripe integration: set (add or edit; a field left out keeps its value),
//! view (keys masked), verify with Stripe, activate (verify, then register the webhook
//! endpoint or use the pasted signing secret), deactivate, delete (removing the endpoint at
//! Stripe when slotpay registered it; the merchant and its services stay).
//!
//! Keys are parsed by core (trimming reported as a warning, every refusal with its own
//! code and field), encrypted under the master key before they reach the database, and only
//! ever shown masked.

use std::time::Instant;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use slotpay_core::{
    methods, ApiError, CardBrand, Currency, ErrorCode, IntegrationMode, KeyError, KeyField,
    KeyKind, KeyMode, KeyPair, MethodType, Parsed, PublishableKey, ServerKey, WebhookSecret,
};

use super::wallet_domains;
use super::{
    double_option, load_merchant, outbox, parse_name, Checker, DomainError, FieldErrors, Warning,
};
use crate::db::{self, IntegrationRecord};
use crate::integration_cache::CachedSecrets;
pub use crate::model::PaymentCredentials;
use crate::model::{IntegrationStatus, SecretSource, StatusReason, WalletDomain};
use crate::secrets::Binding;
use crate::state::AppState;
use crate::stripe::{Account, IdempotencyKey, StripeApiError, StripeError, WebhookEndpoint};

/// The events slotpay's webhook endpoint subscribes to (`domain::webhooks` acts on them).
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
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// A label.
    pub name: Option<String>,
    /// `pk_test_...` / `pk_live_...`.
    pub publishable_key: Option<String>,
    /// `sk_...` or `rk_...`.
    #[schema(value_type = Option<String>)]
    pub secret_key: Option<SecretString>,
    /// `whsec_...`, pasted when the key cannot register endpoints; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_secret: Option<Option<SecretString>>,
    /// `off`, `sandbox` or `live`.
    pub mode: Option<String>,
    /// Accepted card brands (`visa`, `mastercard`, `amex`, `discover`, `jcb`, `diners`,
    /// `unionpay`).
    pub card_brands: Option<Vec<String>>,
    /// The ways to pay offered (`card`, `ideal`, `bancontact`, `sepa_debit`); card is always
    /// among them. Each checkout offers those its currency and amount allow (iDEAL,
    /// Bancontact and SEPA Debit are for euros, and none of them for a later capture).
    pub payment_methods: Option<Vec<String>>,
    /// Whether card payments may come from wallets (Apple Pay, Google Pay); on by default.
    pub wallets: Option<bool>,
}

/// The Stripe account the key belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// `acct_...`.
    pub id: String,
    /// Two-letter country.
    pub country: Option<String>,
    /// Settlement currency, which decides Stripe's minimum charge.
    pub default_currency: Option<Currency>,
    /// The other merchants connected to this account. Each receives every event of the
    /// account on its own webhook endpoint and applies those about its own payments; a
    /// refund or payment made in the Dashboard belongs to none of them.
    pub shared_with: Vec<String>,
}

/// The webhook endpoint.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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
    pub secret_source: Option<SecretSource>,
}

/// An integration as the API shows it: keys masked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IntegrationView {
    /// The merchant.
    #[schema(value_type = crate::schemas::MerchantId)]
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
    pub status: IntegrationStatus,
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
    /// The ways to pay offered, card among them.
    pub payment_methods: Vec<MethodType>,
    /// Whether card payments may come from wallets (Apple Pay, Google Pay).
    pub wallets: bool,
    /// The web domains registered with the Stripe account for the wallets and Link (each
    /// allowed origin's host and slotpay's own), as Stripe said when last checked: at
    /// activation, at each verification and when the allowed origins change.
    pub wallet_domains: Vec<WalletDomain>,
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
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IntegrationDeleted {
    /// The merchant (kept, with its services).
    #[schema(value_type = crate::schemas::MerchantId)]
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

/// Decrypts a secret column of `r` and parses it with `parse`; a stored value that does
/// not decrypt or parse is corrupt.
fn decrypt<K>(
    state: &AppState,
    r: &IntegrationRecord,
    ciphertext: &str,
    column: &'static str,
    parse: fn(&str) -> Result<Parsed<K>, KeyError>,
) -> Result<K, DomainError> {
    let plain = state
        .cipher
        .decrypt(ciphertext, binding(&r.merchant_id, column))?;
    parse(plain.expose_secret())
        .map(|p| p.key)
        .map_err(|e| DomainError::corrupt(TABLE, format!("{column}: {e}")))
}

fn secret_key(state: &AppState, r: &IntegrationRecord) -> Result<ServerKey, DomainError> {
    decrypt(
        state,
        r,
        &r.secret_key_enc,
        SECRET_KEY_COLUMN,
        ServerKey::parse,
    )
}

fn webhook_secret(
    state: &AppState,
    r: &IntegrationRecord,
) -> Result<Option<WebhookSecret>, DomainError> {
    r.webhook_secret_enc
        .as_deref()
        .map(|enc| decrypt(state, r, enc, WEBHOOK_SECRET_COLUMN, WebhookSecret::parse))
        .transpose()
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

fn trimmed_warning(field: KeyField) -> Warning {
    let what = match field {
        KeyField::Publishable => "publishable key",
        KeyField::Secret => "secret key",
        KeyField::WebhookSecret => "webhook signing secret",
    };
    Warning {
        code: "key_trimmed",
        field: Some(field.param()),
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
async fn view(
    state: &AppState,
    r: &IntegrationRecord,
    warnings: Vec<Warning>,
) -> Result<IntegrationView, DomainError> {
    let server = secret_key(state, r)?;
    let wh = webhook_secret(state, r)?;
    let status_reason = r
        .status_reason
        .clone()
        .filter(|_| r.status == IntegrationStatus::Error);
    let account = match &r.account_id {
        Some(id) => Some(AccountView {
            id: id.clone(),
            country: r.account_country.clone(),
            default_currency: r.account_default_currency,
            shared_with: state
                .db
                .merchants_sharing_account(id, &r.merchant_id)
                .await?,
        }),
        None => None,
    };
    let payments_available = r.active
        && r.status == IntegrationStatus::Active
        && r.mode != IntegrationMode::Off
        && wh.is_some();
    Ok(IntegrationView {
        merchant_id: r.merchant_id.clone(),
        provider: "stripe",
        name: r.name.clone(),
        mode: r.mode,
        active: r.active,
        status: r.status,
        status_reason,
        last_verified_at: r.last_verified_at,
        account,
        publishable_key: r.publishable_key.masked(),
        secret_key: server.masked(),
        key_kind: server.kind(),
        key_mode: server.mode(),
        webhook: WebhookView {
            url: webhook_url(state, &r.merchant_id),
            endpoint_id: r.webhook_endpoint_id.clone(),
            signing_secret: wh.map(|w| w.masked()),
            secret_source: r.webhook_secret_source,
        },
        card_brands: r.card_brands.clone(),
        payment_methods: r.payment_methods.clone(),
        wallets: r.wallets,
        wallet_domains: r.wallet_domains.clone(),
        payments_available,
        created_at: r.created_at,
        updated_at: r.updated_at,
        warnings,
    })
}

async fn record(state: &AppState, merchant_id: &str) -> Result<IntegrationRecord, DomainError> {
    load_merchant(state, merchant_id).await?;
    state
        .db
        .get_integration(merchant_id)
        .await?
        .ok_or(DomainError::NotFound("integration"))
}

/// The integration, keys masked.
pub async fn get(state: &AppState, merchant_id: &str) -> Result<IntegrationView, DomainError> {
    let r = record(state, merchant_id).await?;
    view(state, &r, Vec::new()).await
}

/// An integration input, checked as a whole. A field left out has the stored value;
/// `webhook_secret` is `None` to keep the stored one, `Some(None)` to remove it.
struct Checked {
    name: String,
    mode: IntegrationMode,
    publishable: PublishableKey,
    server: ServerKey,
    webhook_secret: Option<Option<WebhookSecret>>,
    card_brands: Vec<CardBrand>,
    payment_methods: Vec<MethodType>,
    wallets: bool,
    warnings: Vec<Warning>,
}

/// A pasted key: parsed when given (trimming reported as a warning), else the stored one;
/// on a new integration, missing is the field's error.
fn key_field<K>(
    c: &mut Checker,
    warnings: &mut Vec<Warning>,
    given: Option<&str>,
    stored: Option<K>,
    field: KeyField,
    parse: fn(&str) -> Result<Parsed<K>, KeyError>,
) -> Option<K> {
    match (given.filter(|t| !t.trim().is_empty()), stored) {
        (Some(text), _) => c.check(parse(text).map_err(ApiError::from)).map(|p| {
            if p.trimmed {
                warnings.push(trimmed_warning(field));
            }
            p.key
        }),
        (None, Some(key)) => Some(key),
        (None, None) => {
            c.push(KeyError::Empty { field }.into());
            None
        }
    }
}

/// Checks every field of an input against the stored integration (if any), reporting
/// each invalid field; nothing is saved.
fn parse_input(
    input: &IntegrationInput,
    existing: Option<&IntegrationRecord>,
    stored_server: Option<ServerKey>,
) -> Result<Checked, DomainError> {
    let mut c = Checker::default();
    let mut warnings = Vec::new();
    let name = match (&input.name, existing) {
        (Some(n), _) => c.check(parse_name(n, "name", MAX_NAME)),
        (None, Some(r)) => Some(r.name.clone()),
        (None, None) => Some(DEFAULT_NAME.to_owned()),
    };
    let mode = match (&input.mode, existing) {
        (Some(m), _) => c.check(parse_mode(m)),
        (None, Some(r)) => Some(r.mode),
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
    let publishable = key_field(
        &mut c,
        &mut warnings,
        input.publishable_key.as_deref(),
        existing.map(|r| r.publishable_key.clone()),
        KeyField::Publishable,
        PublishableKey::parse,
    );
    let server = key_field(
        &mut c,
        &mut warnings,
        input.secret_key.as_ref().map(|s| s.expose_secret()),
        stored_server,
        KeyField::Secret,
        ServerKey::parse,
    );
    let webhook_secret = match &input.webhook_secret {
        Some(Some(text)) if !text.expose_secret().trim().is_empty() => c
            .check(WebhookSecret::parse(text.expose_secret()).map_err(ApiError::from))
            .map(|p| {
                if p.trimmed {
                    warnings.push(trimmed_warning(KeyField::WebhookSecret));
                }
                Some(p.key)
            }),
        Some(Some(_)) | None => None,
        Some(None) => Some(None),
    };
    let card_brands = match (&input.card_brands, existing) {
        (Some(list), _) => c.check(parse_brands(list)),
        (None, Some(r)) => Some(r.card_brands.clone()),
        (None, None) => Some(DEFAULT_CARD_BRANDS.to_vec()),
    };
    let payment_methods = match (&input.payment_methods, existing) {
        (Some(list), _) => c.check(methods::parse_list(list).map_err(ApiError::from)),
        (None, Some(r)) => Some(r.payment_methods.clone()),
        (None, None) => Some(vec![MethodType::Card]),
    };
    let wallets = input
        .wallets
        .or(existing.map(|r| r.wallets))
        .unwrap_or(true);
    if let (Some(pk), Some(sk)) = (&publishable, &server) {
        match KeyPair::new(pk.clone(), sk.clone()) {
            Err(e) => c.push(e.into()),
            Ok(pair) => {
                if let Some(m) = mode.filter(|m| {
                    m.required_key_mode()
                        .is_some_and(|want| want != pair.mode())
                }) {
                    c.push(key_mode_mismatch(m, pair.mode()));
                }
            }
        }
    }
    c.finish()?;
    match (
        name,
        mode,
        publishable,
        server,
        card_brands,
        payment_methods,
    ) {
        (
            Some(name),
            Some(mode),
            Some(publishable),
            Some(server),
            Some(card_brands),
            Some(payment_methods),
        ) => Ok(Checked {
            name,
            mode,
            publishable,
            server,
            webhook_secret,
            card_brands,
            payment_methods,
            wallets,
            warnings,
        }),
        _ => Err(DomainError::Internal("checked input lost a field".into())),
    }
}

/// Adds the merchant's integration or edits it. Every field is checked before anything is
/// saved; a key left out (or empty) keeps the stored one. Changing a key or the mode makes
/// the integration unverified and, if it was active, inactive until activated again.
pub async fn set(
    state: &AppState,
    merchant_id: &str,
    input: IntegrationInput,
) -> Result<IntegrationView, DomainError> {
    load_merchant(state, merchant_id).await?;
    let existing = state.db.get_integration(merchant_id).await?;
    let stored_server = existing
        .as_ref()
        .map(|r| secret_key(state, r))
        .transpose()?;
    let parsed = parse_input(&input, existing.as_ref(), stored_server.clone())?;
    match (existing, stored_server) {
        (Some(old), Some(old_server)) => edit(state, old, old_server, parsed).await,
        _ => insert(state, merchant_id, parsed).await,
    }
}

/// Stores a new integration, unverified and inactive.
async fn insert(
    state: &AppState,
    merchant_id: &str,
    p: Checked,
) -> Result<IntegrationView, DomainError> {
    let now = db::now();
    let mut r = IntegrationRecord {
        merchant_id: merchant_id.to_owned(),
        name: p.name,
        mode: p.mode,
        active: false,
        status: IntegrationStatus::Unverified,
        status_reason: None,
        last_verified_at: None,
        account_id: None,
        account_country: None,
        account_default_currency: None,
        publishable_key: p.publishable,
        secret_key_enc: state.cipher.encrypt(
            p.server.expose_secret(),
            binding(merchant_id, SECRET_KEY_COLUMN),
        ),
        secret_key_hint: p.server.masked(),
        webhook_secret_enc: None,
        webhook_secret_source: None,
        webhook_endpoint_id: None,
        webhook_url: None,
        card_brands: p.card_brands,
        payment_methods: p.payment_methods,
        wallets: p.wallets,
        wallet_domains: Vec::new(),
        previous_webhook_secret_enc: None,
        previous_webhook_secret_expires_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    if let Some(Some(wh)) = &p.webhook_secret {
        paste_webhook_secret(state, &mut r, wh);
    }
    state.db.insert_integration(&r).await?;
    tracing::info!(merchant_id, key = %p.server, mode = p.mode.as_str(), "integration added");
    view(state, &r, p.warnings).await
}

/// Edits a stored integration. A new key or mode makes it unverified (and inactive until
/// activated again); the endpoint slotpay registered goes when its secret is replaced by a
/// pasted one, removed, or when the key changes (it may belong to another account).
async fn edit(
    state: &AppState,
    old: IntegrationRecord,
    old_server: ServerKey,
    p: Checked,
) -> Result<IntegrationView, DomainError> {
    let merchant_id = old.merchant_id.as_str();
    let server_changed = old_server.expose_secret() != p.server.expose_secret();
    let keys_changed = server_changed || old.publishable_key != p.publishable || old.mode != p.mode;
    let mut warnings = p.warnings;
    let mut r = old.clone();
    r.name = p.name;
    r.mode = p.mode;
    r.publishable_key = p.publishable;
    r.card_brands = p.card_brands;
    r.payment_methods = p.payment_methods;
    r.wallets = p.wallets;
    r.updated_at = db::now();
    if server_changed {
        r.secret_key_enc = state.cipher.encrypt(
            p.server.expose_secret(),
            binding(merchant_id, SECRET_KEY_COLUMN),
        );
        r.secret_key_hint = p.server.masked();
    }
    if keys_changed {
        unverify(&mut r, server_changed, &mut warnings);
    }
    let drop_registered = old.webhook_secret_source == Some(SecretSource::Api)
        && (p.webhook_secret.is_some() || server_changed);
    match &p.webhook_secret {
        Some(Some(wh)) => {
            let now = r.updated_at;
            keep_as_previous(state, &mut r, &old, wh, now)?;
            paste_webhook_secret(state, &mut r, wh);
        }
        Some(None) => forget_webhook_secret(&mut r),
        None if drop_registered => forget_webhook_secret(&mut r),
        None => {}
    }
    r.version = state.db.update_integration(&r, &[]).await?;
    if drop_registered {
        remove_registered_endpoint_with(state, &old, &old_server, &mut warnings).await;
    }
    tracing::info!(merchant_id, key = %p.server, mode = r.mode.as_str(), keys_changed, "integration updated");
    view(state, &r, warnings).await
}

/// New keys or mode: the last verification no longer holds (nor the account, for a new
/// secret key), and an active integration waits for a new activation.
fn unverify(r: &mut IntegrationRecord, server_changed: bool, warnings: &mut Vec<Warning>) {
    r.status = IntegrationStatus::Unverified;
    r.status_reason = None;
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
            message:
                "The keys or mode changed: the integration is inactive until it is activated again"
                    .into(),
        });
    }
}

/// Stores a signing secret the merchant pasted (no endpoint registered by slotpay).
fn paste_webhook_secret(state: &AppState, r: &mut IntegrationRecord, wh: &WebhookSecret) {
    r.webhook_secret_enc = Some(state.cipher.encrypt(
        wh.expose_secret(),
        binding(&r.merchant_id, WEBHOOK_SECRET_COLUMN),
    ));
    r.webhook_secret_source = Some(SecretSource::Manual);
    r.webhook_endpoint_id = None;
    r.webhook_url = None;
}

/// Forgets the signing secret and the endpoint it belongs to.
fn forget_webhook_secret(r: &mut IntegrationRecord) {
    r.webhook_secret_enc = None;
    r.webhook_secret_source = None;
    r.webhook_endpoint_id = None;
    r.webhook_url = None;
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
    load_merchant(state, merchant_id).await?;
    if state.db.get_integration(merchant_id).await?.is_some() {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            "This merchant already has a Stripe integration; edit it instead",
        ));
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
    if let Some(reason) = verified.status_reason.as_ref().filter(|r| {
        matches!(
            r.code,
            ErrorCode::InvalidSecretKey | ErrorCode::ApiKeyExpired
        )
    }) {
        // Nothing registered at Stripe yet, so removing the row is all there is to undo.
        state.db.delete_integration(merchant_id).await?;
        tracing::info!(merchant_id, code = %reason.code, "integration not added: Stripe refused the key");
        return Err(DomainError::Invalid(FieldErrors(vec![ApiError::new(
            reason.code,
            format!("Stripe does not accept this secret key: {}", reason.message),
        )
        .with_param("secret_key")])));
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
    Active(Account),
    Failed(StatusReason),
}

fn reason_from_stripe(e: &StripeApiError) -> StatusReason {
    let code = match (e.status, e.code.as_deref()) {
        (401, Some("api_key_expired")) => ErrorCode::ApiKeyExpired,
        (401, _) => ErrorCode::InvalidSecretKey,
        (403, _) => ErrorCode::KeyMissingPermission,
        _ => ErrorCode::StripeError,
    };
    StatusReason {
        code,
        message: e.message.clone(),
        missing_permissions: e.missing_permission().into_iter().collect(),
    }
}

/// Asks Stripe for the key's account, then, for a restricted key, whether it has each
/// permission slotpay needs. `Err` only when Stripe could not answer.
async fn verify_key(state: &AppState, key: &ServerKey) -> Result<Verification, DomainError> {
    let account = match state.stripe.retrieve_account(key).await {
        Ok(a) => a,
        Err(err) => match err.refusal() {
            Some(e) => return Ok(Verification::Failed(reason_from_stripe(e))),
            None => return Err(err.into()),
        },
    };
    if !key.is_restricted() {
        return Ok(Verification::Active(account));
    }
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
    if missing.is_empty() {
        return Ok(Verification::Active(account));
    }
    let several = missing.len() > 1;
    Ok(Verification::Failed(StatusReason {
        code: ErrorCode::KeyMissingPermission,
        message: format!(
            "This restricted key lacks the {} permission{} slotpay needs; add {} to the key in your Stripe Dashboard. Stripe said: {}",
            missing.join(", "),
            if several { "s" } else { "" },
            if several { "them" } else { "it" },
            messages[0]
        ),
        missing_permissions: missing,
    }))
}

/// Records a verification on the record (not saved).
fn apply_verification(r: &mut IntegrationRecord, v: &Verification) {
    let now = db::now();
    r.last_verified_at = Some(now);
    r.updated_at = now;
    match v {
        Verification::Active(account) => {
            r.status = IntegrationStatus::Active;
            r.status_reason = None;
            r.account_id = Some(account.id.clone());
            r.account_country = account.country.clone();
            r.account_default_currency = account.default_currency.as_deref().and_then(|c| {
                let parsed = Currency::parse(c).ok();
                if parsed.is_none() {
                    tracing::warn!(merchant_id = %r.merchant_id, currency = c, "Stripe account's currency is not one slotpay knows");
                }
                parsed
            });
        }
        Verification::Failed(reason) => {
            r.status = IntegrationStatus::Error;
            r.status_reason = Some(reason.clone());
        }
    }
}

/// Stripe refused the merchant's key `refused` during a payment (revoked, expired or rolled).
/// When it is still the stored key, the integration is marked in error, so payments stop
/// before they reach Stripe, and the platform hears `integration.error`; verifying again (or
/// a new key) brings it back. False when the merchant replaced the key meanwhile (the payment
/// had read the old one): nothing is marked, and the payment can be tried again.
pub(crate) async fn key_refused(
    state: &AppState,
    merchant_id: &str,
    refused: &ServerKey,
) -> Result<bool, DomainError> {
    // Whatever the answer, the next payment reads the stored key.
    state.payment_credentials.forget(merchant_id);
    let mut r = record(state, merchant_id).await?;
    if secret_key(state, &r)?.expose_secret() != refused.expose_secret() {
        return Ok(false);
    }
    if r.status == IntegrationStatus::Error {
        return Ok(true);
    }
    let was = r.status;
    r.status = IntegrationStatus::Error;
    r.status_reason = Some(StatusReason {
        code: ErrorCode::InvalidSecretKey,
        message: "Stripe refused the secret key during a payment (revoked, expired or \
                  rolled); set a new key or verify it again"
            .into(),
        missing_permissions: Vec::new(),
    });
    r.updated_at = db::now();
    let events = outbox::integration_events(was, &r);
    state.db.update_integration(&r, &events).await?;
    tracing::warn!(
        merchant_id,
        "Stripe refused the merchant's key during a payment: integration in error"
    );
    Ok(true)
}

/// Asks Stripe whether the key works and records Active (with the account) or Error (with
/// Stripe's reason). The answer is the integration either way; only an unreachable Stripe
/// is an error.
pub async fn verify(state: &AppState, merchant_id: &str) -> Result<IntegrationView, DomainError> {
    let mut r = record(state, merchant_id).await?;
    let key = secret_key(state, &r)?;
    let verification = verify_key(state, &key).await?;
    let was = r.status;
    apply_verification(&mut r, &verification);
    let mut warnings = Vec::new();
    if r.active && matches!(verification, Verification::Active(_)) {
        warnings.extend(register_wallet_domains(state, &key, &mut r).await?);
    }
    let events = outbox::integration_events(was, &r);
    r.version = state.db.update_integration(&r, &events).await?;
    tracing::info!(merchant_id, key = %key, status = %r.status, "integration verified");
    view(state, &r, warnings).await
}

/// Registers the merchant's web domains for the wallets (see `wallet_domains`) and keeps
/// what Stripe said on the record (not saved); a warning when some could not be registered.
async fn register_wallet_domains(
    state: &AppState,
    key: &ServerKey,
    r: &mut IntegrationRecord,
) -> Result<Option<Warning>, DomainError> {
    let merchant = load_merchant(state, &r.merchant_id).await?;
    let hosts = wallet_domains::hosts(state, &merchant.allowed_origins);
    let (domains, warning) =
        wallet_domains::register(state, key, &r.merchant_id, &hosts, db::now()).await;
    r.wallet_domains = domains;
    Ok(warning)
}

/// After the merchant's allowed origins changed: registers the domains again when the
/// integration is active. What Stripe says is kept; a failure is logged, never the merchant's.
pub(crate) async fn origins_changed(state: &AppState, merchant_id: &str) {
    let result = async {
        let Some(mut r) = state.db.get_integration(merchant_id).await? else {
            return Ok(());
        };
        if !r.active {
            return Ok(());
        }
        let key = secret_key(state, &r)?;
        register_wallet_domains(state, &key, &mut r).await?;
        state.db.update_integration(&r, &[]).await?;
        Ok::<(), DomainError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(merchant_id, error = %e, "wallet domains not registered after an origin change");
    }
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
        let events = outbox::integration_events(read.status, &r);
        state.db.update_integration(&r, &events).await?;
        return Err(DomainError::refused_at(
            reason.code,
            format!("Stripe refused the key: {}", reason.message),
            "secret_key",
        ));
    }
    let url = webhook_url(state, merchant_id);
    let mut stale_endpoint = None;
    if !webhook_usable(&r, &url) {
        match register_endpoint(state, &key, &read, &url).await {
            Ok((endpoint, secret)) => {
                if r.webhook_secret_source == Some(SecretSource::Api) {
                    // Registered under another public URL: replaced.
                    stale_endpoint = r.webhook_endpoint_id.clone();
                }
                r.webhook_secret_enc = Some(state.cipher.encrypt(
                    secret.expose_secret(),
                    binding(merchant_id, WEBHOOK_SECRET_COLUMN),
                ));
                r.webhook_secret_source = Some(SecretSource::Api);
                r.webhook_endpoint_id = Some(endpoint);
                r.webhook_url = Some(url.clone());
            }
            Err(e) => {
                r.active = false;
                state.db.update_integration(&r, &[]).await?;
                return Err(e);
            }
        }
    }
    r.active = true;
    let mut warnings: Vec<Warning> = register_wallet_domains(state, &key, &mut r)
        .await?
        .into_iter()
        .collect();
    r.version = state.db.update_integration(&r, &[]).await?;
    if let Some(id) = stale_endpoint {
        let mut old = read.clone();
        old.webhook_endpoint_id = Some(id);
        remove_registered_endpoint_with(state, &old, &key, &mut warnings).await;
    }
    tracing::info!(merchant_id, "integration activated");
    view(state, &r, warnings).await
}

/// Whether Stripe signs the webhooks to `url` with a secret slotpay holds: a pasted one, or
/// that of the endpoint slotpay registered for this very URL.
fn webhook_usable(r: &IntegrationRecord, url: &str) -> bool {
    match r.webhook_secret_source {
        Some(SecretSource::Manual) => r.webhook_secret_enc.is_some(),
        Some(SecretSource::Api) => {
            r.webhook_secret_enc.is_some() && r.webhook_url.as_deref() == Some(url)
        }
        None => false,
    }
}

/// Registers slotpay's webhook endpoint for `url` with the key; returns its id and signing
/// secret. A key that may not register endpoints is told to paste a signing secret.
async fn register_endpoint(
    state: &AppState,
    key: &ServerKey,
    read: &IntegrationRecord,
    url: &str,
) -> Result<(String, WebhookSecret), DomainError> {
    let merchant_id = read.merchant_id.as_str();
    // Derived from the row as read: a retry after a crash between Stripe's answer and our
    // write sends the same key, and Stripe answers with the same endpoint.
    let idem = IdempotencyKey::derive(
        "webhook-endpoint",
        &[
            merchant_id,
            url,
            &read.version.to_string(),
            &read.created_at.to_string(),
        ],
    );
    let created = state
        .stripe
        .create_webhook_endpoint(key, url, WEBHOOK_EVENTS, merchant_id, &idem)
        .await;
    let endpoint: WebhookEndpoint = match created {
        Ok(endpoint) => endpoint,
        Err(StripeError::Api(e)) if e.status == 403 => {
            let permission = e
                .missing_permission()
                .unwrap_or_else(|| "rak_webhook_write".into());
            return Err(DomainError::refused_at(
                ErrorCode::WebhookSecretRequired,
                format!(
                    "Your key cannot register webhook endpoints (it lacks the '{permission}' permission). \
                     In your Stripe Dashboard, add a webhook endpoint for {url} with the events {}, \
                     then paste its signing secret (whsec_...) as the webhook signing secret and activate again",
                    WEBHOOK_EVENTS.join(", ")
                ),
                "webhook_secret",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let secret = endpoint
        .secret
        .as_ref()
        .ok_or_else(|| DomainError::Internal("webhook endpoint created without a secret".into()))?;
    let secret = WebhookSecret::parse(secret.expose_secret())
        .map_err(|e| DomainError::Internal(format!("Stripe's signing secret does not parse: {e}")))?
        .key;
    tracing::info!(merchant_id, endpoint_id = %endpoint.id, "webhook endpoint registered");
    Ok((endpoint.id, secret))
}

/// Switches the integration off (nothing at Stripe changes; late webhooks still arrive).
pub async fn deactivate(
    state: &AppState,
    merchant_id: &str,
) -> Result<IntegrationView, DomainError> {
    let mut r = record(state, merchant_id).await?;
    r.active = false;
    r.updated_at = db::now();
    r.version = state.db.update_integration(&r, &[]).await?;
    tracing::info!(merchant_id, "integration deactivated");
    view(state, &r, Vec::new()).await
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
/// Credentials that can take payments are kept for a few seconds (see
/// [`crate::integration_cache`]).
pub async fn payment_credentials(
    state: &AppState,
    merchant_id: &str,
) -> Result<PaymentCredentials, DomainError> {
    let unavailable = || {
        DomainError::refused(
            ErrorCode::PaymentsUnavailable,
            "This merchant does not take online payments at the moment",
        )
    };
    let generation = state.db.integrations_generation();
    if let Some(creds) = state.payment_credentials.get(merchant_id, generation) {
        return Ok(creds);
    }
    let read_at = Instant::now();
    let r = state
        .db
        .get_integration(merchant_id)
        .await?
        .ok_or_else(unavailable)?;
    if !r.active || r.status != IntegrationStatus::Active || r.mode == IntegrationMode::Off {
        return Err(unavailable());
    }
    let webhook_secret = webhook_secret(state, &r)?.ok_or_else(unavailable)?;
    let keys = KeyPair::new(r.publishable_key.clone(), secret_key(state, &r)?)
        .map_err(|e| DomainError::corrupt(TABLE, e.to_string()))?;
    if r.mode.required_key_mode() != Some(keys.mode()) {
        return Err(unavailable());
    }
    let creds = PaymentCredentials {
        mode: r.mode,
        keys,
        webhook_secret,
        card_brands: r.card_brands,
        payment_methods: r.payment_methods,
        wallets: r.wallets,
        account_default_currency: r.account_default_currency,
    };
    state
        .payment_credentials
        .put(merchant_id, creds.clone(), read_at, generation);
    Ok(creds)
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

/// The signing secrets of `merchant_id` as cached, if they are (see
/// [`crate::integration_cache`]); [`webhook_secrets`] reads them.
pub fn cached_webhook_secrets(
    state: &AppState,
    merchant_id: &str,
    now: i64,
) -> Option<Vec<WebhookSecret>> {
    let generation = state.db.integrations_generation();
    let cached = state.webhook_secrets.get(merchant_id, generation)?;
    Some(cached.at(now))
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
    let previous = match (
        &r.previous_webhook_secret_enc,
        r.previous_webhook_secret_expires_at,
    ) {
        (Some(enc), Some(until)) if until > now => {
            let column = PREVIOUS_WEBHOOK_SECRET_COLUMN;
            Some((
                decrypt(state, &r, enc, column, WebhookSecret::parse)?,
                until,
            ))
        }
        _ => None,
    };
    let entry = CachedSecrets { current, previous };
    let secrets = entry.at(now);
    state
        .webhook_secrets
        .put(merchant_id, entry, read_at, generation);
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
