//! The money path: pay a checkout with a card token, refresh it after 3-D Secure, capture or
//! cancel an authorisation, cancel a checkout; and [`apply`], the one place where what Stripe
//! says about a PaymentIntent (an answer, a webhook, a re-read) moves a checkout.
//!
//! How a charge cannot happen twice:
//! - **One PaymentIntent per checkout**: created with Stripe idempotency key
//!   `slotpay:{token}:pi`, its id stored in a UNIQUE column; every attempt *confirms that
//!   PaymentIntent*, and a PaymentIntent can succeed only once.
//! - **One attempt per client key**: the client's `Idempotency-Key` is bound to an attempt
//!   number (UNIQUE per checkout), and the confirmation's Stripe key is
//!   `slotpay:{token}:confirm:{attempt}`: a retry replays at Stripe instead of acting again.
//! - **One attempt at a time**: an attempt holds the checkout with a lease taken by one
//!   conditional update (status `processing`, `lease_until`, `lease_attempt`), so two server
//!   instances on one database never talk to Stripe for one checkout at once; the other gets
//!   `payment_in_progress`. A lease left by a crash is reclaimed only after the PaymentIntent
//!   was read again from Stripe.
//!
//! States only move forward (core's `CheckoutStatus::can_transition_to`). Giving a lease back
//! restores the status it was taken from: that undoes slotpay's own claim, it is not a move.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use slotpay_core::{
    check_chargeable, minimum_charge, ApiError, CardBrand, CheckoutStatus, ErrorCode, Money,
    PayRequest, PayResponse, PayStatus, ServerKey,
};

use super::checkouts::{self, amount, effective_status, is_settled, load, stored_status};
use super::integrations::{self, PaymentCredentials};
use super::{refunds, DomainError};
use crate::db::{self, CheckoutRecord, DbError};
use crate::state::AppState;
use crate::stripe::{
    Form, IdempotencyKey, PaymentIntent, StripeApiError, StripeError, StripeErrorKind,
};

/// How long an attempt holds a checkout.
pub const LEASE_SECS: i64 = 30;
/// Attempt number of admin operations holding the lease (cancel).
const ADMIN_ATTEMPT: i64 = 0;
/// How often an optimistic write is tried before giving up.
const WRITE_TRIES: usize = 8;

/// An answer of the pay or refresh endpoint: an HTTP status and a JSON body (a
/// `PayResponse`, or an error body for a refusal that is part of the attempt's answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayOutcome {
    /// 200, 402, or the refusal's status.
    pub status: u16,
    /// JSON.
    pub body: String,
}

impl PayOutcome {
    fn response(status: u16, r: &PayResponse) -> PayOutcome {
        PayOutcome {
            status,
            body: serde_json::to_string(r).expect("responses serialise"),
        }
    }

    fn refusal(e: &ApiError) -> PayOutcome {
        PayOutcome {
            status: e.code.http_status(),
            body: serde_json::to_string(&e.clone().into_body()).expect("errors serialise"),
        }
    }
}

/// `POST .../capture`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureInput {
    /// Minor units to capture (the whole authorisation when absent).
    pub amount: Option<i64>,
}

/// Who may move a checkout's status while it is leased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeaseMode {
    /// A webhook or a refresh: a live lease of someone else keeps the status, unless Stripe
    /// says money moved (paid, authorised, canceled).
    Respect,
    /// The attempt holding the lease: applies and gives the lease back.
    Holder(i64),
    /// A stale lease being reclaimed (its holder is presumed gone).
    Override,
}

/// What a pay attempt learned that Stripe's PaymentIntent does not say.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    /// The receipt address given when paying.
    pub email: Option<String>,
    /// The card's brand and last 4, from the PaymentMethod.
    pub card: Option<(String, String)>,
}

fn refused(code: ErrorCode, message: impl Into<String>) -> DomainError {
    DomainError::Refused(ApiError::new(code, message))
}

fn in_progress() -> DomainError {
    refused(
        ErrorCode::PaymentInProgress,
        "Another payment attempt for this checkout is in progress; wait a moment",
    )
}

fn already_paid() -> DomainError {
    refused(
        ErrorCode::CheckoutAlreadyPaid,
        "This checkout is already paid",
    )
}

/// Refuses a checkout that cannot be paid now.
fn check_payable(r: &CheckoutRecord, now: i64) -> Result<(), DomainError> {
    match effective_status(r, now)? {
        s if is_settled(s) => Err(already_paid()),
        CheckoutStatus::Canceled => Err(refused(
            ErrorCode::CheckoutCanceled,
            "The merchant canceled this checkout",
        )),
        CheckoutStatus::Expired => Err(refused(
            ErrorCode::CheckoutExpired,
            "This checkout has expired; ask the merchant for a new payment link",
        )),
        _ => Ok(()),
    }
}

