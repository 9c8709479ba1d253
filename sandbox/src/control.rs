//! The control API under `/_sandbox/` (JSON in and out, no authentication: bind it to loopback):
//! reset, accounts and keys, the clock, faults, webhook knobs and the delivery log, secret
//! rotation, disputes, counters, and the two 3-D Secure endpoints the challenge page calls
//! (authenticated by the intent's client secret). The functions are also what
//! [`crate::SandboxHandle`] calls directly.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::{self, KeyKind};
use crate::errors::ApiError;
use crate::faults::FaultRule;
use crate::form;
use crate::resources::intents::without;
use crate::resources::{account, disputes, payment_intents, payment_methods, setup_intents};
use crate::shared::Shared;
use crate::state::{Ctx, RequestInfo, Store};
use crate::webhooks::{Delivery, Knobs};

/// Clears the state (see [`crate::state::Store::reset`]) and the clock, then hands the freed
/// memory back to the operating system, so a reset sandbox is as small as a fresh one.
pub fn reset_all(shared: &Shared) {
    shared.lock().reset();
    shared.clock.reset();
    release_free_memory();
}

/// glibc keeps freed memory for reuse; after a reset that may be gigabytes the process no
/// longer needs, so ask it to return what it can.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: `malloc_trim` only releases free pages of glibc's own heap; it takes no pointer
    // and is safe to call at any time from any thread.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// A control API failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ControlError {
    /// HTTP status.
    pub status: u16,
    /// Stable snake_case code.
    pub code: &'static str,
    /// Human message.
    pub message: String,
}

impl ControlError {
    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        ControlError {
            status: 400,
            code,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        ControlError {
            status: 404,
            code: "not_found",
            message: message.into(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

/// A new account's settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountParams {
    /// Two-letter country (default `US`).
    pub country: Option<String>,
    /// Settlement currency (default `usd`).
    pub default_currency: Option<String>,
    /// Business name.
    pub business_name: Option<String>,
}

/// A new account and its keys.
#[derive(Clone, Serialize, Deserialize)]
pub struct AccountKeys {
    /// `acct_...`.
    pub account: String,
    /// `pk_test_...`.
    pub publishable_key: String,
    /// `sk_test_...`.
    pub secret_key: String,
    /// `rk_test_...` with slotpay's permissions.
    pub restricted_key: String,
}

impl std::fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountKeys")
            .field("account", &self.account)
            .field("publishable_key", &auth::mask_last4(&self.publishable_key))
            .field("secret_key", &auth::mask_last4(&self.secret_key))
            .field("restricted_key", &auth::mask_last4(&self.restricted_key))
            .finish()
    }
}

fn check_currency(c: &str) -> Result<String, ControlError> {
    let c = c.to_lowercase();
    if crate::currency::is_supported(&c) {
        Ok(c)
    } else {
        Err(ControlError::bad(
            "invalid_currency",
            format!("unsupported currency '{c}'"),
        ))
    }
}

fn check_country(c: &str) -> Result<String, ControlError> {
    if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) {
        Ok(c.to_uppercase())
    } else {
        Err(ControlError::bad(
            "invalid_country",
            format!("country must be two letters, got '{c}'"),
        ))
    }
}

/// Creates an account with a publishable, a secret and a restricted key.
pub fn create_account(shared: &Shared, p: &AccountParams) -> Result<AccountKeys, ControlError> {
    let country = check_country(p.country.as_deref().unwrap_or("US"))?;
    let currency = check_currency(p.default_currency.as_deref().unwrap_or("usd"))?;
    let now = shared.clock.now();
    let mut s = shared.lock();
    let account = s.create_account(&country, &currency, p.business_name.clone(), now);
    let publishable_key = s.create_key(&account, KeyKind::Publishable, BTreeSet::new());
    let secret_key = s.create_key(&account, KeyKind::Secret, BTreeSet::new());
    let restricted_key = s.create_key(&account, KeyKind::Restricted, auth::slotpay_permissions());
    Ok(AccountKeys {
        account,
        publishable_key,
        secret_key,
        restricted_key,
    })
}