fn request_hash(req: &PayRequest) -> String {
    let mut h = Sha256::new();
    for part in [
        req.payment_method.as_str(),
        req.email.as_str(),
        if req.save_card { "1" } else { "0" },
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Checks a client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn parse_idempotency_key(key: Option<&str>) -> Result<String, DomainError> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Err(refused(
            ErrorCode::MissingIdempotencyKey,
            "Send an Idempotency-Key header, the same for each retry of this attempt",
        ));
    };
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::Refused(
            ApiError::new(
                ErrorCode::InvalidRequest,
                "The Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .with_param("idempotency_key"),
        ));
    }
    Ok(key.to_owned())
}

/// The status a PaymentIntent puts a checkout in, if it says anything.
fn target_status(pi: &PaymentIntent, base: CheckoutStatus) -> Option<CheckoutStatus> {
    use CheckoutStatus::*;
    match pi.status.as_str() {
        "succeeded" => Some(Paid),
        "requires_capture" => Some(Authorized),
        "requires_action" => Some(RequiresAction),
        "processing" => Some(Processing),
        "requires_payment_method" | "requires_confirmation" => {
            pi.last_payment_error.as_ref().map(|_| Failed)
        }
        "canceled" => {
            if base == Authorized && pi.cancellation_reason.as_deref() == Some("automatic") {
                Some(Expired)
            } else {
                Some(Canceled)
            }
        }
        _ => None,
    }
}

/// Merges what a PaymentIntent says into a record (not saved). `at` is the time the state
/// was observed (an event's `created`, or now for a read).
fn merge(
    r: &CheckoutRecord,
    pi: &PaymentIntent,
    at: i64,
    mode: LeaseMode,
    extra: &Extra,
    now: i64,
) -> Result<CheckoutRecord, DomainError> {
    use CheckoutStatus::*;
    let mut n = r.clone();
    let current = stored_status(r)?;
    let leased = current == Processing && r.lease_attempt.is_some();
    let live = leased && r.lease_until.is_some_and(|u| u >= now);
    let own = match mode {
        LeaseMode::Holder(a) => r.lease_attempt == Some(a) || !live,
        LeaseMode::Override => true,
        LeaseMode::Respect => !live,
    };
    let base = if leased {
        r.lease_from
            .as_deref()
            .and_then(CheckoutStatus::parse)
            .unwrap_or(Open)
    } else {
        current
    };
    let target = target_status(pi, base);
    let money_moved = matches!(target, Some(Paid | Authorized | Canceled | Expired));
    let next = if own {
        let from = base;
        let to = match target {
            Some(t) if from.can_transition_to(t) => t,
            _ => from,
        };
        n.lease_until = None;
        n.lease_attempt = None;
        n.lease_from = None;
        to
    } else if money_moved && target.is_some_and(|t| current.can_transition_to(t)) {
        n.lease_until = None;
        n.lease_attempt = None;
        n.lease_from = None;
        target.unwrap_or(current)
    } else {
        current
    };
    n.status = next.as_str().to_owned();
    if n.payment_intent_id.is_none() {
        n.payment_intent_id = Some(pi.id.clone());
    }
    if let Some(charge) = &pi.latest_charge {
        if matches!(pi.status.as_str(), "succeeded" | "requires_capture") {
            n.charge_id = Some(charge.id().to_owned());
        }
    }
    match pi.status.as_str() {
        "requires_capture" => n.amount_authorized = n.amount_authorized.max(pi.amount_capturable),
        "succeeded" => n.amount_captured = n.amount_captured.max(pi.amount_received),
        _ => {}
    }
    if let Some(charge) = pi.charge() {
        if charge.captured {
            n.amount_captured = n.amount_captured.max(charge.amount_captured);
        }
        if let Some(card) = charge.card() {
            if let (Some(b), Some(l)) = (&card.brand, &card.last4) {
                n.card_brand = Some(b.clone());
                n.card_last4 = Some(l.clone());
            }
        }
        if let Some(txn) = charge.balance_transaction.as_ref().and_then(|t| t.object()) {
            n.stripe_fee = Some(txn.fee);
            n.stripe_fee_currency = txn.currency.clone();
        }
    }
    if let Some((brand, last4)) = &extra.card {
        n.card_brand = Some(brand.clone());
        n.card_last4 = Some(last4.clone());
    }
    if let Some(email) = &extra.email {
        n.customer_email = Some(email.clone());
    }
    if next == Failed && target == Some(Failed) {
        if let Some(e) = &pi.last_payment_error {
            n.last_error_code = e.code.clone();
            n.last_decline_code = e.decline_code.clone();
            n.last_error_message = e.message.clone();
        }
    }
    let saved = pi.setup_future_usage.as_deref() == Some("off_session")
        && matches!(pi.status.as_str(), "succeeded" | "requires_capture");
    if saved {
        if let (Some(customer), Some(pm)) = (&pi.customer, pi.payment_method_id()) {
            n.customer_id = Some(customer.clone());
            n.saved_payment_method = Some(pm.to_owned());
        }
    }
    if next == Paid && n.paid_at.is_none() {
        n.paid_at = Some(now);
    }
    if next == Authorized && n.authorized_at.is_none() {
        n.authorized_at = Some(now);
    }
    if next == Canceled && n.canceled_at.is_none() {
        n.canceled_at = Some(now);
    }
    n.synced_at = n.synced_at.max(at);
    if n != *r {
        n.updated_at = now;
    }
    Ok(n)
}