/// Changes an account's country, currency, name or `charges_enabled`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountUpdate {
    /// Two-letter country.
    pub country: Option<String>,
    /// Settlement currency.
    pub default_currency: Option<String>,
    /// Business name.
    pub business_name: Option<String>,
    /// Whether it can take charges.
    pub charges_enabled: Option<bool>,
}

/// Applies an [`AccountUpdate`].
pub fn update_account(shared: &Shared, id: &str, u: &AccountUpdate) -> Result<Value, ControlError> {
    let country = u.country.as_deref().map(check_country).transpose()?;
    let currency = u
        .default_currency
        .as_deref()
        .map(check_currency)
        .transpose()?;
    let mut s = shared.lock();
    let a = s
        .accounts
        .get_mut(id)
        .ok_or_else(|| ControlError::not_found(format!("no account {id}")))?;
    if let Some(c) = country {
        a.country = c;
    }
    if let Some(c) = currency {
        a.default_currency = c;
    }
    if let Some(n) = &u.business_name {
        a.business_name = Some(n.clone());
    }
    if let Some(e) = u.charges_enabled {
        a.charges_enabled = e;
    }
    Ok(account::render(a))
}

/// Creates a key on `account` (the first account when `None`).
pub fn create_key(
    shared: &Shared,
    account: Option<&str>,
    kind: KeyKind,
    permissions: &[String],
) -> Result<String, ControlError> {
    let perms = permissions
        .iter()
        .map(|p| auth::parse_permission(p))
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(|m| ControlError::bad("invalid_permission", m))?;
    let mut s = shared.lock();
    let account = account
        .map(str::to_string)
        .unwrap_or_else(|| s.default_account.clone());
    if !s.accounts.contains_key(&account) {
        return Err(ControlError::not_found(format!("no account {account}")));
    }
    Ok(s.create_key(&account, kind, perms))
}

/// Replaces a restricted key's permissions.
pub fn set_permissions(
    shared: &Shared,
    key: &str,
    permissions: &[String],
) -> Result<(), ControlError> {
    let perms = permissions
        .iter()
        .map(|p| auth::parse_permission(p))
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(|m| ControlError::bad("invalid_permission", m))?;
    let mut s = shared.lock();
    let k = s
        .keys
        .get_mut(key)
        .ok_or_else(|| ControlError::not_found("no such key"))?;
    if k.kind != KeyKind::Restricted {
        return Err(ControlError::bad(
            "not_restricted",
            "only restricted keys have permissions",
        ));
    }
    k.permissions = perms;
    Ok(())
}

/// Revokes a key (it then answers `api_key_expired`).
pub fn revoke_key(shared: &Shared, key: &str) -> Result<(), ControlError> {
    let mut s = shared.lock();
    let k = s
        .keys
        .get_mut(key)
        .ok_or_else(|| ControlError::not_found("no such key"))?;
    k.revoked = true;
    Ok(())
}

/// Advances the sandbox clock and runs what falls due; returns the expired PaymentIntents.
pub fn advance_clock(shared: &Shared, seconds: i64) -> Result<Vec<String>, ControlError> {
    if seconds < 0 {
        return Err(ControlError::bad(
            "invalid_seconds",
            "the clock only moves forward",
        ));
    }
    shared.clock.advance(seconds);
    let now = shared.clock.now();
    let expired = {
        let mut store = shared.lock();
        let expired = payment_intents::expire_due(&mut store, now);
        store.expire_records(now);
        expired
    };
    shared.flush_outbox();
    Ok(expired)
}

/// Replaces the fault rules (and reseeds their RNG when a seed is given).
pub fn set_faults(shared: &Shared, rules: Vec<FaultRule>, seed: Option<u64>) {
    shared.lock().faults.set(rules, seed);
}

/// Rotates an endpoint's signing secret; the old one keeps signing for `grace_secs`.
pub fn rotate_secret(
    shared: &Shared,
    endpoint: &str,
    grace_secs: i64,
) -> Result<String, ControlError> {
    let now = shared.clock.now();
    let mut s = shared.lock();
    let fresh = format!("whsec_{}", s.random(32));
    let e = s
        .webhook_endpoints
        .get_mut(endpoint)
        .ok_or_else(|| ControlError::not_found(format!("no endpoint {endpoint}")))?;
    let old = std::mem::replace(&mut e.secret, fresh.clone());
    e.previous_secrets.push((old, now + grace_secs.max(0)));
    Ok(fresh)
}

fn account_of_charge(shared: &Shared, charge: &str) -> Result<String, ControlError> {
    shared
        .lock()
        .charges
        .get(charge)
        .map(|c| c.account.clone())
        .ok_or_else(|| ControlError::not_found(format!("no charge {charge}")))
}

/// Opens a dispute on a charge; with `outcome` (`won`/`lost`) it is closed right away.
pub fn open_dispute(
    shared: &Shared,
    charge: &str,
    reason: Option<&str>,
    outcome: Option<&str>,
) -> Result<Value, ControlError> {
    if let Some(o) = outcome {
        if o != "won" && o != "lost" {
            return Err(ControlError::bad(
                "invalid_outcome",
                "outcome is won or lost",
            ));
        }
    }
    let account = account_of_charge(shared, charge)?;
    let now = shared.clock.now();
    let v = {
        let mut s = shared.lock();
        let mut ctx = Ctx {
            store: &mut s,
            account,
            now,
            request: RequestInfo::default(),
            caller: KeyKind::Secret,
        };
        let d = disputes::open(&mut ctx, charge, reason.unwrap_or("general")).ok_or_else(|| {
            ControlError::bad(
                "not_disputable",
                "the charge did not succeed or is already disputed",
            )
        })?;
        let d = match outcome {
            Some(o) => disputes::close(&mut ctx, &d.id, o)
                .map_err(|e| ControlError::bad("close_failed", e.message))?,
            None => d,
        };
        disputes::render(ctx.store, &d)
    };
    shared.flush_outbox();
    Ok(v)
}

/// Closes a dispute `won` or `lost`.
pub fn close_dispute(shared: &Shared, dispute: &str, outcome: &str) -> Result<Value, ControlError> {
    if outcome != "won" && outcome != "lost" {
        return Err(ControlError::bad(
            "invalid_outcome",
            "outcome is won or lost",
        ));
    }
    let now = shared.clock.now();
    let v = {
        let mut s = shared.lock();
        let account = s
            .disputes
            .get(dispute)
            .map(|d| d.account.clone())
            .ok_or_else(|| ControlError::not_found(format!("no dispute {dispute}")))?;
        let mut ctx = Ctx {
            store: &mut s,
            account,
            now,
            request: RequestInfo::default(),
            caller: KeyKind::Secret,
        };
        let d = disputes::close(&mut ctx, dispute, outcome)
            .map_err(|e| ControlError::bad("close_failed", e.message))?;
        disputes::render(ctx.store, &d)
    };
    shared.flush_outbox();
    Ok(v)
}

/// A card PaymentMethod from a wallet (`apple_pay` or `google_pay`) on `account`, as a wallet
/// sheet of Stripe.js makes one when the client approves it; the card is a test card number.
pub fn wallet_payment_method(
    shared: &Shared,
    account: &str,
    wallet: &str,
    number: &str,
) -> Result<Value, ControlError> {
    let now = shared.clock.now();
    let v = {
        let mut s = shared.lock();
        if !s.accounts.contains_key(account) {
            return Err(ControlError::not_found(format!("no account {account}")));
        }
        let mut ctx = challenge_ctx(&mut s, account.to_owned(), now);
        let pm = payment_methods::from_wallet(&mut ctx, wallet, number)
            .map_err(|e| ControlError::bad("invalid_wallet", e.message))?;
        payment_methods::render(&pm)
    };
    shared.flush_outbox();
    Ok(v)
}

/// What Stripe.js's Elements learn when they load on a page of `domain` with a publishable key
/// (Stripe's own Elements session): the key's account, and which wallets they may show there.
pub fn elements_session(
    shared: &Shared,
    publishable_key: &str,
    domain: &str,
) -> Result<Value, ControlError> {
    let s = shared.lock();
    let account = s
        .keys
        .get(publishable_key)
        .filter(|k| k.kind == KeyKind::Publishable && !k.revoked)
        .map(|k| k.account.clone())
        .ok_or_else(|| ControlError::bad("invalid_key", "a live publishable key is needed"))?;
    let (apple_pay, google_pay) =
        crate::resources::payment_method_domains::wallets_at(&s, &account, domain);
    Ok(json!({"account": account, "apple_pay": apple_pay, "google_pay": google_pay}))
}