/// Applies what Stripe says about a checkout's PaymentIntent: status (forward only, leases
/// respected), charge, card, fee, saved card; then its refunds and the refund-driven status.
/// `known` is the checkout as last read or written by the caller: tried first, and read
/// again only when it turns out stale (the write is conditional on its version).
/// Returns the record as stored after.
pub(crate) async fn apply(
    state: &AppState,
    known: &CheckoutRecord,
    pi: &PaymentIntent,
    at: i64,
    mode: LeaseMode,
    extra: &Extra,
) -> Result<CheckoutRecord, DomainError> {
    let token = known.token.as_str();
    let mut known = Some(known.clone());
    let mut stored = None;
    for _ in 0..WRITE_TRIES {
        let (r, fresh) = match known.take() {
            Some(r) => (r, false),
            None => (load(state, token).await?, true),
        };
        if r.payment_intent_id.as_deref().is_some_and(|id| id != pi.id) {
            return Err(DomainError::Internal(format!(
                "PaymentIntent {} is not the checkout's",
                pi.id
            )));
        }
        let mut n = merge(&r, pi, at, mode, extra, db::now())?;
        if n == r {
            if fresh {
                stored = Some(n);
                break;
            }
            // Nothing to write, but the known record may be stale: read it.
            continue;
        }
        if state.db.update_checkout(&n).await? {
            n.version += 1;
            stored = Some(n);
            break;
        }
    }
    let Some(mut r) = stored else {
        return Err(DomainError::Storage(DbError::Conflict(
            "the checkout kept changing; try again",
        )));
    };
    if let Some(charge) = pi.charge() {
        refunds::reconcile_charge(state, &r, charge).await?;
        // Every refund, slotpay's or one made outside it, reserves its amount on the checkout
        // before it can succeed: with nothing reserved and none at Stripe, the status stands
        // (a refund reserved after this read settles the status itself).
        let refunded = r.amount_refunded > 0
            || charge.amount_refunded > 0
            || charge.refunds.as_ref().is_some_and(|l| !l.data.is_empty());
        if refunded {
            r = refunds::settle_status(state, token).await?;
        }
    }
    Ok(r)
}

/// Reads the checkout's PaymentIntent (with its latest charge) from Stripe and applies it;
/// fetches Stripe's fee once the charge is captured. `None` when it has no PaymentIntent.
pub(crate) async fn sync(
    state: &AppState,
    r: &CheckoutRecord,
    mode: LeaseMode,
) -> Result<Option<(CheckoutRecord, PaymentIntent)>, DomainError> {
    let Some(pi_id) = &r.payment_intent_id else {
        return Ok(None);
    };
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let pi = state
        .stripe
        .retrieve_payment_intent(&key, pi_id, &["latest_charge"])
        .await?;
    let mut rec = apply(state, r, &pi, db::now(), mode, &Extra::default()).await?;
    if rec.stripe_fee.is_none() {
        rec = fill_fee(state, &key, &rec, &pi).await.unwrap_or(rec);
    }
    Ok(Some((rec, pi)))
}

/// Stripe's fee of a captured charge, best effort: a key that may not read balance
/// transactions leaves it empty.
async fn fill_fee(
    state: &AppState,
    key: &ServerKey,
    r: &CheckoutRecord,
    pi: &PaymentIntent,
) -> Result<CheckoutRecord, DomainError> {
    let Some(txn) = pi
        .charge()
        .and_then(|c| c.balance_transaction.as_ref())
        .map(|t| t.id().to_owned())
    else {
        return Ok(r.clone());
    };
    let txn = match state.stripe.retrieve_balance_transaction(key, &txn).await {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!(token = %r.token, error = %e, "Stripe fee not read");
            return Ok(r.clone());
        }
    };
    for _ in 0..WRITE_TRIES {
        let mut n = load(state, &r.token).await?;
        if n.stripe_fee.is_some() {
            return Ok(n);
        }
        n.stripe_fee = Some(txn.fee);
        n.stripe_fee_currency = txn.currency.clone();
        if state.db.update_checkout(&n).await? {
            return Ok(n);
        }
    }
    Ok(r.clone())
}

/// Gives a lease back without news from Stripe: the status it was taken from returns.
async fn release(state: &AppState, token: &str, attempt: i64) -> Result<(), DomainError> {
    for _ in 0..WRITE_TRIES {
        let r = load(state, token).await?;
        if r.lease_attempt != Some(attempt) || r.status != CheckoutStatus::Processing.as_str() {
            return Ok(());
        }
        let mut n = r.clone();
        n.status = r.lease_from.clone().unwrap_or_else(|| "open".into());
        n.lease_until = None;
        n.lease_attempt = None;
        n.lease_from = None;
        n.updated_at = db::now();
        if state.db.update_checkout(&n).await? {
            return Ok(());
        }
    }
    Ok(())
}