/// The account of a PaymentIntent, for the bank page and the settling of a debit.
fn intent_account(store: &Store, intent: &str) -> Result<String, ControlError> {
    store
        .payment_intents
        .get(intent)
        .map(|pi| pi.account.clone())
        .ok_or_else(|| ControlError::not_found(format!("no PaymentIntent {intent}")))
}

/// The sandbox's bank page of a redirect (iDEAL, Bancontact): the amount, and two buttons that
/// authorise or fail the payment and send the client back. The client secret must match.
pub fn bank_page(
    shared: &Shared,
    intent: &str,
    client_secret: &str,
) -> Result<String, ControlError> {
    let s = shared.lock();
    let pi = s
        .payment_intents
        .get(intent)
        .ok_or_else(|| ControlError::not_found(format!("no PaymentIntent {intent}")))?;
    if pi.client_secret != client_secret || pi.status != "requires_action" {
        return Err(ControlError::bad(
            "not_awaiting_redirect",
            "This PaymentIntent is not awaiting the bank (or the client_secret is wrong).",
        ));
    }
    let kind = s
        .payment_methods
        .get(pi.payment_method.as_deref().unwrap_or_default())
        .map_or("bank", |pm| pm.method.kind());
    let amount = format!(
        "{}.{:02} {}",
        pi.amount / 100,
        pi.amount % 100,
        pi.currency.to_uppercase()
    );
    let form = |action: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/_sandbox/bank/{intent}/{action}\">\
             <input type=\"hidden\" name=\"client_secret\" value=\"{client_secret}\">\
             <button type=\"submit\">{label}</button></form>"
        )
    };
    Ok(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sandbox bank</title></head><body><main><h1>Sandbox bank ({kind})</h1>\
         <p>A test payment of {amount}.</p>{}{}</main></body></html>",
        form("authorize", "Authorize test payment"),
        form("fail", "Fail test payment"),
    ))
}

/// The bank page's answer: see [`payment_intents::bank_answer`]; the URL to go back to.
pub fn bank_answer(
    shared: &Shared,
    intent: &str,
    client_secret: &str,
    authorize: bool,
) -> Result<String, ControlError> {
    let now = shared.clock.now();
    let url = {
        let mut s = shared.lock();
        let account = intent_account(&s, intent)?;
        let mut ctx = challenge_ctx(&mut s, account, now);
        payment_intents::bank_answer(&mut ctx, intent, client_secret, authorize)
            .map_err(|e| ControlError::bad("not_awaiting_redirect", e.message))?
    };
    shared.flush_outbox();
    Ok(url)
}

/// Settles a `processing` debit now instead of when it falls due.
pub fn settle_debit(shared: &Shared, intent: &str) -> Result<Value, ControlError> {
    let now = shared.clock.now();
    let v = {
        let mut s = shared.lock();
        let account = intent_account(&s, intent)?;
        let mut ctx = Ctx {
            store: &mut s,
            account,
            now,
            request: RequestInfo::default(),
            caller: KeyKind::Secret,
        };
        let mut pi = payment_intents::get(&ctx, intent, "intent")
            .map_err(|e| ControlError::not_found(e.message))?;
        payment_intents::settle(&mut ctx, &mut pi)
            .map_err(|e| ControlError::bad("not_processing", e.message))?;
        payment_intents::render(ctx.store, &pi)
    };
    shared.flush_outbox();
    Ok(v)
}

/// Checks a challenge page's call against the intent: the client secret must match, and the
/// intent must be awaiting 3-D Secure authentication.
fn check_challenge(given: &str, client_secret: &str, status: &str) -> Result<(), ControlError> {
    if client_secret != given {
        return Err(ControlError {
            status: 401,
            code: "client_secret_mismatch",
            message: "The client_secret does not match this intent.".into(),
        });
    }
    if status != "requires_action" {
        return Err(ControlError::bad(
            "not_awaiting_authentication",
            format!("The intent is not awaiting 3-D Secure authentication (status: {status})."),
        ));
    }
    Ok(())
}

/// The challenge page acts for the intent's account, as Stripe.js with its publishable key.
fn challenge_ctx(store: &mut Store, account: String, now: i64) -> Ctx<'_> {
    Ctx {
        store,
        account,
        now,
        request: RequestInfo::default(),
        caller: KeyKind::Publishable,
    }
}

/// Passes (`complete == true`) or fails the 3-D Secure challenge of a PaymentIntent or
/// SetupIntent awaiting it, checking its client secret; returns the intent as Stripe.js sees it.
pub fn three_ds(
    shared: &Shared,
    intent: &str,
    client_secret: &str,
    complete: bool,
) -> Result<Value, ControlError> {
    let now = shared.clock.now();
    let failed = |e: ApiError| ControlError::bad("three_ds_failed", e.message);
    let v =
        {
            let mut s = shared.lock();
            let store = &mut *s;
            if intent.starts_with("pi_") {
                let mut pi =
                    store.payment_intents.get(intent).cloned().ok_or_else(|| {
                        ControlError::not_found(format!("no PaymentIntent {intent}"))
                    })?;
                check_challenge(client_secret, &pi.client_secret, &pi.status)?;
                let mut ctx = challenge_ctx(store, pi.account.clone(), now);
                if complete {
                    payment_intents::complete_3ds(&mut ctx, &mut pi)
                } else {
                    payment_intents::fail_3ds(&mut ctx, &mut pi)
                }
                .map_err(failed)?;
                without(
                    payment_intents::render(ctx.store, &pi),
                    &[
                        "customer",
                        "metadata",
                        "latest_charge",
                        "amount_received",
                        "amount_capturable",
                    ],
                )
            } else if intent.starts_with("seti_") {
                let mut si =
                    store.setup_intents.get(intent).cloned().ok_or_else(|| {
                        ControlError::not_found(format!("no SetupIntent {intent}"))
                    })?;
                check_challenge(client_secret, &si.client_secret, &si.status)?;
                let mut ctx = challenge_ctx(store, si.account.clone(), now);
                if complete {
                    setup_intents::complete_3ds(&mut ctx, &mut si)
                } else {
                    setup_intents::fail_3ds(&mut ctx, &mut si)
                }
                .map_err(failed)?;
                without(setup_intents::render(&si), &["customer", "metadata"])
            } else {
                return Err(ControlError::not_found(format!("no intent {intent}")));
            }
        };
    shared.flush_outbox();
    Ok(v)
}

// ---- HTTP handlers ----

type S = State<Arc<Shared>>;

/// Reads a JSON body, or a form body (`client_secret=...`), or nothing.
fn body_json(headers: &HeaderMap, body: &Bytes) -> Result<Value, ControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return form::parse(body)
            .map(Value::Object)
            .map_err(|e| ControlError::bad("invalid_body", e.to_string()));
    }
    serde_json::from_slice(body).map_err(|e| ControlError::bad("invalid_json", e.to_string()))
}

fn parse<T: for<'de> Deserialize<'de>>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ControlError> {
    serde_json::from_value(body_json(headers, body)?)
        .map_err(|e| ControlError::bad("invalid_body", e.to_string()))
}

async fn health(State(shared): S) -> Json<Value> {
    let s = shared.lock();
    Json(
        json!({"ok": true, "url": s.base_url, "account": s.default_account, "now": shared.clock.now()}),
    )
}

async fn reset(State(shared): S) -> Json<Value> {
    reset_all(&shared);
    Json(json!({"reset": true}))
}

async fn accounts(State(shared): S) -> Json<Value> {
    let s = shared.lock();
    Json(Value::Array(
        s.accounts.values().map(account::render).collect(),
    ))
}