/// Takes the checkout's lease for `attempt`. A stale lease is reclaimed only after its
/// PaymentIntent was read again from Stripe.
async fn claim(state: &AppState, token: &str, attempt: i64) -> Result<CheckoutRecord, DomainError> {
    for _ in 0..WRITE_TRIES {
        let r = load(state, token).await?;
        let now = db::now();
        check_payable(&r, now)?;
        if r.status == CheckoutStatus::Processing.as_str() {
            match r.lease_until {
                // Held by an attempt still running (this key's first request, or another).
                Some(until) if until >= now => return Err(in_progress()),
                // Stripe is processing it (no lease): nothing to claim.
                None => return Err(in_progress()),
                Some(_) if r.payment_intent_id.is_some() => {
                    // A crashed attempt: learn what Stripe did before anything else.
                    sync(state, &r, LeaseMode::Override).await?;
                    continue;
                }
                Some(_) => {}
            }
        }
        if let Some(leased) = state
            .db
            .claim_checkout(token, r.version, attempt, now + LEASE_SECS, now)
            .await?
        {
            return Ok(leased);
        }
    }
    Err(in_progress())
}

/// What one attempt's talk with Stripe ended with.
enum Charged {
    /// Stripe answered with the PaymentIntent.
    Intent(Box<PaymentIntent>),
    /// The card was declined (402 `card_error`).
    Declined(StripeApiError),
    /// Refused before or by Stripe for a reason that is the attempt's answer.
    Refused(ApiError),
}

fn card_declined(e: &StripeApiError) -> ApiError {
    let decline = e
        .decline_code
        .clone()
        .or_else(|| e.code.clone())
        .unwrap_or_else(|| "generic_decline".into());
    let (code, message) = if decline == "authentication_required" {
        (
            ErrorCode::AuthenticationRequired,
            "Your bank asks you to authenticate this payment; try again and complete the check"
                .to_owned(),
        )
    } else if e.message.is_empty() {
        (
            ErrorCode::CardDeclined,
            "Your card was declined.".to_owned(),
        )
    } else {
        (ErrorCode::CardDeclined, e.message.clone())
    };
    ApiError::new(code, message).with_decline_code(decline)
}

/// Stripe's `amount_too_small` in core's words: the settlement currency's minimum.
fn too_small(e: &StripeApiError, settlement: Option<&str>) -> ApiError {
    let minimum = settlement
        .and_then(|c| slotpay_core::Currency::parse(c).ok())
        .and_then(minimum_charge);
    let message = match minimum {
        Some(m) => format!(
            "Your payment must be no less than {} {} (or its equivalent)",
            m.to_major_string(),
            m.currency()
        ),
        None => format!("Your payment is below Stripe's minimum: {}", e.message),
    };
    ApiError::new(ErrorCode::AmountTooSmall, message).with_param("amount")
}

/// Maps Stripe's refusal of a create or confirm (not a decline).
fn stripe_refusal(e: &StripeApiError, creds: &PaymentCredentials) -> ApiError {
    match e.code.as_deref() {
        Some("amount_too_small") => too_small(e, creds.account_default_currency.as_deref()),
        Some("amount_too_large") => {
            ApiError::new(ErrorCode::AmountTooLarge, e.message.clone()).with_param("amount")
        }
        _ if e.param.as_deref() == Some("payment_method") || e.status == 404 => ApiError::new(
            ErrorCode::InvalidPaymentMethod,
            "This card cannot be used; enter it again",
        )
        .with_param("payment_method"),
        _ => ApiError::new(
            ErrorCode::StripeError,
            format!("Stripe refused the payment: {}", e.message),
        ),
    }
}

fn is_refusal(e: &StripeError) -> Option<&StripeApiError> {
    e.refusal()
}