async fn new_account(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let p: AccountParams = parse(&headers, &body)?;
    let keys = create_account(&shared, &p)?;
    let acct = shared
        .lock()
        .accounts
        .get(&keys.account)
        .map(account::render)
        .unwrap_or(Value::Null);
    Ok(Json(json!({
        "account": acct,
        "publishable_key": keys.publishable_key,
        "secret_key": keys.secret_key,
        "restricted_key": keys.restricted_key,
    })))
}

async fn change_account(
    State(shared): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let u: AccountUpdate = parse(&headers, &body)?;
    update_account(&shared, &id, &u).map(Json)
}

#[derive(Deserialize)]
struct NewKey {
    #[serde(default)]
    account: Option<String>,
    #[serde(rename = "type")]
    kind: KeyKind,
    #[serde(default)]
    permissions: Vec<String>,
}

async fn new_key(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let k: NewKey = parse(&headers, &body)?;
    let key = create_key(&shared, k.account.as_deref(), k.kind, &k.permissions)?;
    Ok(Json(json!({"key": key, "type": k.kind})))
}

#[derive(Deserialize)]
struct KeyRef {
    key: String,
    #[serde(default)]
    permissions: Vec<String>,
}

async fn revoke(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let k: KeyRef = parse(&headers, &body)?;
    revoke_key(&shared, &k.key)?;
    Ok(Json(json!({"revoked": true})))
}

async fn permissions(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let k: KeyRef = parse(&headers, &body)?;
    set_permissions(&shared, &k.key, &k.permissions)?;
    Ok(Json(json!({"permissions": k.permissions})))
}

async fn clock(State(shared): S) -> Json<Value> {
    Json(json!({"now": shared.clock.now(), "offset": shared.clock.offset()}))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let a: Advance = parse(&headers, &body)?;
    let expired = advance_clock(&shared, a.seconds)?;
    Ok(Json(
        json!({"now": shared.clock.now(), "offset": shared.clock.offset(), "expired": expired}),
    ))
}

#[derive(Deserialize)]
struct Faults {
    #[serde(default)]
    rules: Vec<FaultRule>,
    #[serde(default)]
    seed: Option<u64>,
}

async fn get_faults(State(shared): S) -> Json<Value> {
    Json(json!({"rules": shared.lock().faults.rules}))
}

async fn put_faults(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let f: Faults = parse(&headers, &body)?;
    set_faults(&shared, f.rules, f.seed);
    Ok(Json(json!({"rules": shared.lock().faults.rules})))
}

async fn clear_faults(State(shared): S) -> Json<Value> {
    set_faults(&shared, Vec::new(), None);
    Json(json!({"rules": []}))
}

async fn get_knobs(State(shared): S) -> Json<Knobs> {
    Json(shared.lock().knobs.clone())
}