/// The attempt's talk with Stripe, under the lease. `r` is the leased checkout, kept as
/// stored (it gets its PaymentIntent id).
async fn charge(
    state: &AppState,
    creds: &PaymentCredentials,
    r: &mut CheckoutRecord,
    attempt: i64,
    req: &PayRequest,
    extra: &mut Extra,
) -> Result<Charged, DomainError> {
    let key = creds.keys.server();
    let token = &r.token.clone();
    let pm = match state
        .stripe
        .retrieve_payment_method(key, req.payment_method.as_str())
        .await
    {
        Ok(pm) => pm,
        Err(e) => match is_refusal(&e) {
            Some(api) => return Ok(Charged::Refused(stripe_refusal(api, creds))),
            None => return Err(e.into()),
        },
    };
    let card = pm.card.clone().unwrap_or_default();
    let brand = CardBrand::from_stripe(card.brand.as_deref().unwrap_or("unknown"));
    if !creds.card_brands.contains(&brand) {
        let accepted: Vec<&str> = creds.card_brands.iter().map(|b| b.display_name()).collect();
        return Ok(Charged::Refused(
            ApiError::new(
                ErrorCode::CardBrandNotAccepted,
                format!(
                    "{} cards are not accepted here; use {}",
                    brand.display_name(),
                    accepted.join(" or ")
                ),
            )
            .with_param("payment_method"),
        ));
    }
    if let (Some(b), Some(l)) = (card.brand, card.last4) {
        extra.card = Some((b, l));
    }
    let money = amount(r)?;
    let customer = if req.save_card {
        match &r.customer_id {
            Some(c) => Some(c.clone()),
            None => {
                let form = Form::new()
                    .push("email", req.email.as_str())
                    .push_map("metadata", "slotpay_checkout", token.as_str())
                    .push_map("metadata", "slotpay_merchant", r.merchant_id.as_str());
                let c = state
                    .stripe
                    .create_customer(
                        key,
                        &form,
                        &IdempotencyKey::new(format!("slotpay:{token}:customer")),
                    )
                    .await?;
                Some(c.id)
            }
        }
    } else {
        None
    };
    let pi_id = match &r.payment_intent_id {
        Some(id) => id.clone(),
        None => {
            let mut form = Form::new()
                .push("amount", money.minor().to_string())
                .push("currency", money.currency().code())
                .push("capture_method", r.capture_method.as_str())
                .push_list("payment_method_types", &["card"])
                .push("description", r.description.as_str())
                .push_map("metadata", "slotpay_checkout", token.as_str())
                .push_map("metadata", "slotpay_merchant", r.merchant_id.as_str());
            if let Some(b) = &r.booking_ref {
                form = form.push_map("metadata", "booking_ref", b.as_str());
            }
            let pi = match state
                .stripe
                .create_payment_intent(
                    key,
                    &form,
                    &IdempotencyKey::new(format!("slotpay:{token}:pi")),
                )
                .await
            {
                Ok(pi) => pi,
                Err(e) => match is_refusal(&e) {
                    Some(api) => return Ok(Charged::Refused(stripe_refusal(api, creds))),
                    None => return Err(e.into()),
                },
            };
            *r = store_intent(state, r, &pi.id).await?;
            pi.id
        }
    };
    if let Some(customer) = &customer {
        let form = Form::new()
            .push("customer", customer.as_str())
            .push("setup_future_usage", "off_session");
        state
            .stripe
            .update_payment_intent(
                key,
                &pi_id,
                &form,
                &IdempotencyKey::new(format!("slotpay:{token}:save:{attempt}")),
            )
            .await?;
    }
    let form = Form::new()
        .push("payment_method", req.payment_method.as_str())
        .push("receipt_email", req.email.as_str());
    match state
        .stripe
        .confirm_payment_intent(
            key,
            &pi_id,
            &form,
            &IdempotencyKey::new(format!("slotpay:{token}:confirm:{attempt}")),
        )
        .await
    {
        Ok(pi) => Ok(Charged::Intent(Box::new(pi))),
        Err(StripeError::Api(e)) if e.kind == StripeErrorKind::CardError => {
            Ok(Charged::Declined(e))
        }
        Err(e) => match is_refusal(&e) {
            Some(api) if api.code.as_deref() == Some("payment_intent_unexpected_state") => {
                // Paid meanwhile (another attempt, or a lease reclaimed): Stripe knows.
                let pi = state
                    .stripe
                    .retrieve_payment_intent(key, &pi_id, &["latest_charge"])
                    .await?;
                Ok(Charged::Intent(Box::new(pi)))
            }
            Some(api) => Ok(Charged::Refused(stripe_refusal(api, creds))),
            None => Err(e.into()),
        },
    }
}

/// Stores the checkout's PaymentIntent id (UNIQUE), keeping a stored one; returns the record
/// as stored. `known` (the record as the caller last had it) is tried first.
async fn store_intent(
    state: &AppState,
    known: &CheckoutRecord,
    pi_id: &str,
) -> Result<CheckoutRecord, DomainError> {
    let mut r = known.clone();
    for tried in 0..WRITE_TRIES {
        if tried > 0 {
            r = load(state, &known.token).await?;
        }
        match &r.payment_intent_id {
            Some(id) if id == pi_id => return Ok(r),
            Some(other) => {
                return Err(DomainError::Internal(format!(
                    "checkout already has PaymentIntent {other}"
                )))
            }
            None => {}
        }
        r.payment_intent_id = Some(pi_id.to_owned());
        r.updated_at = db::now();
        if state.db.update_checkout(&r).await? {
            r.version += 1;
            return Ok(r);
        }
    }
    Err(DomainError::Storage(DbError::Conflict(
        "the checkout kept changing; try again",
    )))
}

/// The answer for a checkout's state (after an attempt or a refresh).
fn answer_for(r: &CheckoutRecord, pi: Option<&PaymentIntent>) -> Result<PayOutcome, DomainError> {
    let status = stored_status(r)?;
    let response = |status: PayStatus| PayResponse {
        status,
        client_secret: None,
        error: None,
        receipt: None,
    };
    Ok(match status {
        s if is_settled(s) => PayOutcome::response(
            200,
            &PayResponse {
                receipt: checkouts::receipt(r)?,
                ..response(PayStatus::Succeeded)
            },
        ),
        CheckoutStatus::RequiresAction => PayOutcome::response(
            200,
            &PayResponse {
                client_secret: pi.and_then(|p| p.client_secret.clone()),
                ..response(PayStatus::RequiresAction)
            },
        ),
        CheckoutStatus::Processing => PayOutcome::response(200, &response(PayStatus::Processing)),
        CheckoutStatus::Failed => {
            let error = match r.last_error_code.as_deref() {
                Some("payment_intent_authentication_failure") => ApiError::new(
                    ErrorCode::AuthenticationRequired,
                    "Your bank could not authenticate this payment; try again or use another card",
                ),
                code => {
                    let e = StripeApiError {
                        status: 402,
                        kind: StripeErrorKind::CardError,
                        code: code.map(str::to_owned),
                        decline_code: r.last_decline_code.clone(),
                        message: r.last_error_message.clone().unwrap_or_default(),
                        param: None,
                        payment_intent: None,
                    };
                    card_declined(&e)
                }
            };
            PayOutcome::response(
                402,
                &PayResponse {
                    error: Some(error),
                    ..response(PayStatus::Failed)
                },
            )
        }
        CheckoutStatus::Canceled => PayOutcome::refusal(&ApiError::new(
            ErrorCode::CheckoutCanceled,
            "The merchant canceled this checkout",
        )),
        CheckoutStatus::Expired => PayOutcome::refusal(&ApiError::new(
            ErrorCode::CheckoutExpired,
            "This checkout has expired",
        )),
        _ => PayOutcome::refusal(&ApiError::new(
            ErrorCode::Conflict,
            "No payment was attempted on this checkout yet",
        )),
    })
}

/// Pays a checkout with a card token. See the module documentation for why this cannot
/// charge twice. Declines answer 402 with `status: failed` and the checkout stays payable;
/// a Stripe that cannot be reached answers `stripe_unavailable` (retry with the same key).
pub async fn pay(
    state: &AppState,
    token: &str,
    idempotency_key: &str,
    req: PayRequest,
) -> Result<PayOutcome, DomainError> {
    let r = load(state, token).await?;
    let token = r.token.clone();
    let hash = request_hash(&req);
    let replay = |a: &crate::db::AttemptRecord| -> Result<Option<PayOutcome>, DomainError> {
        if a.request_hash != hash {
            return Err(refused(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used with another request; use a new key for a new attempt",
            ));
        }
        Ok(match (a.response_status, &a.response) {
            (Some(status), Some(body)) => Some(PayOutcome {
                status: status as u16,
                body: body.clone(),
            }),
            _ => None,
        })
    };
    let existing = state.db.get_attempt(&token, idempotency_key).await?;
    if let Some(a) = &existing {
        if let Some(out) = replay(a)? {
            return Ok(out);
        }
    }
    let now = db::now();
    let status = effective_status(&r, now)?;
    if is_settled(status) && existing.is_some() {
        // This key's attempt was cut short (Stripe unreachable) and the checkout got paid:
        // the client learns the outcome instead of a refusal.
        let out = answer_for(&r, None)?;
        if let Some(a) = &existing {
            state
                .db
                .finish_attempt(&token, a.attempt, out.status, &out.body, now)
                .await?;
        }
        return Ok(out);
    }
    check_payable(&r, now)?;
    let creds = integrations::payment_credentials(state, &r.merchant_id).await?;
    let money = amount(&r)?;
    check_chargeable(money).map_err(|e| DomainError::Refused(e.into()))?;
    if req.save_card && r.fee_offer_amount.is_none() {
        return Err(DomainError::Refused(
            ApiError::new(
                ErrorCode::InvalidRequest,
                "This checkout does not offer to save the card",
            )
            .with_param("save_card"),
        ));
    }
    let attempt = state
        .db
        .attempt_for_key(&token, idempotency_key, &hash, now)
        .await?;
    if let Some(out) = replay(&attempt)? {
        return Ok(out);
    }
    let mut leased = match claim(state, &token, attempt.attempt).await {
        Ok(r) => r,
        Err(DomainError::Refused(e))
            if e.code == ErrorCode::CheckoutAlreadyPaid && existing.is_some() =>
        {
            // This key's earlier request was cut short and the checkout got paid meanwhile
            // (by that very request, as the webhook says): the outcome, not a refusal.
            let rec = load(state, &token).await?;
            let out = answer_for(&rec, None)?;
            state
                .db
                .finish_attempt(&token, attempt.attempt, out.status, &out.body, db::now())
                .await?;
            return Ok(out);
        }
        Err(e) => {
            // Lost the race: a finished attempt of this key answers the same again.
            if let Some(a) = state.db.get_attempt(&token, idempotency_key).await? {
                if let Some(out) = replay(&a)? {
                    return Ok(out);
                }
            }
            return Err(e);
        }
    };
    let mut extra = Extra {
        email: Some(req.email.as_str().to_owned()),
        card: None,
    };
    let outcome = charge(
        state,
        &creds,
        &mut leased,
        attempt.attempt,
        &req,
        &mut extra,
    )
    .await;
    let mode = LeaseMode::Holder(attempt.attempt);
    let out = match outcome {
        Ok(Charged::Intent(pi)) => {
            let rec = apply(state, &leased, &pi, db::now(), mode, &extra).await?;
            answer_for(&rec, Some(&pi))?
        }
        Ok(Charged::Declined(e)) => {
            let error = card_declined(&e);
            record_decline(state, &token, attempt.attempt, &e, &extra).await?;
            tracing::info!(token = %token, attempt = attempt.attempt, decline = ?error.decline_code, "card declined");
            PayOutcome::response(
                402,
                &PayResponse {
                    status: PayStatus::Failed,
                    client_secret: None,
                    error: Some(error),
                    receipt: None,
                },
            )
        }
        Ok(Charged::Refused(e)) => {
            release(state, &token, attempt.attempt).await?;
            PayOutcome::refusal(&e)
        }
        Err(e) => {
            // Stripe could not be reached (or the database failed): what does Stripe say?
            let settled = match load(state, &token).await {
                Ok(rec) => match sync(state, &rec, mode).await {
                    Ok(Some((rec, pi)))
                        if !matches!(
                            pi.status.as_str(),
                            "requires_payment_method" | "requires_confirmation"
                        ) =>
                    {
                        Some(answer_for(&rec, Some(&pi))?)
                    }
                    _ => None,
                },
                Err(_) => None,
            };
            match settled {
                Some(out) => out,
                None => {
                    release(state, &token, attempt.attempt).await?;
                    tracing::warn!(token = %token, attempt = attempt.attempt, error = %e, "pay attempt unresolved");
                    return Err(e);
                }
            }
        }
    };
    state
        .db
        .finish_attempt(&token, attempt.attempt, out.status, &out.body, db::now())
        .await?;
    Ok(out)
}