async fn put_knobs(
    State(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Knobs>, ControlError> {
    let k: Knobs = parse(&headers, &body)?;
    shared.lock().knobs = k.clone();
    Ok(Json(k))
}

async fn deliveries(State(shared): S) -> Json<Vec<Delivery>> {
    Json(shared.lock().deliveries.iter().cloned().collect())
}

#[derive(Deserialize)]
struct Rotate {
    #[serde(default = "day")]
    expires_in: i64,
}

fn day() -> i64 {
    86_400
}

async fn rotate(
    State(shared): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let r: Rotate = parse(&headers, &body)?;
    let secret = rotate_secret(&shared, &id, r.expires_in)?;
    Ok(Json(
        json!({"secret": secret, "previous_expires_at": shared.clock.now() + r.expires_in}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DisputeReq {
    reason: Option<String>,
    outcome: Option<String>,
}

async fn dispute(
    State(shared): S,
    Path(charge): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let d: DisputeReq = parse(&headers, &body)?;
    open_dispute(&shared, &charge, d.reason.as_deref(), d.outcome.as_deref()).map(Json)
}

async fn close(
    State(shared): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let d: DisputeReq = parse(&headers, &body)?;
    close_dispute(&shared, &id, d.outcome.as_deref().unwrap_or("")).map(Json)
}

async fn bank(
    State(shared): S,
    Path(intent): Path<String>,
    Query(q): Query<Secret>,
) -> Result<Response, ControlError> {
    let page = bank_page(&shared, &intent, &q.client_secret)?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
}

async fn bank_go(
    shared: &Shared,
    intent: &str,
    headers: &HeaderMap,
    body: &Bytes,
    authorize: bool,
) -> Result<Response, ControlError> {
    let s: Secret = parse(headers, body)?;
    let url = bank_answer(shared, intent, &s.client_secret, authorize)?;
    Ok(Redirect::to(&url).into_response())
}

async fn bank_authorize(
    State(shared): S,
    Path(intent): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ControlError> {
    bank_go(&shared, &intent, &headers, &body, true).await
}

async fn bank_fail(
    State(shared): S,
    Path(intent): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ControlError> {
    bank_go(&shared, &intent, &headers, &body, false).await
}

async fn settle(State(shared): S, Path(id): Path<String>) -> Result<Json<Value>, ControlError> {
    settle_debit(&shared, &id).map(Json)
}

#[derive(Deserialize)]
struct WalletReq {
    wallet: String,
    number: Option<String>,
}

async fn wallet_pm(
    State(shared): S,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let w: WalletReq = parse(&headers, &body)?;
    let number = w.number.as_deref().unwrap_or("4242424242424242");
    wallet_payment_method(&shared, &account, &w.wallet, number).map(Json)
}

#[derive(Deserialize)]
struct SessionReq {
    domain: String,
}

async fn session(
    State(shared): S,
    Query(q): Query<SessionReq>,
    headers: HeaderMap,
) -> Result<Json<Value>, ControlError> {
    let key = auth::extract_key(&headers, None)
        .map_err(|e| ControlError::bad("invalid_key", e.message))?;
    elements_session(&shared, &key, &q.domain).map(Json)
}

async fn counters(State(shared): S) -> Json<Value> {
    Json(json!(shared.lock().counters))
}

async fn idempotency(State(shared): S) -> Json<Value> {
    let now = shared.clock.now();
    Json(shared.lock().idempotency.summary(now))
}

#[derive(Deserialize)]
struct Secret {
    #[serde(default)]
    client_secret: String,
}

async fn three_ds_complete(
    State(shared): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let s: Secret = parse(&headers, &body)?;
    three_ds(&shared, &id, &s.client_secret, true).map(Json)
}

async fn three_ds_fail(
    State(shared): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let s: Secret = parse(&headers, &body)?;
    three_ds(&shared, &id, &s.client_secret, false).map(Json)
}

/// The 3-D Secure endpoints (called by the challenge page; CORS is added by the caller).
pub fn three_ds_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/3ds/{intent}/complete", post(three_ds_complete))
        .route("/_sandbox/3ds/{intent}/fail", post(three_ds_fail))
}

/// The rest of the control API.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox", get(health))
        .route("/_sandbox/health", get(health))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/accounts", get(accounts).post(new_account))
        .route("/_sandbox/accounts/{id}", post(change_account))
        .route("/_sandbox/keys", post(new_key))
        .route("/_sandbox/keys/revoke", post(revoke))
        .route("/_sandbox/keys/permissions", post(permissions))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance))
        .route(
            "/_sandbox/faults",
            get(get_faults).post(put_faults).delete(clear_faults),
        )
        .route("/_sandbox/webhooks/knobs", get(get_knobs).post(put_knobs))
        .route("/_sandbox/webhooks/deliveries", get(deliveries))
        .route("/_sandbox/webhook_endpoints/{id}/rotate", post(rotate))
        .route(
            "/_sandbox/accounts/{id}/wallet_payment_methods",
            post(wallet_pm),
        )
        .route("/_sandbox/elements/session", get(session))
        .route("/_sandbox/bank/{intent}", get(bank))
        .route("/_sandbox/bank/{intent}/authorize", post(bank_authorize))
        .route("/_sandbox/bank/{intent}/fail", post(bank_fail))
        .route("/_sandbox/payment_intents/{id}/settle", post(settle))
        .route("/_sandbox/charges/{id}/dispute", post(dispute))
        .route("/_sandbox/disputes/{id}/close", post(close))
        .route("/_sandbox/counters", get(counters))
        .route("/_sandbox/idempotency", get(idempotency))
}