/// A declined attempt: the checkout is `failed` (payable again), the lease given back.
async fn record_decline(
    state: &AppState,
    token: &str,
    attempt: i64,
    e: &StripeApiError,
    extra: &Extra,
) -> Result<(), DomainError> {
    for _ in 0..WRITE_TRIES {
        let r = load(state, token).await?;
        if r.lease_attempt != Some(attempt) {
            return Ok(());
        }
        let mut n = r.clone();
        n.status = CheckoutStatus::Failed.as_str().into();
        n.lease_until = None;
        n.lease_attempt = None;
        n.lease_from = None;
        n.last_error_code = e.code.clone();
        n.last_decline_code = e.decline_code.clone();
        n.last_error_message = Some(e.message.clone());
        if let Some(email) = &extra.email {
            n.customer_email = Some(email.clone());
        }
        n.updated_at = db::now();
        if state.db.update_checkout(&n).await? {
            return Ok(());
        }
    }
    Ok(())
}

/// After 3-D Secure (or to learn how a payment ended): reads the PaymentIntent again and
/// answers like the pay endpoint.
pub async fn refresh(state: &AppState, token: &str) -> Result<PayOutcome, DomainError> {
    let r = load(state, token).await?;
    let now = db::now();
    let status = effective_status(&r, now)?;
    let live_lease = r.lease_until.is_some_and(|u| u >= now);
    let needs_read = matches!(
        status,
        CheckoutStatus::Processing
            | CheckoutStatus::RequiresAction
            | CheckoutStatus::Failed
            | CheckoutStatus::Open
    ) && !live_lease;
    let (rec, pi) = if needs_read {
        match sync(state, &r, LeaseMode::Respect).await? {
            Some((rec, pi)) => (rec, Some(pi)),
            None => (r, None),
        }
    } else {
        (r, None)
    };
    if effective_status(&rec, now)? == CheckoutStatus::Expired {
        return Ok(PayOutcome::refusal(&ApiError::new(
            ErrorCode::CheckoutExpired,
            "This checkout has expired",
        )));
    }
    answer_for(&rec, pi.as_ref())
}

/// Captures an authorisation, in full or in part (`amount`).
pub async fn capture(
    state: &AppState,
    token: &str,
    input: CaptureInput,
) -> Result<checkouts::CheckoutAdminView, DomainError> {
    let r = load(state, token).await?;
    if stored_status(&r)? != CheckoutStatus::Authorized {
        // Maybe Stripe knows better (an authorisation that lapsed, a capture elsewhere).
        return Err(refused(
            ErrorCode::NothingToCapture,
            "This checkout has no authorised payment waiting for capture",
        ));
    }
    let authorized = r.amount_authorized.max(0);
    let currency = amount(&r)?.currency();
    let to_capture = match input.amount {
        None => None,
        Some(a) if a < 1 || a > authorized => {
            return Err(DomainError::Refused(
                ApiError::new(
                    ErrorCode::InvalidAmount,
                    format!(
                        "The amount to capture must be 0 to {} (the authorised amount)",
                        Money::from_minor(authorized, currency)
                    ),
                )
                .with_param("amount"),
            ))
        }
        Some(a) => {
            check_chargeable(Money::from_minor(a, currency))
                .map_err(|e| DomainError::Refused(e.into()))?;
            Some(a)
        }
    };
    let pi_id = r
        .payment_intent_id
        .clone()
        .ok_or_else(|| DomainError::Internal("authorised checkout without PaymentIntent".into()))?;
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let idem = IdempotencyKey::new(format!(
        "slotpay:{}:capture:{}",
        r.token,
        to_capture.map_or("all".to_owned(), |a| a.to_string())
    ));
    match state
        .stripe
        .capture_payment_intent(&key, &pi_id, to_capture, &idem)
        .await
    {
        Ok(_) => {}
        Err(e) => match is_refusal(&e) {
            Some(api) => {
                sync(state, &r, LeaseMode::Respect).await?;
                return Err(refused(
                    ErrorCode::NothingToCapture,
                    format!("Stripe refused the capture: {}", api.message),
                ));
            }
            None => return Err(e.into()),
        },
    }
    let (rec, _) = sync(state, &r, LeaseMode::Respect)
        .await?
        .ok_or_else(|| DomainError::Internal("capture without PaymentIntent".into()))?;
    tracing::info!(token = %rec.token, captured = rec.amount_captured, "authorisation captured");
    checkouts::admin_view(state, &rec, true).await
}

/// Cancels a checkout: an unpaid one (its PaymentIntent canceled at Stripe, if any), or an
/// authorisation (released: there is no void in Stripe, canceling the PaymentIntent is it).
/// A paid checkout is refunded instead.
pub async fn cancel(
    state: &AppState,
    token: &str,
) -> Result<checkouts::CheckoutAdminView, DomainError> {
    let r = load(state, token).await?;
    let status = stored_status(&r)?;
    let key_for = || integrations::server_key(state, &r.merchant_id);
    match status {
        CheckoutStatus::Canceled => return checkouts::admin_view(state, &r, true).await,
        CheckoutStatus::Authorized => {
            let key = key_for().await?;
            let pi_id = r.payment_intent_id.clone().unwrap_or_default();
            let idem = IdempotencyKey::new(format!("slotpay:{}:cancel", r.token));
            if let Err(e) = state
                .stripe
                .cancel_payment_intent(&key, &pi_id, Some("requested_by_customer"), &idem)
                .await
            {
                if is_refusal(&e).is_none() {
                    return Err(e.into());
                }
            }
            let (rec, _) = sync(state, &r, LeaseMode::Respect)
                .await?
                .ok_or_else(|| DomainError::Internal("no PaymentIntent".into()))?;
            if stored_status(&rec)? != CheckoutStatus::Canceled {
                return Err(refused(
                    ErrorCode::Conflict,
                    format!(
                        "The checkout is {} at Stripe; it was not canceled",
                        rec.status
                    ),
                ));
            }
            tracing::info!(token = %rec.token, "authorisation canceled");
            return checkouts::admin_view(state, &rec, true).await;
        }
        s if is_settled(s) => {
            return Err(refused(
                ErrorCode::Conflict,
                "This checkout is paid; refund it instead of canceling",
            ))
        }
        CheckoutStatus::Expired => {
            return Err(refused(ErrorCode::CheckoutExpired, "This checkout expired"))
        }
        _ => {}
    }
    // Unpaid: hold it (no attempt may start), cancel the PaymentIntent, then mark it.
    let leased = claim(state, &r.token, ADMIN_ATTEMPT).await?;
    if let Some(pi_id) = &leased.payment_intent_id {
        let key = key_for().await?;
        let idem = IdempotencyKey::new(format!("slotpay:{}:cancel", r.token));
        match state
            .stripe
            .cancel_payment_intent(&key, pi_id, Some("abandoned"), &idem)
            .await
        {
            Ok(pi) => {
                let rec = apply(
                    state,
                    &leased,
                    &pi,
                    db::now(),
                    LeaseMode::Holder(ADMIN_ATTEMPT),
                    &Extra::default(),
                )
                .await?;
                return checkouts::admin_view(state, &rec, true).await;
            }
            Err(e) if is_refusal(&e).is_some() => {
                // Stripe would not cancel it: it succeeded meanwhile, most likely.
                let rec = sync(state, &leased, LeaseMode::Holder(ADMIN_ATTEMPT))
                    .await?
                    .map(|(rec, _)| rec);
                release(state, &r.token, ADMIN_ATTEMPT).await?;
                let status = rec.map(|x| x.status).unwrap_or_default();
                return Err(refused(
                    ErrorCode::Conflict,
                    format!("Stripe would not cancel the payment (it is {status})"),
                ));
            }
            Err(e) => {
                release(state, &r.token, ADMIN_ATTEMPT).await?;
                return Err(e.into());
            }
        }
    }
    for _ in 0..WRITE_TRIES {
        let rec = load(state, &r.token).await?;
        if rec.lease_attempt != Some(ADMIN_ATTEMPT) {
            break;
        }
        let mut n = rec.clone();
        let now = db::now();
        n.status = CheckoutStatus::Canceled.as_str().into();
        n.lease_until = None;
        n.lease_attempt = None;
        n.lease_from = None;
        n.canceled_at = Some(now);
        n.updated_at = now;
        if state.db.update_checkout(&n).await? {
            tracing::info!(token = %n.token, "checkout canceled");
            return checkouts::admin_view(state, &n, true).await;
        }
    }
    Err(DomainError::Storage(DbError::Conflict(
        "the checkout changed meanwhile; try again",
    )))
}
